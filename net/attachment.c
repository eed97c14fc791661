/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "attachment.h"
#include "log.h"
#include "networkd-manager.h"
#include "packet-socket.h"
#include "string-util.h"

/* An attachment is a zone's network as the bus side sees it: addresses,
 * options and forwards, kept while the zone is attached. While the zone's
 * interface exists a ZoneLoop (zone-loop.c) runs its data path on a thread
 * of its own; everything here runs on the bus thread, and whatever must
 * touch the zone's slirp (port forwards) goes through zone_loop_call(). */

static const char *const state_table[] = {
        [ATTACHMENT_WAITING] = "waiting",
        [ATTACHMENT_RUNNING] = "running",
        [ATTACHMENT_FAILED] = "failed",
};

const char *attachment_state_to_string(AttachmentState s) {
        return s < ELEMENTSOF(state_table) ? state_table[s] : NULL;
}

/* port forwards */

typedef struct HostFwd {
        const Attachment *attachment;
        const PortForward *forward;
        bool add;
} HostFwd;

/* On the zone's thread: slirp reports failures in errno, which is the thread's own. */
static int hostfwd_apply(Slirp *slirp, void *userdata) {
        const HostFwd *h = userdata;
        const Attachment *a = h->attachment;
        const PortForward *f = h->forward;
        bool udp = f->protocol == FORWARD_UDP;
        struct in_addr any4 = { .s_addr = htonl(INADDR_ANY) };
        struct sockaddr_in6 h6 = { .sin6_family = AF_INET6, .sin6_port = htons(f->host_port), .sin6_addr = in6addr_any };
        struct sockaddr_in6 g6 = { .sin6_family = AF_INET6, .sin6_port = htons(f->zone_port),
                                   .sin6_addr = a->addresses.address6 };
        int flags = SLIRP_HOSTFWD_V6ONLY | (udp ? SLIRP_HOSTFWD_UDP : 0);

        if (!h->add) {
                (void) slirp_remove_hostfwd(slirp, udp, any4, f->host_port);
                if (a->options.ipv6)
                        (void) slirp_remove_hostxfwd(slirp, (struct sockaddr *) &h6, sizeof h6, flags);
                return 0;
        }
        errno = 0;
        if (slirp_add_hostfwd(slirp, udp, any4, f->host_port, a->addresses.address4, f->zone_port) < 0)
                return errno > 0 ? -errno : -EADDRINUSE;
        if (a->options.ipv6 &&
            slirp_add_hostxfwd(slirp, (struct sockaddr *) &h6, sizeof h6, (struct sockaddr *) &g6, sizeof g6, flags) < 0) {
                int r = errno > 0 ? -errno : -EADDRINUSE;
                (void) slirp_remove_hostfwd(slirp, udp, any4, f->host_port);
                return r;
        }
        return 0;
}

static int hostfwd(Attachment *a, const PortForward *f, bool add) {
        HostFwd h = { .attachment = a, .forward = f, .add = add };

        if (!a->loop)
                return 0; /* applied when the interface appears */
        return zone_loop_call(a->loop, hostfwd_apply, &h);
}

int attachment_add_forward(Attachment *a, const PortForward *f) {
        PortForward *n;
        int r;

        assert(a);
        assert(f);

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
        assert(a);

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

        assert(m);
        assert(ifname);
        assert(opts);
        assert(ret);

        a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        a->manager = m;
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
        assert(a);

        a->loop = zone_loop_free(a->loop); /* joins the zone's thread first */
        a->ifindex = 0;
        a->state = ATTACHMENT_WAITING;
}

Attachment *attachment_free(Attachment *a) {
        if (!a)
                return NULL;
        attachment_stop(a);
        free(a->forwards);
        free(a->zone);
        free(a->ifname);
        free(a);
        return NULL;
}

int attachment_set_ifname(Attachment *a, const char *ifname) {
        char *p;

        assert(a);
        assert(ifname);

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

static void on_loop_exit(ZoneLoop *l, int error, void *userdata) {
        Attachment *a = userdata;

        /* ENETDOWN: the interface went down or away. The link watch starts
         * us again when it is back. */
        log_info_errno(error, "Zone %s: interface %s: %m; waiting for it.", a->zone, a->ifname);
        attachment_stop(a);
}

static SlirpConfig slirp_config(const Attachment *a) {
        return (SlirpConfig) {
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
}

/* The zone's slirp over packet_fd, with its port forwards, not running yet. */
static int attachment_new_loop(Attachment *a, int packet_fd) {
        SlirpConfig cfg = slirp_config(a);
        PoolGuard guard;
        ZoneLoopParams params = {
                .zone = a->zone,
                .packet_fd = packet_fd,
                .slirp = &cfg,
                .resolv_conf = a->manager->config.resolv_conf ?: NETWORKD_DEFAULT_RESOLV_CONF,
                .mtu = a->mtu,
                .gateway4 = a->addresses.gateway4,
                .gateway6 = a->options.ipv6 ? &a->addresses.gateway6 : NULL,
                .guard = &guard,
                .counters = &a->counters,
        };
        int r;

        pool_guard_init(&guard, &a->manager->pool, &a->addresses, a->options.ipv6);
        r = zone_loop_new(&params, &a->loop);
        if (r < 0)
                return log_error_errno(r, "Zone %s: cannot set up slirp: %m", a->zone);
        /* The thread does not run yet: these go straight to slirp. */
        for (size_t i = 0; i < a->n_forwards; i++) {
                r = hostfwd(a, &a->forwards[i], true);
                if (r < 0)
                        log_warning_errno(r, "Zone %s: port forward %s %u:%u not set up: %m", a->zone,
                                          forward_protocol_to_string(a->forwards[i].protocol),
                                          a->forwards[i].host_port, a->forwards[i].zone_port);
        }
        return 0;
}

int attachment_start(Attachment *a) {
        Manager *m;
        unsigned ifmtu = 0;
        int ifindex, packet_fd, r;

        assert(a);

        m = a->manager;
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

        r = packet_socket_open(ifindex, &packet_fd);
        if (r < 0) {
                a->state = ATTACHMENT_FAILED;
                return log_error_errno(r, "Zone %s: cannot open a packet socket on %s: %m", a->zone, a->ifname);
        }
        r = attachment_new_loop(a, packet_fd);
        if (r < 0) {
                a->state = ATTACHMENT_FAILED;
                return r;
        }
        r = zone_loop_start(a->loop, m->event, on_loop_exit, a);
        if (r < 0) {
                attachment_stop(a);
                a->state = ATTACHMENT_FAILED;
                return log_error_errno(r, "Zone %s: cannot start its network thread: %m", a->zone);
        }
        a->ifindex = ifindex;
        a->state = ATTACHMENT_RUNNING;
        log_info("Zone %s: running on %s (ifindex %d, MTU %u).", a->zone, a->ifname, ifindex, a->mtu);
        return 0;
}
