#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Real systemd + dbus + polkitd in a systemd-nspawn container with krata
# installed: the shipped polkit actions and rules decide. Root is allowed, a
# member of group "krata" is allowed, any other user is refused: first on a
# minimal test service, then on every method of every daemon
# (tests/integration/privilege-calls through tests/lib/privilege-check).
# shellcheck source=tests/lib/nspawn-test.sh
source "$(dirname "$0")/../lib/nspawn-test.sh"

rig_boot
install -D -m 0755 "$KRATA_BUILD_ROOT/tests/integration/polkit-server" "$dir/root/usr/local/lib/krata-test/polkit-server"
cat >"$dir/root/etc/dbus-1/system.d/org.krata.Test.conf" <<'CONF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="root"><allow own="org.krata.Test"/></policy>
  <policy context="default"><allow send_destination="org.krata.Test"/></policy>
</busconfig>
CONF
x busctl call org.freedesktop.DBus / org.freedesktop.DBus ReloadConfig >/dev/null
rig_users
x systemd-run --unit=krata-polkit-test --quiet /usr/local/lib/krata-test/polkit-server
for _ in $(seq 100); do x busctl status org.krata.Test >/dev/null 2>&1 && break; sleep 0.1; done

call() { x setpriv --reuid="$1" --regid="$1" --init-groups dbus-send --system --print-reply \
           --dest=org.krata.Test /org/krata/test org.krata.Test.Guarded 2>&1; }

out=$(call root) || fail "root refused: $out"
echo "# root allowed"
out=$(call alice) || fail "member of group krata refused: $out"
echo "# member of group krata allowed by krata.rules"
if out=$(call bob); then fail "bob allowed: $out"; fi
case "$out" in *AccessDenied*|*InteractiveAuthorizationRequired*|*"Authentication is required"*) ;;
  *) fail "unexpected answer for bob: $out";; esac
echo "# other users refused: $out"

# Every daemon's methods. krata-consoled on its test backend with a console
# page for the zone the calls register; krata-networkd waits for an interface
# that never comes; krata-imaged pulls from a port where nothing listens.
ring=/var/lib/krata-test-ring
rig_consoled_test_backend "$ring"
mkdir -p "$dir/root$ring/priv-z"
truncate -s 4096 "$dir/root$ring/priv-z/ring"
mkfifo "$dir/root$ring/priv-z/notify-host" "$dir/root$ring/priv-z/notify-guest"
rig_privileges
echo "ok"
