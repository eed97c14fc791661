/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "attachment.h"
#include "log.h"
#include "networkd-manager.h"
#include "packet-socket.h"
#include "string-util.h"

/* slirp and sd-event: slirp wants "fill pollfds, poll, report revents". We
 * keep one sd-event io source per slirp socket; before the loop sleeps (the
 * packet source's prepare callback) a zone whose slirp state changed refills
 * its sources' event masks and its timeout. When a socket is reported ready:
 * - a zone with few sockets runs slirp_pollfds_poll right away (one O(n)
 *   pass is cheaper than another trip through the loop);
 * - a zone with many records the revents, turns the source off and schedules
 *   one deferred slirp_pollfds_poll that consumes the revents of every socket
 *   reported in the same epoll round. The source stays off until the next
 *   refill (epoll is level-triggered).
 * After a batch of frames from a quiet zone, its sockets are also served with
 * one poll(), as a poll() loop would. Readiness is re-checked with poll()
 * before it reaches slirp: a stale report would make slirp read a drained UDP
 * socket, take EAGAIN for an error and send the zone an ICMP unreachable.
 * Every zone has its own slirp instance, fds and sources on the one loop, and
 * every callback does a bounded amount of work, so sd-event's round robin
 * among pending sources keeps one busy zone from stalling another; slirp
 * instances are independent, so one thread is enough and needs no locking. */

#define FRAMES_PER_WAKEUP 64
/* Up to this many slirp sockets, a ready socket is served at once. */
#define DIRECT_POLL_MAX 32
/* slirp's delayed ACKs run on a 2 ms timer: sd-event's default accuracy (an
 * accuracy of 0 means 250 ms of coalescing) would stall TCP. */
#define TIMER_ACCURACY_USEC 1

typedef struct SlirpTimer {
        Attachment *attachment;
        SlirpTimerId id;
        void *cb_opaque;
        sd_event_source *source;
} SlirpTimer;

static const char *const state_table[] = {
        [ATTACHMENT_WAITING] = "waiting",
        [ATTACHMENT_RUNNING] = "running",
        [ATTACHMENT_FAILED] = "failed",
};

const char *attachment_state_to_string(AttachmentState s) {
        return s < ELEMENTSOF(state_table) ? state_table[s] : NULL;
}

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

/* slirp callbacks */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque) {
        Attachment *a = opaque;
        ssize_t n;

        if (a->packet_fd < 0)
                return (ssize_t) len;
        n = packet_socket_send(a->packet_fd, buf, len);
        if (n < 0) {
                /* A full queue drops the frame; TCP retransmits (libslirp.h allows this). */
                a->counters.dropped++;
                return (ssize_t) len;
        }
        a->counters.tx_frames++;
        a->counters.tx_bytes += len;
        return n;
}

static void cb_guest_error(const char *msg, void *opaque) {
        Attachment *a = opaque;
        log_debug("Zone %s: guest error: %s", a->zone, msg);
}

static int64_t cb_clock_get_ns(void *opaque) {
        return (int64_t) now_ns();
}

static int on_slirp_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        SlirpTimer *t = userdata;

        slirp_handle_timer(t->attachment->slirp, t->id, t->cb_opaque);
        t->attachment->dirty = true;
        return 0;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque) {
        Attachment *a = opaque;
        SlirpTimer *t = calloc(1, sizeof *t);

        if (!t)
                return NULL;
        *t = (SlirpTimer) { .attachment = a, .id = id, .cb_opaque = cb_opaque };
        if (sd_event_add_time(a->manager->event, &t->source, CLOCK_MONOTONIC, UINT64_MAX, TIMER_ACCURACY_USEC,
                              on_slirp_timer, t) < 0) {
                free(t);
                return NULL;
        }
        (void) sd_event_source_set_enabled(t->source, SD_EVENT_OFF);
        return t;
}

static void cb_timer_free(void *timer, void *opaque) {
        SlirpTimer *t = timer;

        if (!t)
                return;
        sd_event_source_disable_unref(t->source);
        free(t);
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque) {
        SlirpTimer *t = timer;

        if (!t)
                return;
        /* Our clock_get_ns is CLOCK_MONOTONIC, so slirp's times are that clock's. */
        (void) sd_event_source_set_time(t->source, (uint64_t) MAX(expire_ms, 0) * 1000);
        (void) sd_event_source_set_enabled(t->source, SD_EVENT_ONESHOT);
}

