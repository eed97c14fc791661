#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e teardown (runs last, priority -100): stops the dev host if setup.sh started it.
# shellcheck disable=SC2034 # read by lib.sh
scenario=teardown
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
marker=${KRATA_BUILD_ROOT:?}/meson-private/e2e-devhost-started
if [ -f "$marker" ]; then
	rm -f "$marker"
	"$devhost" down || fail "tools/devhost down failed"
	pass "dev host stopped"
else
	pass "dev host left as it was (not started by this run)"
fi
