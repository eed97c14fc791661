#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e scenario "zone-console": krata-consoled on a real PV console ring in the
# Xen dev host. A zone prints 10,000 numbered lines; `kratactl zone logs`
# returns every one of them, in order, once (read while the zone runs: the
# scrollback is dropped with the zone).
scenario=zone-console
. "$(dirname "$0")/zone-lib.sh"
e2e_up || fail "tools/devhost up failed"
zone_image_push || fail "could not push the test image"
zone_kernel_install || fail "could not install the zone kernel"
trap 'dx kratactl zone destroy e2e-lines >/dev/null 2>&1 || true' EXIT
base=$(zone_leak_snapshot)

# The zone stays up after printing: its scrollback lives as long as the zone.
dx kratactl zone launch -n e2e-lines "$E2E_IMAGE" /bin/busybox sh -c \
	'i=1; while [ $i -le 10000 ]; do echo "line $i"; i=$((i + 1)); done; exec /bin/busybox sleep 3600' >/dev/null ||
	fail "launch e2e-lines"
logs=
for _ in $(seq 120); do
	logs=$(dx kratactl zone logs e2e-lines 2>/dev/null || true)
	grep -q '^line 10000' <<<"$logs" && break
	sleep 1
done
# Keep only the zone's own lines (the console also carries kernel and init messages).
got=$(tr -d '\r' <<<"$logs" | grep -E '^line [0-9]+$' | awk '{print $2}')
want=$(seq 1 10000)
[ "$got" = "$want" ] || fail "zone logs lost, duplicated or reordered lines: $(wc -l <<<"$got") of 10000; first difference: $(diff <(echo "$want") <(echo "$got") | head -n 3 | tr '\n' ' ')"
pass "10,000 numbered lines come back from zone logs, none lost or repeated"
dx kratactl zone destroy e2e-lines || fail "destroy e2e-lines"
zone_assert_no_leaks "$base" "the console zone"
pass "the console zone leaves nothing behind"