static void cb_register_poll_fd(int fd, void *opaque) {
        /* Sources are made on demand when slirp asks for the fd to be polled. */
}

static void cb_unregister_poll_fd(int fd, void *opaque) {
        Attachment *a = opaque;
        PollEntry *e = manager_poll_entry(a->manager, fd);

        /* slirp closes the fd right after this: drop it from epoll while it is still ours. */
        if (e && e->attachment == a)
                manager_poll_entry_free(a->manager, fd);
}

static void cb_notify(void *opaque) {
        Attachment *a = opaque;
        a->dirty = true;
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

/* poll integration */

static int slirp_to_epoll(int events) {
        return (events & SLIRP_POLL_IN ? EPOLLIN : 0) | (events & SLIRP_POLL_OUT ? EPOLLOUT : 0) |
               (events & SLIRP_POLL_PRI ? EPOLLPRI : 0);
}

static int epoll_to_slirp(uint32_t revents) {
        return (revents & EPOLLIN ? SLIRP_POLL_IN : 0) | (revents & EPOLLOUT ? SLIRP_POLL_OUT : 0) |
               (revents & EPOLLPRI ? SLIRP_POLL_PRI : 0) | (revents & EPOLLERR ? SLIRP_POLL_ERR : 0) |
               (revents & EPOLLHUP ? SLIRP_POLL_HUP : 0);
}

static int cb_get_revents(int idx, void *opaque) {
        Attachment *a = opaque;
        PollEntry *e;

        if (idx < 0 || (size_t) idx >= a->n_pollfds)
                return 0;
        e = manager_poll_entry(a->manager, a->pollfds[idx].fd);
        return e && e->attachment == a ? e->revents : 0;
}

static void attachment_poll(Attachment *a) {
        slirp_pollfds_poll(a->slirp, 0, cb_get_revents, a);
        for (size_t i = 0; i < a->n_pollfds; i++) {
                PollEntry *e = manager_poll_entry(a->manager, a->pollfds[i].fd);
                if (e && e->attachment == a)
                        e->revents = 0;
        }
        a->dirty = true;
}

static int on_slirp_fd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PollEntry *e = userdata;
        Attachment *a = e->attachment;
        uint32_t events = 0;
        struct pollfd p = { .fd = fd };

        /* The readiness epoll reported may be stale: attachment_serve_ready()
         * may have served the socket since. Ask again; it is one cheap call. */
        (void) sd_event_source_get_io_events(s, &events);
        p.events = (short) events;
        if (poll(&p, 1, 0) <= 0)
                return 0;
        e->revents |= epoll_to_slirp((uint32_t) p.revents);
        if (a->n_pollfds <= DIRECT_POLL_MAX) {
                attachment_poll(a);
                return 0;
        }
        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(a->poll_source, SD_EVENT_ONESHOT);
        return 0;
}

static int cb_add_poll(int fd, int events, void *opaque) {
        Attachment *a = opaque;
        PollEntry *e;
        int r;

        if (a->n_pollfds >= a->n_pollfds_alloc) {
                size_t n = MAX(a->n_pollfds_alloc * 2, (size_t) 16);
                struct pollfd *p = realloc(a->pollfds, n * sizeof *p);
                if (!p)
                        return -1;
                a->pollfds = p;
                a->n_pollfds_alloc = n;
        }
        r = manager_poll_entry_ensure(a->manager, a, fd, &e);
        if (r < 0)
                return -1;
        if (e->source) {
                r = sd_event_source_set_io_events(e->source, slirp_to_epoll(events));
                if (r >= 0)
                        r = sd_event_source_set_enabled(e->source, SD_EVENT_ON);
                if (r < 0)
                        e->source = sd_event_source_disable_unref(e->source);
        }
        if (!e->source &&
            sd_event_add_io(a->manager->event, &e->source, fd, slirp_to_epoll(events), on_slirp_fd, e) < 0) {
                log_warning("Zone %s: cannot watch slirp socket %d.", a->zone, fd);
                return -1;
        }
        e->generation = a->generation;
        a->pollfds[a->n_pollfds] = (struct pollfd) { .fd = fd, .events = (short) slirp_to_epoll(events) };
        return (int) a->n_pollfds++;
}

static int on_poll(sd_event_source *s, void *userdata) {
        attachment_poll(userdata);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        attachment_poll(userdata);
        return 0;
}

