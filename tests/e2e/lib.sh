# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# Sourced by the e2e scenarios: the dev host (tools/devhost) and small helpers.
set -euo pipefail
: "${KRATA_SOURCE_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
devhost=$KRATA_SOURCE_ROOT/tools/devhost
scenario=${scenario:-$(basename "$0" .sh)}
# Every scenario may run alone: `up` is a no-op when the suite's setup already booted it.
e2e_up() { "$devhost" up; }
# dx CMD...: run CMD in dom0.
dx() { "$devhost" exec "$@"; }
pass() { printf 'e2e: %s: PASS: %s\n' "$scenario" "$*"; }
fail() {
	printf 'e2e: %s: FAIL: %s\n' "$scenario" "$*" >&2
	printf 'e2e: %s: dom0 console: %s console-log\n' "$scenario" "$devhost" >&2
	exit 1
}
