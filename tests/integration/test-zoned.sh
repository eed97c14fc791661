#!/usr/bin/env bash
# krata-zoned and krata-zone on a private bus (tools/dev-env), no Xen needed:
# zone records (create/list/inspect/destroy), declared zones, malformed files,
# zoned exiting when idle / killed and rebuilding its state, a supervisor that
# outlives zoned, and the supervisor failing cleanly without a hypervisor.
set -euo pipefail
src=${KRATA_SOURCE_ROOT:?}
export KRATA_BUILD_DIR=${KRATA_BUILD_ROOT:?}

if [ "${1:-}" != --inner ]; then
  if [ -e /dev/xen/privcmd ]; then
    echo "this test expects a host without Xen (it checks the no-hypervisor failure)"; exit 77
  fi
  export KRATA_ZONED_IDLE_SEC=2 KRATA_ZONED_SUPERVISOR=spawn
  exec "$src/tools/dev-env" bash "$0" --inner
fi

fail() { echo "FAIL: $*" >&2; echo "--- bus log:" >&2; cat "$KRATA_DEV_DIR/dbus/log" >&2 || true; exit 1; }
k() { kratactl "$@"; }
Z=(busctl --system)
zcall() { "${Z[@]}" call org.krata.Zones1 /org/krata/zones1 org.krata.Zones1 "$@"; }
zprop() { "${Z[@]}" get-property org.krata.Zones1 "/org/krata/zone/$1" org.krata.Zone1 "$2"; }
zoned_pid() {
  "${Z[@]}" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
    GetConnectionUnixProcessID s org.krata.Zones1 2>/dev/null | awk '{print $2}'
}
zoned_running() {
  "${Z[@]}" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s org.krata.Zones1 |
    grep -q true
}
fake_pid= theirs= l1= l2=
cleanup() {
  [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null || true
  for l in $l1 $l2; do losetup -d "$l" 2>/dev/null || true; done
  [ -n "$theirs" ] && rm -f "$theirs"
  return 0
}
trap cleanup EXIT
loops_before=$(losetup -a 2>/dev/null | wc -l)

echo "# create a zone record without starting it; list, inspect"
zcall CreateZone ssa{sv} rec1 busybox:1.36 3 start b false memory t 67108864 \
  environment as 2 A=1 "B=two words" >/dev/null || fail "CreateZone rec1"
[ -f "$KRATA_STATE_DIR/zones/rec1.zone" ] || fail "spec not stored in state dir"
grep -qx 'Environment=B=two words' "$KRATA_STATE_DIR/zones/rec1.zone" || fail "env not stored"
[ "$(zprop rec1 State)" = 's "created"' ] || fail "rec1 state: $(zprop rec1 State)"
uuid=$(zprop rec1 Uuid | cut -d'"' -f2)
[[ $uuid =~ ^[0-9a-f-]{36}$ ]] || fail "uuid '$uuid'"
k zone list | grep -q "^rec1 .*created" || fail "list lacks rec1"
k -o json zone list | jq -e '.[] | select(.name=="rec1" and .state=="created")' >/dev/null || fail "json list"
k -o json zone inspect "${uuid:0:8}" | jq -e '.Memory == 67108864 and .Environment[1] == "B=two words"' >/dev/null ||
  fail "inspect by uuid prefix"

echo "# refusals: duplicate, bad name, unknown option, bad port, unknown zone"
out=$(zcall CreateZone ssa{sv} rec1 busybox 0 2>&1) && fail "duplicate accepted"
[[ $out == *"already exists"* ]] || fail "duplicate message: $out"
zcall CreateZone ssa{sv} Bad_Name busybox 0 >/dev/null 2>&1 && fail "bad name accepted"
out=$(zcall CreateZone ssa{sv} x busybox 1 frobnicate b true 2>&1) && fail "unknown option accepted"
[[ $out == *"Unknown option 'frobnicate'"* ]] || fail "unknown option message: $out"
set +e
k zone launch -n x -p 80 busybox >/dev/null 2>&1; [ $? = 2 ] || fail "bad -p should exit 2"
k zone inspect nosuchzone >/dev/null 2>&1; [ $? = 3 ] || fail "unknown zone should exit 3"
set -e

echo "# authorization: anyone may look, only root (polkit absent) may change"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
nobody kratactl zone list | grep -q "^rec1 " || fail "unprivileged list refused"
out=$(nobody kratactl zone destroy rec1 2>&1) && fail "unprivileged destroy allowed"
[[ $out == *"only root may do this"* ]] || fail "unexpected refusal: $out"
out=$(nobody busctl --system call org.krata.Zones1 /org/krata/zones1 org.krata.Zones1 ReportState sa{sv} rec1 1 state s running 2>&1) &&
  fail "unprivileged ReportState allowed"
out=$(zcall ReportState sa{sv} rec1 1 state s running 2>&1) && fail "ReportState from a non-supervisor allowed"
[ "$(zprop rec1 State)" = 's "created"' ] || fail "rec1 state changed by a stranger"

echo "# launch without Xen: the supervisor fails cleanly, with a clear error"
set +e
out=$(k zone launch -n nox -e X=y busybox /bin/true 2>&1); rc=$?
set -e
[ $rc = 4 ] || fail "launch without Xen exited $rc, expected 4: $out"
[[ $out == *"/dev/xen/privcmd is missing"* ]] || fail "no clear error: $out"
[ "$(zprop nox State)" = 's "failed"' ] || fail "nox state"
[ "$(zprop nox Result)" = 's "no-hypervisor"' ] || fail "nox result"
jq -e '.state == "failed" and .loopDevices == []' "$KRATA_RUNTIME_DIR/supervisors/nox.json" >/dev/null ||
  fail "supervisor record: $(cat "$KRATA_RUNTIME_DIR/supervisors/nox.json")"
[ ! -e "$KRATA_RUNTIME_DIR/zone/nox" ] || fail "config disk dir left behind"
[ "$(losetup -a 2>/dev/null | wc -l)" = "$loops_before" ] || fail "loop devices leaked"
set +e
krata-zone nox >/dev/null 2>&1; rc=$?
set -e
[ $rc = 1 ] || fail "krata-zone without Xen exited $rc"
set +e
out=$(krata-zone nosuch 2>&1); rc=$?
set -e
[ $rc = 1 ] && [[ $out == *"No zone nosuch"* ]] || fail "krata-zone of unknown zone: $rc $out"

echo "# --rm zones vanish when they end"
set +e
k zone launch -n tmp1 --rm busybox >/dev/null 2>&1
set -e
for _ in $(seq 50); do zcall GetZone s tmp1 >/dev/null 2>&1 || break; sleep 0.1; done
zcall GetZone s tmp1 >/dev/null 2>&1 && fail "--rm zone still listed"
[ ! -e "$KRATA_RUNTIME_DIR/zones/tmp1.zone" ] || fail "--rm spec left behind"

echo "# declared and malformed zone files"
mkdir -p "$KRATA_CONFIG_DIR/zones"
printf '[Zone]\nImage=alpine:3\nMemory=96M\nPort=8080:80\n' >"$KRATA_CONFIG_DIR/zones/decl.zone"
printf '[Zone]\nImage=alpine:3\nMemory=lots\n' >"$KRATA_CONFIG_DIR/zones/bad.zone"
pid=$(zoned_pid); kill -KILL "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
k zone list >/dev/null
k zone list | grep -q "^decl .*created" || fail "declared zone not listed"
[ "$(zprop decl Source)" = 's "declared"' ] || fail "decl source"
k zone list | grep -q "^bad " && fail "malformed zone listed"
grep -q "bad.zone:3: Memory=: 'lots' is not a size" "$KRATA_DEV_DIR/dbus/log" || fail "malformed file not reported with file:line:key"
out=$(zcall CreateZone ssa{sv} bad busybox 0 2>&1) && fail "created over a malformed declared file"
[[ $out == *"bad.zone"* ]] || fail "collision message lacks the file: $out"

echo "# zoned restart rebuilds state (SIGKILL), then idle exit and re-activation"
before=$(k -o json zone list | jq -c 'map({name, uuid, state})')
pid=$(zoned_pid); kill -KILL "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
after=$(k -o json zone list | jq -c 'map({name, uuid, state})')
[ "$before" = "$after" ] || fail "state changed across restart: $before vs $after"
sleep 3.5
zoned_running && fail "zoned did not exit when idle"
after=$(k -o json zone list | jq -c 'map({name, uuid, state})')
[ "$before" = "$after" ] || fail "state changed across idle exit: $before vs $after"

echo "# a supervisor that outlives zoned is found again and followed"
zcall CreateZone ssa{sv} live busybox 1 start b false >/dev/null
luuid=$(zprop live Uuid | cut -d'"' -f2)
fakedir=$(mktemp -d); mkdir -p "$fakedir/bin" "$fakedir/empty"
ln -s "$(command -v tail)" "$fakedir/bin/krata-zone"
# argv: .../krata-zone live -F   (GNU tail permutes: follows the absent file "live" forever)
(cd "$fakedir/empty" && exec "$fakedir/bin/krata-zone" live -F 2>/dev/null) &
fake_pid=$!
printf '{"name":"live","uuid":"%s","pid":%d,"state":"running","domid":-1,"exitStatus":-1}' \
  "$luuid" "$fake_pid" >"$KRATA_RUNTIME_DIR/supervisors/live.json"
pid=$(zoned_pid); kill -KILL "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
[ "$(zprop live State)" = 's "running"' ] || fail "live zone not running after restart: $(zprop live State)"
sleep 3
zoned_running || fail "zoned exited while following a supervisor"
kill "$fake_pid"; wait "$fake_pid" 2>/dev/null || true; fake_pid=
for _ in $(seq 50); do [ "$(zprop live State)" = 's "failed"' ] && break; sleep 0.1; done
[ "$(zprop live State)" = 's "failed"' ] || fail "vanished supervisor not noticed: $(zprop live State)"
zprop live Error | grep -q "supervisor" || fail "no reason for the failure"
rm -rf "$fakedir"

echo "# an orphan's cleanup runs beside the bus: zoned answers meanwhile, Destroy gets its outcome"
# zoned is activated with a copy of the tree whose krata-zone --cleanup waits
# for the test to say how it ends (any other krata-zone is this build's).
fakebuild=$(mktemp -d); mkdir -p "$fakebuild/src/zone" "$fakebuild/bin" "$fakebuild/empty"
mkfifo "$fakebuild/gate"
printf '#!/bin/sh\n[ "$1" = --cleanup ] || exec %q "$@"\necho $$ >%q/cleanup."$2"\nread rc <%q/gate\nexit "$rc"\n' \
  "$KRATA_BUILD_DIR/src/zone/krata-zone" "$fakebuild" "$fakebuild" >"$fakebuild/src/zone/krata-zone"
chmod +x "$fakebuild/src/zone/krata-zone"
ln -s "$(command -v tail)" "$fakebuild/bin/krata-zone"
activation_build_dir() {
  "${Z[@]}" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus UpdateActivationEnvironment \
    'a{ss}' 1 KRATA_BUILD_DIR "$1"
}
zcall CreateZone ssa{sv} orph2 busybox 1 start b false >/dev/null
ouuid=$(zprop orph2 Uuid | cut -d'"' -f2)
(cd "$fakebuild/empty" && exec "$fakebuild/bin/krata-zone" orph2 -F 2>/dev/null) &
fake_pid=$!
printf '{"name":"orph2","uuid":"%s","pid":%d,"state":"running","domid":7,"exitStatus":-1}' \
  "$ouuid" "$fake_pid" >"$KRATA_RUNTIME_DIR/supervisors/orph2.json"
activation_build_dir "$fakebuild"
pid=$(zoned_pid); kill -KILL "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
[ "$(zprop orph2 State)" = 's "running"' ] || fail "orph2 not followed: $(zprop orph2 State)"
kill "$fake_pid"; wait "$fake_pid" 2>/dev/null || true; fake_pid=
for _ in $(seq 50); do [ "$(zprop orph2 State)" = 's "orphaned"' ] && break; sleep 0.1; done
[ "$(zprop orph2 State)" = 's "orphaned"' ] || fail "supervisor gone with domain 7 left: $(zprop orph2 State)"
destroy_orph2() {
  rm -f "$fakebuild/cleanup.orph2"
  k zone destroy orph2 >"$fakebuild/destroy.out" 2>&1 &
  destroy_pid=$!
  for _ in $(seq 100); do [ -s "$fakebuild/cleanup.orph2" ] && break; sleep 0.1; done
  [ -s "$fakebuild/cleanup.orph2" ] || fail "no cleanup started: $(cat "$fakebuild/destroy.out")"
}
destroy_orph2
# (ListZones, not kratactl zone list: its ListOrphans would find no
# hypervisor here, so no domain, and fail the orphan at once)
out=$(timeout 20 busctl --system call org.krata.Zones1 /org/krata/zones1 org.krata.Zones1 ListZones) ||
  fail "zoned did not answer while an orphan's cleanup ran"
grep -q '"orph2" "[^"]*" "orphaned"' <<<"$out" || fail "orph2 during its cleanup: $out"
kill -0 "$destroy_pid" 2>/dev/null || fail "Destroy answered before the cleanup ended: $(cat "$fakebuild/destroy.out")"
echo 1 >"$fakebuild/gate"
rc=0; wait "$destroy_pid" || rc=$?
[ $rc != 0 ] && grep -q "cleaning up orphaned domain 7 failed" "$fakebuild/destroy.out" ||
  fail "a failed cleanup: exit $rc, $(cat "$fakebuild/destroy.out")"
[ "$(zprop orph2 State)" = 's "orphaned"' ] || fail "orph2 after a failed cleanup: $(zprop orph2 State)"
destroy_orph2
echo 0 >"$fakebuild/gate"
wait "$destroy_pid" || fail "destroy after its cleanup: $(cat "$fakebuild/destroy.out")"
zcall GetZone s orph2 >/dev/null 2>&1 && fail "orph2 still listed after its cleanup"
activation_build_dir "$KRATA_BUILD_DIR"
pid=$(zoned_pid); [ -z "$pid" ] || kill -KILL "$pid"
rm -rf "$fakebuild"

echo "# krata-zone --cleanup releases what a dead supervisor's record lists, and only krata's"
ours=$KRATA_STATE_DIR/orphan.img; theirs=$(mktemp /tmp/krata-test-notours.XXXXXX)
truncate -s 1M "$ours" "$theirs"
if l1=$(losetup -f --show -r "$ours" 2>/dev/null) && l2=$(losetup -f --show -r "$theirs" 2>/dev/null); then
  printf '[Zone]\nImage=busybox\n' >"$KRATA_STATE_DIR/zones/orph.zone"
  printf '{"name":"orph","uuid":"0123abcd-0000-4000-8000-00000000abcd","pid":0,"state":"running","domid":-1,"exitStatus":-1,"loopDevices":["%s","%s"]}' \
    "$l1" "$l2" >"$KRATA_RUNTIME_DIR/supervisors/orph.json"
  krata-zone --cleanup orph || fail "--cleanup failed"
  attached() { [ -e "/sys/block/${1#/dev/}/loop/backing_file" ]; }
  left=; other=
  attached "$l1" && left=yes; attached "$l2" && other=yes
  losetup -d "$l1" 2>/dev/null || true; losetup -d "$l2" 2>/dev/null || true
  l1= l2=  # detached: never touch those numbers again (someone else may get them)
  [ -z "$left" ] || fail "--cleanup left krata's $l1 attached"
  [ -n "$other" ] || fail "--cleanup detached $l2, which is not krata's"
  jq -e '.state == "failed" and .loopDevices == []' "$KRATA_RUNTIME_DIR/supervisors/orph.json" >/dev/null ||
    fail "record after cleanup: $(cat "$KRATA_RUNTIME_DIR/supervisors/orph.json")"
  rm -f "$KRATA_STATE_DIR/zones/orph.zone"
else
  echo "(no loop devices here: --cleanup check skipped)"
fi
rm -f "$ours" "$theirs"; theirs=

echo "# destroy by name and by uuid prefix; watch sees it"
watchlog=$(mktemp)
kratactl -o json zone watch >"$watchlog" &
wpid=$!
sleep 0.5
k zone destroy rec1 || fail "destroy rec1"
k zone destroy "$(zprop nox Uuid | cut -d'"' -f2 | cut -c1-8)" || fail "destroy by uuid prefix"
k zone destroy live decl || fail "destroy live decl"
sleep 0.5
kill "$wpid"; wait "$wpid" 2>/dev/null || true
grep -q '"event":"removed","zone":"rec1"' "$watchlog" || fail "watch missed ZoneRemoved: $(cat "$watchlog")"
rm -f "$watchlog"
[ ! -e "$KRATA_STATE_DIR/zones/rec1.zone" ] || fail "rec1 spec left behind"
[ ! -e "$KRATA_RUNTIME_DIR/supervisors/rec1.json" ] || fail "record left behind"
[ -e "$KRATA_CONFIG_DIR/zones/decl.zone" ] || fail "destroy deleted a declared file in /etc"
k zone list | grep -Eq "^(rec1|nox|live) " && fail "destroyed zones still listed"
set +e
k zone destroy rec1 >/dev/null 2>&1; [ $? = 3 ] || fail "destroying a gone zone should exit 3"
set -e
echo ok
