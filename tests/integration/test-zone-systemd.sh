#!/usr/bin/env bash
# krata-zoned and krata-zone@.service under real systemd (nspawn rig, no Xen):
# D-Bus activation of the sandboxed krata-zoned.service, zones started as
# krata-zone@NAME.service through systemd's StartUnit, `systemctl start
# krata-zone@NAME` of a declared zone with no kratactl, the unit's failure
# reaching zoned, and a zoned restart that keeps the zones.
set -euo pipefail
src=${KRATA_SOURCE_ROOT:?}
usrbuild=${KRATA_BUILD_ROOT:?}/../build-nspawn
rig=$src/tests/lib/nspawn-rig
dir=$(mktemp -d /tmp/krata-nspawn.XXXXXX)
trap '"$rig" down "$dir" || true' EXIT
x() { "$rig" exec "$dir" "$@"; }
fail() { echo "FAIL: $*" >&2; x journalctl -q --no-pager -n 60 2>/dev/null >&2 || true; exit 1; }

if [ ! -f "$usrbuild/build.ninja" ]; then
  meson setup "$usrbuild" "$src" --prefix=/usr -Dtests=disabled -De2e=false >/dev/null
fi
ninja -C "$usrbuild" >/dev/null
echo "# booting systemd in a container"
KRATA_BUILD_ROOT=$usrbuild "$rig" up "$dir" || fail "container did not boot"
x systemctl daemon-reload
x busctl call org.freedesktop.DBus / org.freedesktop.DBus ReloadConfig >/dev/null
x systemd-tmpfiles --create >/dev/null 2>&1 || true

echo "# a declared zone started with systemctl alone fails cleanly without Xen"
x sh -c 'printf "[Zone]\nImage=busybox\nMemory=64M\n" >/etc/krata/zones/web.zone'
if x systemctl start krata-zone@web.service 2>/dev/null; then fail "krata-zone@web started without Xen"; fi
st=$(x systemctl show -P ExecMainStatus krata-zone@web.service)
[ "$st" = 1 ] || fail "ExecMainStatus=$st, expected 1"
x systemctl show -P StatusText krata-zone@web.service | grep -q "privcmd is missing" ||
  fail "no clear STATUS= for the missing hypervisor"
x journalctl -q --no-pager -u krata-zone@web.service | grep -q "No Xen hypervisor" || fail "journal lacks the reason"
x test ! -e /run/krata/zone/web || fail "launch spec left behind"

echo "# krata-zoned is bus-activated through krata-zoned.service (sandboxed) and sees the declared zone"
out=$(x kratactl zone list) || fail "zone list: $out"
echo "$out" | grep -q "^web .*failed" || fail "declared zone not listed as failed: $out"
x systemctl is-active krata-zoned.service >/dev/null || fail "krata-zoned.service not active"
x kratactl -o json zone inspect web | grep -q '"Result":"no-hypervisor"' || fail "Result not no-hypervisor"

echo "# launch goes through StartUnit: krata-zone@NAME.service, failure reported back"
set +e
out=$(x kratactl zone launch -n api busybox /bin/true 2>&1); rc=$?
set -e
[ $rc = 4 ] || fail "launch exited $rc (expected 4): $out"
x systemctl show -P ExecMainStatus krata-zone@api.service | grep -qx 1 || fail "krata-zone@api.service did not run"
x kratactl zone list | grep -q "^api .*failed" || fail "api not failed"

echo "# zoned restart keeps the zones"
x systemctl kill -s KILL krata-zoned.service
sleep 0.5
x kratactl zone list | grep -q "^api .*failed" || fail "api lost across a zoned restart"
x kratactl zone destroy api web || fail "destroy"
x test ! -e /var/lib/krata/zones/api.zone || fail "api spec left behind"
x test -e /etc/krata/zones/web.zone || fail "declared file removed"
st=$(x systemctl show -P ActiveState krata-zone@api.service)
[ "$st" != failed ] || fail "a destroyed zone left krata-zone@api.service failed"
echo ok
