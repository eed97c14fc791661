#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Builds OCI images offline with umoci (busybox-static plus layers that hold
whiteouts, opaque directories, hard links within and across layers, xattrs
including security.capability, device nodes, fifos, setuid/setgid/sticky bits,
symlinks, owners, mtimes), converts their layer blobs with krata-squash (also
after recompressing layers to zstd and to plain tar) and checks that the
squashfs holds exactly what `umoci unpack` produces."""
import gzip
import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "squash_compare", os.path.join(os.path.dirname(os.path.abspath(__file__)), "squash-compare.py"))
squash_compare = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(squash_compare)

BUILD = os.environ.get("KRATA_BUILD_ROOT", os.path.join(os.path.dirname(__file__), "../../build"))
SQUASH = os.path.join(BUILD, "src/imaged/squash/krata-squash")
T0 = 1700000000  # fixed mtimes, so the comparison covers them


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def run(*cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(cmd)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r.stdout


def blob(layout, digest):
    return os.path.join(layout, "blobs", *digest.split(":", 1))


def manifest_of(layout, tag):
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            with open(blob(layout, m["digest"])) as f:
                return json.load(f)
    raise SystemExit(f"FAIL: tag {tag} not in {layout}")


def cap_net_raw():
    # struct vfs_cap_data, revision 2, effective; permitted = CAP_NET_RAW (13)
    return struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0)


def layer1(root):
    """busybox-static and some files later layers change."""
    for d in ["bin", "etc", "usr/share/doc", "var/lib/data", "opq/sub", "swap/d", "tmp", "dev", "run", "home"]:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shutil.copy("/bin/busybox", os.path.join(root, "bin/busybox"))
    for applet in ["sh", "ls", "cat"]:
        os.symlink("busybox", os.path.join(root, "bin", applet))
    files = {
        "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
        "etc/group": "root:x:0:\n",
        "etc/replaced": "a file that becomes a directory\n",
        "usr/share/doc/a.txt": "deleted in layer 2\n",
        "var/lib/data/x": "x\n",
        "var/lib/data/y": "y\n",
        "opq/lower1": "hidden by the opaque marker\n",
        "opq/sub/lower2": "hidden too\n",
        "swap/d/child": "gone when d becomes a file\n",
    }
    for p, s in files.items():
        with open(os.path.join(root, p), "w") as f:
            f.write(s)
        os.utime(os.path.join(root, p), (T0, T0))


def layer2(root):
    """Deletions (whiteouts), special files, owners, modes, xattrs, links."""
    os.unlink(os.path.join(root, "usr/share/doc/a.txt"))
    shutil.rmtree(os.path.join(root, "var/lib/data"))
    os.unlink(os.path.join(root, "etc/replaced"))
    os.makedirs(os.path.join(root, "etc/replaced"))
    with open(os.path.join(root, "etc/replaced/inside"), "w") as f:
        f.write("now a directory\n")
    shutil.rmtree(os.path.join(root, "swap/d"))
    with open(os.path.join(root, "swap/d"), "w") as f:
        f.write("now a file\n")

    su = os.path.join(root, "bin/su-test")
    with open(su, "wb") as f:
        f.write(b"#!/bin/sh\necho setuid\n")
    os.chmod(su, 0o4755)
    os.setxattr(su, "security.capability", cap_net_raw())
    os.setxattr(su, "user.comment", b"hello xattr")
    sg = os.path.join(root, "bin/sg-test")
    with open(sg, "w") as f:
        f.write("setgid\n")
    os.chmod(sg, 0o2711)
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    os.setxattr(os.path.join(root, "tmp"), "user.dir", b"on a directory")

    home = os.path.join(root, "home/user")
    os.makedirs(home)
    with open(os.path.join(home, "file"), "w") as f:
        f.write("owned by 1000\n")
    os.chown(os.path.join(home, "file"), 1000, 1000)
    os.chmod(home, 0o700)
    os.chown(home, 1000, 100)

    os.mkfifo(os.path.join(root, "run/fifo"), 0o600)
    os.mknod(os.path.join(root, "dev/null"), 0o666 | 0o20000, os.makedev(1, 3))
    os.mknod(os.path.join(root, "dev/loop0"), 0o660 | 0o60000, os.makedev(7, 0))
    os.mknod(os.path.join(root, "dev/big"), 0o600 | 0o20000, os.makedev(300, 70000))

    os.symlink("/etc/passwd", os.path.join(root, "etc/abs-link"))
    os.symlink("../bin/busybox", os.path.join(root, "etc/rel-link"))
    os.symlink("nowhere/at/all", os.path.join(root, "etc/dangling"))

    os.makedirs(os.path.join(root, "usr/bin"))
    with open(os.path.join(root, "usr/bin/hl1"), "w") as f:
        f.write("two names\n")
    os.link(os.path.join(root, "usr/bin/hl1"), os.path.join(root, "usr/bin/hl2"))

    data = os.path.join(root, "data")
    os.makedirs(data)
    with open(os.path.join(data, "random"), "wb") as f:
        f.write(os.urandom(1024 * 1024 + 12345))
    with open(os.path.join(data, "zeros"), "wb") as f:
        f.write(bytes(300 * 1024))
    open(os.path.join(data, "empty"), "w").close()
    with open(os.path.join(data, "ünïcödé name.txt"), "w") as f:
        f.write("utf-8 name\n")
    for dirpath, dirnames, filenames in os.walk(root):
        for n in filenames:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                os.utime(p, (T0 + 1, T0 + 1))


def tar_add(t, name, kind=tarfile.REGTYPE, data=b"", mode=0o644, linkname="", uid=0, gid=0,
            dev=(0, 0), pax=None):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.mtime = T0 + 2
    ti.linkname = linkname
    ti.devmajor, ti.devminor = dev
    if pax:
        ti.pax_headers = pax
    if kind == tarfile.REGTYPE:
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)


def layer3(path):
    """Hand-made: an opaque directory, hard links within the layer (to a file
    the next layer replaces) and to files of lower layers, devices, and
    entries whose parent directories the layer never lists."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        tar_add(t, "opq/", tarfile.DIRTYPE, mode=0o750)
        tar_add(t, "opq/.wh..wh..opq")
        tar_add(t, "opq/new", data=b"only this survives\n")
        tar_add(t, "h/", tarfile.DIRTYPE, mode=0o755)
        tar_add(t, "h/a", data=b"old a\n")
        tar_add(t, "h/b", tarfile.LNKTYPE, linkname="h/a")
        tar_add(t, "x/", tarfile.DIRTYPE, mode=0o755)
        tar_add(t, "x/cross", tarfile.LNKTYPE, linkname="etc/passwd")
        tar_add(t, "x/cross-cap", tarfile.LNKTYPE, linkname="bin/su-test")
        tar_add(t, "x/tty", tarfile.CHRTYPE, mode=0o620, dev=(5, 0), gid=5)
        tar_add(t, "x/fifo", tarfile.FIFOTYPE, mode=0o644)
        tar_add(t, "x/caps", data=b"pax xattr\n", mode=0o755,
                pax={"SCHILY.xattr.user.pax": "from a pax header"})
        tar_add(t, "deep/implicit/file", data=b"no parent entries\n")
        tar_add(t, "chain/", tarfile.DIRTYPE, mode=0o755)
        tar_add(t, "chain/c", tarfile.LNKTYPE, linkname="x/cross")  # a link to a waiting link
        tar_add(t, "dup", data=b"first\n")
        tar_add(t, "dup", data=b"second: the later entry wins\n")


