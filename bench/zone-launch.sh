#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/zone-launch.sh [ROUNDS]: launch-to-first-output of a busybox zone in the
# Xen dev host, krata (`kratactl zone launch --attach`) against `xl create -c`
# of the same kernel, initrd and disks (image squashfs, launch-spec disk,
# addons), interleaved rounds, medians and the ratio (krata / xl; < 1 is
# faster). Prints a Markdown table for docs/benchmarks.md.
# Needs: tools/devhost (up), a zone kernel installed in dom0
# (kratactl kernel install-default), consoled's `zone attach` in kratactl.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
devhost=$src/tools/devhost
[ -x "$devhost" ] || { echo "bench: needs tools/devhost (not in this tree)" >&2; exit 1; }
rounds=${1:-5}
dx() { "$devhost" exec "$@"; }
"$devhost" up >/dev/null
. "$src/tests/e2e/zone-lib.sh"
zone_image_push

# The xl side boots exactly what krata-zone booted: take the files from a
# prepared zone (kernel, cached initrd, image squashfs) and write the same
# launch spec with the test tool.
dx kratactl zone launch -n bench-prep --attach "$E2E_IMAGE" /bin/true >/dev/null 2>&1 || true
digest=$(dx kratactl -o json zone inspect bench-prep | jq -r .ImageDigest)
dx kratactl zone destroy bench-prep >/dev/null
"$devhost" push "$src/build/tests/integration/krata-test-mkconfigdisk" /run/krata-test-mkconfigdisk >/dev/null
dx sh -c '
	set -e
	mkdir -p /run/bench
	# what kernel_prepare() hands krata-zone: the cached initrd and, where
	# krata caches one, the inflated kernel (else the bzImage)
	kratactl kernel prepare >/run/bench/prepare.txt 2>/dev/null
	k=$(awk "\$1 == \"kernel\" { print \$2 }" /run/bench/prepare.txt)
	i=$(awk "\$1 == \"initrd\" { print \$2 }" /run/bench/prepare.txt)
	img=$(ls /var/lib/krata/images/'"${digest#sha256:}"'/rootfs.squashfs)
	echo "{\"version\":\"1.0\",\"hostname\":\"bench\",\"argv\":[\"/bin/echo\",\"BENCH-MARKER\"],\"env\":[\"PATH=/bin\"]}" |
		/run/krata-test-mkconfigdisk /run/bench/config.img
	add=""; [ -f /var/lib/krata/zone/addons.squashfs ] &&
		add=", \"format=raw, vdev=xvdc, access=ro, target=/var/lib/krata/zone/addons.squashfs\""
	cat >/run/bench/xl.cfg <<CFG
name = "bench-xl"
type = "pv"
kernel = "$k"
ramdisk = "$i"
memory = 256
vcpus = 1
extra = "console=hvc0 quiet krata.image=51712 krata.config=51728 krata.addons=51744"
disk = [ "format=raw, vdev=xvda, access=ro, target=$img", "format=raw, vdev=xvdb, access=ro, target=/run/bench/config.img"$add ]
on_poweroff = "destroy"
CFG'

t_krata=(); t_xl=()
for n in $(seq "$rounds"); do
	t0=$(date +%s.%N)
	dx sh -c "kratactl zone launch --rm --attach $E2E_IMAGE /bin/echo BENCH-MARKER | grep -m1 -q BENCH-MARKER"
	t_krata+=("$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')")
	t0=$(date +%s.%N)
	dx sh -c 'xl create -c /run/bench/xl.cfg 2>&1 | grep -m1 -q BENCH-MARKER; xl destroy bench-xl >/dev/null 2>&1 || true'
	t_xl+=("$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mk=$(median "${t_krata[@]}"); mx=$(median "${t_xl[@]}")
echo "| launch → first output (busybox, TCG dev host, $rounds rounds) | krata | xl create |"
echo "|---|---|---|"
echo "| median seconds | $mk | $mx |"
echo "| ratio krata/xl | $(awk -v a="$mk" -v b="$mx" 'BEGIN { printf "%.2f", a / b }') | 1 |"
echo
echo "Command: bench/zone-launch.sh $rounds (kernel booted: $(dx cat /run/bench/xl.cfg | sed -n 's/^kernel = //p'))"