static void attachment_refill(Attachment *a) {
        _cleanup_free_ struct pollfd *old = NULL;
        size_t n_old = a->n_pollfds;
        uint32_t timeout = UINT32_MAX;

        old = n_old ? malloc(n_old * sizeof *old) : NULL;
        if (old)
                memcpy(old, a->pollfds, n_old * sizeof *old);
        else
                n_old = 0;

        a->generation++;
        a->n_pollfds = 0;
        slirp_pollfds_fill(a->slirp, &timeout, cb_add_poll, a);

        /* Sockets slirp no longer wants polled (e.g. no buffer space): quiet them. */
        for (size_t i = 0; i < n_old; i++) {
                PollEntry *e = manager_poll_entry(a->manager, old[i].fd);
                if (e && e->attachment == a && e->generation != a->generation && e->source)
                        (void) sd_event_source_set_enabled(e->source, SD_EVENT_OFF);
        }

        /* slirp's timeout is "poll again no later than": an armed earlier
         * deadline already does, and re-arming it every round would cost a
         * timerfd_settime() per loop iteration. */
        if (timeout != UINT32_MAX) {
                uint64_t deadline = now_ns() / 1000 + (uint64_t) timeout * 1000;
                int enabled = SD_EVENT_OFF;
                uint64_t armed = UINT64_MAX;

                (void) sd_event_source_get_enabled(a->timeout_source, &enabled);
                if (enabled != SD_EVENT_OFF)
                        (void) sd_event_source_get_time(a->timeout_source, &armed);
                if (armed > deadline) {
                        (void) sd_event_source_set_time(a->timeout_source, deadline);
                        (void) sd_event_source_set_enabled(a->timeout_source, SD_EVENT_ONESHOT);
                }
        }
        a->dirty = false;
}

/* After frames from the zone, serve the zone's sockets that are ready now,
 * as a poll() loop would: the ACKs just taken in usually make room for data
 * waiting on the host side, and one poll() of a quiet zone's few fds saves a
 * trip through the event loop. Busy zones go through epoll only. */
static void attachment_serve_ready(Attachment *a) {
        bool any = false;

        if (!a->slirp || a->n_pollfds > DIRECT_POLL_MAX)
                return;
        attachment_refill(a);
        if (a->n_pollfds == 0 || poll(a->pollfds, a->n_pollfds, 0) <= 0)
                return;
        for (size_t i = 0; i < a->n_pollfds; i++) {
                PollEntry *e;
                if (!a->pollfds[i].revents)
                        continue;
                e = manager_poll_entry(a->manager, a->pollfds[i].fd);
                if (e && e->attachment == a) {
                        e->revents |= epoll_to_slirp((uint32_t) a->pollfds[i].revents);
                        any = true;
                }
        }
        if (any)
                attachment_poll(a);
}

static int on_prepare(sd_event_source *s, void *userdata) {
        Attachment *a = userdata;

        if (a->dirty && a->slirp)
                attachment_refill(a);
        return 0;
}

static int send_frame(const void *frame, size_t len, void *userdata) {
        return (int) cb_send_packet(frame, len, userdata);
}

static int on_packet(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Attachment *a = userdata;
        PacketBatch *b = a->manager->rx;

        for (int round = 0; round < FRAMES_PER_WAKEUP / PACKET_BATCH; round++) {
                int n = packet_socket_recv_batch(fd, b);
                if (n == -EAGAIN || n == -EINTR)
                        break;
                if (n < 0) {
                        /* ENETDOWN: the interface went down or away. The link
                         * watch restarts us when it is back. */
                        log_info_errno(n, "Zone %s: interface %s: %m; waiting for it.", a->zone, a->ifname);
                        attachment_stop(a);
                        return 0;
                }
                for (int i = 0; i < n; i++) {
                        size_t len = b->len[i];
                        if (len == 0) {
                                a->counters.dropped++;
                                continue;
                        }
                        a->counters.rx_frames++;
                        a->counters.rx_bytes += len;
                        if (dns_forwarder_handle(a->dns, b->buf[i], len, &a->addresses.gateway4,
                                                 a->options.ipv6 ? &a->addresses.gateway6 : NULL))
                                continue;
                        slirp_input(a->slirp, b->buf[i], (int) len);
                }
                if (n < PACKET_BATCH)
                        break; /* drained */
        }
        a->dirty = true;
        attachment_serve_ready(a);
        return 0;
}

/* port forwards */

