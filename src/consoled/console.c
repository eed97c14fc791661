/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <systemd/sd-journal.h>

#include "bus-util.h"
#include "consoled.h"
#include "log.h"
#include "string-util.h"

/* One zone's console: the mapped ring, its scrollback and its clients, all
 * driven from the one sd-event loop with non-blocking fds only. The guest's
 * output is drained whenever it rings, attached or not. Nothing here waits
 * for a client: a reader only holds an offset into the scrollback, so a slow
 * reader costs no memory and skips what scrolled out (it is never dropped for
 * being slow); a writer whose bytes the guest does not take is simply not
 * read further (back-pressure), so no input is lost or duplicated. */

#define DRAIN_CHUNK 4096

const char *console_state(const Console *con) {
        assert(con);

        return con->dead ? "dead" : "running";
}

static void client_free(Client *c) {
        Console *con = c->console;

        for (Client **p = &con->clients; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        con->n_clients--;
        if (con->writer == c)
                con->writer = NULL;
        if (c->skipped > 0)
                log_info("Zone %s: a reader left after skipping %" PRIu64 " bytes it was too slow for.", con->name, c->skipped);
        sd_event_source_disable_unref(c->source);
        safe_close(c->fd);
        free(c);
}

static void client_update_events(Client *c) {
        uint32_t events = 0;

        if (!c->input_eof && !c->input_paused)
                events |= EPOLLIN;
        if (c->pos < c->console->scrollback.end)
                events |= EPOLLOUT;
        (void) sd_event_source_set_io_events(c->source, events);
        /* Even with no events asked for, epoll reports hang-ups; a paused
         * writer that hung up must not spin, so it is switched off until the
         * guest makes room (console_flush_input turns it back on). */
        (void) sd_event_source_set_enabled(c->source, c->input_paused && c->hung_up ? SD_EVENT_OFF : SD_EVENT_ON);
}

/* Sends what the client has not seen yet, as far as its socket takes it.
 * Returns 0, or -EPIPE when the client is gone (and has been freed). */
static int client_flush(Client *c) {
        Console *con = c->console;

        for (;;) {
                const uint8_t *span;
                uint64_t skipped;
                size_t len = scrollback_span(&con->scrollback, &c->pos, &span, &skipped);
                ssize_t n;

                if (skipped > 0) {
                        if (c->skipped == 0)
                                log_debug("Zone %s: a reader fell behind, skipping %" PRIu64 " bytes.", con->name, skipped);
                        c->skipped += skipped;
                }
                if (len == 0)
                        break;
                n = send(c->fd, span, len, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        client_free(c);
                        return -EPIPE;
                }
                c->pos += (uint64_t) n;
        }
        if (c->pos >= con->scrollback.end && c->close_when_drained) {
                client_free(c); /* the zone is gone: closing gives the client EOF */
                return -EPIPE;
        }
        client_update_events(c);
        return 0;
}

static void console_flush_clients(Console *con) {
        for (Client *c = con->clients, *next; c; c = next) {
                next = c->next;
                (void) client_flush(c);
        }
}

/* journald's socket is blocking (a zone flooding lines could hold the one
 * loop every zone shares) and journald is the whole host's: each zone and
 * the daemon as a whole get a budget of lines and bytes (journal-limit.h).
 * The rest is counted, it is all still in the scrollback, and the count is
 * reported with the next line let through, at most every 10 s. */
static bool console_journal_ratelimit(Console *con, size_t size) {
        Manager *m = con->manager;
        uint64_t now = 0;

        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        if (!journal_limit_take(&con->journal_limit, &m->journal_limit, size, now)) {
                con->journal_suppressed++;
                con->journal_suppressed_bytes += size;
                return false;
        }
        if (con->journal_suppressed > 0 &&
            (con->journal_reported_usec == 0 || now >= con->journal_reported_usec + JOURNAL_REPORT_USEC)) {
                (void) sd_journal_send("MESSAGE=Suppressed %" PRIu64 " lines (%" PRIu64 " bytes) of console output "
                                       "of zone %s (over %d lines or %d KiB a second); they are in its scrollback.",
                                       con->journal_suppressed, con->journal_suppressed_bytes, con->name,
                                       JOURNAL_ZONE_LINES_PER_SEC, JOURNAL_ZONE_BYTES_PER_SEC / 1024,
                                       "%s", con->zone_field, "PRIORITY=4", NULL);
                con->journal_reported_usec = now;
                con->journal_suppressed = con->journal_suppressed_bytes = 0;
        }
        return true;
}

static void console_journal(Console *con, const uint8_t *data, size_t n) {
        Manager *m = con->manager;

        if (!m->journal)
                return;
        for (size_t i = 0; i < n; i++) {
                bool eol = data[i] == '\n';

                if (!eol)
                        con->line[con->n_line++] = (char) data[i];
                if (!eol && con->n_line < sizeof con->line)
                        continue;
                /* One journal entry per line (overlong lines are split); the
                 * CR of a guest's CRLF is not part of the message. */
                size_t len = con->n_line;
                if (len > 0 && con->line[len - 1] == '\r')
                        len--;
                memcpy(con->line_msg, "MESSAGE=", 8);
                memcpy(con->line_msg + 8, con->line, len);
                struct iovec v[] = {
                        { con->line_msg, 8 + len },
                        { con->zone_field, strlen(con->zone_field) },
                        { (char *) "PRIORITY=6", 10 },
                        { (char *) "SYSLOG_IDENTIFIER=krata-zone", 28 },
                };
                if (console_journal_ratelimit(con, len))
                        (void) sd_journal_sendv(v, ELEMENTSOF(v));
                con->n_line = 0;
        }
}

/* Pushes buffered writer input into the ring, within its free space. */
static void console_flush_input(Console *con) {
        int n;

        if (con->n_input == 0 || con->dead)
                return;
        n = console_ring_write_input(&con->ring, con->input, con->n_input);
        if (n == -EPROTO) {
                if (con->protocol_errors++ < 10) /* a hostile guest must not flood our log */
                        log_warning("Zone %s: the guest's input consumer index is inconsistent; resynchronised.", con->name);
                n = console_ring_write_input(&con->ring, con->input, con->n_input);
        }
        if (n <= 0)
                return;
        memmove(con->input, con->input + n, con->n_input - (size_t) n);
        con->n_input -= (size_t) n;
        (void) con->manager->backend->ops->notify(con->manager->backend, con->channel);
        if (con->writer && con->writer->input_paused && con->n_input < sizeof con->input) {
                con->writer->input_paused = false;
                client_update_events(con->writer);
        }
}

/* Moves everything the guest has written into the scrollback and journal. */
static void console_drain(Console *con) {
        uint8_t buf[DRAIN_CHUNK];
        bool consumed = false;

        /* At most one ring's worth plus what arrives meanwhile: a guest that
         * writes as fast as we read cannot keep us here (never spin). */
        for (unsigned i = 0; i < 4; i++) {
                int n = console_ring_read_output(&con->ring, buf, sizeof buf);
                if (n == -EPROTO) {
                        /* Rate-limited by nature: a resync drops the bogus data. */
                        if (con->protocol_errors++ < 10)
                                log_warning("Zone %s: the guest's output producer index is inconsistent; "
                                            "pending output dropped and resynchronised.", con->name);
                        consumed = true;
                        continue;
                }
                if (n <= 0)
                        break;
                consumed = true;
                scrollback_append(&con->scrollback, buf, (size_t) n);
                console_journal(con, buf, (size_t) n);
        }
        console_flush_input(con);
        if (consumed)
                (void) con->manager->backend->ops->notify(con->manager->backend, con->channel);
        console_flush_clients(con);
}

/* The domain is gone: keep the scrollback for GetLog until the supervisor
 * unregisters the zone, but release the ring and give every client EOF once
 * it has what was written before the end. */
static void console_mark_dead(Console *con) {
        Backend *b = con->manager->backend;

        if (con->dead)
                return;
        log_info("Zone %s: domain %" PRIu32 " is gone; closing its console.", con->name, con->domid);
        console_drain(con);
        con->dead = true;
        con->event_source = sd_event_source_disable_unref(con->event_source);
        b->ops->detach(b, con->channel);
        con->channel = NULL;
        con->ring = (ConsoleRing) {};
        con->n_input = 0; /* undeliverable now */
        con->writer = NULL;
        for (Client *c = con->clients; c; c = c->next) {
                c->close_when_drained = true;
                c->writer = false;
                c->input_paused = false;
        }
        console_flush_clients(con);
}

static int on_console_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Console *con = userdata;
        Backend *b = con->manager->backend;
        int r;

        r = b->ops->ack(b, con->channel);
        if (r < 0 || (revents & (EPOLLERR | EPOLLHUP))) {
                log_warning_errno(r < 0 ? r : EIO, "Zone %s: event channel failed: %m", con->name);
                console_mark_dead(con);
                return 0;
        }
        console_drain(con);
        return 0;
}

