/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "kernel-inflate.h"
#include "kernel-store.h"
#include "log.h"
#include "paths.h"
#include "string-util.h"
#include "util.h"

int kernel_check_fd(int fd, uint64_t max, const char *what) {
        struct stat st;
        int flags;

        assert(what);

        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "%s: %m", what);
        if (!S_ISREG(st.st_mode))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s is not a regular file.", what);
        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return log_error_errno(errno, "%s: %m", what);
        if ((flags & O_PATH) || (flags & O_ACCMODE) == O_WRONLY)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s is not open for reading.", what);
        if ((uint64_t) st.st_size > max)
                return log_error_errno(SYNTHETIC_ERRNO(EFBIG), "%s has %llu bytes, more than %llu.", what,
                                       (unsigned long long) st.st_size, (unsigned long long) max);
        return 0;
}

/* Copies what fd holds into the new file dest (0644, fsynced). */
static int copy_to(int fd, uint64_t max, const char *what, const char *dest, char digest[static 65]) {
        _cleanup_close_ int out = -EBADF;
        int r;

        r = kernel_check_fd(fd, max, what);
        if (r < 0)
                return r;
        out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (out < 0)
                return log_error_errno(errno, "Failed to create %s: %m", dest);
        r = sha256_copy_fd(fd, out, max, digest, NULL);
        if (r == -EFBIG)
                return log_error_errno(r, "%s grew beyond %llu bytes while it was read.", what,
                                       (unsigned long long) max);
        if (r < 0)
                return log_error_errno(r, "Failed to copy %s to %s: %m", what, dest);
        if (fsync(out) < 0)
                return log_error_errno(errno, "Failed to write %s: %m", dest);
        return 0;
}

