/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "time-util.h"
#include "log.h"
#include "macro.h"
#include "packet-socket.h"
#include "zone-loop.h"

/* Frames taken from the packet socket per round before the loop serves its
 * sockets (and any call from the bus thread) again: bounded rounds keep
 * zone_loop_call() and slirp's timers prompt under a flood from the zone. */
#define FRAMES_PER_ROUND 64

/* The pollfd slots before slirp's own. */
enum {
        SLOT_PACKET,
        SLOT_WAKEUP,
        SLOT_DNS4,
        SLOT_DNS6,
        _SLOT_FIXED,
};

typedef struct ZoneTimer {
        struct ZoneTimer *next;
        SlirpTimerId id;
        void *cb_opaque;
        int64_t expire_ms; /* CLOCK_MONOTONIC; -1: not armed */
} ZoneTimer;

struct ZoneLoop {
        char *zone;
        int packet_fd;
        int wakeup_fd; /* bus thread -> zone thread: a call or quit is pending */
        int exit_fd;   /* zone thread -> bus thread: the thread ended by itself */
        struct in_addr gateway4;
        struct in6_addr gateway6;
        bool ipv6;
        PoolGuard guard;
        FrameCounters *counters;

        /* The zone thread's own (the bus thread only before start and after join). */
        Slirp *slirp;
        DnsForwarder *dns;
        PacketBatch *rx;
        uint8_t refusal[POOL_GUARD_REPLY_MAX];
        struct pollfd *pollfds;
        size_t n_pollfds, n_pollfds_alloc;
        ZoneTimer *timers;

        /* Shared, under lock. */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        zone_loop_call_t call;
        void *call_data;
        int call_result;
        bool quit, exited;
        int exit_error;

        /* The bus thread's. */
        bool started;
        pthread_t thread;
        sd_event_source *exit_source;
        zone_loop_exit_t on_exit;
        void *userdata;
};


static void wake(int fd) {
        (void) eventfd_write(fd, 1);
}

/* slirp callbacks: on the zone thread (or on the bus thread while the zone
 * thread does not run). */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque) {
        ZoneLoop *l = opaque;
        ssize_t n;

        n = packet_socket_send(l->packet_fd, buf, len);
        if (n < 0) {
                /* A full queue drops the frame; TCP retransmits (libslirp.h allows this). */
                COUNTER_INC(l->counters->dropped);
                return (ssize_t) len;
        }
        COUNTER_INC(l->counters->tx_frames);
        COUNTER_ADD(l->counters->tx_bytes, len);
        return n;
}

static int send_frame(const void *frame, size_t len, void *userdata) {
        return (int) cb_send_packet(frame, len, userdata);
}

static void cb_guest_error(const char *msg, void *opaque) {
        ZoneLoop *l = opaque;
        log_debug("Zone %s: guest error: %s", l->zone, msg);
}

static int64_t cb_clock_get_ns(void *opaque) {
        return (int64_t) now_nsec(CLOCK_MONOTONIC);
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque) {
        ZoneLoop *l = opaque;
        ZoneTimer *t = calloc(1, sizeof *t);

        if (!t)
                return NULL;
        *t = (ZoneTimer) { .next = l->timers, .id = id, .cb_opaque = cb_opaque, .expire_ms = -1 };
        l->timers = t;
        return t;
}

static void cb_timer_free(void *timer, void *opaque) {
        ZoneLoop *l = opaque;

        for (ZoneTimer **p = &l->timers; *p; p = &(*p)->next)
                if (*p == timer) {
                        *p = (*p)->next;
                        free(timer);
                        return;
                }
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque) {
        ZoneTimer *t = timer;

        if (t)
                t->expire_ms = MAX(expire_ms, (int64_t) 0);
}

static void cb_register_poll_fd(int fd, void *opaque) {
        /* Every round polls what slirp_pollfds_fill() names: nothing to register. */
}

static void cb_unregister_poll_fd(int fd, void *opaque) {
}

static void cb_notify(void *opaque) {
        /* slirp is only ever called from this thread, which fills and polls
         * again after every round: no wakeup needed. */
}

