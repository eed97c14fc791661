/* SPDX-License-Identifier: Apache-2.0 */
/* The zone's disks: files on read-only loop devices with autoclear (the
 * kernel frees a device once the last opener, us or blkback, closes it, so
 * a crash of ours cannot leak one forever), each a vbd of the domain. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "disks.h"
#include "fs-util.h"
#include "log.h"
#include "paths.h"
#include "string-util.h"

static int loop_attach_ro(const char *file, Disk *ret) {
        _cleanup_close_ int control = -EBADF, backing = -EBADF;
        struct stat st;

        backing = open(file, O_RDONLY | O_CLOEXEC);
        if (backing < 0)
                return log_error_errno(errno, "Cannot open %s: %m", file);
        if (fstat(backing, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return log_error_errno(SYNTHETIC_ERRNO(EBADF), "%s is not a regular file.", file);
        control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (control < 0)
                return log_error_errno(errno, "Cannot open /dev/loop-control: %m");

        /* GET_FREE races with other users of loop devices: retry on EBUSY. */
        for (unsigned attempt = 0; attempt < 16; attempt++) {
                _cleanup_close_ int fd = -EBADF;
                struct loop_config config = {
                        .fd = (uint32_t) backing,
                        .info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR,
                };
                char path[32];
                int nr = ioctl(control, LOOP_CTL_GET_FREE);

                if (nr < 0)
                        return log_error_errno(errno, "No free loop device: %m");
                snprintf(path, sizeof path, "/dev/loop%d", nr);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOENT)
                                continue; /* udev has not made the node yet */
                        return log_error_errno(errno, "Cannot open %s: %m", path);
                }
                strncpy((char *) config.info.lo_file_name, file, LO_NAME_SIZE - 1);
                if (ioctl(fd, LOOP_CONFIGURE, &config) < 0) {
                        if (errno == EBUSY)
                                continue;
                        return log_error_errno(errno, "LOOP_CONFIGURE on %s for %s failed: %m", path, file);
                }
                if (fstat(fd, &st) < 0)
                        return negative_errno();
                ret->path = strdup(path);
                if (!ret->path) {
                        (void) ioctl(fd, LOOP_CLR_FD);
                        return -ENOMEM;
                }
                ret->devnum = st.st_rdev;
                ret->fd = TAKE_FD(fd);
                log_debug("Attached %s read-only to %s.", file, path);
                return 0;
        }
        return log_error_errno(SYNTHETIC_ERRNO(EBUSY), "Could not get a loop device for %s.", file);
}

static int vbd_add(XsTree *x, const Disk *d) {
        char dev[8], devnum[32], vdev[16];

        snprintf(dev, sizeof dev, "xvd%c", 'a' + (d->vdev - 51712) / 16);
        snprintf(devnum, sizeof devnum, "%x:%x", major(d->devnum), minor(d->devnum));
        snprintf(vdev, sizeof vdev, "%u", d->vdev);
        return xs_tree_add_device(x, "vbd", d->vdev,
                                   (const XsEntry[]) {
                                           { "removable", "0" }, { "bootable", "1" }, { "dev", dev },
                                           { "type", "phy" }, { "mode", "r" }, { "device-type", "disk" },
                                           { "discard-enable", "0" }, { "specification", "xen" },
                                           { "physical-device-path", d->path },
                                           /* written directly: no hotplug script runs for krata's vbds */
                                           { "physical-device", devnum },
                                           {} },
                                   (const XsEntry[]) {
                                           { "virtual-device", vdev }, { "device-type", "disk" },
                                           { "trusted", "1" }, { "protocol", "x86_64-abi" },
                                           {} });
}

int disks_add(Disks *disks, XsTree *x, const char *file, uint32_t vdev) {
        Disk *d;
        int r;

        assert(disks);
        assert(x);
        assert(file);
        assert(disks->n < ZONE_MAX_DISKS);

        d = &disks->disk[disks->n];
        *d = (Disk) { .fd = -EBADF, .vdev = vdev };
        r = loop_attach_ro(file, d);
        if (r < 0)
                return r;
        disks->n++;
        return vbd_add(x, d);
}

int disks_adopt(Disks *disks, char *const *paths) {
        assert(disks);

        STRV_FOREACH(p, paths) {
                if (disks->n >= ZONE_MAX_DISKS)
                        return log_warning_errno(SYNTHETIC_ERRNO(E2BIG), "More loop devices recorded than a zone has; "
                                                 "%s and later ones left alone.", *p);
                disks->disk[disks->n] = (Disk) { .fd = -EBADF, .path = strdup(*p) };
                if (!disks->disk[disks->n].path)
                        return -ENOMEM;
                disks->n++;
        }
        return 0;
}

/* An adopted /dev/loopN: cleared only if it still backs a file of krata's. */
static int loop_clear_if_ours(const char *dev) {
        _cleanup_free_ char *backing = NULL, *sys = NULL, *state = NULL, *runtime = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *nr = startswith(dev, "/dev/loop");
        size_t size;
        unsigned n;

        if (!nr || safe_atou(nr, &n) < 0)
                return -EINVAL;
        if (asprintf_safe(&sys, "/sys/block/loop%u/loop/backing_file", n) < 0)
                return -ENOMEM;
        if (read_full_file(sys, 4096, &backing, &size) < 0)
                return 0; /* not attached any more */
        if (size > 0 && backing[size - 1] == '\n')
                backing[size - 1] = 0;
        state = strjoin(krata_state_dir(), "/");
        runtime = strjoin(krata_runtime_dir(), "/");
        if (!state || !runtime)
                return -ENOMEM;
        if (!startswith(backing, state) && !startswith(backing, runtime))
                return log_warning_errno(SYNTHETIC_ERRNO(EPERM), "%s now backs %s, not a krata file; left alone.",
                                         dev, backing);
        fd = open(dev, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (ioctl(fd, LOOP_CLR_FD) < 0 && errno != ENXIO)
                return log_warning_errno(errno, "Cannot clear %s: %m", dev);
        return 0;
}

void disks_detach(Disks *disks) {
        assert(disks);

        for (size_t i = 0; i < disks->n; i++) {
                Disk *d = &disks->disk[i];

                if (d->fd >= 0) {
                        /* With autoclear this only takes effect once blkback has let go. */
                        (void) ioctl(d->fd, LOOP_CLR_FD);
                        d->fd = safe_close(d->fd);
                } else if (d->path)
                        (void) loop_clear_if_ours(d->path);
                d->path = mfree(d->path);
        }
}

int disks_paths(const Disks *disks, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;

        assert(disks);
        assert(ret);

        for (size_t i = 0; i < disks->n; i++)
                if (disks->disk[i].path && strv_extend(&l, disks->disk[i].path) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}
