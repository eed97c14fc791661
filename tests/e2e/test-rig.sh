#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e scenario "rig": the dev host is a real Xen dom0 (systemd, xenstored,
# /dev/xen), `devhost exec` is faithful, the registry is forwarded, and a PV
# guest (Debian's kernel + a busybox initrd) boots under `xl create` and prints
# its marker on hvc0. xl is the rig's self-test only; krata scenarios use krata.
# shellcheck disable=SC2034 # read by lib.sh
scenario=rig
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_up || fail "tools/devhost up failed"

tmp=$(mktemp -d /tmp/krata-e2e-rig.XXXXXX)
trap 'rm -rf "$tmp"; dx xl destroy e2e-rig >/dev/null 2>&1 || true' EXIT

# E2E_RIG_GUEST_ONLY=1 runs only the PV guest part (bench/devhost).
if [ -z "${E2E_RIG_GUEST_ONLY:-}" ]; then
# exec transport: stdout, stderr and exit status come back apart and intact.
set +e
dx sh -c 'echo "out $1"; echo "err $2" >&2; exit 7' sh 'a b' "c'd" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ $rc -eq 7 ] && [ "$(cat "$tmp/out")" = "out a b" ] && [ "$(cat "$tmp/err")" = "err c'd" ] ||
	fail "exec: rc=$rc out='$(cat "$tmp/out")' err='$(cat "$tmp/err")'"
pass "devhost exec keeps stdout, stderr, arguments and exit status (7)"

[ "$(dx cat /proc/1/comm)" = systemd ] || fail "PID 1 in dom0 is not systemd"
[ "$(dx systemctl is-system-running)" = running ] ||
	fail "dom0's systemd is not 'running': $(dx systemctl --failed --no-legend --plain || true)"
pass "dom0 runs systemd as PID 1, state running"

grep -q control_d <<<"$(dx cat /proc/xen/capabilities)" || fail "dom0 has no control_d capability"
[ "$(dx xenstore-read /local/domain/0/name)" = Domain-0 ] || fail "xenstored does not answer in dom0"
pass "xenstored is up (/local/domain/0/name = Domain-0)"

for d in privcmd evtchn gntdev; do
	dx test -c "/dev/xen/$d" || fail "/dev/xen/$d is missing in dom0"
done
pass "/dev/xen/privcmd, evtchn and gntdev exist"

port=$("$devhost" registry-port)
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/") || true
[ "$code" = 200 ] || fail "registry on host port $port answered '$code' to GET /v2/"
[ "$(dx sh -c 'ss -Hltn sport = :5000 | grep -c 127.0.0.1:5000')" -ge 1 ] ||
	fail "the registry does not listen on dom0's 127.0.0.1:5000"
pass "registry: dom0 127.0.0.1:5000 reachable from the host as 127.0.0.1:$port"
fi

# A trivial PV guest: busybox initrd whose /init prints the marker on hvc0.
# E2E_RIG_KERNEL=vmlinuz boots the compressed kernel (bench/devhost compares).
marker="KRATA-E2E-RIG-$$-OK"
mkdir -p "$tmp/initrd/bin" "$tmp/initrd/dev" "$tmp/initrd/proc"
cp /bin/busybox "$tmp/initrd/bin/busybox"
ln -s busybox "$tmp/initrd/bin/sh"
mknod -m 600 "$tmp/initrd/dev/console" c 5 1
cat >"$tmp/initrd/init" <<INIT
#!/bin/sh
/bin/busybox mount -t proc proc /proc
echo "$marker kernel \$(/bin/busybox uname -r)"
exec /bin/busybox sleep 3600
INIT
chmod +x "$tmp/initrd/init"
(cd "$tmp/initrd" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$tmp/initrd.gz"
cat >"$tmp/e2e-rig.cfg" <<CFG
name = "e2e-rig"
type = "pv"
kernel = "/var/lib/krata-devhost/${E2E_RIG_KERNEL:-vmlinux}"
ramdisk = "/tmp/e2e-rig/initrd.gz"
memory = 128
vcpus = 1
extra = "console=hvc0 rdinit=/init quiet"
on_poweroff = "destroy"
CFG
dx mkdir -p /tmp/e2e-rig
"$devhost" push "$tmp/initrd.gz" "$tmp/e2e-rig.cfg" /tmp/e2e-rig/ || fail "push to dom0 failed"
# Timed inside dom0 so ssh round trips do not count; bounded at 180 s.
out=$(dx sh -c '
	log=/var/log/xen/console/guest-e2e-rig.log
	rm -f "$log"
	t0=$(date +%s%N)
	xl create /tmp/e2e-rig/e2e-rig.cfg >/tmp/e2e-rig/xl.log 2>&1 || { cat /tmp/e2e-rig/xl.log; exit 1; }
	while ! grep -q "$1" "$log" 2>/dev/null; do
		[ $(( ($(date +%s%N) - t0) / 1000000000 )) -lt 180 ] || { echo "no marker in 180 s"; cat "$log"; exit 1; }
		sleep 0.1
	done
	echo "$(( ($(date +%s%N) - t0) / 1000000 )) ms: $(grep -m1 "$1" "$log" | tr -d "\r")"
	xl destroy e2e-rig
' sh "$marker") || fail "PV guest: $out"
pass "PV guest booted with xl create; marker on hvc0 after $out"
