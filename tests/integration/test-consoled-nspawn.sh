#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# krata-consoled as shipped (unit, activation file, bus policy, sandbox) under
# real systemd + dbus + polkitd in a systemd-nspawn container. No Xen inside:
# a drop-in selects the test backend, and this host plays the guest through
# the container's file system (the page is one file, mapped by both sides).
# shellcheck source=tests/lib/nspawn-test.sh
source "$(dirname "$0")/../lib/nspawn-test.sh"

rig_boot
rig_consoled_test_backend /var/lib/krata-test-ring
rig_users
KRATA_RIG_DIR=$dir KRATA_RIG=$rig python3 "$src/tests/integration/test-consoled-nspawn.py"
