#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e scenario "zone-lifecycle": a busybox zone launched by kratactl in the Xen
# dev host runs, is listed with its domain, reports its exit status, and is
# destroyed without leaving a domain, loop device, xenstore entry or file;
# a missing image or kernel fails with a clear error and leaves nothing.
scenario=zone-lifecycle
. "$(dirname "$0")/zone-lib.sh"
e2e_up || fail "tools/devhost up failed"
zone_image_push || fail "could not push the test image"
zone_kernel_install || fail "could not install the zone kernel"
trap 'dx kratactl zone destroy e2e-exit e2e-net e2e-run e2e-noimg e2e-nokern >/dev/null 2>&1 || true' EXIT
base=$(zone_leak_snapshot)

set +e
dx kratactl zone launch -n e2e-exit --attach "$E2E_IMAGE" /bin/sh -c 'echo hello; exit 42'
rc=$?
set -e
[ $rc = 42 ] || fail "launch --attach exited $rc, expected the zone's 42"
dx kratactl -o json zone inspect e2e-exit | grep -q '"ExitStatus":42' || fail "ExitStatus not 42"
pass "launch --attach exits with the zone's status (42)"
dx kratactl zone destroy e2e-exit || fail "destroy e2e-exit"
zone_assert_no_leaks "$base" "a zone that exited"
pass "an exited zone leaves nothing behind"

# networking: krata-networkd's address reaches eth0 through the launch spec, the gateway answers
set +e
out=$(dx kratactl zone launch -n e2e-net --attach "$E2E_IMAGE" /bin/busybox sh -c \
	'busybox ip -4 addr show eth0 | busybox grep -q "inet 10\." || exit 3; gw=$(busybox ip route | busybox awk "/default/ {print \$3}"); busybox ping -c1 -W5 "$gw" >/dev/null' 2>&1)
rc=$?
set -e
[ $rc = 0 ] || fail "zone networking: exit $rc: $out"
dx kratactl -o json zone inspect e2e-net | jq -e '.Addresses | length >= 1' >/dev/null || fail "no Addresses property"
dx kratactl zone destroy e2e-net || fail "destroy e2e-net"
zone_assert_no_leaks "$base" "a networked zone"
pass "a zone gets krata-networkd's address on eth0 and reaches its gateway"

dx kratactl zone launch -n e2e-run "$E2E_IMAGE" /bin/sleep 3600 >/dev/null || fail "launch e2e-run"
domid=$(dx kratactl -o json zone inspect e2e-run | jq -r .DomainId)
[ "$domid" -gt 0 ] || fail "no domain id"
dx kratactl zone list | grep -Eq "^e2e-run .* running +$domid " || fail "list does not show e2e-run running as domain $domid"
dx xl list | awk '{print $2}' | grep -qx "$domid" || fail "domain $domid not on the hypervisor"
for _ in $(seq 60); do
	st=$(dx sh -c "xenstore-read /local/domain/$domid/krata/status 2>/dev/null" || true)
	[ "$st" = running ] && break; sleep 0.5
done
[ "$st" = running ] || fail "krata-init did not report running (krata/status='$st')"
pass "a running zone is listed with its domain ($domid)"
dx kratactl zone destroy e2e-run || fail "destroy e2e-run"
zone_assert_no_leaks "$base" "a destroyed running zone"
pass "destroying a running zone removes domain, loops, xenstore entries"

set +e
out=$(dx kratactl zone launch -n e2e-noimg 127.0.0.1:5000/e2e/nope:1 /bin/true 2>&1); rc=$?
set -e
[ $rc = 1 ] && grep -q "HTTP 404" <<<"$out" || fail "missing image: no reason (HTTP 404) in: rc=$rc: $out"
dx kratactl zone destroy e2e-noimg
zone_assert_no_leaks "$base" "a launch of a missing image"
pass "a missing image fails clearly ($(grep -o 'manifest.*404)' <<<"$out" | head -n1)) and leaves nothing"

dx mv /var/lib/krata/zone/kernel /var/lib/krata/zone/kernel.e2e-away
set +e
out=$(dx kratactl zone launch -n e2e-nokern "$E2E_IMAGE" /bin/true 2>&1); rc=$?
set -e
dx mv /var/lib/krata/zone/kernel.e2e-away /var/lib/krata/zone/kernel
[ $rc = 1 ] && grep -q "install-default" <<<"$out" || fail "missing kernel: no hint in: rc=$rc: $out"
dx kratactl zone destroy e2e-nokern
zone_assert_no_leaks "$base" "a launch without a kernel"
pass "a missing kernel fails clearly and leaves nothing"
