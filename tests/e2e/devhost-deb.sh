#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e scenario "devhost-deb": krata's Debian package (tools/build-deb) installed
# into dom0 with apt-get, as on a Debian 12 Xen host (`tools/devhost
# install-deb`; `tools/devhost up --deb` boots with it instead of meson
# install), owns every krata file, and launches a zone. Later scenarios then run
# on the packaged krata.
scenario=devhost-deb
. "$(dirname "$0")/zone-lib.sh"
e2e_up || fail "tools/devhost up failed"
"$devhost" install-deb || fail "tools/devhost install-deb failed"
[ "$(dx dpkg-query -W -f='${Status}' krata)" = "install ok installed" ] || fail "krata is not installed as a package"
out=$(dx dpkg -V krata) || fail "dpkg -V krata: $out"
[ -z "$out" ] || fail "files differ from the package: $out"
for f in /usr/bin/kratactl /usr/libexec/krata/krata-zone /usr/lib/systemd/system/krata-zoned.service \
	/usr/share/dbus-1/system.d/org.krata.Zones1.conf /usr/lib/systemd/system-generators/krata-zone-generator; do
	dx dpkg -S "$f" >/dev/null || fail "$f is not the package's"
done
pass "apt-get install ./krata_*.deb in dom0: installed, dpkg -V clean, every krata file the package's"

zone_image_push || fail "could not push the test image"
zone_kernel_install || fail "could not install the zone kernel"
base=$(zone_leak_snapshot)
set +e
out=$(dx kratactl zone launch -n e2e-deb --rm --attach "$E2E_IMAGE" /bin/sh -c 'echo packaged-hello; exit 5' 2>&1)
rc=$?
set -e
[ $rc = 5 ] && grep -q packaged-hello <<<"$out" || fail "zone launch on the packaged krata: exit $rc: $out"
zone_assert_no_leaks "$base" "a zone of the packaged krata"
pass "the packaged krata launches a zone (output back, exit status 5), nothing leaks"
