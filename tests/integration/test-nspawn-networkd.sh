#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# krata-networkd under real systemd (nspawn rig): D-Bus activation through
# SystemdService=, and the shipped sandbox (capabilities, address families,
# system call filter) leave it able to do its job: open a packet socket, bring
# the interface up, ping/TCP through slirp, listen for a port forward.
# Its polkit decisions: the Network1 rows of privilege-calls.
# shellcheck source=tests/lib/nspawn-test.sh
source "$(dirname "$0")/../lib/nspawn-test.sh"
[ -x /bin/busybox ] || fail "/bin/busybox missing (busybox-static, tools/install-deps)"

rig_boot
# busybox (static) for ping and nc in the container
install -D -m 0755 /bin/busybox "$dir/root/usr/local/bin/busybox"

# the zone: a namespace with the peer of vz0
x ip netns add zone
x ip link add vz0 type veth peer name eth0 netns zone
x ip -n zone link set lo up
x ip -n zone link set eth0 up
x ip link add out0 type veth peer name out1
x ip link set out0 up
x ip link set out1 up
x ip addr add 198.51.100.1/24 dev out0

out=$(x busctl --json=short call org.krata.Network1 /org/krata/network1 org.krata.Network1 \
      AttachZone 'ssa{sv}' web vz0 1 port-forwards 'a(sqq)' 1 tcp 8080 80) || fail "AttachZone: $out"
state=$(jq -r '.data[0].state.data' <<<"$out")
[ "$state" = running ] || fail "not running under the sandbox: $out; $(x journalctl -u krata-networkd --no-pager | tail -n 20)"
a4=$(jq -r '.data[0]["ipv4-address"].data' <<<"$out"); g4=$(jq -r '.data[0]["ipv4-gateway"].data' <<<"$out")
rig_assert_activated krata-networkd.service org.krata.Network1
# user krata-networkd with ambient CAP_NET_BIND_SERVICE (10), CAP_NET_ADMIN (12), CAP_NET_RAW (13) only
rig_assert_sandbox krata-networkd.service krata-networkd 0000000000003400
[ "$(x stat -c '%U %a' /run/krata/network/state.json)" = "krata-networkd 600" ] ||
  fail "state.json: $(x stat -c '%U %a' /run/krata/network/state.json 2>&1); $(x journalctl -u krata-networkd --no-pager | tail -n 5)"
echo "# zone web on vz0 running; its state saved in /run/krata/network"

x ip -n zone addr add "$a4/30" dev eth0
x ip -n zone route add default via "$g4"
x ip netns exec zone busybox ping -c 3 -W 3 "$g4" >/dev/null || fail "ping the gateway"
echo "# the gateway answers ping"

x systemd-run --unit=krata-test-srv --quiet busybox nc -ll -p 7000 -e /bin/echo hello
sleep 0.5
r=$(x ip netns exec zone busybox nc -w 5 198.51.100.1 7000 </dev/null) || true
[ "$r" = hello ] || fail "TCP from the zone through slirp: '$r'"
echo "# TCP from the zone leaves through a host socket"

x systemd-run --unit=krata-test-zsrv --quiet ip netns exec zone busybox nc -ll -p 80 -e /bin/echo from-zone
sleep 0.5
r=$(x busybox nc -w 5 127.0.0.1 8080 </dev/null) || true
[ "$r" = from-zone ] || fail "port forward 8080 -> zone:80: '$r'"
echo "# port forward into the zone"

# polkit under the shipped rules: bob refused, alice (group krata) allowed
rig_users
KRATA_PRIVILEGE_ONLY=Network1 rig_privileges

x busctl call org.krata.Network1 /org/krata/network1 org.krata.Network1 DetachZone s web >/dev/null || fail "DetachZone"
echo "ok"