static int on_backend_watch(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        Backend *b = m->backend;

        if (b->ops->watch_process(b) < 0)
                log_warning("Backend watch failed; checking every zone.");
        for (Console *con = m->consoles; con; con = con->next)
                if (!con->dead && b->ops->alive(b, con->channel) == 0)
                        console_mark_dead(con);
        return 0;
}

static void console_free(Console *con) {
        Backend *b = con->manager->backend;

        while (con->clients)
                client_free(con->clients);
        sd_event_source_disable_unref(con->event_source);
        if (con->channel)
                b->ops->detach(b, con->channel);
        scrollback_done(&con->scrollback);
        free(con->zone_field);
        free(con->name);
        free(con);
}

void console_unregister(Console *con) {
        Manager *m = con->manager;

        assert(con);

        for (Console **p = &m->consoles; *p; p = &(*p)->next)
                if (*p == con) {
                        *p = con->next;
                        break;
                }
        m->n_consoles--;
        /* What the guest wrote last still reaches the clients' sockets. */
        if (!con->dead)
                console_drain(con);
        log_info("Zone %s: unregistered.", con->name);
        console_free(con);
}

int manager_register_console(Manager *m, const char *name, uint32_t domid) {
        Backend *b = m->backend;
        uint64_t now = 0;
        Console *con;
        int r;

        assert(m);

        con = manager_find_console(m, name);
        if (con) {
                if (!con->dead && con->domid == domid)
                        return 0; /* the supervisor retried: same thing */
                if (!con->dead)
                        return log_error_errno(SYNTHETIC_ERRNO(EEXIST), "Zone %s is already registered with domain %" PRIu32 ".",
                                               name, con->domid);
                console_unregister(con); /* a restarted zone replaces its dead predecessor */
        }
        for (Console *other = m->consoles; other; other = other->next)
                if (!other->dead && other->domid == domid)
                        return log_error_errno(SYNTHETIC_ERRNO(EEXIST), "Domain %" PRIu32 " is already registered as zone %s.",
                                               domid, other->name);
        if (m->n_consoles >= CONSOLES_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(ENOSPC), "Too many zones (%d).", CONSOLES_MAX);

        r = backend_ensure_open(b);
        if (r < 0)
                return r;
        if (r > 0) {
                r = sd_event_add_io(m->event, &m->watch_source, b->watch_fd, EPOLLIN, on_backend_watch, m);
                if (r < 0) {
                        /* Without the death watch the backend is no use: open it again next time. */
                        b->ops->close(b);
                        b->opened = false;
                        return backend_fail(b, r, "Failed to watch for domain deaths: %m");
                }
        }

        con = calloc(1, sizeof *con);
        if (!con)
                return log_oom();
        con->manager = m;
        con->domid = domid;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        journal_limit_init(&con->journal_limit, false, now);
        con->name = strdup(name);
        con->zone_field = strjoin("ZONE=", name);
        if (!con->name || !con->zone_field || scrollback_init(&con->scrollback, m->scrollback_size) < 0) {
                console_free(con);
                return log_oom();
        }
        r = b->ops->attach(b, name, domid, &con->channel);
        if (r < 0) {
                console_free(con);
                return r;
        }
        console_ring_init(&con->ring, con->channel->page);
        r = sd_event_add_io(m->event, &con->event_source, con->channel->event_fd, EPOLLIN, on_console_event, con);
        if (r < 0) {
                console_free(con);
                return log_error_errno(r, "Zone %s: failed to watch its event channel: %m", name);
        }
        (void) sd_event_source_set_description(con->event_source, "zone-console");
        /* A guest ringing the doorbell non-stop is throttled, not served at
         * the cost of every other zone: past the burst, its event source
         * sleeps until the interval ends (pending output stays in the ring). */
        (void) sd_event_source_set_ratelimit(con->event_source, 1000000, 20000);

        con->next = m->consoles;
        m->consoles = con;
        m->n_consoles++;
        log_info("Zone %s: console of domain %" PRIu32 " attached (%s backend, %zu bytes of scrollback).",
                 name, domid, b->ops->name, m->scrollback_size);
        /* The guest may have written before we were handed the zone. */
        console_drain(con);
        return 0;
}