static int hostfwd(Attachment *a, const PortForward *f, bool add) {
        bool udp = f->protocol == FORWARD_UDP;
        struct in_addr any4 = { .s_addr = htonl(INADDR_ANY) };
        struct sockaddr_in6 h6 = { .sin6_family = AF_INET6, .sin6_port = htons(f->host_port), .sin6_addr = in6addr_any };
        struct sockaddr_in6 g6 = { .sin6_family = AF_INET6, .sin6_port = htons(f->zone_port),
                                   .sin6_addr = a->addresses.address6 };
        int flags = SLIRP_HOSTFWD_V6ONLY | (udp ? SLIRP_HOSTFWD_UDP : 0);

        if (!a->slirp)
                return 0;
        if (!add) {
                (void) slirp_remove_hostfwd(a->slirp, udp, any4, f->host_port);
                if (a->options.ipv6)
                        (void) slirp_remove_hostxfwd(a->slirp, (struct sockaddr *) &h6, sizeof h6, flags);
                a->dirty = true;
                return 0;
        }
        errno = 0;
        if (slirp_add_hostfwd(a->slirp, udp, any4, f->host_port, a->addresses.address4, f->zone_port) < 0)
                return errno > 0 ? -errno : -EADDRINUSE;
        if (a->options.ipv6 &&
            slirp_add_hostxfwd(a->slirp, (struct sockaddr *) &h6, sizeof h6, (struct sockaddr *) &g6, sizeof g6, flags) < 0) {
                int r = errno > 0 ? -errno : -EADDRINUSE;
                (void) slirp_remove_hostfwd(a->slirp, udp, any4, f->host_port);
                return r;
        }
        a->dirty = true;
        return 0;
}

