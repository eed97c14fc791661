#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e scenario "zone-zoned-restart": krata-zoned is SIGKILLed while a zone
# runs; after re-activation the zone is still listed, running, with the same
# domain, and can be destroyed without leaks.
scenario=zone-zoned-restart
. "$(dirname "$0")/zone-lib.sh"
e2e_up || fail "tools/devhost up failed"
zone_image_push || fail "could not push the test image"
zone_kernel_install || fail "could not install the zone kernel"
trap 'dx kratactl zone destroy e2e-rs >/dev/null 2>&1 || true' EXIT
base=$(zone_leak_snapshot)

dx kratactl zone launch -n e2e-rs "$E2E_IMAGE" /bin/sleep 3600 >/dev/null || fail "launch"
before=$(dx kratactl -o json zone inspect e2e-rs | jq -c '{Uuid, DomainId, State}')
dx systemctl kill -s KILL krata-zoned.service
sleep 1
after=$(dx kratactl -o json zone inspect e2e-rs | jq -c '{Uuid, DomainId, State}')
[ "$before" = "$after" ] || fail "zone changed across the zoned restart: $before -> $after"
dx kratactl -o json zone list | jq -e 'length >= 1' >/dev/null
pass "after SIGKILL of krata-zoned the zone is still running as before ($after)"

# An orphan: kill the supervisor too, then destroy must clean up through --cleanup.
dx systemctl kill -s KILL krata-zone@e2e-rs.service
sleep 1
dx kratactl zone list | grep -q "^e2e-rs .*orphaned" || fail "a domain without supervisor is not reported as orphaned"
dx kratactl zone destroy e2e-rs || fail "destroy the orphan"
zone_assert_no_leaks "$base" "an orphaned zone"
pass "an orphaned domain is reported, and destroy cleans it up"
