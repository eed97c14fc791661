#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# krata-consoled as shipped (unit, activation file, bus policy, sandbox) under
# real systemd + dbus + polkitd in a systemd-nspawn container. No Xen inside:
# a drop-in selects the test backend, and this host plays the guest through
# the container's file system (the page is one file, mapped by both sides).
set -euo pipefail
src=${KRATA_SOURCE_ROOT:?}
rig=$src/tests/lib/nspawn-rig
dir=$(mktemp -d /tmp/krata-nspawn.XXXXXX)
trap '"$rig" down "$dir" || true' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$dir/console.log" ] && tail -n 40 "$dir/console.log" >&2; exit 1; }

"$rig" up-usr "$dir" || fail "container did not boot"

mkdir -p "$dir/root/etc/systemd/system/krata-consoled.service.d" "$dir/root/var/lib/krata-test-ring"
cat >"$dir/root/etc/systemd/system/krata-consoled.service.d/test-backend.conf" <<'CONF'
[Service]
Environment=KRATA_CONSOLED_TEST_RING_DIR=/var/lib/krata-test-ring KRATA_CONSOLED_EXIT_IDLE_TIME=2
ReadWritePaths=/var/lib/krata-test-ring
CONF
"$rig" exec "$dir" systemctl daemon-reload
"$rig" exec "$dir" busctl call org.freedesktop.DBus / org.freedesktop.DBus ReloadConfig >/dev/null
"$rig" exec "$dir" useradd -m bob
KRATA_RIG_DIR=$dir KRATA_RIG=$rig python3 "$src/tests/integration/test-consoled-nspawn.py"
