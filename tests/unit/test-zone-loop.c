/* SPDX-License-Identifier: Apache-2.0 */
/* A zone's network loop (net/zone-loop.c) end to end, with a datagram
 * socketpair standing in for the packet socket: frames go to slirp on the
 * zone's thread and its answers come back; work handed over with
 * zone_loop_call() runs on that thread and returns its result; the counters
 * reach the caller. */
#include <arpa/inet.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "address-pool.h"
#include "addr-util.h"
#include "packet-socket.h"
#include "pool-guard.h"
#include "zone-loop.h"

#define VNET_HDR sizeof(struct virtio_net_hdr)
#define ARP_FRAME (14 + 28)

static const uint8_t zone_mac[6] = { 0x02, 0, 0, 0, 0, 0x15 };

typedef struct CallProbe {
        pid_t tid;
        Slirp *slirp;
} CallProbe;

static int probe_call(Slirp *slirp, void *userdata) {
        CallProbe *p = userdata;
        p->tid = gettid();
        p->slirp = slirp;
        return 42;
}

static void slirp_config(SlirpConfig *cfg) {
        *cfg = (SlirpConfig) {
                .version = 4,
                .in_enabled = true,
                .if_mtu = 1500,
                .if_mru = 1500,
                .disable_host_loopback = true,
                .disable_dns = true,
                .disable_dhcp = true,
        };
        inet_pton(AF_INET, "10.0.2.0", &cfg->vnetwork);
        inet_pton(AF_INET, "255.255.255.0", &cfg->vnetmask);
        inet_pton(AF_INET, "10.0.2.2", &cfg->vhost);
        inet_pton(AF_INET, "10.0.2.15", &cfg->vdhcp_start);
        inet_pton(AF_INET, "10.0.2.3", &cfg->vnameserver);
}

/* ARP: who has 10.0.2.2? tell 10.0.2.15 (after the virtio-net header). */
static void arp_request(uint8_t frame[static VNET_HDR + ARP_FRAME]) {
        static const uint8_t arp_head[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
        uint8_t *eth = frame + VNET_HDR, *arp = eth + 14;

        memset(frame, 0, VNET_HDR + ARP_FRAME);
        memset(eth, 0xff, 6);
        memcpy(eth + 6, zone_mac, 6);
        eth[12] = 0x08;
        eth[13] = 0x06;
        memcpy(arp, arp_head, sizeof arp_head);
        memcpy(arp + 8, zone_mac, 6);
        inet_pton(AF_INET, "10.0.2.15", arp + 14);
        inet_pton(AF_INET, "10.0.2.2", arp + 24);
}

/* The gateway's ARP reply, from the zone's thread (bounded wait, not timed). */
static void expect_arp_reply(int fd) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        uint8_t got[2048], gw[4], *reply = got + VNET_HDR;
        ssize_t n;

        assert_int_equal(poll(&pfd, 1, 10000), 1);
        n = recv(fd, got, sizeof got, 0);
        assert_true(n >= (ssize_t) (VNET_HDR + ARP_FRAME));
        inet_pton(AF_INET, "10.0.2.2", gw);
        assert_memory_equal(reply, zone_mac, 6);              /* to the zone */
        assert_int_equal(reply[12] << 8 | reply[13], 0x0806); /* ARP */
        assert_int_equal(reply[14 + 7], 2);                   /* a reply */
        assert_memory_equal(reply + 14 + 14, gw, 4);          /* from 10.0.2.2 */
}

static void test_zone_loop(void **state) {
        FrameCounters counters = {};
        SlirpConfig cfg;
        uint8_t frame[VNET_HDR + ARP_FRAME];
        sd_event *e = NULL;
        ZoneLoop *l = NULL;
        CallProbe probe = {};
        int sv[2];

        AddressPool pool;
        ZoneAddresses own;
        PoolGuard guard;
        struct in_addr a;
        struct in6_addr a6;
        unsigned l4, l6;

        slirp_config(&cfg);
        assert_int_equal(parse_prefix4("10.75.0.0/16", &a, &l4), 0);
        assert_int_equal(parse_prefix6("fdd4:1476:6c7e::/48", &a6, &l6), 0);
        assert_int_equal(address_pool_init(&pool, a, l4, &a6, l6), 0);
        assert_int_equal(address_pool_slot_addresses(&pool, 0, &own), 0);
        pool_guard_init(&guard, &pool, &own, false);
        address_pool_done(&pool);
        assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
        ZoneLoopParams params = {
                .zone = "unit",
                .packet_fd = sv[0],
                .slirp = &cfg,
                .resolv_conf = "/nonexistent",
                .mtu = 1500,
                .gateway4 = cfg.vhost,
                .guard = &guard,
                .counters = &counters,
        };
        assert_int_equal(zone_loop_new(&params, &l), 0);
        /* Before the thread runs, calls run on the caller's. */
        assert_int_equal(zone_loop_call(l, probe_call, &probe), 42);
        assert_int_equal(probe.tid, gettid());
        assert_non_null(probe.slirp);

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(zone_loop_start(l, e, NULL, NULL), 0);
        probe = (CallProbe) {};
        assert_int_equal(zone_loop_call(l, probe_call, &probe), 42);
        assert_true(probe.tid > 0);
        assert_int_not_equal(probe.tid, gettid());

        arp_request(frame);
        assert_int_equal(send(sv[1], frame, sizeof frame, 0), (ssize_t) sizeof frame);
        expect_arp_reply(sv[1]);

        /* The thread counts a frame after sending it: read the counters once it is joined. */
        zone_loop_free(l); /* joins the thread, closes sv[0] */
        assert_int_equal(COUNTER_GET(counters.rx_frames), 1);
        assert_int_equal(COUNTER_GET(counters.tx_frames), 1);
        assert_int_equal(COUNTER_GET(counters.dropped), 0);
        sd_event_unref(e);
        close(sv[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_zone_loop),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
