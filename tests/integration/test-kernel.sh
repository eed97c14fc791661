#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Zone kernels with Debian's stock kernel: install it as the system default,
# prepare it (initrd = krata-init + xen-blkfront, xen-netfront, squashfs,
# overlay), check the cache, package it as an OCI kernel image (umoci reads
# it back: exactly /kernel/{image,addons.squashfs,metadata}), check its config
# from the layout, and refuse mismatched metadata. install-default and
# prepare go through krata-zoned on a private bus (tools/dev-env), which
# writes the default kernel and the cache; check and package are local.
set -euo pipefail

build=${KRATA_BUILD_ROOT:?}
kratactl=$build/src/kratactl/kratactl
export KRATA_INIT=$build/init/krata-init
if [ "${1:-}" != --inner ]; then
        export KRATA_BUILD_DIR=$build
        exec "${KRATA_SOURCE_ROOT:?}/tools/dev-env" bash "$0" --inner
fi

release=$(ls /lib/modules | sort -V | tail -1)
image=/boot/vmlinuz-$release
config=/boot/config-$release
if [ ! -r "$image" ] || [ ! -r "$config" ] || [ ! -r "/lib/modules/$release/modules.dep" ]; then
        echo "FAIL: Debian's linux-image-amd64 is not installed (tools/install-deps installs it)" >&2
        exit 1
fi
for t in mksquashfs unsquashfs umoci cpio; do
        command -v $t >/dev/null || { echo "FAIL: $t is missing" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/krata-kernel-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; echo "--- bus log:" >&2; tail -20 "$KRATA_DEV_DIR/dbus/log" >&2 || true; exit 1; }

# --- config check ---
"$kratactl" kernel check "$config" >/dev/null 2>&1 || fail "Debian's config fails the zone check"
"$kratactl" kernel check --host "$config" >/dev/null 2>&1 || fail "Debian's config fails the dom0 check"
grep -v '^CONFIG_XEN_PV=' "$config" >"$tmp/bad.config"
rc=0; "$kratactl" kernel check "$tmp/bad.config" >"$tmp/check.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "a config without CONFIG_XEN_PV passes"
grep -q 'CONFIG_XEN_PV .*missing' "$tmp/check.out" || fail "missing option not listed: $(cat "$tmp/check.out")"
"$kratactl" -o json kernel check "$config" | python3 -c '
import json, sys
rows = json.load(sys.stdin)
assert any(r["option"] == "CONFIG_XEN_BLKDEV_FRONTEND" and r["state"] == "module" for r in rows), rows
assert all(r["state"] != "missing" or r["level"] == "recommended" for r in rows)
' || fail "JSON output"
echo "ok: kernel check"

# --- system default + prepare ---
start=$(date +%s%N)
"$kratactl" kernel install-default --image "$image" --modules "/lib/modules/$release" --config "$config" >/dev/null
mid=$(date +%s%N)
"$kratactl" -o json kernel prepare >"$tmp/prep.json"
end=$(date +%s%N)
initrd=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["initrd"])' "$tmp/prep.json")
[ -f "$initrd" ] || fail "no initrd at $initrd"
cpio -it <"$initrd" 2>/dev/null >"$tmp/initrd.list"
for f in init dev/console "lib/modules/$release/modules.dep" \
        "lib/modules/$release/kernel/drivers/block/xen-blkfront.ko" \
        "lib/modules/$release/kernel/drivers/net/xen-netfront.ko" \
        "lib/modules/$release/kernel/fs/squashfs/squashfs.ko" \
        "lib/modules/$release/kernel/fs/overlayfs/overlay.ko"; do
        grep -qx "$f" "$tmp/initrd.list" || fail "initrd lacks $f"
