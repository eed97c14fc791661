#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e scenario "devhost-hermetic": nothing in dom0 or in a zone reaches an
# address beyond this machine, nor the host's own loopback except through the
# explicit forward (tools/devhost --help, "Network"). An outside address is
# TEST-NET-3's 203.0.113.45; a host firewall rule drops and counts anything
# this machine would send there, so even a leaking dev host sends nothing
# out, and the count proves QEMU's slirp never tried.
scenario=devhost-hermetic
. "$(dirname "$0")/zone-lib.sh"
[ "$(id -u)" = 0 ] || fail "needs root (a host firewall rule counts what would leave)"
e2e_up || fail "tools/devhost up failed"
zone_image_push || fail "could not push the test image"
zone_kernel_install || fail "could not install the zone kernel"

outside=203.0.113.45
rule=(OUTPUT -d "$outside/32" -m comment --comment "krata-e2e-hermetic-$$" -j DROP)
tmp=$(mktemp -d /tmp/krata-e2e-hermetic.XXXXXX)
pids=()
cleanup() {
	iptables -w -D "${rule[@]}" 2>/dev/null || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	dx kratactl zone destroy e2e-hermetic >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
iptables -w -I "${rule[@]}" || fail "cannot add the counting rule for $outside"
sent() { iptables -w -L OUTPUT -v -n -x | awk -v c="krata-e2e-hermetic-$$" '$0 ~ c { print $1 }'; }
base=$(zone_leak_snapshot)

qemu=$(sed -n 's/^pid: //p' <<<"$("$devhost" status)")
tr '\0' ' ' <"/proc/$qemu/cmdline" | grep -q 'user,id=net0,restrict=on,' ||
	fail "QEMU's user network is not restricted"
pass "QEMU's user network runs with restrict=on"

# Two servers on the host's loopback: one behind the explicit forward, one not.
helper=$KRATA_SOURCE_ROOT/tests/integration/net-helper.py
fwd=$("$devhost" host-port)
other=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
for p in "$fwd" "$other"; do
	python3 "$helper" tcp-server 127.0.0.1 "$p" >"$tmp/srv-$p" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do grep -q ready "$tmp/srv-$p" && break; sleep 0.1; done
	grep -q ready "$tmp/srv-$p" || fail "host server on 127.0.0.1:$p did not start"
done

# dom0: the forward answers; the host's loopback through 10.0.2.2 and the
# outside address are refused at once (a reset from QEMU, no timeout).
got=$(dx bash -c 'exec 3<>/dev/tcp/10.0.2.100/80 && printf ping >&3 && timeout 20 head -c 9 <&3') || true
[ "$got" = pong:ping ] || fail "dom0 did not reach the host service through 10.0.2.100:80 (got '$got')"
pass "dom0 reaches the host's 127.0.0.1:$fwd through the explicit forward 10.0.2.100:80"
set +e
out=$(dx timeout 30 bash -c "exec 3<>/dev/tcp/10.0.2.2/$other" 2>&1)
rc=$?
set -e
[ $rc != 0 ] && [ $rc != 124 ] || fail "dom0 → host loopback 10.0.2.2:$other: exit $rc: $out"
grep -q 'Connection refused' <<<"$out" || fail "dom0 → 10.0.2.2:$other was not refused: $out"
set +e
out=$(dx curl -sS -m 30 "http://$outside/" 2>&1)
rc=$?
set -e
[ $rc = 7 ] || fail "dom0 → $outside: curl exit $rc (7, could not connect, expected): $out"
pass "dom0: the host's loopback (10.0.2.2:$other) and $outside are refused at once"

# No DNS: dom0 knows its own name, and any other lookup fails at once (no
# nameserver: glibc asks 127.0.0.1, which refuses), never waits on QEMU's
# dropped 10.0.2.3.
dx getent hosts krata-devhost >/dev/null || fail "dom0 cannot resolve its own name"
set +e
dx timeout 10 getent hosts krata-e2e.example
rc=$?
set -e
[ $rc = 2 ] || fail "a lookup in dom0 ended with $rc (2, not found at once, expected; 124: it waited)"
pass "dom0 resolves its own name; other lookups fail at once"

# A zone: the same, through krata-networkd and then dom0's own sockets.
set +e
out=$(dx kratactl zone launch -n e2e-hermetic --rm --attach "$E2E_IMAGE" /bin/busybox sh -c "
	r=\$(echo ping | /bin/busybox timeout 30 /bin/busybox nc 10.0.2.2 $other 2>&1); echo loopback=\$? \$r
	r=\$(echo ping | /bin/busybox timeout 30 /bin/busybox nc $outside 80 2>&1); echo outside=\$? \$r" 2>&1)
rc=$?
set -e
[ $rc = 0 ] || fail "the zone did not run: exit $rc: $out"
grep -q 'loopback=1 ' <<<"$out" && grep -q 'outside=1 ' <<<"$out" ||
	fail "a zone reached (or timed out on) the host's loopback or $outside: $out"
pass "a zone: the host's loopback and $outside are refused (nc exits 1, no timeout)"

n=$(sent)
[ "$n" = 0 ] || fail "$n packet(s) to $outside left QEMU for the host's network stack"
pass "nothing to $outside reached the host's network stack (firewall count 0)"
zone_assert_no_leaks "$base" "the hermetic zone"
