/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

/* Logs a step's failure and keeps the sentence in *reason for the zone's
 * Error property, so kratactl shows why (a 404, a missing kernel), not just
 * an errno. %m means r, as in log_*_errno(). Returns r. */
static inline int reason_set(char **reason, int r, const char *fmt, ...) _printf_(3, 4);
static inline int reason_set(char **reason, int r, const char *fmt, ...) {
        char buf[1024];
        va_list ap;

        errno = ERRNO_VALUE(r);
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        free(*reason);
        *reason = strdup(buf);
        return log_error_errno(r, "%s", buf);
}