static const SlirpCb slirp_callbacks = {
        .send_packet = cb_send_packet,
        .guest_error = cb_guest_error,
        .clock_get_ns = cb_clock_get_ns,
        .timer_free = cb_timer_free,
        .timer_mod = cb_timer_mod,
        .register_poll_fd = cb_register_poll_fd,
        .unregister_poll_fd = cb_unregister_poll_fd,
        .notify = cb_notify,
        .timer_new_opaque = cb_timer_new_opaque,
};

/* the poll set */

static short slirp_to_poll(int events) {
        return (short) ((events & SLIRP_POLL_IN ? POLLIN : 0) | (events & SLIRP_POLL_OUT ? POLLOUT : 0) |
                        (events & SLIRP_POLL_PRI ? POLLPRI : 0));
}

static int poll_to_slirp(short revents) {
        return (revents & POLLIN ? SLIRP_POLL_IN : 0) | (revents & POLLOUT ? SLIRP_POLL_OUT : 0) |
               (revents & POLLPRI ? SLIRP_POLL_PRI : 0) | (revents & POLLERR ? SLIRP_POLL_ERR : 0) |
               (revents & POLLHUP ? SLIRP_POLL_HUP : 0);
}

static int cb_add_poll(int fd, int events, void *opaque) {
        ZoneLoop *l = opaque;

        if (l->n_pollfds >= l->n_pollfds_alloc) {
                size_t n = l->n_pollfds_alloc * 2;
                struct pollfd *p = realloc(l->pollfds, n * sizeof *p);
                if (!p)
                        return -1; /* slirp does not poll this socket this round */
                l->pollfds = p;
                l->n_pollfds_alloc = n;
        }
        l->pollfds[l->n_pollfds] = (struct pollfd) { .fd = fd, .events = slirp_to_poll(events) };
        return (int) l->n_pollfds++;
}

static int cb_get_revents(int idx, void *opaque) {
        ZoneLoop *l = opaque;

        if (idx < _SLOT_FIXED || (size_t) idx >= l->n_pollfds)
                return 0;
        return poll_to_slirp(l->pollfds[idx].revents);
}

/* Fills the poll set for one round; returns the poll() timeout in ms. */
static int loop_fill(ZoneLoop *l) {
        uint32_t timeout = UINT32_MAX;
        int64_t now_ms = -1;

        l->pollfds[SLOT_PACKET] = (struct pollfd) { .fd = l->packet_fd, .events = POLLIN };
        l->pollfds[SLOT_WAKEUP] = (struct pollfd) { .fd = l->wakeup_fd, .events = POLLIN };
        /* Negative until the first query of the family: poll() skips those. */
        l->pollfds[SLOT_DNS4] = (struct pollfd) { .fd = dns_forwarder_fd(l->dns, AF_INET), .events = POLLIN };
        l->pollfds[SLOT_DNS6] = (struct pollfd) { .fd = dns_forwarder_fd(l->dns, AF_INET6), .events = POLLIN };
        l->n_pollfds = _SLOT_FIXED;
        slirp_pollfds_fill(l->slirp, &timeout, cb_add_poll, l);

        for (ZoneTimer *t = l->timers; t; t = t->next) {
                if (t->expire_ms < 0)
                        continue;
                if (now_ms < 0)
                        now_ms = (int64_t) now_nsec(CLOCK_MONOTONIC) / 1000000;
                timeout = (uint32_t) MIN((int64_t) timeout, MAX(t->expire_ms - now_ms, (int64_t) 0));
        }
        return timeout == UINT32_MAX ? -1 : (int) MIN(timeout, (uint32_t) INT_MAX);
}

static void loop_run_timers(ZoneLoop *l) {
        int64_t now_ms = -1;

        for (bool fired = true; fired;) {
                fired = false;
                for (ZoneTimer *t = l->timers; t; t = t->next) {
                        if (t->expire_ms < 0)
                                continue;
                        if (now_ms < 0)
                                now_ms = (int64_t) now_nsec(CLOCK_MONOTONIC) / 1000000;
                        if (t->expire_ms > now_ms)
                                continue;
                        t->expire_ms = -1;
                        /* The handler may re-arm, add or free timers: rescan. */
                        slirp_handle_timer(l->slirp, t->id, t->cb_opaque);
                        fired = true;
                        break;
                }
        }
}

/* Takes up to FRAMES_PER_ROUND frames from the zone; returns how many, or
 * a negative errno when the socket failed (the interface went away). */