done
mkdir "$tmp/x" && (cd "$tmp/x" && cpio -id --quiet <"$initrd")
cmp "$tmp/x/init" "$KRATA_INIT" || fail "initrd's init is not krata-init"
before=$(stat -c %Y.%i "$initrd")
t0=$(date +%s%N)
"$kratactl" kernel prepare >/dev/null
t1=$(date +%s%N)
[ "$(stat -c %Y.%i "$initrd")" = "$before" ] || fail "the cached initrd was rebuilt"
echo "ok: install-default (addons, copy, check, initrd, inflate) $(( (mid - start) / 1000000 )) ms, prepare $(( (end - mid) / 1000000 )) ms, again $(( (t1 - t0) / 1000000 )) ms, initrd $(stat -c %s "$initrd") bytes"

# --- the inflated kernel: what the domain builder gets instead of the bzImage ---
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
# The payload the boot header points at (setup_sects, payload_offset/length).
payload() {
        python3 - "$1" <<-'PY'
		import struct, sys
		d = open(sys.argv[1], "rb").read()
		start = ((d[0x1f1] or 4) + 1) * 512
		off, length = struct.unpack_from("<II", d, 0x248)
		sys.stdout.buffer.write(d[start + off:start + off + length])
	PY
}
kernel=$(json_field "$tmp/prep.json" kernel)
digest=$(json_field "$tmp/prep.json" digest)
[ "$kernel" = "$KRATA_CACHE_DIR/kernels/$digest/vmlinux" ] || fail "prepare hands over $kernel, not the inflated kernel"
[ "$(json_field "$tmp/prep.json" image)" = "$KRATA_STATE_DIR/zone/kernel" ] || fail "image: $(cat "$tmp/prep.json")"
[ "$(head -c 4 "$kernel" | od -An -c | tr -d ' ')" = 177ELF ] || fail "$kernel is not an ELF file"
payload "$image" | xz -dc --single-stream | cmp - "$kernel" || fail "$kernel differs from xz -dc of the payload"
before=$(stat -c %Y.%i "$kernel")
"$kratactl" kernel prepare >/dev/null
[ "$(stat -c %Y.%i "$kernel")" = "$before" ] || fail "the cached kernel was inflated again"
# A payload in a format not inflated here (lzo's magic): the bzImage itself boots.
mkdir "$tmp/lzo"
cp "$KRATA_STATE_DIR/zone/kernel" "$tmp/lzo/image"
cp "$KRATA_STATE_DIR/zone/addons.squashfs" "$tmp/lzo/"
printf 'KERNEL_ARCH=%s\nKERNEL_VERSION=%s\n' "$(uname -m)" "$release" >"$tmp/lzo/metadata"
python3 - "$tmp/lzo/image" <<-'PY'
	import struct, sys
	f = open(sys.argv[1], "r+b")
	d = f.read(0x250)
	f.seek(((d[0x1f1] or 4) + 1) * 512 + struct.unpack_from("<I", d, 0x248)[0])
	f.write(b"\x89LZO\x00\r\n\x1a\n")
PY
"$kratactl" -o json kernel prepare "$tmp/lzo" >"$tmp/prep-lzo.json" || fail "prepare of an lzo kernel"
[ "$(json_field "$tmp/prep-lzo.json" kernel)" = "$(json_field "$tmp/prep-lzo.json" image)" ] &&
        cmp "$(json_field "$tmp/prep-lzo.json" kernel)" "$tmp/lzo/image" || fail "lzo: $(cat "$tmp/prep-lzo.json")"
echo "ok: inflated kernel $(stat -c %s "$kernel") bytes (= xz -dc of the payload), cached; lzo payload booted as is"

# --- OCI kernel image ---
"$kratactl" kernel package --image "$image" --modules "/lib/modules/$release" --config "$config" \
        --tag test "$tmp/layout" >/dev/null
umoci unpack --image "$tmp/layout:test" "$tmp/bundle" >/dev/null
(cd "$tmp/bundle/rootfs" && find . -mindepth 1 | sort) >"$tmp/files"
printf './kernel\n./kernel/addons.squashfs\n./kernel/image\n./kernel/metadata\n' | diff - "$tmp/files" ||
        fail "layer content is not exactly /kernel/{image,addons.squashfs,metadata}"
