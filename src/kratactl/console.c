/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "bus-util.h"
#include "kratactl.h"
#include "log.h"
#include "string-util.h"

/* zone attach / zone logs: clients of krata-consoled (org.krata.Console1).
 * The console is a socket handed over by OpenConsole/FollowLog; attach puts
 * the terminal in raw mode so every key (Ctrl+C included) reaches the zone,
 * except Ctrl+] which detaches and restores the terminal. */

#define DETACH_CHAR 0x1d /* Ctrl+] */

static int console_call_fd(sd_bus *bus, const char *method, const char *name, int write, int *ret_fd) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        int fd, r;

        if (write >= 0)
                r = sd_bus_call_method(bus, CONSOLE_BUS_NAME, CONSOLE_PATH, CONSOLE_INTERFACE, method,
                                       &error, &reply, "sb", name, write);
        else
                r = sd_bus_call_method(bus, CONSOLE_BUS_NAME, CONSOLE_PATH, CONSOLE_INTERFACE, method,
                                       &error, &reply, "s", name);
        if (r < 0)
                return log_error_errno(r, "Cannot open the console of zone %s: %s", name, bus_error_message(&error, r));
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0)
                return log_error_errno(r, "Bad reply from krata-consoled: %m");
        /* The reply owns its fd; keep our own. */
        fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return log_error_errno(errno, "Failed to duplicate the console fd: %m");
        *ret_fd = fd;
        return 0;
}

static int write_all(int fd, const void *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd pfd = { .fd = fd, .events = POLLOUT };
                                (void) poll(&pfd, 1, -1);
                                continue;
                        }
                        return -errno;
                }
                p = (const uint8_t *) p + k;
                n -= (size_t) k;
        }
        return 0;
}

static void send_winsize(sd_bus *bus, const char *name) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        struct winsize ws;
        int r;

        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0)
                return;
        r = sd_bus_call_method(bus, CONSOLE_BUS_NAME, CONSOLE_PATH, CONSOLE_INTERFACE, "Resize",
                               &error, NULL, "sqq", name, (uint16_t) ws.ws_row, (uint16_t) ws.ws_col);
        if (r < 0) /* a zone without a TTY has nothing to resize: not worth more */
                log_debug("Cannot pass the window size to zone %s: %s", name, bus_error_message(&error, r));
}

typedef struct Terminal {
        struct termios saved;
        bool raw;
} Terminal;

static void terminal_restore(Terminal *t) {
        if (t->raw) {
                (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &t->saved);
                t->raw = false;
        }
}

static int terminal_make_raw(Terminal *t) {
        struct termios raw;

        if (!isatty(STDIN_FILENO))
                return 0;
        if (tcgetattr(STDIN_FILENO, &t->saved) < 0)
                return log_error_errno(errno, "Cannot read the terminal settings: %m");
        raw = t->saved;
        cfmakeraw(&raw);
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
                return log_error_errno(errno, "Cannot put the terminal in raw mode: %m");
        t->raw = true;
        return 1;
}

typedef struct Session {
        sd_bus *bus;
        const char *name;
        int out_fd, in_fd;       /* in_fd < 0: read-only */
        int signal_fd;
        bool tty;
        uint8_t in[4096];        /* typed, not yet sent */
        size_t n_in;
        bool stdin_eof, shut, detach;
} Session;

/* SIGWINCH is passed on; the other signals end the session. */
static void session_signals(Session *s) {
        struct signalfd_siginfo si;

        while (read(s->signal_fd, &si, sizeof si) == (ssize_t) sizeof si) {
                if (si.ssi_signo != SIGWINCH)
                        s->detach = true;
                else if (s->tty && s->in_fd >= 0)
                        send_winsize(s->bus, s->name);
        }
}

static int session_read_stdin(Session *s) {
        ssize_t k = read(STDIN_FILENO, s->in, sizeof s->in);
        uint8_t *d;

        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 0 :
                        log_error_errno(errno, "Reading from standard input failed: %m");
        if (k == 0) {
                s->stdin_eof = true;
                return 0;
        }
        s->n_in = (size_t) k;
        d = s->tty ? memchr(s->in, DETACH_CHAR, s->n_in) : NULL;
        if (d) { /* what was typed before it still goes */
                s->n_in = (size_t) (d - s->in);
                s->detach = true;
        }
        return 0;
}

