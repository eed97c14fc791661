#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e scenario "zone-restart": a declared zone with [Service] Restart=on-failure
# and [Install] WantedBy=multi-user.target, through krata-zone-generator and
# `systemctl daemon-reload` alone: it is wanted at boot, and when its domain
# crashes (destroyed behind krata's back) systemd brings the zone back in a new
# domain; `systemctl stop` ends it for good and leaves nothing behind.
scenario=zone-restart
. "$(dirname "$0")/zone-lib.sh"
e2e_up || fail "tools/devhost up failed"
zone_image_push || fail "could not push the test image"
zone_kernel_install || fail "could not install the zone kernel"
unit=krata-zone@e2e-crash.service
trap 'dx systemctl stop '"$unit"' >/dev/null 2>&1 || true; dx rm -f /etc/krata/zones/e2e-crash.zone; dx systemctl daemon-reload || true' EXIT
base=$(zone_leak_snapshot)

dx sh -c "printf '[Zone]\nImage=$E2E_IMAGE\nMemory=128M\nCommand=/bin/sleep 3600\n\n[Service]\nRestart=on-failure\nRestartSec=1\n\n[Install]\nWantedBy=multi-user.target\n' >/etc/krata/zones/e2e-crash.zone"
dx systemctl daemon-reload
dx systemctl list-dependencies --plain --no-legend multi-user.target | grep -q "$unit" ||
	fail "$unit is not wanted by multi-user.target after daemon-reload"
[ "$(dx systemctl show -P Restart "$unit")" = on-failure ] || fail "Restart= did not reach the unit"
pass "daemon-reload alone: $unit wanted by multi-user.target, Restart=on-failure"

dx systemctl start "$unit" || fail "start $unit"
running_domid() { # waits for the zone to run in a domain other than $1; prints it
	local d st
	for _ in $(seq 240); do
		d=$(dx kratactl -o json zone inspect e2e-crash 2>/dev/null | jq -r '.DomainId // 0') || d=0
		if [ "${d:-0}" -gt 0 ] && [ "$d" != "$1" ]; then
			st=$(dx sh -c "xenstore-read /local/domain/$d/krata/status 2>/dev/null" || true)
			[ "$st" = running ] && { echo "$d"; return 0; }
		fi
		sleep 0.5
	done
	return 1
}
d1=$(running_domid 0) || fail "e2e-crash never ran"
dx xl destroy "$d1" || fail "xl destroy $d1"
d2=$(running_domid "$d1") || fail "e2e-crash did not come back after its domain $d1 was destroyed"
n=$(dx systemctl show -P NRestarts "$unit")
[ "$n" = 1 ] || fail "NRestarts=$n after one crash"
pass "domain $d1 destroyed behind krata's back: systemd restarted the zone in domain $d2 (NRestarts=1)"

dx systemctl stop "$unit"
# failed, not inactive, while a stop still ends a zone with no exit code (255)
case $(dx systemctl show -P ActiveState "$unit") in inactive | failed) ;; *) fail "$unit still active after stop" ;; esac
[ "$(dx systemctl show -P NRestarts "$unit")" = 1 ] || fail "$unit was restarted after systemctl stop"
dx sh -c "! xl list | awk 'NR>1 {print \$2}' | grep -qx $d2" || fail "domain $d2 still exists after stop"
zone_assert_no_leaks "$base" "the restarted zone"
pass "systemctl stop ends it (no restart), nothing leaks"
