#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e scenario "zone-kernel-oci": an OCI kernel image made by `kratactl kernel
# package` from Debian's kernel package (on the host), pushed to dom0's
# registry, boots a zone launched with -k; the host reads the zone's status.
scenario=zone-kernel-oci
. "$(dirname "$0")/zone-lib.sh"
e2e_up || fail "tools/devhost up failed"
zone_image_push || fail "could not push the test image"
kratactl=${KRATA_BUILD_ROOT:?}/src/kratactl/kratactl
tmp=$(mktemp -d /tmp/krata-e2e-kernel.XXXXXX)
# The system default kernel is moved aside, so only the OCI kernel can boot the zone.
restore='dx sh -c "[ -e /var/lib/krata/zone/kernel.e2e-oci ] && mv /var/lib/krata/zone/kernel.e2e-oci /var/lib/krata/zone/kernel; true"'
trap 'rm -rf "$tmp"; dx kratactl zone destroy e2e-kern >/dev/null 2>&1 || true; eval "$restore"' EXIT
dx sh -c '[ ! -e /var/lib/krata/zone/kernel ] || mv /var/lib/krata/zone/kernel /var/lib/krata/zone/kernel.e2e-oci'
base=$(zone_leak_snapshot)

release=$(dx uname -r)
[ -r "/boot/vmlinuz-$release" ] && [ -d "/lib/modules/$release" ] ||
	fail "the host lacks Debian's kernel $release (dom0 runs it; install linux-image-$release)"
"$kratactl" kernel package --image "/boot/vmlinuz-$release" --modules "/lib/modules/$release" \
	--config "/boot/config-$release" --tag 1 "$tmp/layout" >/dev/null || fail "kernel package"
port=$("$devhost" registry-port)
skopeo copy -q --dest-tls-verify=false "oci:$tmp/layout:1" "docker://127.0.0.1:$port/e2e/kernel:1" ||
	fail "could not push the kernel image"
pass "kratactl kernel package made an OCI kernel image of Debian's $release and it was pushed"

set +e
out=$(dx kratactl zone launch -n e2e-kern -k 127.0.0.1:5000/e2e/kernel:1 --attach "$E2E_IMAGE" \
	/bin/sh -c 'echo hello from the OCI kernel; exit 5' 2>&1)
rc=$?
set -e
[ $rc = 5 ] && grep -q "hello from the OCI kernel" <<<"$out" || fail "launch -k exited $rc, expected 5: $out"
dx kratactl -o json zone inspect e2e-kern | jq -e --arg r "$release" '.Kernel == $r' >/dev/null ||
	fail "Kernel property is not $release"
pass "with no system default kernel, a zone launched with -k boots the OCI kernel image and reports exit status 5"
# The domain builder got the kernel inflated once into krata's cache, not the
# bzImage (whose xz payload it would inflate again at every launch).
booted=$(dx journalctl -u krata-zone@e2e-kern -o cat --no-pager | sed -n 's/.*Building domain [0-9]*: kernel \([^,]*\),.*/\1/p' | tail -n1)
case $booted in
/var/cache/krata/kernels/*/vmlinux) ;;
*) fail "the -k zone booted '$booted', not the cached inflated kernel" ;;
esac
[ "$(dx sh -c "head -c 4 $booted | od -An -c" | tr -d ' ')" = 177ELF ] || fail "$booted is not an ELF file"
pass "the domain builder loaded the inflated kernel $booted"
dx kratactl zone destroy e2e-kern || fail "destroy e2e-kern"
zone_assert_no_leaks "$base" "the -k zone"
pass "the -k zone leaves nothing behind"