/* Sends what was typed as far as the socket takes it (all of it on detach). */
static int session_send_input(Session *s) {
        ssize_t k = s->detach ? (write_all(s->in_fd, s->in, s->n_in) < 0 ? -1 : (ssize_t) s->n_in)
                              : send(s->in_fd, s->in, s->n_in, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (k < 0 && errno != EAGAIN)
                return log_error_errno(errno, "The console of zone %s went away: %m", s->name);
        if (k > 0) {
                memmove(s->in, s->in + k, s->n_in - (size_t) k);
                s->n_in -= (size_t) k;
        }
        return 0;
}

/* Copies zone output to stdout; 1 when the console closed. */
static int session_copy_output(Session *s) {
        uint8_t out[16384];
        ssize_t k = read(s->out_fd, out, sizeof out);
        int r;

        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 0 :
                        log_error_errno(errno, "Reading the console of zone %s failed: %m", s->name);
        if (k == 0) {
                if (s->tty)
                        fprintf(stderr, "\r\nThe console of zone %s closed.\r\n", s->name);
                return 1;
        }
        r = write_all(STDOUT_FILENO, out, (size_t) k);
        if (r < 0)
                return log_error_errno(r, "Writing to standard output failed: %m");
        return 0;
}

static int session_loop(Session *s) {
        int r;

        while (!s->detach) {
                /* stdin is polled only when there is room for it: a negative
                 * fd is skipped, so its hang-up cannot be reported early. */
                struct pollfd p[4] = {
                        { .fd = !s->stdin_eof && s->n_in == 0 ? STDIN_FILENO : -1, .events = POLLIN },
                        { .fd = s->out_fd, .events = POLLIN },
                        { .fd = s->signal_fd, .events = POLLIN },
                        { .fd = s->n_in > 0 ? s->in_fd : -1, .events = POLLOUT },
                };

                if (poll(p, 4, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "poll failed: %m");
                }
                if (p[2].revents & POLLIN)
                        session_signals(s);
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR) && (r = session_read_stdin(s)) < 0)
                        return r;
                if (s->n_in > 0 && (s->detach || (p[3].revents & (POLLOUT | POLLERR | POLLHUP))) &&
                    (r = session_send_input(s)) < 0)
                        return r;
                if (s->stdin_eof && s->in_fd >= 0 && s->n_in == 0 && !s->shut) {
                        /* No more input (after the last bytes went out): the
                         * writer slot is released, the zone's output still comes. */
                        (void) shutdown(s->in_fd, SHUT_WR);
                        s->shut = true;
                }
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                        r = session_copy_output(s);
                        if (r != 0)
                                return r < 0 ? r : 0;
                }
        }
        return 0;
}