static int images_dir(const KernelPrepareOptions *opts, char **ret) {
        _cleanup_free_ char *root = opts && opts->cache_dir ? strdup(opts->cache_dir) : krata_cache_path("kernels");
        int r;

        if (!root)
                return -ENOMEM;
        *ret = path_join(root, "images");
        if (!*ret)
                return -ENOMEM;
        r = mkdir_p(*ret, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", *ret);
        return 0;
}

static int stage_default(int image_fd, int addons_fd, const char *tmp_kernel, const char *tmp_addons,
                         const KernelPrepareOptions *opts) {
        _cleanup_(kernel_prepared_done) KernelPrepared check = {};
        KernelSource staged = { .image = (char *) tmp_kernel, .addons = (char *) tmp_addons };
        char digest[65];
        int r;

        r = copy_to(image_fd, KERNEL_IMAGE_MAX, "The kernel image", tmp_kernel, digest);
        if (r < 0)
                return r;
        r = copy_to(addons_fd, KERNEL_ADDONS_MAX, "The addons", tmp_addons, digest);
        if (r < 0)
                return r;
        /* what every zone will boot: it must prepare before it is installed */
        return kernel_prepare(&staged, opts, &check);
}

int kernel_install_default(int image_fd, int addons_fd, const KernelPrepareOptions *opts, KernelPrepared *ret) {
        _cleanup_free_ char *dir = krata_state_path("zone"), *kernel = NULL, *addons = NULL;
        _cleanup_free_ char *tmp_kernel = NULL, *tmp_addons = NULL;
        _cleanup_(kernel_source_done) KernelSource src = {};
        int r;

        assert(ret);

        if (!dir || !(kernel = path_join(dir, "kernel")) || !(addons = path_join(dir, "addons.squashfs")))
                return -ENOMEM;
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", dir);
        r = tempfn_random(kernel, &tmp_kernel);
        if (r >= 0)
                r = tempfn_random(addons, &tmp_addons);
        if (r < 0)
                return r;
        r = stage_default(image_fd, addons_fd, tmp_kernel, tmp_addons, opts);
        if (r >= 0 && rename(tmp_addons, addons) < 0)
                r = log_error_errno(errno, "Failed to install %s: %m", addons);
        if (r >= 0 && rename(tmp_kernel, kernel) < 0)
                r = log_error_errno(errno, "Failed to install %s: %m", kernel);
        (void) unlink(tmp_kernel);
        (void) unlink(tmp_addons);
        if (r < 0)
                return r;
        (void) fsync_directory_of(kernel);
        log_info("Installed %s and %s as the system default zone kernel.", kernel, addons);
        r = kernel_source_default(&src);
        if (r < 0)
                return r;
        return kernel_prepare(&src, opts, ret);
}

/* Copies the files into stage/kernel/ and names the key of what they hold. */
static int stage_files(int image_fd, int addons_fd, int metadata_fd, const char *stage, char **ret_key) {
        _cleanup_free_ char *kdir = path_join(stage, "kernel"), *image = NULL, *addons = NULL, *metadata = NULL;
        char d_image[65], d_addons[65] = "-", d_metadata[65], all[3 * 65 + 3], key[65];
        int r;

        if (!kdir || !(image = path_join(kdir, "image")) || !(addons = path_join(kdir, "addons.squashfs")) ||
            !(metadata = path_join(kdir, "metadata")))
                return -ENOMEM;
        if (mkdir(kdir, 0755) < 0)
                return log_error_errno(errno, "Failed to create %s: %m", kdir);
        r = copy_to(image_fd, KERNEL_IMAGE_MAX, "The kernel image", image, d_image);
        if (r >= 0 && addons_fd >= 0)
                r = copy_to(addons_fd, KERNEL_ADDONS_MAX, "The addons", addons, d_addons);
        if (r >= 0)
                r = copy_to(metadata_fd, KERNEL_METADATA_MAX, "The kernel metadata", metadata, d_metadata);
        if (r < 0)
                return r;
        snprintf(all, sizeof all, "%s %s %s", d_image, d_addons, d_metadata);
        sha256_buffer(all, strlen(all), key);
        return asprintf_safe(ret_key, "local-%s", key);
}

int kernel_prepare_fds(int image_fd, int addons_fd, int metadata_fd, const KernelPrepareOptions *opts,
                       KernelPrepared *ret) {
        _cleanup_free_ char *images = NULL, *stage = NULL, *key = NULL, *dir = NULL, *kdir = NULL;
        _cleanup_(kernel_source_done) KernelSource src = {};
        bool existed = false;
        int r;

        assert(ret);

        r = images_dir(opts, &images);
        if (r < 0)
                return r;
        stage = path_join(images, ".upload-XXXXXX");
        if (!stage)
                return -ENOMEM;
        if (!mkdtemp(stage))
                return log_error_errno(errno, "Failed to create %s: %m", stage);
        r = stage_files(image_fd, addons_fd, metadata_fd, stage, &key);
        if (r >= 0 && !(dir = path_join(images, key)))
                r = -ENOMEM;
        if (r >= 0 && rename(stage, dir) < 0) {
                /* the same files were stored before */
                existed = errno == EEXIST || errno == ENOTEMPTY;
                if (!existed)
                        r = log_error_errno(errno, "Failed to store the kernel in %s: %m", dir);
        }
        (void) rm_rf(stage);
        if (r < 0)
                return r;
        kdir = path_join(dir, "kernel");
        if (!kdir)
                return -ENOMEM;
        r = kernel_source_from_dir(kdir, &src);
        if (r >= 0)
                r = kernel_prepare(&src, opts, ret);
        if (r < 0 && !existed)
                (void) rm_rf(dir); /* a kernel that does not prepare is not kept */
        return r;
}

int kernel_prepare_squashfs_fd(int fd, const KernelPrepareOptions *opts, KernelPrepared *ret) {
        _cleanup_free_ char *images = NULL, *upload = NULL, *tmp = NULL, *dir = NULL, *kdir = NULL;
        _cleanup_(kernel_source_done) KernelSource src = {};
        char key[65];
        bool existed;
        int r;

        assert(ret);

        r = images_dir(opts, &images);
        if (r < 0)
                return r;
        upload = path_join(images, "upload.squashfs");
        if (!upload)
                return -ENOMEM;
        r = tempfn_random(upload, &tmp);
        if (r < 0)
                return r;
        r = copy_to(fd, KERNEL_SQUASHFS_MAX, "The kernel image squashfs", tmp, key);
        if (r >= 0 && (!(dir = path_join(images, key)) || !(kdir = path_join(dir, "kernel"))))
                r = -ENOMEM;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        existed = access(kdir, F_OK) == 0;
        r = kernel_source_from_image_squashfs(tmp, key, opts ? opts->cache_dir : NULL, &src);
        (void) unlink(tmp);
        if (r >= 0)
                r = kernel_prepare(&src, opts, ret);
        if (r < 0 && !existed)
                (void) rm_rf(dir);
        return r;
}