static int client_read(Client *c) {
        Console *con = c->console;
        uint8_t scratch[1024];

        for (;;) {
                uint8_t *dst = scratch;
                size_t room = sizeof scratch;
                ssize_t n;

                if (c->writer) {
                        room = sizeof con->input - con->n_input;
                        dst = con->input + con->n_input;
                        if (room == 0) {
                                c->input_paused = true;
                                break;
                        }
                }
                n = recv(c->fd, dst, room, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        return -errno;
                }
                if (n == 0) {
                        /* Half-close: still a reader, no longer the writer. */
                        c->input_eof = true;
                        if (con->writer == c)
                                con->writer = NULL;
                        c->writer = false;
                        break;
                }
                if (c->writer)
                        con->n_input += (size_t) n;
                /* Bytes from a read-only client are discarded. */
        }
        console_flush_input(con);
        return 0;
}

static int on_client_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Client *c = userdata;

        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                if (!c->input_eof && client_read(c) < 0) {
                        client_free(c);
                        return 0;
                }
        }
        if (revents & (EPOLLHUP | EPOLLERR)) {
                /* The peer closed completely. A writer whose last bytes are
                 * still queued behind a full ring keeps them until read. */
                if (!c->input_paused) {
                        client_free(c);
                        return 0;
                }
                c->hung_up = true;
                client_update_events(c);
                return 0;
        }
        (void) client_flush(c);
        return 0;
}