int attachment_add_forward(Attachment *a, const PortForward *f) {
        PortForward *n;
        int r;

        for (size_t i = 0; i < a->n_forwards; i++)
                if (a->forwards[i].protocol == f->protocol && a->forwards[i].host_port == f->host_port)
                        return -EEXIST;
        n = realloc(a->forwards, (a->n_forwards + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        a->forwards = n;
        r = hostfwd(a, f, true);
        if (r < 0)
                return r;
        a->forwards[a->n_forwards++] = *f;
        return 0;
}

int attachment_remove_forward(Attachment *a, ForwardProtocol proto, uint16_t host_port) {
        for (size_t i = 0; i < a->n_forwards; i++)
                if (a->forwards[i].protocol == proto && a->forwards[i].host_port == host_port) {
                        (void) hostfwd(a, &a->forwards[i], false);
                        memmove(a->forwards + i, a->forwards + i + 1, (a->n_forwards - i - 1) * sizeof *a->forwards);
                        a->n_forwards--;
                        return 0;
                }
        return -ENOENT;
}

/* lifecycle */

int attachment_new(Manager *m, const char *zone, const char *ifname, uint32_t slot,
                   const AttachOptions *opts, Attachment **ret) {
        Attachment *a;
        int r;

        a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        a->manager = m;
        a->packet_fd = -EBADF;
        a->slot = slot;
        a->options = *opts;
        a->zone = strdup(zone);
        a->ifname = strdup(ifname);
        if (!a->zone || !a->ifname) {
                attachment_free(a);
                return -ENOMEM;
        }
        r = address_pool_slot_addresses(&m->pool, slot, &a->addresses);
        if (r < 0) {
                attachment_free(a);
                return r;
        }
        *ret = a;
        return 0;
}

void attachment_stop(Attachment *a) {
        Manager *m = a->manager;

        a->packet_source = sd_event_source_disable_unref(a->packet_source);
        a->poll_source = sd_event_source_disable_unref(a->poll_source);
        a->timeout_source = sd_event_source_disable_unref(a->timeout_source);
        if (a->slirp) {
                slirp_cleanup(a->slirp); /* unregisters and closes its sockets through our callbacks */
                a->slirp = NULL;
        }
        for (size_t fd = 0; fd < m->fd_table_size; fd++)
                if (m->fd_table[fd] && m->fd_table[fd]->attachment == a)
                        manager_poll_entry_free(m, (int) fd);
        a->n_pollfds = 0;
        a->dns = dns_forwarder_free(a->dns);
        a->packet_fd = safe_close(a->packet_fd);
        a->ifindex = 0;
        a->state = ATTACHMENT_WAITING;
}

Attachment *attachment_free(Attachment *a) {
        if (!a)
                return NULL;
        attachment_stop(a);
        free(a->pollfds);
        free(a->forwards);
        free(a->zone);
        free(a->ifname);
        free(a);
        return NULL;
}

int attachment_set_ifname(Attachment *a, const char *ifname) {
        char *p;

        if (streq(a->ifname, ifname))
                return 0;
        p = strdup(ifname);
        if (!p)
                return -ENOMEM;
        attachment_stop(a);
        free(a->ifname);
        a->ifname = p;
        return 1;
}

int attachment_start(Attachment *a) {
        Manager *m = a->manager;
        unsigned ifmtu = 0;
        int ifindex, r;

        if (a->state == ATTACHMENT_RUNNING)
                return 0;
        ifindex = (int) if_nametoindex(a->ifname);
        if (ifindex <= 0) {
                a->state = ATTACHMENT_WAITING;
                log_info("Zone %s: waiting for interface %s.", a->zone, a->ifname);
                return 0;
        }
        r = link_set_up(ifindex, &ifmtu);
        if (r < 0) {
                a->state = ATTACHMENT_FAILED;
                return log_error_errno(r, "Zone %s: cannot bring up %s: %m", a->zone, a->ifname);
        }
        a->mtu = a->options.mtu ?: m->config.mtu ?: ifmtu;
        a->mtu = MAX(MIN(a->mtu, (unsigned) NETWORKD_MTU_MAX), (unsigned) NETWORKD_MTU_MIN);

        r = packet_socket_open(ifindex, &a->packet_fd);
        if (r < 0) {
                a->state = ATTACHMENT_FAILED;
                return log_error_errno(r, "Zone %s: cannot open a packet socket on %s: %m", a->zone, a->ifname);
        }

        SlirpConfig cfg = {
                .version = 4,
                .in_enabled = true,
                .vnetwork = a->addresses.network4,
                .vnetmask = a->addresses.netmask4,
                .vhost = a->addresses.gateway4,
                .in6_enabled = a->options.ipv6,
                .vprefix_addr6 = a->addresses.network6,
                .vprefix_len = (uint8_t) a->addresses.prefixlen6,
                .vhost6 = a->addresses.gateway6,
                .vdhcp_start = a->addresses.address4,
                .vnameserver = a->addresses.gateway4,
                .vnameserver6 = a->addresses.gateway6,
                .if_mtu = a->mtu,
                .if_mru = a->mtu,
                /* The gateway address is the host's loopback in slirp; off unless asked. */
                .disable_host_loopback = !a->options.allow_host_loopback,
                .enable_emu = false,
                .disable_dns = true,  /* our forwarder answers on the gateway */
                .disable_dhcp = true, /* addresses are static, handed out by AttachZone */
        };
        a->slirp = slirp_new(&cfg, &slirp_callbacks, a);
        if (!a->slirp) {
                attachment_stop(a);
                a->state = ATTACHMENT_FAILED;
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Zone %s: slirp refused the configuration.", a->zone);
        }
        r = dns_forwarder_new(m->event, m->config.resolv_conf ?: NETWORKD_DEFAULT_RESOLV_CONF, a->mtu,
                              send_frame, a, &a->dns);
        if (r >= 0)
                r = sd_event_add_io(m->event, &a->packet_source, a->packet_fd, EPOLLIN, on_packet, a);
        if (r >= 0)
                r = sd_event_source_set_prepare(a->packet_source, on_prepare);
        if (r >= 0)
                r = sd_event_add_defer(m->event, &a->poll_source, on_poll, a);
        if (r >= 0)
                r = sd_event_source_set_enabled(a->poll_source, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time(m->event, &a->timeout_source, CLOCK_MONOTONIC, UINT64_MAX, TIMER_ACCURACY_USEC,
                                      on_timeout, a);
        if (r < 0) {
                attachment_stop(a);
                a->state = ATTACHMENT_FAILED;
                return log_error_errno(r, "Zone %s: cannot set up event sources: %m", a->zone);
        }
        a->ifindex = ifindex;
        a->state = ATTACHMENT_RUNNING;
        a->dirty = true;

        for (size_t i = 0; i < a->n_forwards; i++) {
                r = hostfwd(a, &a->forwards[i], true);
                if (r < 0)
                        log_warning_errno(r, "Zone %s: port forward %s %u:%u not set up: %m", a->zone,
                                          forward_protocol_to_string(a->forwards[i].protocol),
                                          a->forwards[i].host_port, a->forwards[i].zone_port);
        }
        log_info("Zone %s: running on %s (ifindex %d, MTU %u).", a->zone, a->ifname, ifindex, a->mtu);
        return 0;
}
