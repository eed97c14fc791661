#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# On the private bus (tools/dev-env, no polkit there): an unprivileged caller
# (nobody, no groups) is refused every mutating method of every daemon with a
# clear error, and kratactl exits 5; listing and inspecting work. The calls
# are tests/integration/privilege-calls; test-nspawn-polkit.sh makes the same
# calls under real polkitd, where group krata is allowed.
set -euo pipefail
src=${KRATA_SOURCE_ROOT:?}
export KRATA_BUILD_DIR=${KRATA_BUILD_ROOT:?}
ring=$(mktemp -d /tmp/krata-test-priv.XXXXXX)
trap 'rm -rf "$ring"' EXIT
# krata-consoled without Xen: the test backend (nothing is registered here)
export KRATA_CONSOLED_TEST_RING_DIR=$ring
export PATH=$KRATA_BUILD_DIR/src/kratactl:$PATH
"$src/tools/dev-env" "$src/tests/lib/privilege-check" outsider "$src/tests/integration/privilege-calls" \
  setpriv --reuid=65534 --regid=65534 --clear-groups --
