#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e setup (runs first, priority 100): boots the dev host once for the whole
# suite; teardown.sh stops it only if this run started it.
# shellcheck disable=SC2034 # read by lib.sh
scenario=setup
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
marker=${KRATA_BUILD_ROOT:?}/meson-private/e2e-devhost-started
rm -f "$marker"
if ! "$devhost" status >/dev/null; then
	e2e_up || fail "tools/devhost up failed"
	: >"$marker"
	pass "dev host booted for this run ($("$devhost" status | sed -n 's/^ssh: //p'))"
else
	e2e_up || fail "the running dev host does not answer"
	pass "reusing the dev host that was already up"
fi
