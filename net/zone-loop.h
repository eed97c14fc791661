/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <libslirp.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "counter.h"
#include "dns-forward.h"
#include "pool-guard.h"

/* One zone's data path on a thread of its own: the packet socket on the
 * zone's interface, its libslirp instance, its slirp sockets, slirp's timers
 * and the DNS forwarder, all served by one poll() loop ("fill, poll,
 * report", as libslirp is meant to be driven). A libslirp instance is not
 * thread-safe, so nothing else touches it while the thread runs: the bus
 * thread (sd-event, D-Bus) hands work over with zone_loop_call(), which runs
 * it on the zone's thread between two rounds of its loop and waits for the
 * result. Zones share nothing on the data path, so a busy zone cannot stall
 * another one. */

typedef struct ZoneLoop ZoneLoop;

typedef struct ZoneLoopParams {
        const char *zone;      /* for the log and the thread's name */
        int packet_fd;         /* the zone's packet socket; taken over, closed on failure too */
        const SlirpConfig *slirp;
        const char *resolv_conf;
        unsigned mtu;
        struct in_addr gateway4;       /* where the zone sends DNS queries */
        const struct in6_addr *gateway6; /* NULL: no IPv6 */
        const PoolGuard *guard;        /* what the zone may not send to */
        FrameCounters *counters;       /* outlives the loop; written by its thread */
} ZoneLoopParams;

/* Called on the bus thread when the zone's thread ended by itself: the
 * packet socket failed (ENETDOWN: the interface went down or away). */
typedef void (*zone_loop_exit_t)(ZoneLoop *l, int error, void *userdata);
/* Work for the zone's thread; gets the zone's slirp. Returns a negative errno or >= 0. */
typedef int (*zone_loop_call_t)(Slirp *slirp, void *userdata);

/* Creates the slirp instance and the DNS forwarder; the thread does not run
 * yet, so zone_loop_call() runs its work directly until zone_loop_start(). */
int zone_loop_new(const ZoneLoopParams *p, ZoneLoop **ret);
/* Starts the thread; on_exit is dispatched from e (the bus thread's loop). */
int zone_loop_start(ZoneLoop *l, sd_event *e, zone_loop_exit_t on_exit, void *userdata);
/* Runs fn with the zone's slirp on the zone's thread and returns its result.
 * The caller waits for at most one round of the zone's loop (bounded work). */
int zone_loop_call(ZoneLoop *l, zone_loop_call_t fn, void *userdata);
void zone_loop_get_dns_stats(ZoneLoop *l, DnsForwarderStats *ret);
/* Stops and joins the thread, then frees slirp (closing its sockets). */
ZoneLoop *zone_loop_free(ZoneLoop *l);
