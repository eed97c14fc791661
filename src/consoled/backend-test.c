/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"

/* For tests only, selected by KRATA_CONSOLED_TEST_RING_DIR=DIR. A zone NAME is
 * DIR/NAME/ holding:
 *   ring          a file of at least 4096 bytes: the xencons_interface page
 *   notify-host   a FIFO: the guest writes a byte to raise our event
 *   notify-guest  a FIFO: we write a byte to raise the guest's event
 * Removing DIR/NAME/ring is the domain's death (inotify stands in for
 * @releaseDomain). Resize writes DIR/NAME/winsize. */

#define PAGE_BYTES 4096

typedef struct TestBackend {
        char *dir;
        int inotify_fd;
} TestBackend;

typedef struct TestChannel {
        char *zone_dir;
        int notify_guest_fd;
        int wd;
} TestChannel;

static void test_close(Backend *b) {
        TestBackend *t = b->data;

        if (!t)
                return;
        safe_close(t->inotify_fd);
        free(t->dir);
        b->data = mfree(t);
        b->watch_fd = -EBADF;
}

static int test_open(Backend *b, int *ret_watch_fd) {
        TestBackend *t = calloc(1, sizeof *t);

        if (!t)
                return -ENOMEM;
        b->data = t;
        t->inotify_fd = -EBADF;
        t->dir = strdup(getenv("KRATA_CONSOLED_TEST_RING_DIR") ?: "");
        if (!t->dir) {
                test_close(b);
                return -ENOMEM;
        }
        t->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (t->inotify_fd < 0) {
                int r = negative_errno();
                test_close(b);
                return backend_fail(b, r, "inotify_init1 failed: %m");
        }
        *ret_watch_fd = t->inotify_fd;
        return 0;
}

static int test_watch_process(Backend *b) {
        TestBackend *t = b->data;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        for (;;) {
                ssize_t n = read(t->inotify_fd, buf, sizeof buf);
                if (n < 0)
                        return errno == EAGAIN ? 0 : negative_errno();
                if (n == 0)
                        return 0;
        }
}

static void test_detach(Backend *b, Channel *c) {
        TestBackend *t = b->data;
        TestChannel *tc;

        if (!c)
                return;
        tc = c->data;
        if (c->page)
                (void) munmap(c->page, PAGE_BYTES);
        safe_close(c->event_fd);
        if (tc) {
                if (tc->wd >= 0 && t)
                        (void) inotify_rm_watch(t->inotify_fd, tc->wd);
                safe_close(tc->notify_guest_fd);
                free(tc->zone_dir);
                free(tc);
        }
        free(c);
}

static int open_fifo(Backend *b, const char *dir, const char *name, int *ret) {
        _cleanup_free_ char *p = path_join(dir, name);
        struct stat st;
        int fd;

        if (!p)
                return -ENOMEM;
        /* O_RDWR: never ENXIO for want of a peer, never EOF when it leaves. */
        fd = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return backend_fail(b, errno, "Cannot open %s: %m", p);
        if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
                safe_close(fd);
                return backend_fail(b, SYNTHETIC_ERRNO(EBADF), "%s is not a FIFO.", p);
        }
        *ret = fd;
        return 0;
}

static int test_attach(Backend *b, const char *zone, uint32_t domid, Channel **ret) {
        TestBackend *t = b->data;
        _cleanup_free_ char *ring = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        Channel *c;
        TestChannel *tc;
        void *p;
        int r;

        c = calloc(1, sizeof *c);
        tc = calloc(1, sizeof *tc);
        if (!c || !tc) {
                free(c);
                free(tc);
                return -ENOMEM;
        }
        c->data = tc;
        c->event_fd = tc->notify_guest_fd = -EBADF;
        tc->wd = -1;
        tc->zone_dir = path_join(t->dir, zone);
        ring = path_join(t->dir, zone, "ring");
        if (!tc->zone_dir || !ring) {
                test_detach(b, c);
                return -ENOMEM;
        }
        fd = open(ring, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = negative_errno();
                test_detach(b, c);
                return backend_fail(b, r, "Zone %s: cannot open test ring %s: %m", zone, ring);
        }
        if (!S_ISREG(st.st_mode) || st.st_size < PAGE_BYTES) {
                test_detach(b, c);
                return backend_fail(b, SYNTHETIC_ERRNO(EBADMSG), "Zone %s: %s is not a %d-byte file.", zone, ring, PAGE_BYTES);
        }
        p = mmap(NULL, PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
                r = negative_errno();
                test_detach(b, c);
                return backend_fail(b, r, "Zone %s: cannot map %s: %m", zone, ring);
        }
        c->page = p;
        r = open_fifo(b, tc->zone_dir, "notify-host", &c->event_fd);
        if (r >= 0)
                r = open_fifo(b, tc->zone_dir, "notify-guest", &tc->notify_guest_fd);
        if (r < 0) {
                test_detach(b, c);
                return r;
        }
        tc->wd = inotify_add_watch(t->inotify_fd, tc->zone_dir, IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF);
        if (tc->wd < 0) {
                r = negative_errno();
                test_detach(b, c);
                return backend_fail(b, r, "Zone %s: cannot watch %s: %m", zone, tc->zone_dir);
        }
        *ret = c;
        return 0;
}

static int test_ack(Backend *b, Channel *c) {
        char buf[256];

        for (;;) {
                ssize_t n = read(c->event_fd, buf, sizeof buf);
                if (n < 0)
                        return errno == EAGAIN ? 0 : negative_errno();
                if (n == 0)
                        return 0;
        }
}

static int test_notify(Backend *b, Channel *c) {
        TestChannel *tc = c->data;

        /* A full FIFO already holds a pending notification. */
        if (write(tc->notify_guest_fd, "!", 1) < 0 && errno != EAGAIN)
                return negative_errno();
        return 0;
}

static int test_alive(Backend *b, Channel *c) {
        TestChannel *tc = c->data;
        _cleanup_free_ char *ring = path_join(tc->zone_dir, "ring");

        if (!ring)
                return -ENOMEM;
        return access(ring, F_OK) >= 0 ? 1 : 0;
}

static int test_set_winsize(Backend *b, Channel *c, unsigned rows, unsigned cols) {
        TestChannel *tc = c->data;
        _cleanup_free_ char *p = path_join(tc->zone_dir, "winsize"), *v = NULL;

        if (!p || asprintf_safe(&v, "%u %u\n", rows, cols) < 0)
                return -ENOMEM;
        return write_string_file_atomic(p, v, 0644);
}

const BackendOps backend_test_ops = {
        .name = "test",
        .open = test_open,
        .close = test_close,
        .watch_process = test_watch_process,
        .attach = test_attach,
        .detach = test_detach,
        .ack = test_ack,
        .notify = test_notify,
        .alive = test_alive,
        .set_winsize = test_set_winsize,
};
