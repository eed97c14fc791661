# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Sourced by the nspawn tests: boots krata under systemd as PID 1 in the
# nspawn rig (tests/lib/nspawn-rig up-usr) and gives the checks every daemon's
# test makes the same way. Defines:
#   $rig $dir           the rig and the container's directory (removed on exit)
#   fail MSG            print MSG and the container's console tail, exit 1
#   x CMD...            run CMD in the container
#   rig_boot            build the --prefix=/usr tree, boot, reload the bus policy
#   rig_users           alice (group krata) and bob (no group)
#   rig_consoled_test_backend DIR
#                       drop-in: krata-consoled uses the test backend in DIR
#   rig_assert_activated UNIT NAME, rig_assert_sandbox UNIT USER CAPEFF
#                       nspawn-rig assert-activated / assert-sandbox, or fail
#   rig_privileges      tests/lib/privilege-check for bob (refused) and alice
#                       (allowed) over tests/integration/privilege-calls
# A test may set rig_cleanup_extra to a command run after the rig went down.
set -euo pipefail
src=${KRATA_SOURCE_ROOT:?}
rig=$src/tests/lib/nspawn-rig
dir=$(mktemp -d /tmp/krata-nspawn.XXXXXX)
rig_cleanup_extra=:
rig_cleanup() {
  local rc=$?
  trap - EXIT
  set +e
  "$rig" down "$dir" >/dev/null 2>&1
  (exit $rc); $rig_cleanup_extra  # it may look at $? (lib-image.sh's cleanup_all)
  exit $rc
}
trap rig_cleanup EXIT
command -v systemd-nspawn >/dev/null || { echo "FAIL: systemd-nspawn is missing: run tools/install-deps" >&2; exit 1; }

fail() {
  echo "FAIL: $*" >&2
  [ -f "$dir/console.log" ] && tail -n 40 "$dir/console.log" >&2
  exit 1
}
x() { "$rig" exec "$dir" "$@"; }

rig_boot() {
  "$rig" up-usr "$dir" || fail "container did not boot"
  x busctl call org.freedesktop.DBus / org.freedesktop.DBus ReloadConfig >/dev/null
}

rig_users() {
  x useradd -m -G krata alice
  x useradd -m bob
}

rig_consoled_test_backend() {
  local ring=$1
  mkdir -p "$dir/root/etc/systemd/system/krata-consoled.service.d" "$dir/root$ring"
  cat >"$dir/root/etc/systemd/system/krata-consoled.service.d/test-backend.conf" <<CONF
[Service]
Environment=KRATA_CONSOLED_TEST_RING_DIR=$ring KRATA_CONSOLED_EXIT_IDLE_TIME=2
ReadWritePaths=$ring
CONF
  x systemctl daemon-reload
}

rig_assert_activated() { "$rig" assert-activated "$dir" "$@" || fail "activation of $1"; }
rig_assert_sandbox() { "$rig" assert-sandbox "$dir" "$@" || fail "sandbox of $1"; }

rig_privileges() {
  local check=$src/tests/lib/privilege-check calls=$src/tests/integration/privilege-calls
  "$check" outsider "$calls" "$rig" exec "$dir" setpriv --reuid=bob --regid=bob --init-groups -- \
    || fail "bob (not in group krata)"
  "$check" member "$calls" "$rig" exec "$dir" setpriv --reuid=alice --regid=alice --init-groups -- \
    || fail "alice (group krata)"
}
