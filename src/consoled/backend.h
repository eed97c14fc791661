/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <xen/io/console.h>

/* Where a zone's console page and event channel come from. The Xen backend
 * maps the real ring and binds the real event channel; the test backend
 * (KRATA_CONSOLED_TEST_RING_DIR, for tests only) uses a shared file as the
 * page and FIFOs as the event channel, so the whole daemon runs without Xen
 * while a test plays the guest. */

typedef struct Backend Backend;

typedef struct Channel {
        struct xencons_interface *page;
        int event_fd; /* readable when the guest notified us */
        void *data;   /* the backend's own */
} Channel;

typedef struct BackendOps {
        const char *name;
        /* Opens global handles; returns an fd that turns readable when some
         * domain may have died (then call watch_process and alive). */
        int (*open)(Backend *b, int *ret_watch_fd);
        void (*close)(Backend *b);
        int (*watch_process)(Backend *b);
        /* Finds, maps and binds the console of a domain. Errors name the
         * domain and the cause. */
        int (*attach)(Backend *b, const char *zone, uint32_t domid, Channel **ret);
        void (*detach)(Backend *b, Channel *c);
        /* Consumes the pending notification and re-arms it. */
        int (*ack)(Backend *b, Channel *c);
        int (*notify)(Backend *b, Channel *c);
        /* > 0 while the domain exists, 0 once it is gone. */
        int (*alive)(Backend *b, Channel *c);
        /* Publishes a terminal size for the guest to apply to its TTY. */
        int (*set_winsize)(Backend *b, Channel *c, unsigned rows, unsigned cols);
} BackendOps;

struct Backend {
        const BackendOps *ops;
        void *data;
        int watch_fd;
        bool opened;
        char last_error[512]; /* why the last open/attach failed, for the caller */
};

/* Logs a failure (printf format, %m meaning r) and keeps the message for the
 * D-Bus reply; returns -errno. */
int backend_fail(Backend *b, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

extern const BackendOps backend_xen_ops;
extern const BackendOps backend_test_ops;

/* The test backend when KRATA_CONSOLED_TEST_RING_DIR is set, else Xen. */
int backend_new(Backend **ret);
Backend *backend_free(Backend *b);
/* Opens the backend on first use (a daemon with no zones holds nothing). */
int backend_ensure_open(Backend *b);
