#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The hostile zone's process in tests/e2e/zone-hostile.sh (busybox sh, in the
# zone image as /bin/hostile-guest). It attacks every xenstore key a guest can
# write (docs/security.md, "Guest-writable inputs") through the real xenstored
# with tests/e2e/tools/xs-hostile, then floods its console and keeps
# rewriting keys until dom0 says stop. dom0 steps it through data/ keys
# (data/go, data/stop, data/exit), which are guest-writable and which dom0
# can always write; it reports its phase in data/phase. Results go to the
# console twice: as they happen and again after the flood (the 1 MiB
# scrollback has long dropped the first copy by then).
x=/bin/xs-hostile
mkdir -p /tmp
results=/tmp/results

phase() { $x write data/phase "$1" >/dev/null; echo "hostile: phase $1"; }

phase waiting
$x wait data/go || exit 90
phase xenstore
own=$($x read domid | sed -n 's/^read domid: ([0-9]* bytes) //p')

{
	echo "own domid $own"
	# Garbage, each in turn, in the keys krata-zone reads back (krata/exit-code,
	# krata/status) and those krata-consoled (krata/winsize) and krata-init use.
	for k in krata/exit-code krata/status krata/winsize; do
		for v in '-1' '256' '99999999999999999999' '42abc' '42\0' '1\n2' ' ' '\xff\xfe\xc0\x80' '' \
			'failed:\e[2J\e[31mPWNED' 'failed:../../etc/passwd' '0x2a' '+7' '4 2' 'nan'; do
			$x write "$k" "$v"
		done
		# Oversized: around xenstored's quota on a value, up to the largest a
		# 4096-byte message carries, and over it (refused before sending).
		for n in 2048 2049 3000 4000 max 4096; do $x fill "$k" "$n" '\xff\0A\n'; done
		$x read "$k"
	done
	# control/: the guest kernel's own shutdown, sysrq and feature nodes.
	for k in control/shutdown control/sysrq control/feature-poweroff control/feature-reboot \
		control/feature-suspend device/suspend/event-channel; do
		$x write "$k" '\xff\0garbage\n'
		$x fill "$k" 2048 'Z'
	done
	# dom0-owned nodes (console ring, names, memory): must be refused.
	for k in console/ring-ref console/port console/type console/limit name domid vm memory/target \
		store/ring-ref cpu/0/availability; do
		$x write "$k" '99999999999999999999'
	done
	$x rm console/ring-ref
	$x rm name
	# Other domains' keys and dom0's backends: must be refused (one domain per zone).
	for d in $(seq 0 16); do
		[ "$d" = "$own" ] || $x write "/local/domain/$d/krata/exit-code" '0'
	done
	$x write "/local/domain/0/backend/vbd/$own/51712/physical-device" '7:0'
	$x write "/local/domain/0/backend/vif/$own/0/mac" '00:00:00:00:00:00'
	$x write /tool/krata 'x'
	# Frontend state of disks the zone no longer needs (config, addons): the
	# backends in dom0's kernel see garbage and unknown states.
	for dev in device/vbd/51728 device/vbd/51744; do
		$x write "$dev/state" '\xff'
		$x write "$dev/state" '-1'
		$x write "$dev/ring-ref" '99999999999'
		$x write "$dev/event-channel" 'garbage'
		$x fill "$dev/protocol" 2048 'P'
	done
	# The vif's frontend state too: netback drops vif<domid>.0 under
	# krata-networkd, which must carry on (the zone has no network after).
	$x write device/vif/0/state '\xff'
	$x write device/vif/0/mac 'not-a-mac'
	# Quota: many nodes, a deep tree, many watches, until xenstored says no;
	# then give the room back so the rest of the run can write.
	$x many data/many 100 5000
	$x rm data/many
	$x many data/big 2000 5000
	$x rm data/big
	$x deep data/deep 10000
	$x rm data/deep
	$x watches data/w 1000 50
	$x storm krata/exit-code 300
	$x storm krata/status 300
} >"$results" 2>&1
cat "$results"

phase flooding
# The console at full speed: printable lines, binary garbage (invalid UTF-8,
# NULs, escapes, lines far over 2048 bytes), and xenstore rewrites beside it,
# until dom0 writes data/stop.
yes 'hostile flood: yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy' &
flood1=$!
cat /dev/urandom &
flood2=$!
(
	n=0
	while ! $x exists data/stop; do
		$x storm krata/exit-code 200 >/dev/null
		$x storm krata/status 200 >/dev/null
		$x watches krata 50 50 >/dev/null
		n=$((n + 1))
	done
	echo "storm rounds during the flood: $n" >>"$results"
) >/dev/null 2>&1 &
storm=$!
$x wait data/stop
kill "$flood1" "$flood2"
wait "$storm"
wait "$flood1" "$flood2" 2>/dev/null
# Clear the terminal state the garbage left, then the results once more.
printf '\033c\n\n'
echo "hostile: results begin"
cat "$results"
echo "hostile: results end"
phase finished

# The last word: garbage in the exit status and status, then power off with
# no krata-init report after it (init would overwrite both on a normal exit).
$x wait data/exit
$x write krata/exit-code '42abc' >/dev/null
$x write krata/status 'failed:\e[2Jtotally-legit' >/dev/null
$x write device/vbd/51712/state 'garbage' >/dev/null
$x poweroff
