#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# krata-imaged as shipped, under real systemd + dbus + polkitd in a
# systemd-nspawn container (tests/lib/nspawn-rig): D-Bus activation through
# SystemdService=, the static user from sysusers.d, the sandbox, the state
# directories, LoadCredential= of the auth file, the bus policy and polkit,
# idle exit. A docker-registry runs inside the container (its private network)
# over storage prepared on the host.
source "$(dirname "$0")/lib-image.sh"
# shellcheck source=tests/lib/nspawn-test.sh
source "$SRC/tests/lib/nspawn-test.sh"
rig_cleanup_extra=cleanup_all

# the image, pushed into registry storage we then hand to the container
start_registry host
build_busybox "$WORK/L" latest amd64 hello-nspawn
push "$WORK/L:latest" "$REG_host/test/busybox:latest"

rig_boot

install -D -m 0755 "$(command -v docker-registry)" "$dir/root/usr/local/bin/docker-registry"
mkdir -p "$dir/root/var/tmp/reg"
cp -a "$WORK/registry-host/data" "$dir/root/var/tmp/reg/data"
cat >"$dir/root/var/tmp/reg/config.yml" <<'YML'
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: /var/tmp/reg/data}}
http: {addr: 127.0.0.1:5000}
YML
x systemd-run --unit=test-registry --quiet /usr/local/bin/docker-registry serve /var/tmp/reg/config.yml
for _ in $(seq 100); do x bash -c 'exec 3<>/dev/tcp/127.0.0.1/5000' 2>/dev/null && break; sleep 0.1; done
printf 'IdleExitSec=3\n' >"$dir/root/etc/krata/imaged.conf"

ref=127.0.0.1:5000/test/busybox:latest
note "pull as root (activation through systemd)"
x kratactl -o json image pull "$ref" >"$WORK/pull.json" || { x journalctl -u krata-imaged --no-pager | tail -n 30 >&2; fail "pull in the container failed"; }
# still running for IdleExitSec=3: the static user, no capabilities
rig_assert_activated krata-imaged.service org.krata.Images1
rig_assert_sandbox krata-imaged.service krata-imaged 0000000000000000
sq=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["path"])' "$WORK/pull.json")
case "$sq" in /var/lib/krata/images/*/rootfs.squashfs) ;; *) fail "unexpected squashfs path $sq";; esac
[ "$(unsquashfs -cat "$dir/root$sq" etc/marker)" = hello-nspawn ] || fail "wrong squashfs content"
[ "$(x stat -c '%U %a' /var/lib/krata/images)" = "krata-imaged 755" ] || fail "images dir: $(x stat -c '%U %a' /var/lib/krata/images)"
[ "$(x stat -c '%U' "$sq")" = krata-imaged ] || fail "squashfs not owned by krata-imaged"
[ "$(x systemctl show -P User krata-imaged.service)" = krata-imaged ] || fail "service user"
x test -f /etc/krata/auth.json || fail "tmpfiles did not create /etc/krata/auth.json"
x journalctl -u krata-imaged --no-pager | grep -q "Pulled $ref" || fail "no pull in the journal"

note "the bus policy and polkit: group krata may pull, others only list"
rig_users
x setpriv --reuid=alice --regid=alice --init-groups kratactl image pull --force "$ref" >/dev/null \
  || fail "alice (group krata) could not pull"
x setpriv --reuid=bob --regid=bob --init-groups kratactl image list | grep -q "$ref" || fail "bob cannot list"
if out=$(x setpriv --reuid=bob --regid=bob --init-groups kratactl --no-ask-password image pull --force "$ref" 2>&1); then
  fail "bob could pull"
fi
case "$out" in *"Access denied"*|*"Authentication is required"*|*InteractiveAuthorizationRequired*) ;;
  *) fail "unexpected refusal for bob: $out";; esac
note "bob refused: $out"

note "idle exit"
for _ in $(seq 100); do [ "$(x systemctl is-active krata-imaged.service || true)" = inactive ] && break; sleep 0.1; done
[ "$(x systemctl is-active krata-imaged.service || true)" = inactive ] || fail "krata-imaged did not exit when idle"
note "ok"
