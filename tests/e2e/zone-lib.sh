# SPDX-License-Identifier: Apache-2.0
# Sourced by the zone e2e scenarios (zone-*.sh), after the dev host's lib.sh
# (tools/devhost, tests/e2e/lib.sh: e2e_up, dx, pass, fail).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ ! -f "$here/lib.sh" ] || [ ! -x "$here/../../tools/devhost" ]; then
	echo "e2e: ${scenario:-zone}: FAIL: needs tools/devhost and tests/e2e/lib.sh (the dev host is not merged in this tree)" >&2
	exit 1
fi
. "$here/lib.sh"

# The test image, pushed once into dom0's registry (127.0.0.1:5000 inside dom0).
E2E_IMAGE=127.0.0.1:5000/e2e/busybox:1
zone_image_push() {
	dx sh -c 'curl -sf http://127.0.0.1:5000/v2/e2e/busybox/manifests/1 -H "Accept: application/vnd.oci.image.manifest.v1+json" >/dev/null' && return 0
	local port tmp
	port=$("$devhost" registry-port)
	tmp=$(mktemp -d /tmp/krata-e2e-img.XXXXXX)
	umoci init --layout "$tmp/l" && umoci new --image "$tmp/l:1" && umoci unpack --rootless --image "$tmp/l:1" "$tmp/b" >/dev/null
	mkdir -p "$tmp/b/rootfs/bin"; cp /bin/busybox "$tmp/b/rootfs/bin/busybox"
	for a in sh echo sleep cat true false; do ln -sf busybox "$tmp/b/rootfs/bin/$a"; done
	umoci repack --image "$tmp/l:1" "$tmp/b" >/dev/null
	umoci config --image "$tmp/l:1" --config.cmd /bin/sh >/dev/null
	skopeo copy --dest-tls-verify=false "oci:$tmp/l:1" "docker://127.0.0.1:$port/e2e/busybox:1" >/dev/null
	rm -rf "$tmp"
}

# The zone kernel: dom0's own Debian kernel, installed as the system default once.
zone_kernel_install() {
	dx test -r /var/lib/krata/zone/kernel && return 0
	dx sh -c 'kratactl kernel install-default --image=/boot/vmlinuz-$(uname -r) --modules=/lib/modules/$(uname -r)'
}

# What must come back to its baseline after every zone: domains, loop devices,
# xenstore backends and /vm entries, supervisor leftovers.
zone_leak_snapshot() {
	dx sh -c '
		xl list | awk "NR>1 {print \$1}" | sort
		echo --; losetup -a -O NAME,BACK-FILE --noheadings 2>/dev/null | sort
		echo --; for t in vbd vif console; do xenstore-list /local/domain/0/backend/$t 2>/dev/null | sed "s/^/$t /"; done
		echo --; xenstore-list /vm 2>/dev/null | sort
		echo --; ls /run/krata/zone 2>/dev/null
		true'
}
zone_assert_no_leaks() { # $1: baseline snapshot, $2: what just ended
	local now
	now=$(zone_leak_snapshot)
	[ "$now" = "$1" ] || fail "$2 left something behind:
--- before
$1
--- after
$now"
}
