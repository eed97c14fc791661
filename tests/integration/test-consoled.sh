#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Integration test of krata-consoled and `kratactl zone attach/logs` on a
# private bus, with the test backend standing in for Xen. TEST=attach runs
# the tmux-driven terminal test instead.
set -euo pipefail
src=${KRATA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export KRATA_BUILD_DIR=${KRATA_BUILD_ROOT:-$src/build}
ringdir=$(mktemp -d /tmp/krata-consoled-test.XXXXXX)
trap 'rm -rf "$ringdir"' EXIT
export KRATA_CONSOLED_TEST_RING_DIR=$ringdir
export KRATA_CONSOLED_EXIT_IDLE_TIME=1 KRATA_CONSOLED_JOURNAL=0
script=test-consoled.py
[ "${1:-}" = attach ] && script=test-consoled-attach.py
command -v python3 >/dev/null || { echo "python3 missing: run tools/install-deps" >&2; exit 1; }
"$src/tools/dev-env" python3 "$src/tests/integration/$script"
