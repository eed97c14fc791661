#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# krata-imaged end to end: a single-layer busybox image from docker-registry on
# 127.0.0.1 through tools/dev-env and kratactl; the squashfs holds what umoci
# unpacks; a re-pull costs one manifest request; concurrent pulls share one
# transfer; list/inspect JSON; rm; prune.
source "$(dirname "$0")/lib-image.sh"

ACCESSLOG_OFF=false start_registry main
build_busybox "$WORK/L" latest amd64 hello-krata
push "$WORK/L:latest" "$REG_main/test/busybox:latest"
ref=$REG_main/test/busybox:latest
write_conf "# test"

note "pull $ref"
dev "$KRATACTL" -o json image pull "$ref" >"$WORK/pull.json"
python3 - "$WORK/pull.json" "$ref" <<'PY'
import json, os, sys
o = json.load(open(sys.argv[1]))
for k in ("reference", "digest", "path", "size"):
    assert k in o, "pull --output json lacks " + k
assert o["reference"] == sys.argv[2], o
assert o["digest"].startswith("sha256:") and len(o["digest"]) == 71, o
assert os.path.getsize(o["path"]) == o["size"] > 0, o
PY
sq=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["path"])' "$WORK/pull.json")
digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$WORK/pull.json")
[ "$(unsquashfs -cat "$sq" etc/marker)" = hello-krata ] || fail "etc/marker in the squashfs is wrong"

note "the squashfs tree equals umoci's unpack"
umoci unpack --image "$WORK/L:latest" "$WORK/unpacked" >/dev/null
(cd "$WORK/unpacked/rootfs" && find . -mindepth 1 -printf '%P %y %m %s %l\n' | sort) >"$WORK/want"
unsquashfs -q -d "$WORK/sqroot" "$sq" >/dev/null
(cd "$WORK/sqroot" && find . -mindepth 1 -printf '%P %y %m %s %l\n' | sort) >"$WORK/got"
diff -u "$WORK/want" "$WORK/got" || fail "squashfs tree differs from umoci unpack"

note "re-pull of the unchanged tag: one manifest request"
before=$(grep -c '"GET /v2/\|"HEAD /v2/' "$WORK/registry-main/log" || true)
dev "$KRATACTL" image pull "$ref" >/dev/null
after=$(grep -c '"GET /v2/\|"HEAD /v2/' "$WORK/registry-main/log" || true)
[ $((after - before)) -eq 1 ] || fail "re-pull made $((after - before)) registry requests, want 1"
grep 'Pulled .*(.* 1 registry requests)' "$WORK/dev/dbus/log" >/dev/null || fail "daemon did not report a 1-request re-pull"
ms=$(dev bash -c 'kratactl image list >/dev/null; s=$(date +%s%N); kratactl image pull "$1" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 ))' _ "$ref")
note "warm re-pull took ${ms} ms (daemon already running)"

note "list and inspect"
dev "$KRATACTL" -o json image list >"$WORK/list.json"
python3 - "$WORK/list.json" "$ref" "$digest" "$sq" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 1, rows
r = rows[0]
assert (r["reference"], r["digest"], r["path"]) == tuple(sys.argv[2:5]), r
assert r["size"] > 0 and r["platform"] == "linux/amd64", r
PY
for what in "$ref" "$digest" "${digest#sha256:}" "${digest:7:12}"; do
  dev "$KRATACTL" image inspect "$what" >"$WORK/inspect.json"
  python3 - "$WORK/inspect.json" "$digest" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
assert o["digest"] == sys.argv[2], o
assert o["config"]["config"]["Cmd"] == ["/bin/sh"], o
assert o["path"].endswith("/rootfs.squashfs"), o
PY
done
rc=0; dev "$KRATACTL" image inspect no/such:image 2>"$WORK/err" || rc=$?
[ $rc -eq 3 ] || fail "inspect of a missing image exited $rc, want 3"

note "two concurrent pulls share one transfer"
dev bash -c 'kratactl image pull --force "$1" >/dev/null & a=$!; kratactl image pull --force "$1" >/dev/null & b=$!; wait $a && wait $b' _ "$ref" \
  || fail "concurrent pulls failed"
n=$(grep -c "Pulling $ref (linux/amd64) as transfer" "$WORK/dev/dbus/log")
# (dev-env's bus log holds this run only)
[ "$n" -eq 1 ] || fail "two concurrent pulls of one image started $n transfers, want 1"

note "a moved tag leaves the old image untagged; prune removes it and its blobs"
build_busybox "$WORK/L" latest amd64 changed
push "$WORK/L:latest" "$ref"
dev "$KRATACTL" image pull "$ref" >/dev/null
[ "$(image_count)" -eq 2 ] || fail "want 2 images after the tag moved"
dev "$KRATACTL" -o json image prune >"$WORK/prune.json"
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["images"] == 1 and o["blobs"] >= 1, o' "$WORK/prune.json"
[ "$(image_count)" -eq 1 ] || fail "prune should leave the tagged image"

note "rm"
dev "$KRATACTL" image rm "$ref"
[ "$(image_count)" -eq 0 ] || fail "rm left an image"
dev "$KRATACTL" image prune --all >/dev/null
[ -z "$(ls -A "$(state_dir)/blobs/sha256")" ] || fail "prune --all left blobs"
assert_no_partial
note "ok"
