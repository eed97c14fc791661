/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "zoned.h"

/* Kernel work asked over the bus (kernel-dbus.c), done one job at a time in
 * a worker process forked for it, so the event loop keeps answering while a
 * kernel is copied, inflated and its initrd built. The worker drops its
 * capabilities and hands back a result (the prepared kernel, or errno and
 * the message it logged) through a pipe; the method call is answered when
 * it exits. */

typedef enum KernelJobType {
        KERNEL_JOB_INSTALL_DEFAULT,  /* fds: image, addons */
        KERNEL_JOB_PREPARE_DEFAULT,  /* no fds */
        KERNEL_JOB_PREPARE_FILES,    /* fds: image, addons or -1, metadata */
        KERNEL_JOB_PREPARE_SQUASHFS, /* fds: squashfs */
} KernelJobType;

#define KERNEL_JOB_FDS 3

/* Takes over fds (closed when the job ends, or at once on failure) and the
 * request to answer. */
int kernel_job_enqueue(Manager *m, KernelJobType type, int fds[KERNEL_JOB_FDS], sd_bus_message *request);
/* Kills a running worker and drops every job unanswered (zoned exits). */
void kernel_jobs_free(Manager *m);