def layer4(path):
    """Hand-made: replaces h/a (h/b keeps the old data), deletes the target
    of a cross-layer hard link, and deletes a directory."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        tar_add(t, "h/", tarfile.DIRTYPE, mode=0o755)
        tar_add(t, "h/a", data=b"new a\n")
        tar_add(t, "etc/", tarfile.DIRTYPE, mode=0o755)
        tar_add(t, "etc/.wh.passwd")
        tar_add(t, ".wh.swap")
        tar_add(t, "chain/", tarfile.DIRTYPE, mode=0o755)
        tar_add(t, "chain/d", tarfile.LNKTYPE, linkname="chain/c")  # through layer 3's link to layer 1


def convert_and_compare(work, layout, tag, layers, label):
    out = os.path.join(work, f"{label}.squashfs")
    args = [SQUASH, "--quiet", "--workers", "2", out] + [f"{p}:{mt}" for p, mt in layers]
    run(*args)
    listing = os.listdir(work)
    if any(n.startswith(".#") for n in listing):
        raise SystemExit(f"FAIL: {label}: temp file left behind: {listing}")
    expected = os.path.join(work, f"{label}.umoci")
    run("umoci", "unpack", "--image", f"{layout}:{tag}", expected)
    actual = os.path.join(work, f"{label}.unsquashfs")
    run("unsquashfs", "-no-progress", "-quiet", "-d", actual, out)
    diffs, n = squash_compare.compare(os.path.join(expected, "rootfs"), actual)
    shutil.rmtree(expected)
    shutil.rmtree(actual)
    if diffs:
        print(f"FAIL: {label}: squashfs differs from umoci unpack:")
        for d in diffs:
            print(f"  {d}")
        return False
    print(f"ok: {label}: {n} paths equal ({len(layers)} layers)")
    return True


def recompress(layout, work, m):
    """The image's layers again: the last as zstd, the one before as plain tar."""
    out = []
    n = len(m["layers"])
    for i, l in enumerate(m["layers"]):
        src = blob(layout, l["digest"])
        if i == n - 1:
            dst = os.path.join(work, f"layer{i}.tar.zst")
            with gzip.open(src) as g, open(dst + ".tar", "wb") as f:
                shutil.copyfileobj(g, f)
            run("zstd", "-q", "-f", "-3", dst + ".tar", "-o", dst)
            os.unlink(dst + ".tar")
            out.append((dst, "application/vnd.oci.image.layer.v1.tar+zstd"))
        elif i == n - 2:
            dst = os.path.join(work, f"layer{i}.tar")
            with gzip.open(src) as g, open(dst, "wb") as f:
                shutil.copyfileobj(g, f)
            out.append((dst, "application/vnd.oci.image.layer.v1.tar"))
        else:
            out.append((src, "application/vnd.docker.image.rootfs.diff.tar.gzip"))
    return out


