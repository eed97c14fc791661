/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

/* The window size of a zone started with a TTY. krata-consoled writes
 * "ROWS COLS" to krata/winsize when a client attaches and whenever its
 * terminal is resized; init watches the key and sets the console's size
 * (guest_winsize_parse() decides what is a size), which makes the kernel
 * send SIGWINCH to the foreground process group. */

typedef struct WinsizeWatch {
        const char *device; /* xenbus device */
        int watch_fd;       /* the watch connection */
        int tty_fd;         /* the console */
        bool own_tty;       /* we opened tty_fd */
        unsigned n_warned;  /* bad values reported so far */
} WinsizeWatch;

/* Uses the console fd (tty_fd >= 0, stays the caller's) or opens console,
 * sets the watch and applies the size present now. */
int winsize_watch_start(WinsizeWatch *w, const char *device, const char *console, int tty_fd);
/* For SuperviseWatch: reads one message from the watch connection; on an
 * event, reads the key and applies it. A bad value is ignored. */
int winsize_watch_dispatch(int fd, void *userdata);
void winsize_watch_done(WinsizeWatch *w);
