#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""krata-squash on hostile layers: each must fail with its own clear error
and leave neither the output nor a temporary file behind."""
import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

BUILD = os.environ.get("KRATA_BUILD_ROOT", os.path.join(os.path.dirname(__file__), "../../build"))
SQUASH = os.path.join(BUILD, "src/imaged/squash/krata-squash")


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for e in entries:
            ti = tarfile.TarInfo(e["name"])
            ti.type = e.get("type", tarfile.REGTYPE)
            ti.linkname = e.get("linkname", "")
            data = e.get("data", b"")
            ti.size = e.get("size", len(data))
            if "size" in e:  # header only: the size is a lie
                t.addfile(ti)
            else:
                t.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
    return buf.getvalue()


def gz(b):
    return gzip.compress(b, mtime=0)


def zst(b):
    return subprocess.run(["zstd", "-q", "-c"], input=b, capture_output=True, check=True).stdout


GOOD = tar_bytes([{"name": "etc/"  , "type": tarfile.DIRTYPE},
                  {"name": "etc/os-release", "data": os.urandom(200000)}])

# (label, layers as [(bytes, media type suffix)], expected error text)
CASES = [
    ("dotdot", [(gz(tar_bytes([{"name": "../evil", "data": b"x"}])), "gzip")], '".." component'),
    ("dotdot-inside", [(gz(tar_bytes([{"name": "a/../../evil", "data": b"x"}])), "gzip")], '".." component'),
    ("absolute", [(gz(tar_bytes([{"name": "/etc/passwd", "data": b"x"}])), "gzip")], "absolute name"),
    ("long-component", [(gz(tar_bytes([{"name": "d/" + "n" * 300, "data": b"x"}])), "gzip")],
     "component longer than 255 bytes"),
    ("long-path", [(gz(tar_bytes([{"name": "/".join(["d" * 200] * 25), "data": b"x"}])), "gzip")],
     "name longer than 4095 bytes"),
    ("hardlink-missing", [(gz(tar_bytes([{"name": "a", "data": b"x"}])), "gzip"),
                          (gz(tar_bytes([{"name": "b", "type": tarfile.LNKTYPE, "linkname": "nothere"}])), "gzip")],
     'hard link "b" -> "nothere": the target exists neither earlier in its layer nor below'),
    ("hardlink-escape", [(gz(tar_bytes([{"name": "b", "type": tarfile.LNKTYPE, "linkname": "../../etc/shadow"}])), "gzip")],
     '".." component'),
    ("hardlink-dir", [(gz(tar_bytes([{"name": "d/", "type": tarfile.DIRTYPE},
                                     {"name": "b", "type": tarfile.LNKTYPE, "linkname": "d"}])), "gzip")],
     "the target is a directory"),
    ("truncated-gzip", [(gz(GOOD)[: len(gz(GOOD)) // 2], "gzip")], "truncated gzip stream"),
    ("corrupt-gzip", [(gz(GOOD)[:100] + bytes(200) + gz(GOOD)[300:], "gzip")], "corrupt gzip stream"),
    ("truncated-zstd", [(zst(GOOD)[: len(zst(GOOD)) // 2], "zstd")], "truncated zstd stream"),
    ("garbage-after-gzip", [(gz(GOOD) + b"GARBAGE!", "gzip")], "trailing garbage after the gzip stream"),
    ("absurd-size", [(gz(tar_bytes([{"name": "huge", "size": 1 << 40}])), "gzip")], "out of bounds"),
    ("lying-size", [(gz(tar_bytes([{"name": "short", "size": 1 << 20}])), "gzip")], "runcated"),
    ("media-type-mismatch", [(gz(GOOD), "tar")], "media type says uncompressed tar but the data is gzip"),
    ("media-type-mismatch-zstd", [(gz(GOOD), "application/vnd.oci.image.layer.v1.tar+zstd")],
     "media type says zstd but the data is not zstd"),
    ("unknown-media-type", [(gz(GOOD), "application/vnd.oci.image.layer.v1.tar+bzip2")], "unsupported media type"),
    ("not-a-tar", [(gz(b"hello, this is not a tar archive at all" * 100), "gzip")], "tar"),
]


def main():
    if not os.access(SQUASH, os.X_OK):
        print(f"FAIL: {SQUASH} not built")
        return 1
    if not shutil.which("zstd"):
        print("FAIL: zstd missing; run tools/install-deps")
        return 1
    work = tempfile.mkdtemp(prefix="krata-squash-fail.")
    failed = 0
    try:
        outdir = os.path.join(work, "out")
        os.mkdir(outdir)
        for label, layers, expect in CASES:
            args = [SQUASH, os.path.join(outdir, "image.squashfs")]
            for i, (data, mt) in enumerate(layers):
                p = os.path.join(work, f"{label}.{i}")
                with open(p, "wb") as f:
                    f.write(data)
                args.append(f"{p}:{mt}")
            r = subprocess.run(args, capture_output=True, text=True, timeout=60)
            left = os.listdir(outdir)
            if r.returncode == 0:
                print(f"FAIL: {label}: accepted")
                failed += 1
            elif expect not in r.stderr:
                print(f"FAIL: {label}: expected error containing {expect!r}, got:\n  {r.stderr.strip()}")
                failed += 1
            elif "Sanitizer" in r.stderr:
                print(f"FAIL: {label}: sanitizer report:\n{r.stderr}")
                failed += 1
            elif left:
                print(f"FAIL: {label}: left {left} behind")
                failed += 1
            else:
                print(f"ok: {label}: {r.stderr.strip()}")
            for n in left:
                os.unlink(os.path.join(outdir, n))

        # A good layer still converts (the cases above are not failing for a dull reason).
        p = os.path.join(work, "good")
        with open(p, "wb") as f:
            f.write(gz(GOOD))
        r = subprocess.run([SQUASH, "-q", os.path.join(outdir, "image.squashfs"), p + ":gzip"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL: good layer refused: {r.stderr.strip()}")
            failed += 1
        else:
            print("ok: the good layer converts")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(CASES) + 1 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
