/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "mounts.h"
#include "string-util.h"

static int mount_one(const char *what, const char *where, const char *type, unsigned long flags,
                     const char *options) {
        int r = mkdir_p(where, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", where);
        if (mount(what, where, type, flags, options) < 0)
                return log_error_errno(errno, "Failed to mount %s (%s) on %s: %m", what, type ?: "bind", where);
        return 0;
}

int mount_api_filesystems(void) {
        static const struct {
                const char *what, *where, *type;
                unsigned long flags;
                const char *options;
        } table[] = {
                { "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
                { "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
                { "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
                { "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5" },
                { "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                r = mount_one(table[i].what, table[i].where, table[i].type, table[i].flags, table[i].options);
                if (r < 0)
                        return r;
        }
        /* /dev/ptmx must be the devpts instance's, not the devtmpfs node. */
        (void) unlink("/dev/ptmx");
        if (symlink("pts/ptmx", "/dev/ptmx") < 0 && errno != EEXIST)
                log_warning_errno(errno, "Failed to link /dev/ptmx: %m");
        /* The usual /dev/fd, stdin, stdout, stderr links (shells use them). */
        (void) symlink("/proc/self/fd", "/dev/fd");
        (void) symlink("/proc/self/fd/0", "/dev/stdin");
        (void) symlink("/proc/self/fd/1", "/dev/stdout");
        (void) symlink("/proc/self/fd/2", "/dev/stderr");
        return 0;
}

int mount_root(const char *image_dev, const char *newroot) {
        int r;

        assert(image_dev);
        assert(newroot);

        r = mount_one(image_dev, "/krata/image", "squashfs", MS_RDONLY | MS_NODEV, NULL);
        if (r < 0)
                return r;
        r = mount_one("rw", "/krata/rw", "tmpfs", MS_NODEV, "mode=0755");
        if (r < 0)
                return r;
        if (mkdir_p("/krata/rw/upper", 0755) < 0 || mkdir_p("/krata/rw/work", 0755) < 0)
                return log_error_errno(errno, "Failed to create the overlay directories: %m");
        return mount_one("overlay", newroot, "overlay", 0,
                         "lowerdir=/krata/image,upperdir=/krata/rw/upper,workdir=/krata/rw/work");
}

int mount_addons(const char *addons_dev, const char *newroot, const char *release) {
        _cleanup_free_ char *where = NULL;

        assert(addons_dev);
        assert(newroot);
        assert(release);

        if (!filename_is_valid(release))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Kernel release '%s' is not a valid directory name.", release);
        where = path_join(newroot, "lib/modules", release);
        if (!where)
                return log_oom();
        return mount_one(addons_dev, where, "squashfs", MS_RDONLY | MS_NODEV, NULL);
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* Deletes the initramfs contents (it is RAM we would otherwise keep forever),
 * staying on its file system. */
static void free_initramfs(int dfd, dev_t dev) {
        _cleanup_(closedirp) DIR *d = fdopendir(dfd);
        struct dirent *de;

        if (!d) {
                safe_close(dfd);
                return;
        }
        while ((de = readdir(d))) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0)
                                free_initramfs(sub, dev);
                        (void) unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
                } else
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        }
}

int switch_root(const char *newroot) {
        static const char *const moves[] = { "/dev", "/proc", "/sys" };
        struct statfs sfs;
        struct stat st;

        assert(newroot);

        for (size_t i = 0; i < ELEMENTSOF(moves); i++) {
                _cleanup_free_ char *target = path_join(newroot, moves[i]);
                if (!target)
                        return log_oom();
                (void) mkdir_p(target, 0755);
                if (mount(moves[i], target, NULL, MS_MOVE, NULL) < 0)
                        return log_error_errno(errno, "Failed to move %s to %s: %m", moves[i], target);
        }
        if (chdir(newroot) < 0)
                return log_error_errno(errno, "Failed to enter %s: %m", newroot);

        /* Only an initramfs (ramfs/tmpfs as "/", with our /init) is emptied. */
        if (statfs("/", &sfs) == 0 && (sfs.f_type == RAMFS_MAGIC || sfs.f_type == TMPFS_MAGIC) &&
            access("/init", F_OK) == 0 && stat("/", &st) == 0) {
                int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0)
                        free_initramfs(fd, st.st_dev);
        }

        if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
                return log_error_errno(errno, "Failed to move %s to /: %m", newroot);
        if (chroot(".") < 0)
                return log_error_errno(errno, "Failed to chroot into the new root: %m");
        if (chdir("/") < 0)
                return log_error_errno(errno, "Failed to enter /: %m");
        return 0;
}
