#!/usr/bin/env bash
# Real systemd + dbus + polkitd in a systemd-nspawn container with krata
# installed: the shipped polkit actions and rules decide. Root is allowed, a
# member of group "krata" is allowed, any other user is refused.
set -euo pipefail
src=${KRATA_SOURCE_ROOT:?}
rig=$src/tests/lib/nspawn-rig
dir=$(mktemp -d /tmp/krata-nspawn.XXXXXX)
trap '"$rig" down "$dir" || true' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$dir/console.log" ] && tail -n 40 "$dir/console.log" >&2; exit 1; }

"$rig" up-usr "$dir" || fail "container did not boot"

install -D -m 0755 "$KRATA_BUILD_ROOT/tests/integration/polkit-server" "$dir/root/usr/local/lib/krata-test/polkit-server"
cat >"$dir/root/etc/dbus-1/system.d/org.krata.Test.conf" <<'CONF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="root"><allow own="org.krata.Test"/></policy>
  <policy context="default"><allow send_destination="org.krata.Test"/></policy>
</busconfig>
CONF

x() { "$rig" exec "$dir" "$@"; }
x busctl call org.freedesktop.DBus / org.freedesktop.DBus ReloadConfig >/dev/null
x useradd -m -G krata alice
x useradd -m bob
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
