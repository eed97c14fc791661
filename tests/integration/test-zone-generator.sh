#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# krata-zone-generator under real systemd (nspawn rig, no Xen): [Service]
# and [Install] of /etc/krata/zones/NAME.zone become krata-zone@NAME.service
# drop-ins and wants symlinks at boot and on daemon-reload; a zone wanted by
# multi-user.target is started at boot; Restart=on-failure brings a failing
# zone back (without Xen the supervisor fails fast, exit 1), Restart=no and a
# stop do not; a malformed file is skipped with its reason, the others still
# generated.
# shellcheck source=tests/lib/nspawn-test.sh
. "${KRATA_SOURCE_ROOT:?}/tests/lib/nspawn-test.sh"
ok() { echo "ok - $*"; }
gen=/run/systemd/generator

# Zone files in place before the container boots.
mkdir -p "$dir/overlay/etc/krata/zones"
printf '[Zone]\nImage=busybox\nMemory=64M\n\n[Install]\nWantedBy=multi-user.target\n' \
  >"$dir/overlay/etc/krata/zones/boot.zone"
printf '[Zone]\nImage=busybox\n[Install]\nWantedBy=../../etc/evil.target\n' >"$dir/overlay/etc/krata/zones/bad.zone"
printf '[Zone]\nImage=busybox\n' >"$dir/overlay/etc/krata/zones/plain.zone"
rig_boot

x test -L "$gen/multi-user.target.wants/krata-zone@boot.service" || fail "no wants symlink for boot"
[ "$(x readlink "$gen/multi-user.target.wants/krata-zone@boot.service")" = /usr/lib/systemd/system/krata-zone@.service ] ||
  fail "the wants symlink does not point at the template"
x grep -qx 'SourcePath=/etc/krata/zones/boot.zone' "$gen/krata-zone@boot.service.d/50-zone-file.conf" ||
  fail "no drop-in naming the zone file"
x test ! -e "$gen/krata-zone@plain.service.d" || fail "a zone without [Service]/[Install] got a drop-in"
[ -z "$(x find "$gen" -name '*evil*' -o -name 'krata-zone@bad*')" ] || fail "the malformed file generated something"
ok "at boot: drop-in and multi-user.target.wants/krata-zone@boot.service; plain and bad zones get nothing"

x systemctl list-dependencies --plain --no-legend multi-user.target | grep -q 'krata-zone@boot.service' ||
  fail "list-dependencies multi-user.target lacks krata-zone@boot.service"
started=$(x systemctl show -P ExecMainStartTimestampMonotonic krata-zone@boot.service)
[ "${started:-0}" != 0 ] || fail "krata-zone@boot.service was not started at boot"
[ "$(x systemctl show -P ExecMainStatus krata-zone@boot.service)" = 1 ] || fail "boot's supervisor did not run (no Xen: exit 1)"
[ "$(x systemctl show -P NRestarts krata-zone@boot.service)" = 0 ] || fail "a zone without Restart= was restarted"
ok "krata-zone@boot.service is wanted by multi-user.target and ran at boot (exit 1 without Xen, no restart)"

set +e
out=$(x /usr/lib/systemd/system-generators/krata-zone-generator /tmp/gen-by-hand 2>&1)
rc=$?
set -e
[ $rc = 1 ] || fail "generator exited $rc with a malformed file (expected 1)"
grep -q "bad.zone:4: WantedBy=: '../../etc/evil.target' is not a unit name" <<<"$out" || fail "generator message: $out"
x test -L /tmp/gen-by-hand/multi-user.target.wants/krata-zone@boot.service || fail "a bad file stopped the others"
ok "a malformed zone file is skipped with its reason ($out)"

# Restart=on-failure after daemon-reload alone.
x sh -c 'printf "[Zone]\nImage=busybox\nMemory=64M\n[Service]\nRestart=on-failure\nRestartSec=1\n" >/etc/krata/zones/crash.zone'
x sh -c 'printf "[Zone]\nImage=busybox\nMemory=64M\n[Service]\nRestart=no\n" >/etc/krata/zones/once.zone'
x systemctl daemon-reload
[ "$(x systemctl show -P Restart krata-zone@crash.service)" = on-failure ] || fail "Restart= not applied"
[ "$(x systemctl show -P RestartUSec krata-zone@crash.service)" = 1s ] || fail "RestartSec= not applied"
[ "$(x systemctl show -P SourcePath krata-zone@crash.service)" = /etc/krata/zones/crash.zone ] || fail "SourcePath"
x systemctl start krata-zone@crash.service krata-zone@once.service 2>/dev/null || true
n=0
for _ in $(seq 120); do
  n=$(x systemctl show -P NRestarts krata-zone@crash.service)
  [ "$n" -ge 3 ] && break
  sleep 0.5
done
[ "$n" -ge 3 ] || fail "krata-zone@crash.service restarted $n times (expected >= 3)"
[ "$(x systemctl show -P NRestarts krata-zone@once.service)" = 0 ] || fail "Restart=no restarted"
ok "Restart=on-failure: krata-zone@crash.service came back $n times after failing; Restart=no stayed down"
x systemctl stop krata-zone@crash.service
n=$(x systemctl show -P NRestarts krata-zone@crash.service)
x systemctl reset-failed 2>/dev/null || true
sleep 2 # two RestartSec: a restart would show
[ "$(x systemctl show -P ActiveState krata-zone@crash.service)" = inactive ] &&
  [ "$(x systemctl show -P NRestarts krata-zone@crash.service)" = "$n" ] || fail "a stopped zone came back"
ok "systemctl stop ends the restarts"

x rm /etc/krata/zones/boot.zone
x systemctl daemon-reload
if x systemctl list-dependencies --plain --no-legend multi-user.target | grep -q 'krata-zone@boot.service'; then
  fail "a removed zone file is still wanted"
fi
ok "removing the zone file and daemon-reload drops the dependency"
