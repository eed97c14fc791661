/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "report.h"
#include "xenbus.h"

static int report_fd = -1;

void report_set_file(int fd) {
        report_fd = fd;
}

static void report(const char *key, const char *value) {
        int r;

        if (report_fd >= 0) {
                dprintf(report_fd, "%s=%s\n", key, value);
                (void) fsync(report_fd);
                return;
        }
        r = xenbus_write(xenbus_device(), key, value);
        if (r < 0)
                log_warning_errno(r, "Failed to write %s=%s to xenstore: %m", key, value);
}

void report_status(GuestStatus status, GuestFailure failure) {
        char buf[GUEST_STATUS_MAX + 1];

        guest_status_format(status, failure, buf);
        report(KRATA_XS_STATUS, buf);
}

void report_exit_code(int code) {
        char buf[16];

        snprintf(buf, sizeof buf, "%d", code);
        report(KRATA_XS_EXIT_CODE, buf);
}
