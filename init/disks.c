/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "disks.h"
#include "fs-util.h"
#include "guest-protocol.h"
#include "log.h"
#include "string-util.h"

int cmdline_parse_disk_roles(const char *cmdline, DiskRoles *ret) {
        static const struct {
                const char *key;
                size_t offset;
        } keys[] = {
                { KRATA_CMDLINE_IMAGE, offsetof(DiskRoles, image) },
                { KRATA_CMDLINE_CONFIG, offsetof(DiskRoles, config) },
                { KRATA_CMDLINE_ADDONS, offsetof(DiskRoles, addons) },
        };
        DiskRoles roles = {};
        const char *p = cmdline;

        assert(cmdline);
        assert(ret);

        while (p && *p) {
                size_t len;
                p += strspn(p, " \t\n");
                len = strcspn(p, " \t\n");
                if (len == 0)
                        break;
                for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                        size_t k = strlen(keys[i].key);
                        char num[16];
                        unsigned v;

                        if (len <= k || !strneq(p, keys[i].key, k))
                                continue;
                        if (len - k >= sizeof num)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Kernel command line: %.*s is too long.",
                                                       (int) len, p);
                        memcpy(num, p + k, len - k);
                        num[len - k] = 0;
                        if (safe_atou(num, &v) < 0 || v == 0)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "Kernel command line: '%s%s' is not a virtual-device number.",
                                                       keys[i].key, num);
                        *(unsigned *) ((char *) &roles + keys[i].offset) = v;
                }
                p += len;
        }
        *ret = roles;
        return 0;
}

int disk_find_by_vdev(const char *sysfs_root, unsigned vdev, char **ret_name) {
        _cleanup_free_ char *block = path_join(sysfs_root, "block");
        char want[32];
        DIR *d;
        struct dirent *de;
        int r = -ENOENT;

        assert(sysfs_root);
        assert(ret_name);

        if (!block)
                return -ENOMEM;
        snprintf(want, sizeof want, "device/vbd/%u", vdev);
        d = opendir(block);
        if (!d)
                return negative_errno();
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL, *text = NULL;
                size_t size;

                if (de->d_name[0] == '.')
                        continue;
                path = path_join(block, de->d_name, "device/nodename");
                if (!path) {
                        r = -ENOMEM;
                        break;
                }
                if (read_full_file(path, 256, &text, &size) < 0)
                        continue;
                while (size > 0 && (text[size - 1] == '\n' || text[size - 1] == 0))
                        text[--size] = 0;
                if (streq(text, want)) {
                        *ret_name = strdup(de->d_name);
                        r = *ret_name ? 0 : -ENOMEM;
                        break;
                }
        }
        closedir(d);
        return r;
}

int disk_wait_by_vdev(unsigned vdev, unsigned timeout_ms, char **ret_path) {
        assert(ret_path);

        for (unsigned waited = 0;; waited += 20) {
                _cleanup_free_ char *name = NULL;
                int r = disk_find_by_vdev("/sys", vdev, &name);
                if (r >= 0) {
                        char *p = path_join("/dev", name);
                        if (!p)
                                return -ENOMEM;
                        if (access(p, F_OK) == 0) {
                                *ret_path = p;
                                return 0;
                        }
                        free(p);
                } else if (r != -ENOENT)
                        return r;
                if (waited >= timeout_ms)
                        return -ETIMEDOUT;
                (void) nanosleep(&(struct timespec) { .tv_nsec = 20 * 1000 * 1000 }, NULL);
        }
}

int loop_attach_readonly(int file_fd, char **ret_path) {
        struct loop_config config = {
                .fd = (uint32_t) file_fd,
                .info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR,
        };
        _cleanup_close_ int control = -EBADF;

        assert(ret_path);

        control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (control < 0)
                return log_error_errno(errno, "Failed to open /dev/loop-control: %m");
        for (int attempt = 0; attempt < 64; attempt++) {
                _cleanup_close_ int loop = -EBADF;
                char path[32];
                int nr = ioctl(control, LOOP_CTL_GET_FREE);

                if (nr < 0)
                        return log_error_errno(errno, "Failed to get a free loop device: %m");
                snprintf(path, sizeof path, "/dev/loop%d", nr);
                loop = open(path, O_RDONLY | O_CLOEXEC);
                if (loop < 0)
                        return log_error_errno(errno, "Failed to open %s: %m", path);
                if (ioctl(loop, LOOP_CONFIGURE, &config) < 0) {
                        if (errno == EBUSY) /* raced with another user */
                                continue;
                        return log_error_errno(errno, "Failed to configure %s: %m", path);
                }
                /* AUTOCLEAR: the device goes away with its last user (our mount);
                 * keep it open until then by leaking nothing: mount holds it. */
                *ret_path = strdup(path);
                if (!*ret_path)
                        return -ENOMEM;
                /* Closing before mount would clear it: the caller mounts at once
                 * and we keep one fd open on purpose. */
                TAKE_FD(loop);
                return 0;
        }
        return log_error_errno(SYNTHETIC_ERRNO(EBUSY), "No free loop device after 64 attempts.");
}