int console_open_client(Console *con, bool write, bool replay, int *ret_fd) {
        int pair[2];
        Client *c;
        int r;

        assert(con);
        assert(ret_fd);

        if (write && con->dead)
                return -ESRCH;
        if (write && con->writer)
                return -EBUSY;
        if (con->n_clients >= CLIENTS_PER_CONSOLE_MAX)
                return -EMFILE;

        /* Only our end is non-blocking: the client may want blocking I/O. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        if (fcntl(pair[0], F_SETFL, O_NONBLOCK) < 0) {
                r = -errno;
                safe_close(pair[0]);
                safe_close(pair[1]);
                return r;
        }
        c = calloc(1, sizeof *c);
        if (!c) {
                safe_close(pair[0]);
                safe_close(pair[1]);
                return -ENOMEM;
        }
        c->console = con;
        c->fd = pair[0];
        c->writer = write;
        /* Attach shows what comes next; a log follower starts with the history. */
        c->pos = replay ? scrollback_start(&con->scrollback) : con->scrollback.end;
        c->close_when_drained = con->dead;
        r = sd_event_add_io(con->manager->event, &c->source, c->fd, EPOLLIN, on_client_event, c);
        if (r < 0) {
                safe_close(pair[0]);
                safe_close(pair[1]);
                free(c);
                return r;
        }
        (void) sd_event_source_set_description(c->source, "console-client");
        c->next = con->clients;
        con->clients = c;
        con->n_clients++;
        if (write)
                con->writer = c;
        *ret_fd = pair[1];
        (void) client_flush(c);
        return 0;
}

int console_set_winsize(Console *con, unsigned rows, unsigned cols) {
        Backend *b = con->manager->backend;

        assert(con);

        if (con->dead)
                return -ESRCH;
        return b->ops->set_winsize(b, con->channel, rows, cols);
}
