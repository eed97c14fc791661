#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs krata-init as PID 1 of a throwaway mount+pid+uts namespace inside a
# network namespace whose eth0 is one end of a veth pair, against a squashfs
# image built from busybox-static and a config disk from the real writer.
# Checks user/groups, env, cwd, umask, hostname, addresses, routes,
# resolv.conf, the exit status, signal forwarding and the failure statuses.
set -euo pipefail

build=${KRATA_BUILD_ROOT:?}
init=$build/init/krata-init
mkcfg=$build/tests/integration/krata-test-mkconfigdisk

if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: needs root (loop devices, mounts, namespaces)" >&2
        exit 77
fi
for t in mksquashfs unshare ip busybox; do
        command -v $t >/dev/null || { echo "FAIL: $t is missing (tools/install-deps installs it)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/krata-init-test.XXXXXX)
ns=krata-init-test-$$
veth=kit$$
upid=
cleanup() {
        [ -n "$upid" ] && kill -KILL "$upid" 2>/dev/null || true
        ip link del "$veth" 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
        rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# --- the image: busybox, two users, a working directory ---
root=$tmp/rootfs
mkdir -p "$root"/{bin,etc,home/app,work,tmp}
cp "$(command -v busybox)" "$root/bin/busybox"
for a in sh id env pwd cat echo ip hostname sleep ls grep; do ln -s busybox "$root/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\napp:x:1000:\nextra:x:2000:app\n' >"$root/etc/group"
ln -s ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf" # dangling, as in many images
chown 1000:1000 "$root/work"
mksquashfs "$root" "$tmp/image.sqfs" -quiet -noappend -comp zstd >/dev/null

# --- kernel addons: mounted at /lib/modules/$(uname -r) ---
mkdir -p "$tmp/addons/kernel"
echo "addons-marker" >"$tmp/addons/kernel/marker"
mksquashfs "$tmp/addons" "$tmp/addons.sqfs" -quiet -noappend >/dev/null

# --- the network: eth0 in a fresh namespace ---
ip netns add "$ns"
ip link add "$veth" type veth peer name eth0 netns "$ns"
ip link set "$veth" up

spec() { # $1 = argv JSON, $2 = user, $3 = extra fields
        cat <<EOF
{"version": "1.0", "hostname": "testzone", "argv": $1, "env": ["FOO=bar baz"],
 "cwd": "/work", "user": "$2", "umask": 23, "tty": false,
 "network": {"ipv4": {"address": "10.99.0.2", "prefix": 24, "gateway": "10.99.0.1"},
             "ipv6": {"address": "fd00:99::2", "prefix": 64, "gateway": "fd00:99::1"},
             "dns": ["10.99.0.1"]} ${3:-}}
EOF
}

run_init() { # $1 = config disk, $2 = report file, $3 = output file, $4... extra init args
        local rc=0 cfg=$1 report=$2 out=$3
        shift 3
        timeout 60 ip netns exec "$ns" unshare --mount --pid --uts --fork --kill-child \
                "$init" --test-root="$tmp/mnt" --config="$cfg" --image="$tmp/image.sqfs" \
                --report-file="$report" "$@" </dev/null >"$out" 2>&1 || rc=$?
        return $rc
}
mkdir -p "$tmp/mnt"

# --- 1: the happy path ---
script='id; env; pwd; umask; hostname; cat /etc/resolv.conf /lib/modules/$(uname -r)/kernel/marker; ip -o addr show dev eth0; ip route; ip -6 route; [ -t 0 ] || echo notty; echo hello; exit 7'
spec "[\"/bin/sh\", \"-c\", \"$script\"]" app | "$mkcfg" "$tmp/cfg1"
start=$(date +%s%N)
rc=0; run_init "$tmp/cfg1" "$tmp/report1" "$tmp/out1" --addons="$tmp/addons.sqfs" || rc=$?
end=$(date +%s%N)
cat "$tmp/out1"
[ "$rc" -eq 7 ] || fail "init exited $rc, expected 7"
grep -qx 'krata/exit-code=7' "$tmp/report1" || fail "exit code 7 not reported: $(cat "$tmp/report1")"
grep -qx 'krata/status=running' "$tmp/report1" || fail "no running status"
grep -qx 'krata/status=exited' "$tmp/report1" || fail "no exited status"
grep -q 'uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)' "$tmp/out1" || fail "wrong user/groups"
grep -qx 'FOO=bar baz' "$tmp/out1" || fail "env FOO missing"
grep -qx 'HOME=/home/app' "$tmp/out1" || fail "HOME not from passwd"
grep -qx '/work' "$tmp/out1" || fail "cwd is not /work"
grep -qx '0027' "$tmp/out1" || fail "umask is not 0027"
grep -qx 'testzone' "$tmp/out1" || fail "hostname not set"
grep -qx 'nameserver 10.99.0.1' "$tmp/out1" || fail "resolv.conf not written"
grep -q 'inet 10.99.0.2/24' "$tmp/out1" || fail "IPv4 address missing"
grep -q 'inet6 fd00:99::2/64' "$tmp/out1" || fail "IPv6 address missing"
grep -q 'default via 10.99.0.1 dev eth0' "$tmp/out1" || fail "IPv4 default route missing"
grep -q 'default via fd00:99::1 dev eth0' "$tmp/out1" || fail "IPv6 default route missing"
grep -qx 'hello' "$tmp/out1" || fail "no hello"
grep -qx 'addons-marker' "$tmp/out1" || fail "addons not mounted at /lib/modules/RELEASE"
grep -qx 'notty' "$tmp/out1" || fail "stdin is a TTY without tty in the spec"
echo "ok 1: user, env, cwd, umask, network, addons, exit status 7 ($(( (end - start) / 1000000 )) ms)"

# --- 1b: tty: the console becomes the controlling terminal ---
spec '["/bin/sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo istty; echo TERM=$TERM; cat /proc/self/stat | cut -d\" \" -f7; exit 3"]' 0 ', "tty": true' |
        sed 's/"tty": false,//' | "$mkcfg" "$tmp/cfg-tty"
rc=0
# script(1) gives the whole run a pty; init gets it as --console
timeout 60 script -qec "ip netns exec $ns unshare --mount --pid --uts --fork --kill-child $init --test-root=$tmp/mnt \
        --config=$tmp/cfg-tty --image=$tmp/image.sqfs --report-file=$tmp/report-tty --console=/dev/stdin" \
        "$tmp/out-tty" </dev/null >/dev/null 2>&1 || rc=$?
grep -qx 'krata/exit-code=3' "$tmp/report-tty" || fail "tty run: exit code 3 not reported: $(cat "$tmp/out-tty")"
grep -q 'istty' "$tmp/out-tty" || fail "tty run: stdio is not a terminal: $(cat "$tmp/out-tty")"
grep -q 'TERM=xterm' "$tmp/out-tty" || fail "tty run: TERM not set"
tty_nr=$(grep -a -E '^[0-9]+.?$' "$tmp/out-tty" | tr -d '\r' | tail -1)
[ -n "$tty_nr" ] && [ "$tty_nr" != 0 ] || fail "tty run: no controlling terminal (tty_nr '$tty_nr'): $(cat "$tmp/out-tty")"
echo "ok 1b: tty spec → controlling terminal (tty_nr $tty_nr), TERM=xterm"

# --- 2: SIGTERM to PID 1 reaches the process ---
spec '["/bin/sh", "-c", "trap \"exit 42\" TERM; echo ready; while true; do sleep 0.1; done"]' 1000:1000 |
        "$mkcfg" "$tmp/cfg2"
ip netns exec "$ns" unshare --mount --pid --uts --fork --kill-child \
        "$init" --test-root="$tmp/mnt" --config="$tmp/cfg2" --image="$tmp/image.sqfs" \
        --report-file="$tmp/report2" </dev/null >"$tmp/out2" 2>&1 &
upid=$!
for _ in $(seq 100); do grep -q ready "$tmp/out2" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$tmp/out2" || fail "signal test process did not start: $(cat "$tmp/out2")"
initpid=$(cat /proc/"$upid"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -m1 . || true)
# ip netns exec execs unshare in place, so $upid is unshare and its child is init
[ -n "$initpid" ] || fail "cannot find init's PID"
kill -TERM "$initpid"
rc=0; wait "$upid" || rc=$?
upid=
[ "$rc" -eq 42 ] || fail "after SIGTERM init exited $rc, expected 42: $(cat "$tmp/out2")"
grep -qx 'krata/exit-code=42' "$tmp/report2" || fail "exit code 42 not reported"
echo "ok 2: SIGTERM forwarded, status 42"

# --- 3: failures before the process starts: distinct statuses, never a hang ---
check_failure() { # $1 name, $2 config file, $3 expected status, $4 expected reason
        local rc=0
        run_init "$2" "$tmp/report-$1" "$tmp/out-$1" || rc=$?
        [ "$rc" -eq "$3" ] || fail "$1: init exited $rc, expected $3: $(cat "$tmp/out-$1")"
        grep -qx "krata/exit-code=$3" "$tmp/report-$1" || fail "$1: status $3 not reported"
        grep -qx "krata/status=failed:$4" "$tmp/report-$1" || fail "$1: failed:$4 not reported: $(cat "$tmp/report-$1")"
        echo "ok: $1 → $3 failed:$4 ($(grep -m1 -i 'fail\|not' "$tmp/out-$1" | head -c 160))"
}
spec '["/bin/true"]' nosuchuser | "$mkcfg" "$tmp/cfg-user"
check_failure unknown-user "$tmp/cfg-user" 245 user
spec '["/bin/no-such-command"]' app | "$mkcfg" "$tmp/cfg-exec"
check_failure missing-command "$tmp/cfg-exec" 127 exec
printf 'KRATACFG\001\000\000\000\021\000\000\000{"version":"2.0"}' >"$tmp/cfg-v2"
truncate -s 4096 "$tmp/cfg-v2"
check_failure major-version "$tmp/cfg-v2" 241 config
head -c 4096 /dev/zero >"$tmp/cfg-zero"
check_failure no-magic "$tmp/cfg-zero" 241 config
echo "all ok"
