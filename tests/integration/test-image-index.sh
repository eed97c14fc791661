#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Multi-architecture images: an OCI image index and a Docker manifest list,
# each with linux/amd64 and linux/arm64 entries. The host's architecture is
# picked by default, --platform picks another, a missing one is refused with
# the list of what the index has.
source "$(dirname "$0")/lib-image.sh"

start_registry main
build_busybox "$WORK/L" amd64 amd64 marker-amd64
build_busybox "$WORK/L" arm64 arm64 marker-arm64
python3 - "$WORK/L" <<'PY'
import hashlib, json, os, sys
L = sys.argv[1]
idx_path = os.path.join(L, "index.json")
idx = json.load(open(idx_path))
entries = []
for m in idx["manifests"]:
    arch = m.get("annotations", {}).get("org.opencontainers.image.ref.name")
    if arch in ("amd64", "arm64"):
        entries.append({"mediaType": m["mediaType"], "digest": m["digest"], "size": m["size"],
                        "platform": {"os": "linux", "architecture": arch}})
body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": entries}).encode()
d = hashlib.sha256(body).hexdigest()
open(os.path.join(L, "blobs", "sha256", d), "wb").write(body)
idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + d,
                         "size": len(body), "annotations": {"org.opencontainers.image.ref.name": "multi"}})
json.dump(idx, open(idx_path, "w"))
PY
push "$WORK/L:multi" "$REG_main/multi/oci:latest" --all
push "$WORK/L:multi" "$REG_main/multi/docker:latest" --all --format v2s2
# the registry must really serve an index and a manifest list
curl -sf -H 'Accept: application/vnd.oci.image.index.v1+json' "http://$REG_main/v2/multi/oci/manifests/latest" | grep -q '"arm64"' \
  || fail "the registry does not serve the OCI index"
curl -sf -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' "http://$REG_main/v2/multi/docker/manifests/latest" \
  | grep -q 'manifest.list.v2+json' || fail "the registry does not serve the Docker manifest list"
write_conf "# test"

host_arch=$(dpkg --print-architecture)
[ "$host_arch" = amd64 ] || [ "$host_arch" = arm64 ] || fail "test needs an amd64 or arm64 host (is $host_arch)"
other=$([ "$host_arch" = amd64 ] && echo arm64 || echo amd64)

marker() { # REF [pull args]
  local ref=$1; shift
  dev "$KRATACTL" -o json image pull "$@" "$ref" >"$WORK/pull.json"
  unsquashfs -cat "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["path"])' "$WORK/pull.json")" etc/marker
}

for kind in oci docker; do
  ref=$REG_main/multi/$kind:latest
  note "$kind: default platform"
  [ "$(marker "$ref")" = "marker-$host_arch" ] || fail "$kind: default pull did not pick linux/$host_arch"
  note "$kind: --platform linux/$other"
  [ "$(marker "$ref" --platform "linux/$other")" = "marker-$other" ] || fail "$kind: --platform linux/$other was not honoured"
  dev "$KRATACTL" image inspect "$ref" | grep -q "\"platform\":\"linux/$other\"\|\"platform\": \"linux/$other\"" \
    || fail "$kind: inspect does not show the platform"
  expect_fail "no manifest for linux/s390x in the index \(it has: linux/amd64, linux/arm64\)" \
    dev "$KRATACTL" image pull --platform linux/s390x "$ref"
done
assert_no_partial
note "ok"