def main():
    if os.geteuid() != 0:
        skip("needs root (mknod, chown, security.capability)")
    for tool in ["umoci", "unsquashfs", "zstd"]:
        if not shutil.which(tool):
            raise SystemExit(f"FAIL: {tool} missing; run tools/install-deps")
    if not os.path.exists("/bin/busybox"):
        raise SystemExit("FAIL: /bin/busybox missing; run tools/install-deps (busybox-static)")
    if not os.access(SQUASH, os.X_OK):
        raise SystemExit(f"FAIL: {SQUASH} not built")

    work = tempfile.mkdtemp(prefix="krata-squash-test.")
    os.umask(0o022)
    try:
        layout = os.path.join(work, "L")
        run("umoci", "init", "--layout", layout)
        run("umoci", "new", "--image", f"{layout}:empty")

        bundle = os.path.join(work, "bundle")
        run("umoci", "unpack", "--image", f"{layout}:empty", bundle)
        layer1(os.path.join(bundle, "rootfs"))
        run("umoci", "repack", "--image", f"{layout}:v1", bundle)
        shutil.rmtree(bundle)

        run("umoci", "unpack", "--image", f"{layout}:v1", bundle)
        layer2(os.path.join(bundle, "rootfs"))
        run("umoci", "repack", "--image", f"{layout}:v2", bundle)
        shutil.rmtree(bundle)

        l3 = os.path.join(work, "layer3.tar")
        layer3(l3)
        run("umoci", "raw", "add-layer", "--image", f"{layout}:v2", "--tag", "v3", l3)
        l4 = os.path.join(work, "layer4.tar")
        layer4(l4)
        run("umoci", "raw", "add-layer", "--image", f"{layout}:v3", "--tag", "v4", l4)

        ok = True
        for tag in ["v1", "v2", "v3", "v4"]:
            m = manifest_of(layout, tag)
            layers = [(blob(layout, l["digest"]), l["mediaType"]) for l in m["layers"]]
            ok &= convert_and_compare(work, layout, tag, layers, tag)

        m = manifest_of(layout, "v4")
        ok &= convert_and_compare(work, layout, "v4", recompress(layout, work, m), "v4-zstd-tar")

        # The same layers give the same bytes, whatever the threads and inflater.
        layers = [f"{blob(layout, l['digest'])}:{l['mediaType']}" for l in m["layers"]]
        digests = set()
        for opts in (["-w", "1"], ["-w", "3"], ["-w", "2", "--inflate=zlib"]):
            out = os.path.join(work, "repro.squashfs")
            run(SQUASH, "-q", *opts, out, *layers)
            with open(out, "rb") as f:
                digests.add(hashlib.sha256(f.read()).hexdigest())
            os.unlink(out)
        if len(digests) != 1:
            print(f"FAIL: the same layers gave {len(digests)} different images")
            ok = False
        else:
            print("ok: reproducible: one image for 1, 2 and 3 workers and either inflater")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
