#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e scenario "zone-systemd": a declared zone run by `systemctl start
# krata-zone@NAME` alone; the unit's exit status is the zone's; stop works.
scenario=zone-systemd
. "$(dirname "$0")/zone-lib.sh"
e2e_up || fail "tools/devhost up failed"
zone_image_push || fail "could not push the test image"
zone_kernel_install || fail "could not install the zone kernel"
trap 'dx systemctl stop krata-zone@e2e-svc krata-zone@e2e-long >/dev/null 2>&1 || true; dx rm -f /etc/krata/zones/e2e-svc.zone /etc/krata/zones/e2e-long.zone' EXIT
base=$(zone_leak_snapshot)

dx sh -c "printf '[Zone]\nImage=$E2E_IMAGE\nMemory=128M\nCommand=/bin/sh -c \"exit 7\"\n' >/etc/krata/zones/e2e-svc.zone"
dx systemctl start krata-zone@e2e-svc.service || true
for _ in $(seq 120); do
	st=$(dx systemctl show -P ActiveState krata-zone@e2e-svc.service)
	case $st in inactive|failed) break;; esac; sleep 1
done
[ "$(dx systemctl show -P ExecMainStatus krata-zone@e2e-svc.service)" = 7 ] || fail "unit status is not the zone's 7"
zone_assert_no_leaks "$base" "krata-zone@e2e-svc"
pass "systemctl start krata-zone@e2e-svc: exit status 7 reaches systemd, nothing leaks"

dx sh -c "printf '[Zone]\nImage=$E2E_IMAGE\nCommand=/bin/sleep 3600\n' >/etc/krata/zones/e2e-long.zone"
dx systemctl start krata-zone@e2e-long.service || fail "start e2e-long (READY=1 never came)"
[ "$(dx systemctl show -P StatusText krata-zone@e2e-long.service)" != "" ] || fail "no STATUS="
dx kratactl zone list | grep -q "^e2e-long .*running" || fail "zoned does not list the systemctl-started zone"
t0=$(date +%s); dx systemctl stop krata-zone@e2e-long.service; t1=$(date +%s)
[ $((t1 - t0)) -le 15 ] || fail "stop took $((t1 - t0)) s"
zone_assert_no_leaks "$base" "a stopped krata-zone@e2e-long"
pass "systemctl stop powers the zone off (or destroys it after 10 s) in $((t1 - t0)) s, nothing leaks"
