#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# krata-zone's image step against the real krata-imaged (a local docker-registry,
# tools/dev-env): Pull, the transfer, InspectImage; then the launch-spec disk
# from the pulled image's OCI config merged with the zone's overrides, read
# back with the boot chain's decoder. A missing image fails with imaged's reason.
source "$(dirname "$0")/lib-image.sh"
HELPER=$BUILD/tests/integration/krata-test-zone-prepare
[ -x "$HELPER" ] || fail "build tree lacks $HELPER"

start_registry main
build_busybox "$WORK/L" latest amd64 zone-prepare
umoci config --image "$WORK/L:latest" --config.entrypoint /bin/sh --config.cmd "-c" --config.cmd "echo image" \
  --config.env PATH=/bin --config.env FROM_IMAGE=1 --config.workingdir /tmp >/dev/null
push "$WORK/L:latest" "$REG_main/test/busybox:latest"
ref=$REG_main/test/busybox:latest
write_conf "# test"

mkdir -p "$WORK/dev/state/zones"
printf '[Zone]\nImage=%s\nCommand=-c "echo zone"\nEnvironment=FROM_ZONE=2\nUser=1000\n' "$ref" \
  >"$WORK/dev/state/zones/prep.zone"
note "pull through krata-imaged and write the launch spec"
out=$(dev "$HELPER" prep) || fail "zone-prepare failed: $out"
disk=$(sed -n 1p <<<"$out"); digest=$(sed -n 2p <<<"$out"); sq=$(sed -n 3p <<<"$out")
[[ $digest == sha256:* ]] || fail "no digest: $out"
[ -s "$sq" ] || fail "no squashfs at $sq"
[ $(( $(stat -c %s "$disk") % 4096 )) = 0 ] || fail "config disk not padded to 4 KiB"
[ "$(head -c 8 "$disk")" = KRATACFG ] || fail "config disk magic"
len=$(od -An -tu4 -j12 -N4 "$disk" | tr -d ' ')
json=$(dd if="$disk" bs=1 skip=16 count="$len" status=none)
python3 - "$json" <<'PY' || fail "launch spec: $json"
import json, sys
s = json.loads(sys.argv[1])
assert s["version"].startswith("1."), s
assert s["argv"] == ["/bin/sh", "-c", "echo zone"], s["argv"]     # Entrypoint kept, Cmd replaced
assert "FROM_IMAGE=1" in s["env"] and "FROM_ZONE=2" in s["env"], s["env"]
assert s["cwd"] == "/tmp" and s["user"] == "1000" and s["hostname"] == "prep", s
PY
note "launch spec: Entrypoint kept, Cmd replaced, env merged, image's WorkingDir, zone's User"

printf '[Zone]\nImage=%s/test/nope:1\n' "$REG_main" >"$WORK/dev/state/zones/nope.zone"
if out=$(dev "$HELPER" nope 2>&1); then fail "a missing image succeeded"; fi
grep -q "nope.*404\|404.*nope" <<<"$out" || fail "missing image: the registry's reason (404) is lost: $out"
note "a missing image fails with imaged's reason: $(grep -i nope <<<"$out" | tail -n1)"
echo ok