static int loop_receive(ZoneLoop *l) {
        PacketBatch *b = l->rx;
        int total = 0;

        while (total < FRAMES_PER_ROUND) {
                int n = packet_socket_recv_batch(l->packet_fd, b);
                if (n == -EAGAIN || n == -EINTR)
                        break;
                if (n < 0)
                        return n;
                for (int i = 0; i < n; i++) {
                        size_t len = b->len[i];
                        if (len == 0) {
                                COUNTER_INC(l->counters->dropped);
                                continue;
                        }
                        COUNTER_INC(l->counters->rx_frames);
                        COUNTER_ADD(l->counters->rx_bytes, len);
                        size_t rlen;
                        if (pool_guard_refuse(&l->guard, b->buf[i], len, l->refusal, &rlen)) {
                                COUNTER_INC(l->counters->dropped);
                                if (rlen > 0)
                                        (void) cb_send_packet(l->refusal, rlen, l);
                                continue;
                        }
                        if (dns_forwarder_handle(l->dns, b->buf[i], len, &l->gateway4,
                                                 l->ipv6 ? &l->gateway6 : NULL))
                                continue;
                        slirp_input(l->slirp, b->buf[i], (int) len);
                }
                total += n;
                if (n < PACKET_BATCH)
                        break; /* drained */
        }
        return total;
}

/* Runs the bus thread's pending call; returns true when told to quit. */
static bool loop_serve_wakeup(ZoneLoop *l) {
        eventfd_t v;
        bool quit;

        (void) eventfd_read(l->wakeup_fd, &v);
        pthread_mutex_lock(&l->lock);
        if (l->call) {
                l->call_result = l->call(l->slirp, l->call_data);
                l->call = NULL;
                pthread_cond_broadcast(&l->cond);
        }
        quit = l->quit;
        pthread_mutex_unlock(&l->lock);
        return quit;
}

static void *loop_thread(void *userdata) {
        ZoneLoop *l = userdata;
        bool again = false;
        int error = 0;

        for (;;) {
                int timeout = loop_fill(l), n;

                /* Frames just taken in (usually the zone's ACKs) make room in
                 * slirp's buffers, and slirp only asks to read a host socket
                 * when it has room: poll once more at once instead of
                 * sleeping on the old poll set. */
                n = poll(l->pollfds, l->n_pollfds, again ? 0 : timeout);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        error = log_error_errno(errno, "Zone %s: poll() failed: %m", l->zone);
                        break;
                }
                if (l->pollfds[SLOT_WAKEUP].revents && loop_serve_wakeup(l))
                        break;
                again = false;
                if (l->pollfds[SLOT_PACKET].revents) {
                        int r = loop_receive(l);
                        if (r < 0) {
                                error = r;
                                break;
                        }
                        again = r > 0;
                }
                if (l->pollfds[SLOT_DNS4].revents)
                        dns_forwarder_dispatch(l->dns, l->pollfds[SLOT_DNS4].fd);
                if (l->pollfds[SLOT_DNS6].revents)
                        dns_forwarder_dispatch(l->dns, l->pollfds[SLOT_DNS6].fd);
                /* slirp_input() does not read host sockets, so the revents are still current. */
                slirp_pollfds_poll(l->slirp, 0, cb_get_revents, l);
                loop_run_timers(l);
        }

        pthread_mutex_lock(&l->lock);
        l->exited = true;
        l->exit_error = error;
        pthread_cond_broadcast(&l->cond);
        pthread_mutex_unlock(&l->lock);
        if (error < 0)
                wake(l->exit_fd);
        return NULL;
}

/* the bus thread's side */