int console_session(sd_bus *bus, const char *name, int out_fd, int in_fd) {
        _cleanup_close_ int sfd = -EBADF;
        Session s = { .bus = bus, .name = name, .out_fd = out_fd, .in_fd = in_fd, .stdin_eof = in_fd < 0 };
        Terminal term = {};
        sigset_t mask, old;
        int r;

        assert(bus);
        assert(name);

        /* Signals arrive as events so the terminal is always restored. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGWINCH);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGQUIT);
        sigprocmask(SIG_BLOCK, &mask, &old);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0) {
                r = log_error_errno(errno, "signalfd failed: %m");
                sigprocmask(SIG_SETMASK, &old, NULL);
                return r;
        }
        signal(SIGPIPE, SIG_IGN);
        s.signal_fd = sfd;

        s.tty = terminal_make_raw(&term) > 0;
        if (s.tty) {
                fprintf(stderr, "Attached to zone %s%s. Press Ctrl+] to detach.\r\n", name, in_fd >= 0 ? "" : " (read-only)");
                if (in_fd >= 0)
                        send_winsize(bus, name);
        }
        r = session_loop(&s);
        terminal_restore(&term);
        if (s.detach && s.tty)
                fprintf(stderr, "\nDetached from zone %s.\n", name);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}

int verb_zone_attach(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "read-only", no_argument, NULL, 'r' },
                { "history", no_argument, NULL, 'H' },
                {}
        };
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_close_ int fd = -EBADF, log_fd = -EBADF;
        bool read_only = false, history = false;
        int c, r;

        assert(argv);

        optind = 0;
        while ((c = getopt_long(argc, argv, "+hrH", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("kratactl zone attach [--read-only] [--history] NAME\n\n"
                               "Connect the terminal to the zone's console. Ctrl+] detaches.\n"
                               "  -r --read-only   Only show output (another client may be writing)\n"
                               "  -H --history     Show the scrollback first, then live output\n");
                        return EXIT_OK;
                case 'r':
                        read_only = true;
                        break;
                case 'H':
                        history = true;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc - 1) {
                log_error("'zone attach' takes one zone name.");
                return EXIT_USAGE;
        }
        r = connect_bus(&bus);
        if (r != EXIT_OK)
                return r;
        /* With history, output comes from FollowLog (scrollback, then live,
         * no gap) and OpenConsole's fd only carries input; the daemon never
         * waits for a reader, so leaving its output unread costs nothing. */
        if (!read_only || !history) {
                r = console_call_fd(bus, "OpenConsole", argv[optind], !read_only, &fd);
                if (r < 0)
                        return exit_code_from_errno(r);
        }
        if (history) {
                r = console_call_fd(bus, "FollowLog", argv[optind], -1, &log_fd);
                if (r < 0)
                        return exit_code_from_errno(r);
        }
        r = console_session(bus, argv[optind], history ? log_fd : fd, read_only ? -EBADF : fd);
        return r < 0 ? exit_code_from_errno(r) : EXIT_OK;
}

static int print_log(sd_bus *bus, const char *name) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        const void *p;
        size_t n;
        int r;

        r = sd_bus_call_method(bus, CONSOLE_BUS_NAME, CONSOLE_PATH, CONSOLE_INTERFACE, "GetLog",
                               &error, &reply, "s", name);
        if (r < 0)
                return log_error_errno(r, "Cannot get the log of zone %s: %s", name, bus_error_message(&error, r));
        r = sd_bus_message_read_array(reply, 'y', &p, &n);
        if (r < 0)
                return log_error_errno(r, "Bad reply from krata-consoled: %m");
        r = write_all(STDOUT_FILENO, p, n);
        if (r < 0)
                return log_error_errno(r, "Writing to standard output failed: %m");
        return 0;
}

static int follow_log(sd_bus *bus, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        uint8_t buf[65536];
        int r;

        /* One call replays the scrollback and follows: no gap, no repeat. */
        r = console_call_fd(bus, "FollowLog", name, -1, &fd);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t k = read(fd, buf, sizeof buf);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "Reading the log of zone %s failed: %m", name);
                }
                if (k == 0)
                        return 0; /* the zone is gone */
                r = write_all(STDOUT_FILENO, buf, (size_t) k);
                if (r < 0)
                        return r == -EPIPE ? 0 : log_error_errno(r, "Writing to standard output failed: %m");
        }
}

int verb_zone_logs(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "follow", no_argument, NULL, 'f' },
                {}
        };
        _cleanup_bus_ sd_bus *bus = NULL;
        bool follow = false;
        int c, r;

        assert(argv);

        optind = 0;
        while ((c = getopt_long(argc, argv, "+hf", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("kratactl zone logs [-f] NAME\n\n"
                               "Print the zone's console scrollback; -f keeps following it until the zone ends.\n");
                        return EXIT_OK;
                case 'f':
                        follow = true;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc - 1) {
                log_error("'zone logs' takes one zone name.");
                return EXIT_USAGE;
        }
        signal(SIGPIPE, SIG_IGN);
        r = connect_bus(&bus);
        if (r != EXIT_OK)
                return r;
        r = follow ? follow_log(bus, argv[optind]) : print_log(bus, argv[optind]);
        return r < 0 ? exit_code_from_errno(r) : EXIT_OK;
}
