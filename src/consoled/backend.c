/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>

#include "backend.h"
#include "log.h"
#include "string-util.h"

int backend_new(Backend **ret) {
        Backend *b = calloc(1, sizeof *b);
        const char *dir = getenv("KRATA_CONSOLED_TEST_RING_DIR");

        assert(ret);

        if (!b)
                return -ENOMEM;
        b->watch_fd = -EBADF;
        if (!isempty(dir)) {
                b->ops = &backend_test_ops;
                log_notice("Test backend: console pages are files under %s, not Xen rings.", dir);
        } else
                b->ops = &backend_xen_ops;
        *ret = b;
        return 0;
}

Backend *backend_free(Backend *b) {
        if (!b)
                return NULL;
        if (b->opened)
                b->ops->close(b);
        free(b);
        return NULL;
}

int backend_ensure_open(Backend *b) {
        int r;

        assert(b);

        b->last_error[0] = 0;
        if (b->opened)
                return 0;
        r = b->ops->open(b, &b->watch_fd);
        if (r < 0)
                return r;
        b->opened = true;
        return 1; /* newly opened: the caller watches b->watch_fd */
}

int backend_fail(Backend *b, int r, const char *fmt, ...) {
        va_list ap;

        assert(b);
        assert(fmt);

        r = ERRNO_VALUE(r);
        va_start(ap, fmt);
        errno = r; /* for %m */
        vsnprintf(b->last_error, sizeof b->last_error, fmt, ap);
        va_end(ap);
        log_error("%s", b->last_error);
        return -r;
}
