#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e scenario "zone-network": krata-networkd carrying a real zone's traffic in
# the Xen dev host. A zone fetches a page from a server in dom0 (on dom0's own
# network address; host loopback stays refused), and a client in dom0 reaches a
# web server inside a zone through a port forward (-p 18080:8080).
scenario=zone-network
. "$(dirname "$0")/zone-lib.sh"
e2e_up || fail "tools/devhost up failed"
zone_image_push || fail "could not push the test image"
zone_kernel_install || fail "could not install the zone kernel"
trap 'dx kratactl zone destroy e2e-fetch e2e-srv >/dev/null 2>&1 || true; dx systemctl stop e2e-page.service >/dev/null 2>&1 || true' EXIT
base=$(zone_leak_snapshot)

# A one-page HTTP server in dom0: systemd-socket-activate runs the handler per connection.
dx sh -c 'systemctl stop e2e-page.service; systemctl reset-failed e2e-page.service' >/dev/null 2>&1 || true
dx systemd-run -q --unit=e2e-page systemd-socket-activate -l 0.0.0.0:8081 --accept --inetd /bin/sh -c \
	'while IFS= read -r l; do case "$l" in ""|"$(printf "\r")") break;; esac; done; printf "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nkrata-e2e-page\n"' ||
	fail "could not start the page server in dom0"
addr=$(dx sh -c "ip -4 -o addr show scope global | awk '{print \$4}' | cut -d/ -f1 | head -n1")
[ -n "$addr" ] || fail "dom0 has no global IPv4 address"

set +e
out=$(dx kratactl zone launch -n e2e-fetch --attach "$E2E_IMAGE" /bin/busybox timeout 30 /bin/busybox wget -q -O- "http://$addr:8081/" 2>&1)
rc=$?
set -e
[ $rc = 0 ] && grep -q krata-e2e-page <<<"$out" || fail "zone could not fetch dom0's page at $addr:8081: exit $rc: $out"
dx kratactl zone destroy e2e-fetch || fail "destroy e2e-fetch"
pass "a zone fetches a page from a server in dom0 ($addr:8081) through krata-networkd"

dx kratactl zone launch -n e2e-srv -p 18080:8080 "$E2E_IMAGE" /bin/busybox sh -c \
	'mkdir -p /tmp/www && echo krata-zone-page >/tmp/www/index.html && exec /bin/busybox httpd -f -p 8080 -h /tmp/www' >/dev/null ||
	fail "launch e2e-srv"
got=
for _ in $(seq 60); do
	got=$(dx curl -s -m 5 http://127.0.0.1:18080/index.html 2>/dev/null || true)
	[ "$got" = krata-zone-page ] && break
	sleep 1
done
[ "$got" = krata-zone-page ] || fail "dom0 could not reach the zone's server through port forward 18080:8080 (got '$got')"
dx kratactl network list | grep -q 18080 || fail "network list does not show the forward"
pass "a client in dom0 reaches a server in the zone through port forward 18080:8080"
dx kratactl zone destroy e2e-srv || fail "destroy e2e-srv"
zone_assert_no_leaks "$base" "the network zones"
pass "networked zones leave nothing behind"
