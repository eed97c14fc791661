#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""squash-compare.py EXPECTED ACTUAL: compares two unpacked root filesystems
(paths, types, modes, owners, sizes, contents, link targets, device numbers,
xattrs, hard-link groups and non-directory mtimes). Exit 0 when equal;
otherwise prints one line per difference and exits 1."""
import hashlib
import os
import stat
import sys


def describe(root):
    """Maps each relative path to a tuple of what is compared; also returns the
    hard-link groups (as sets of paths) of non-directories."""
    tree, inodes = {}, {}
    for dirpath, dirnames, filenames in os.walk(root):
        names = dirnames + filenames
        if dirpath == root:
            names = names + [""]
        for name in names:
            full = os.path.join(dirpath, name) if name else dirpath
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            kind = stat.S_IFMT(st.st_mode)
            info = {
                "type": {stat.S_IFREG: "file", stat.S_IFDIR: "dir", stat.S_IFLNK: "symlink",
                         stat.S_IFCHR: "chardev", stat.S_IFBLK: "blockdev", stat.S_IFIFO: "fifo",
                         stat.S_IFSOCK: "socket"}.get(kind, oct(kind)),
                "mode": oct(stat.S_IMODE(st.st_mode)) if kind != stat.S_IFLNK else "-",
                "owner": f"{st.st_uid}:{st.st_gid}",
            }
            if kind == stat.S_IFREG:
                info["size"] = st.st_size
                h = hashlib.sha256()
                with open(full, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                info["sha256"] = h.hexdigest()
            if kind == stat.S_IFLNK:
                info["target"] = os.readlink(full)
            if kind in (stat.S_IFCHR, stat.S_IFBLK):
                info["rdev"] = f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
            if kind != stat.S_IFDIR:
                info["mtime"] = int(st.st_mtime)
            xattrs = {}
            try:
                for k in os.listxattr(full, follow_symlinks=False):
                    xattrs[k] = os.getxattr(full, k, follow_symlinks=False).hex()
            except OSError:
                pass
            info["xattrs"] = xattrs
            tree[rel] = info
            if kind != stat.S_IFDIR:
                inodes.setdefault(st.st_ino, set()).add(rel)
    links = {frozenset(g) for g in inodes.values() if len(g) > 1}
    return tree, links


def compare(expected, actual):
    a, alinks = describe(expected)
    b, blinks = describe(actual)
    diffs = []
    for p in sorted(set(a) | set(b)):
        if p not in b:
            diffs.append(f"missing in squashfs: {p} ({a[p]['type']})")
        elif p not in a:
            diffs.append(f"extra in squashfs: {p} ({b[p]['type']})")
        else:
            for k in sorted(set(a[p]) | set(b[p])):
                if a[p].get(k) != b[p].get(k):
                    diffs.append(f"{p}: {k} expected {a[p].get(k)!r}, got {b[p].get(k)!r}")
    for g in sorted(alinks ^ blinks, key=sorted):
        side = "expected only" if g in alinks else "squashfs only"
        diffs.append(f"hard-link group {sorted(g)}: {side}")
    return diffs, len(a)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    diffs, n = compare(sys.argv[1], sys.argv[2])
    for d in diffs:
        print(d)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
