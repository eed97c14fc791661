/* SPDX-License-Identifier: Apache-2.0 */
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

Zone *manager_find_zone(Manager *m, const char *name) {
        for (Zone *z = m->zones; z; z = z->next)
                if (streq(z->name, name))
                        return z;
        return NULL;
}

const char *zone_state(const Zone *z) {
        return z->dead ? "dead" : "running";
}

static void client_free(Client *c) {
        Zone *z = c->zone;

        for (Client **p = &z->clients; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        z->n_clients--;
        if (z->writer == c)
                z->writer = NULL;
        if (c->skipped > 0)
                log_info("Zone %s: a reader left after skipping %" PRIu64 " bytes it was too slow for.", z->name, c->skipped);
        sd_event_source_disable_unref(c->source);
        safe_close(c->fd);
        free(c);
}

static void client_update_events(Client *c) {
        uint32_t events = 0;

        if (!c->input_eof && !c->input_paused)
                events |= EPOLLIN;
        if (c->pos < c->zone->scrollback.end)
                events |= EPOLLOUT;
        (void) sd_event_source_set_io_events(c->source, events);
        /* Even with no events asked for, epoll reports hang-ups; a paused
         * writer that hung up must not spin, so it is switched off until the
         * guest makes room (zone_flush_input turns it back on). */
        (void) sd_event_source_set_enabled(c->source, c->input_paused && c->hung_up ? SD_EVENT_OFF : SD_EVENT_ON);
}

/* Sends what the client has not seen yet, as far as its socket takes it.
 * Returns 0, or -EPIPE when the client is gone (and has been freed). */
static int client_flush(Client *c) {
        Zone *z = c->zone;

        for (;;) {
                const uint8_t *span;
                uint64_t skipped;
                size_t len = scrollback_span(&z->scrollback, &c->pos, &span, &skipped);
                ssize_t n;

                if (skipped > 0) {
                        if (c->skipped == 0)
                                log_debug("Zone %s: a reader fell behind, skipping %" PRIu64 " bytes.", z->name, skipped);
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
        if (c->pos >= z->scrollback.end && c->close_when_drained) {
                client_free(c); /* the zone is gone: closing gives the client EOF */
                return -EPIPE;
        }
        client_update_events(c);
        return 0;
}

static void zone_flush_clients(Zone *z) {
        for (Client *c = z->clients, *next; c; c = next) {
                next = c->next;
                (void) client_flush(c);
        }
}

/* journald's socket is blocking (a zone flooding lines could hold the one
 * loop every zone shares) and journald is the whole host's: each zone and
 * the daemon as a whole get a budget of lines and bytes (journal-limit.h).
 * The rest is counted, it is all still in the scrollback, and the count is
 * reported with the next line let through, at most every 10 s. */
static bool zone_journal_ratelimit(Zone *z, size_t size) {
        Manager *m = z->manager;
        uint64_t now = 0;

        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        if (!journal_limit_take(&z->journal_limit, &m->journal_limit, size, now)) {
                z->journal_suppressed++;
                z->journal_suppressed_bytes += size;
                return false;
        }
        if (z->journal_suppressed > 0 &&
            (z->journal_reported_usec == 0 || now >= z->journal_reported_usec + JOURNAL_REPORT_USEC)) {
                (void) sd_journal_send("MESSAGE=Suppressed %" PRIu64 " lines (%" PRIu64 " bytes) of console output "
                                       "of zone %s (over %d lines or %d KiB a second); they are in its scrollback.",
                                       z->journal_suppressed, z->journal_suppressed_bytes, z->name,
                                       JOURNAL_ZONE_LINES_PER_SEC, JOURNAL_ZONE_BYTES_PER_SEC / 1024,
                                       "%s", z->zone_field, "PRIORITY=4", NULL);
                z->journal_reported_usec = now;
                z->journal_suppressed = z->journal_suppressed_bytes = 0;
        }
        return true;
}

static void zone_journal(Zone *z, const uint8_t *data, size_t n) {
        Manager *m = z->manager;

        if (!m->journal)
                return;
        for (size_t i = 0; i < n; i++) {
                bool eol = data[i] == '\n';

                if (!eol)
                        z->line[z->n_line++] = (char) data[i];
                if (!eol && z->n_line < sizeof z->line)
                        continue;
                /* One journal entry per line (overlong lines are split); the
                 * CR of a guest's CRLF is not part of the message. */
                size_t len = z->n_line;
                if (len > 0 && z->line[len - 1] == '\r')
                        len--;
                memcpy(z->line_msg, "MESSAGE=", 8);
                memcpy(z->line_msg + 8, z->line, len);
                struct iovec v[] = {
                        { z->line_msg, 8 + len },
                        { z->zone_field, strlen(z->zone_field) },
                        { (char *) "PRIORITY=6", 10 },
                        { (char *) "SYSLOG_IDENTIFIER=krata-zone", 28 },
                };
                if (zone_journal_ratelimit(z, len))
                        (void) sd_journal_sendv(v, ELEMENTSOF(v));
                z->n_line = 0;
        }
}

/* Pushes buffered writer input into the ring, within its free space. */
static void zone_flush_input(Zone *z) {
        int n;

        if (z->n_input == 0 || z->dead)
                return;
        n = console_ring_write_input(&z->ring, z->input, z->n_input);
        if (n == -EPROTO) {
                if (z->protocol_errors++ < 10) /* a hostile guest must not flood our log */
                        log_warning("Zone %s: the guest's input consumer index is inconsistent; resynchronised.", z->name);
                n = console_ring_write_input(&z->ring, z->input, z->n_input);
        }
        if (n <= 0)
                return;
        memmove(z->input, z->input + n, z->n_input - (size_t) n);
        z->n_input -= (size_t) n;
        (void) z->manager->backend->ops->notify(z->manager->backend, z->channel);
        if (z->writer && z->writer->input_paused && z->n_input < sizeof z->input) {
                z->writer->input_paused = false;
                client_update_events(z->writer);
        }
}

/* Moves everything the guest has written into the scrollback and journal. */
static void zone_drain(Zone *z) {
        uint8_t buf[DRAIN_CHUNK];
        bool consumed = false;

        /* At most one ring's worth plus what arrives meanwhile: a guest that
         * writes as fast as we read cannot keep us here (never spin). */
        for (unsigned i = 0; i < 4; i++) {
                int n = console_ring_read_output(&z->ring, buf, sizeof buf);
                if (n == -EPROTO) {
                        /* Rate-limited by nature: a resync drops the bogus data. */
                        if (z->protocol_errors++ < 10)
                                log_warning("Zone %s: the guest's output producer index is inconsistent; "
                                            "pending output dropped and resynchronised.", z->name);
                        consumed = true;
                        continue;
                }
                if (n <= 0)
                        break;
                consumed = true;
                scrollback_append(&z->scrollback, buf, (size_t) n);
                zone_journal(z, buf, (size_t) n);
        }
        zone_flush_input(z);
        if (consumed)
                (void) z->manager->backend->ops->notify(z->manager->backend, z->channel);
        zone_flush_clients(z);
}

/* The domain is gone: keep the scrollback for GetLog until the supervisor
 * unregisters the zone, but release the ring and give every client EOF once
 * it has what was written before the end. */
static void zone_mark_dead(Zone *z) {
        Backend *b = z->manager->backend;

        if (z->dead)
                return;
        log_info("Zone %s: domain %" PRIu32 " is gone; closing its console.", z->name, z->domid);
        zone_drain(z);
        z->dead = true;
        z->event_source = sd_event_source_disable_unref(z->event_source);
        b->ops->detach(b, z->channel);
        z->channel = NULL;
        z->ring = (ConsoleRing) {};
        z->n_input = 0; /* undeliverable now */
        z->writer = NULL;
        for (Client *c = z->clients; c; c = c->next) {
                c->close_when_drained = true;
                c->writer = false;
                c->input_paused = false;
        }
        zone_flush_clients(z);
}

static int on_zone_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Zone *z = userdata;
        Backend *b = z->manager->backend;
        int r;

        r = b->ops->ack(b, z->channel);
        if (r < 0 || (revents & (EPOLLERR | EPOLLHUP))) {
                log_warning_errno(r < 0 ? r : EIO, "Zone %s: event channel failed: %m", z->name);
                zone_mark_dead(z);
                return 0;
        }
        zone_drain(z);
        return 0;
}

static int on_backend_watch(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        Backend *b = m->backend;

        if (b->ops->watch_process(b) < 0)
                log_warning("Backend watch failed; checking every zone.");
        for (Zone *z = m->zones; z; z = z->next)
                if (!z->dead && b->ops->alive(b, z->channel) == 0)
                        zone_mark_dead(z);
        return 0;
}

static void zone_free(Zone *z) {
        Backend *b = z->manager->backend;

        while (z->clients)
                client_free(z->clients);
        sd_event_source_disable_unref(z->event_source);
        if (z->channel)
                b->ops->detach(b, z->channel);
        scrollback_done(&z->scrollback);
        free(z->zone_field);
        free(z->name);
        free(z);
}

void zone_unregister(Zone *z) {
        Manager *m = z->manager;

        for (Zone **p = &m->zones; *p; p = &(*p)->next)
                if (*p == z) {
                        *p = z->next;
                        break;
                }
        m->n_zones--;
        /* What the guest wrote last still reaches the clients' sockets. */
        if (!z->dead)
                zone_drain(z);
        log_info("Zone %s: unregistered.", z->name);
        zone_free(z);
}

void manager_free_zones(Manager *m) {
        while (m->zones)
                zone_unregister(m->zones);
}

int zone_register(Manager *m, const char *name, uint32_t domid) {
        Backend *b = m->backend;
        uint64_t now = 0;
        Zone *z;
        int r;

        z = manager_find_zone(m, name);
        if (z) {
                if (!z->dead && z->domid == domid)
                        return 0; /* the supervisor retried: same thing */
                if (!z->dead)
                        return log_error_errno(SYNTHETIC_ERRNO(EEXIST), "Zone %s is already registered with domain %" PRIu32 ".",
                                               name, z->domid);
                zone_unregister(z); /* a restarted zone replaces its dead predecessor */
        }
        for (Zone *o = m->zones; o; o = o->next)
                if (!o->dead && o->domid == domid)
                        return log_error_errno(SYNTHETIC_ERRNO(EEXIST), "Domain %" PRIu32 " is already registered as zone %s.",
                                               domid, o->name);
        if (m->n_zones >= ZONES_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(ENOSPC), "Too many zones (%d).", ZONES_MAX);

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

        z = calloc(1, sizeof *z);
        if (!z)
                return log_oom();
        z->manager = m;
        z->domid = domid;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        journal_limit_init(&z->journal_limit, false, now);
        z->name = strdup(name);
        z->zone_field = strjoin("ZONE=", name);
        if (!z->name || !z->zone_field || scrollback_init(&z->scrollback, m->scrollback_size) < 0) {
                zone_free(z);
                return log_oom();
        }
        r = b->ops->attach(b, name, domid, &z->channel);
        if (r < 0) {
                zone_free(z);
                return r;
        }
        console_ring_init(&z->ring, z->channel->page);
        r = sd_event_add_io(m->event, &z->event_source, z->channel->event_fd, EPOLLIN, on_zone_event, z);
        if (r < 0) {
                zone_free(z);
                return log_error_errno(r, "Zone %s: failed to watch its event channel: %m", name);
        }
        (void) sd_event_source_set_description(z->event_source, "zone-console");
        /* A guest ringing the doorbell non-stop is throttled, not served at
         * the cost of every other zone: past the burst, its event source
         * sleeps until the interval ends (pending output stays in the ring). */
        (void) sd_event_source_set_ratelimit(z->event_source, 1000000, 20000);

        z->next = m->zones;
        m->zones = z;
        m->n_zones++;
        log_info("Zone %s: console of domain %" PRIu32 " attached (%s backend, %zu bytes of scrollback).",
                 name, domid, b->ops->name, m->scrollback_size);
        /* The guest may have written before we were handed the zone. */
        zone_drain(z);
        return 0;
}

static int client_read(Client *c) {
        Zone *z = c->zone;
        uint8_t scratch[1024];

        for (;;) {
                uint8_t *dst = scratch;
                size_t room = sizeof scratch;
                ssize_t n;

                if (c->writer) {
                        room = sizeof z->input - z->n_input;
                        dst = z->input + z->n_input;
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
                        if (z->writer == c)
                                z->writer = NULL;
                        c->writer = false;
                        break;
                }
                if (c->writer)
                        z->n_input += (size_t) n;
                /* Bytes from a read-only client are discarded. */
        }
        zone_flush_input(z);
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

int zone_open_console(Zone *z, bool write, bool replay, int *ret_fd) {
        int pair[2];
        Client *c;
        int r;

        if (write && z->dead)
                return -ESRCH;
        if (write && z->writer)
                return -EBUSY;
        if (z->n_clients >= CLIENTS_PER_ZONE_MAX)
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
        c->zone = z;
        c->fd = pair[0];
        c->writer = write;
        /* Attach shows what comes next; a log follower starts with the history. */
        c->pos = replay ? scrollback_start(&z->scrollback) : z->scrollback.end;
        c->close_when_drained = z->dead;
        r = sd_event_add_io(z->manager->event, &c->source, c->fd, EPOLLIN, on_client_event, c);
        if (r < 0) {
                safe_close(pair[0]);
                safe_close(pair[1]);
                free(c);
                return r;
        }
        (void) sd_event_source_set_description(c->source, "console-client");
        c->next = z->clients;
        z->clients = c;
        z->n_clients++;
        if (write)
                z->writer = c;
        *ret_fd = pair[1];
        (void) client_flush(c);
        return 0;
}

int zone_set_winsize(Zone *z, unsigned rows, unsigned cols) {
        Backend *b = z->manager->backend;

        if (z->dead)
                return -ESRCH;
        return b->ops->set_winsize(b, z->channel, rows, cols);
}
