/* SPDX-License-Identifier: Apache-2.0 */
/* Zones1.InstallDefaultKernel and Zones1.PrepareKernel: krata-zoned is the
 * one writer of the system default kernel and the kernel cache, so kratactl
 * stays a client. The work runs in a worker (kernel-job.c). */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>

#include "bus-dict.h"
#include "kernel-job.h"
#include "string-util.h"
#include "zoned.h"

typedef struct KernelFiles {
        int image, addons, metadata, squashfs;
} KernelFiles;

static void kernel_files_done(KernelFiles *f) {
        safe_close(f->image);
        safe_close(f->addons);
        safe_close(f->metadata);
        safe_close(f->squashfs);
}

/* Our own copy of a descriptor the message owns. */
static int read_fd(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error) {
        int *d = dest, fd, r;

        r = sd_bus_message_read_basic(m, 'h', &fd);
        if (r < 0)
                return r;
        fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return negative_errno();
        safe_close(*d);
        *d = fd;
        return 0;
}

static const BusDictField no_options[] = {
        {}
};

#define SRC(f) offsetof(KernelFiles, f)
static const BusDictField source_keys[] = {
        { KERNEL_SOURCE_IMAGE, "h", read_fd, SRC(image) },
        { KERNEL_SOURCE_ADDONS, "h", read_fd, SRC(addons) },
        { KERNEL_SOURCE_METADATA, "h", read_fd, SRC(metadata) },
        { KERNEL_SOURCE_SQUASHFS, "h", read_fd, SRC(squashfs) },
        {}
};
#undef SRC

int bus_method_install_default_kernel(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(kernel_files_done) KernelFiles f = { -EBADF, -EBADF, -EBADF, -EBADF };
        int r;

        assert(msg);
        assert(m);

        r = bus_verify_polkit_async(msg, POLKIT_ACTION_KERNEL_MANAGE, &m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = read_fd(msg, KERNEL_SOURCE_IMAGE, &f.image, error);
        if (r >= 0)
                r = read_fd(msg, KERNEL_SOURCE_ADDONS, &f.addons, error);
        if (r >= 0)
                r = bus_dict_read(msg, no_options, true, &f, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        r = kernel_job_enqueue(m, KERNEL_JOB_INSTALL_DEFAULT, (int[KERNEL_JOB_FDS]) { TAKE_FD(f.image),
                                                                                     TAKE_FD(f.addons), -EBADF },
                               msg);
        return r < 0 ? r : 1;
}

int bus_method_prepare_kernel(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(kernel_files_done) KernelFiles f = { -EBADF, -EBADF, -EBADF, -EBADF };
        KernelJobType type;
        int r;

        assert(msg);
        assert(m);

        r = bus_verify_polkit_async(msg, POLKIT_ACTION_KERNEL_MANAGE, &m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = bus_dict_read(msg, source_keys, true, &f, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        if (f.squashfs >= 0 && f.image < 0 && f.addons < 0 && f.metadata < 0)
                type = KERNEL_JOB_PREPARE_SQUASHFS;
        else if (f.squashfs < 0 && f.image >= 0 && f.metadata >= 0)
                type = KERNEL_JOB_PREPARE_FILES;
        else if (f.squashfs < 0 && f.image < 0 && f.addons < 0 && f.metadata < 0)
                type = KERNEL_JOB_PREPARE_DEFAULT;
        else
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "Give nothing (the default kernel), image and metadata (and addons), "
                                        "or squashfs.");
        r = kernel_job_enqueue(m, type,
                               (int[KERNEL_JOB_FDS]) { type == KERNEL_JOB_PREPARE_SQUASHFS ? TAKE_FD(f.squashfs)
                                                                                           : TAKE_FD(f.image),
                                                       TAKE_FD(f.addons), TAKE_FD(f.metadata) },
                               msg);
        return r < 0 ? r : 1;
}