grep -qx "KERNEL_VERSION=$release" "$tmp/bundle/rootfs/kernel/metadata" || fail "metadata version"
grep -qx "KERNEL_ARCH=$(uname -m)" "$tmp/bundle/rootfs/kernel/metadata" || fail "metadata arch"
"$kratactl" kernel check "$tmp/layout:test" >/dev/null 2>&1 || fail "config check from the layout"
"$kratactl" kernel prepare "$tmp/bundle/rootfs/kernel" >/dev/null || fail "prepare of the OCI kernel"
# as krata-imaged would keep it: the image's rootfs as a squashfs
mksquashfs "$tmp/bundle/rootfs" "$tmp/kernel-image.sqfs" -quiet -noappend -comp zstd >/dev/null
"$kratactl" -o json kernel prepare "$tmp/kernel-image.sqfs" >"$tmp/prep2.json" || fail "prepare from an image squashfs"
grep -q "\"release\":\"$release\"" "$tmp/prep2.json" || fail "prepare from an image squashfs: $(cat "$tmp/prep2.json")"
ls "$KRATA_CACHE_DIR"/kernels/images/*/kernel/addons.squashfs >/dev/null || fail "kernel not extracted into the cache"
echo "ok: package → umoci unpack → prepare (directory and image squashfs)"

# --- refusals ---
k=$tmp/bundle/rootfs/kernel
sed -i "s/^KERNEL_ARCH=.*/KERNEL_ARCH=riscv64/" "$k/metadata"
rc=0; "$kratactl" kernel prepare "$k" 2>"$tmp/err" || rc=$?
[ "$rc" -ne 0 ] && grep -q 'riscv64' "$tmp/err" || fail "wrong arch accepted"
sed -i "s/^KERNEL_ARCH=.*/KERNEL_ARCH=$(uname -m)/; s/^KERNEL_VERSION=.*/KERNEL_VERSION=9.9.9/" "$k/metadata"
rc=0; "$kratactl" kernel prepare "$k" 2>"$tmp/err" || rc=$?
[ "$rc" -ne 0 ] && grep -q '9.9.9' "$tmp/err" || fail "wrong version accepted"
echo "ok: arch and version mismatches refused ($(head -c 120 "$tmp/err"))"

# --- krata-zoned, the one writer: what it refuses leaves the default as it was ---
rc=0; "$kratactl" kernel install-default --image /bin/true --modules "/lib/modules/$release" 2>"$tmp/err" || rc=$?
[ "$rc" -ne 0 ] && grep -q 'Cannot tell the release' "$tmp/err" || fail "a file that is no kernel installed: $rc $(cat "$tmp/err")"
cmp "$KRATA_STATE_DIR/zone/kernel" "$image" || fail "a refused install changed the default kernel"
ls -A "$KRATA_STATE_DIR/zone" | grep -v '^kernel$\|^addons.squashfs$' && fail "a refused install left files behind"
mkdir "$tmp/fifo" && mkfifo "$tmp/fifo/image" && cp "$k/metadata" "$tmp/fifo/"
rc=0; timeout 60 "$kratactl" kernel prepare "$tmp/fifo" 2>"$tmp/err" || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q 'not a regular file' "$tmp/err" ||
        fail "a FIFO as the kernel image: $rc $(cat "$tmp/err")"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
rc=0; nobody "$kratactl" kernel install-default --image "$image" --modules "/lib/modules/$release" 2>"$tmp/err" || rc=$?
[ "$rc" = 5 ] && grep -q 'org.krata.kernel.manage' "$tmp/err" || fail "an outsider installed a kernel: $rc $(cat "$tmp/err")"
rc=0; nobody "$kratactl" kernel prepare 2>"$tmp/err" || rc=$?
[ "$rc" = 5 ] && grep -q 'org.krata.kernel.manage' "$tmp/err" || fail "an outsider prepared a kernel: $rc $(cat "$tmp/err")"
echo "ok: krata-zoned refuses a file that is no kernel (default kept), a FIFO, an outsider ($(head -c 100 "$tmp/err"))"
echo "all ok"
