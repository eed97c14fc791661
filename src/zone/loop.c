/* SPDX-License-Identifier: Apache-2.0 */
/* Read-only loop devices with autoclear: the kernel frees them once the last
 * opener (us, blkback) closes, so a crash of ours cannot leak one forever. */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "paths.h"
#include "string-util.h"
#include "zone.h"

int loop_attach_ro(const char *file, LoopDevice *ret) {
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
                struct stat dst;
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
                if (fstat(fd, &dst) < 0)
                        return negative_errno();
                ret->path = strdup(path);
                if (!ret->path) {
                        (void) ioctl(fd, LOOP_CLR_FD);
                        return -ENOMEM;
                }
                ret->devnum = dst.st_rdev;
                ret->fd = TAKE_FD(fd);
                log_debug("Attached %s read-only to %s.", file, path);
                return 0;
        }
        return log_error_errno(SYNTHETIC_ERRNO(EBUSY), "Could not get a loop device for %s.", file);
}

void loop_detach(LoopDevice *d) {
        if (d->fd >= 0) {
                /* With autoclear this only takes effect once blkback has let go. */
                (void) ioctl(d->fd, LOOP_CLR_FD);
                d->fd = safe_close(d->fd);
        }
        d->path = mfree(d->path);
}

int loop_clear_by_path(const char *dev) {
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
        /* Only ever touch what is ours. */
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
