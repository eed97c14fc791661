/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "guest-protocol.h"
#include "log.h"
#include "macro.h"
#include "winsize.h"
#include "xenbus.h"

#define WINSIZE_TOKEN "krata-winsize"
/* The guest can write krata/ too, so a bad value is its own doing: say so a
 * few times on its console (where init logs), then stay quiet. */
#define WINSIZE_WARN_MAX 3

/* Never fails: a value we cannot read or use leaves the size as it was. */
static int winsize_apply(WinsizeWatch *w) {
        char v[GUEST_WINSIZE_MAX + 1];
        struct winsize ws;
        size_t n;
        int r;

        r = xenbus_read(w->device, KRATA_XS_WINSIZE, v, sizeof v, &n);
        if (r == -ENOENT)
                return 0; /* nobody attached yet */
        if (r >= 0)
                r = guest_winsize_parse(v, n, &ws);
        /* An unchanged size sends no SIGWINCH: the kernel compares. */
        if (r >= 0 && ioctl(w->tty_fd, TIOCSWINSZ, &ws) < 0)
                r = negative_errno();
        if (r < 0) {
                if (w->n_warned++ < WINSIZE_WARN_MAX)
                        log_warning_errno(r, "Ignoring the window size in %s: %m", KRATA_XS_WINSIZE);
                return 0;
        }
        log_debug("Window size %ux%u.", ws.ws_row, ws.ws_col);
        return 0;
}

int winsize_watch_start(WinsizeWatch *w, const char *device, const char *console, int tty_fd) {
        int r;

        assert(w);
        assert(device);

        *w = (WinsizeWatch) { .device = device, .watch_fd = -EBADF, .tty_fd = tty_fd };
        if (w->tty_fd < 0) {
                w->tty_fd = open(console, O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (w->tty_fd < 0)
                        return log_warning_errno(errno, "Failed to open %s: %m", console);
                w->own_tty = true;
        }
        r = xenbus_watch(device, KRATA_XS_WINSIZE, WINSIZE_TOKEN, &w->watch_fd);
        if (r < 0) {
                log_warning_errno(r, "Failed to watch %s: %m", KRATA_XS_WINSIZE);
                winsize_watch_done(w);
                return r;
        }
        return winsize_apply(w);
}

int winsize_watch_dispatch(int fd, void *userdata) {
        WinsizeWatch *w = userdata;
        int r;

        assert(userdata);

        r = xenbus_read_event(fd, WINSIZE_TOKEN);
        if (r <= 0)
                return r;
        return winsize_apply(w);
}

void winsize_watch_done(WinsizeWatch *w) {
        assert(w);

        w->watch_fd = safe_close(w->watch_fd);
        if (w->own_tty)
                w->tty_fd = safe_close(w->tty_fd);
        w->own_tty = false;
}
