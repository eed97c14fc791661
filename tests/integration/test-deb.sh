#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Debian package under real systemd (nspawn rig, no Xen): tools/build-deb
# builds it, `apt-get install ./krata_*.deb` installs it into a container
# booted without krata, and the maintainer scripts leave a working krata:
# system users and directories (sysusers, tmpfiles), units known to systemd
# and clean under `systemd-analyze verify`, the bus policy loaded, daemons
# D-Bus activated through their units, the zone generator run by
# daemon-reload; purge removes it all but the admin's /etc/krata.
# shellcheck source=tests/lib/nspawn-test.sh
. "${KRATA_SOURCE_ROOT:?}/tests/lib/nspawn-test.sh"
build=${KRATA_BUILD_ROOT:?}
ok() { echo "ok - $*"; }

echo "# tools/build-deb (DEB_BUILD_OPTIONS=nocheck: the unit tests run in their own suite)"
DEB_BUILD_OPTIONS=nocheck "$src/tools/build-deb" "$build/deb" >/dev/null || fail "tools/build-deb failed"
deb=$(ls "$build"/deb/krata_*.deb)
ok "built $(basename "$deb")"

echo "# booting systemd in a container without krata"
KRATA_RIG_INSTALL=no "$rig" up "$dir" || fail "container did not boot"
x test ! -e /usr/bin/kratactl || fail "the container already has krata"
cp "$deb" "$dir/root/var/tmp/" # (/tmp is a tmpfs inside)
out=$(x env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "/var/tmp/$(basename "$deb")" 2>&1) ||
  fail "apt-get install ./$(basename "$deb"): $out"
ok "apt-get install ./$(basename "$deb") (offline: every dependency is in the base tree)"

v=$(x kratactl --version) || fail "kratactl --version"
grep -q "$(dpkg-deb -f "$deb" Version)" <<<"$v" || fail "kratactl --version says '$v'"
ok "kratactl --version: $v"

x getent group krata >/dev/null || fail "no group krata (sysusers)"
for u in krata-imaged krata-networkd; do x id "$u" >/dev/null || fail "no user $u (sysusers)"; done
for d in /var/lib/krata/zone /etc/krata/zones /run/krata /var/cache/krata; do x test -d "$d" || fail "no $d (tmpfiles)"; done
[ "$(x stat -c '%a %U' /etc/krata/auth.json)" = "600 root" ] || fail "/etc/krata/auth.json is not root's 0600 (tmpfiles)"
ok "postinst: users krata-imaged, krata-networkd, group krata (sysusers); krata's directories and auth.json (tmpfiles)"

units=$(x sh -c 'cd /usr/lib/systemd/system && ls krata-*.service')
for u in $units; do
  inst=${u/@./@test.}
  out=$(x systemd-analyze verify --man=no "$inst" 2>&1) || true
  [ -z "$out" ] || fail "systemd-analyze verify $inst: $out"
  [ "$(x systemctl show -P LoadState "$inst")" = loaded ] || fail "$inst not loaded"
done
ok "systemd-analyze verify is clean and systemd loaded: $(echo $units)"

x kratactl image list >/dev/null || fail "kratactl image list (activates krata-imaged)"
rig_assert_activated krata-imaged.service org.krata.Images1
x kratactl zone list >/dev/null || fail "kratactl zone list (activates krata-zoned)"
rig_assert_activated krata-zoned.service org.krata.Zones1
x kratactl network list >/dev/null || fail "kratactl network list (activates krata-networkd)"
rig_assert_activated krata-networkd.service org.krata.Network1
[ "$(x stat -c %U /var/lib/krata/images)" = krata-imaged ] || fail "/var/lib/krata/images is not krata-imaged's"
ok "the bus policy is loaded and krata-imaged, krata-zoned, krata-networkd start as units on first use"

x sh -c 'printf "[Zone]\nImage=busybox\n[Install]\nWantedBy=multi-user.target\n" >/etc/krata/zones/web.zone'
x systemctl daemon-reload
x systemctl list-dependencies --plain --no-legend multi-user.target | grep -q 'krata-zone@web.service' ||
  fail "the packaged generator did not make krata-zone@web.service wanted"
ok "the packaged krata-zone-generator runs on daemon-reload"

out=$(x env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q krata 2>&1) || fail "apt-get purge krata: $out"
for f in /usr/bin/kratactl /usr/libexec/krata /usr/lib/systemd/system/krata-zoned.service \
  /usr/share/dbus-1/system.d/org.krata.Zones1.conf /var/lib/krata /var/cache/krata; do
  x test ! -e "$f" || fail "$f left after purge"
done
x test -e /etc/krata/zones/web.zone || fail "purge removed the admin's zone file"
if x systemctl list-dependencies --plain --no-legend multi-user.target | grep -q 'krata-zone@web.service'; then
  fail "krata-zone@web.service still wanted after purge"
fi
ok "apt-get purge removes files, state and generated units; /etc/krata/zones stays"