int zone_loop_new(const ZoneLoopParams *p, ZoneLoop **ret) {
        ZoneLoop *l;
        int r;

        assert(p);
        assert(ret);

        l = calloc(1, sizeof *l);
        if (!l) {
                safe_close(p->packet_fd);
                return -ENOMEM;
        }
        l->packet_fd = p->packet_fd;
        l->wakeup_fd = l->exit_fd = -EBADF;
        l->gateway4 = p->gateway4;
        l->ipv6 = p->gateway6;
        if (p->gateway6)
                l->gateway6 = *p->gateway6;
        l->guard = *p->guard;
        l->counters = p->counters;
        pthread_mutex_init(&l->lock, NULL);
        pthread_cond_init(&l->cond, NULL);

        l->zone = strdup(p->zone);
        l->rx = packet_batch_new();
        l->n_pollfds_alloc = 16;
        l->pollfds = calloc(l->n_pollfds_alloc, sizeof *l->pollfds);
        l->wakeup_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        l->exit_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (!l->zone || !l->rx || !l->pollfds) {
                r = -ENOMEM;
                goto fail;
        }
        if (l->wakeup_fd < 0 || l->exit_fd < 0) {
                r = -errno;
                goto fail;
        }
        l->slirp = slirp_new(p->slirp, &slirp_callbacks, l);
        if (!l->slirp) {
                r = -EINVAL;
                goto fail;
        }
        r = dns_forwarder_new(p->resolv_conf, p->mtu, send_frame, l, &l->dns);
        if (r < 0)
                goto fail;
        *ret = l;
        return 0;
fail:
        zone_loop_free(l);
        return r;
}

static int on_exit_fd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ZoneLoop *l = userdata;
        eventfd_t v;
        int error;

        (void) eventfd_read(fd, &v);
        pthread_mutex_lock(&l->lock);
        error = l->exited ? l->exit_error : 0;
        pthread_mutex_unlock(&l->lock);
        if (error < 0 && l->on_exit)
                l->on_exit(l, error, l->userdata); /* may free l */
        return 0;
}

int zone_loop_start(ZoneLoop *l, sd_event *e, zone_loop_exit_t on_exit, void *userdata) {
        sigset_t all, saved;
        char name[16] = "net-";
        int r;

        assert(l);
        assert(e);

        assert(!l->started);
        r = sd_event_add_io(e, &l->exit_source, l->exit_fd, EPOLLIN, on_exit_fd, l);
        if (r < 0)
                return r;
        l->on_exit = on_exit;
        l->userdata = userdata;

        /* Signals stay with the bus thread's signalfd: the zone thread blocks them all. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &saved);
        r = -pthread_create(&l->thread, NULL, loop_thread, l);
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (r < 0) {
                l->exit_source = sd_event_source_disable_unref(l->exit_source);
                return r;
        }
        l->started = true;
        strncpy(name + 4, l->zone, sizeof name - 5); /* the kernel keeps 15 characters */
        (void) pthread_setname_np(l->thread, name);
        return 0;
}

int zone_loop_call(ZoneLoop *l, zone_loop_call_t fn, void *userdata) {
        bool served = false;
        int r;

        assert(l);

        if (!l->started)
                return fn(l->slirp, userdata);

        pthread_mutex_lock(&l->lock);
        if (!l->exited) {
                l->call = fn;
                l->call_data = userdata;
                wake(l->wakeup_fd);
                while (l->call && !l->exited)
                        pthread_cond_wait(&l->cond, &l->lock);
                served = !l->call;
                l->call = NULL;
        }
        /* Not served: the thread ended (its interface went away) and no
         * longer touches slirp; the lock orders its last writes before ours. */
        r = served ? l->call_result : fn(l->slirp, userdata);
        pthread_mutex_unlock(&l->lock);
        return r;
}

void zone_loop_get_dns_stats(ZoneLoop *l, DnsForwarderStats *ret) {
        assert(l);
        assert(ret);

        dns_forwarder_get_stats(l->dns, ret);
}

ZoneLoop *zone_loop_free(ZoneLoop *l) {
        if (!l)
                return NULL;
        if (l->started) {
                pthread_mutex_lock(&l->lock);
                l->quit = true;
                pthread_mutex_unlock(&l->lock);
                wake(l->wakeup_fd);
                (void) pthread_join(l->thread, NULL);
        }
        sd_event_source_disable_unref(l->exit_source);
        if (l->slirp)
                slirp_cleanup(l->slirp); /* closes its sockets, frees its timers */
        while (l->timers) {
                ZoneTimer *t = l->timers;
                l->timers = t->next;
                free(t);
        }
        dns_forwarder_free(l->dns);
        safe_close(l->packet_fd);
        safe_close(l->wakeup_fd);
        safe_close(l->exit_fd);
        pthread_cond_destroy(&l->cond);
        pthread_mutex_destroy(&l->lock);
        free(l->rx);
        free(l->pollfds);
        free(l->zone);
        free(l);
        return NULL;
}
