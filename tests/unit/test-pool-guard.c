/* SPDX-License-Identifier: Apache-2.0 */
/* krata-networkd's pool guard (net/pool-guard.c): what a zone may not send to,
 * and the answers it gets instead. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "address-pool.h"
#include "addr-util.h"
#include "packet-socket.h"
#include "pool-guard.h"

static void pool_init(AddressPool *p, const char *v4, const char *v6) {
        struct in_addr a;
        struct in6_addr a6;
        unsigned l4, l6;

        assert_int_equal(parse_prefix4(v4, &a, &l4), 0);
        assert_int_equal(parse_prefix6(v6, &a6, &l6), 0);
        assert_int_equal(address_pool_init(p, a, l4, &a6, l6), 0);
}

/* An Ethernet frame from the zone (02:..:15) to its gateway (52:55:..) with
 * an IP header and 8 bytes of TCP (a SYN to port 80). */
static size_t guard_frame(uint8_t *f, int family, const char *src, const char *dst, uint8_t proto) {
        static const uint8_t macs[12] = { 0x52, 0x55, 10, 75, 0, 9, 0x02, 0, 0, 0, 0, 0x15 };
        uint8_t *l3 = f + 14, *l4;
        size_t l3len;

        memset(f, 0, 128);
        memcpy(f, macs, 12);
        if (family == AF_INET) {
                f[12] = 0x08, f[13] = 0x00;
                l3[0] = 0x45, l3[3] = 20 + 8, l3[8] = 64, l3[9] = proto;
                inet_pton(AF_INET, src, l3 + 12);
                inet_pton(AF_INET, dst, l3 + 16);
                l3len = 20;
        } else {
                f[12] = 0x86, f[13] = 0xdd;
                l3[0] = 0x60, l3[5] = 8, l3[6] = proto, l3[7] = 64;
                inet_pton(AF_INET6, src, l3 + 8);
                inet_pton(AF_INET6, dst, l3 + 24);
                l3len = 40;
        }
        l4 = l3 + l3len;
        l4[0] = proto == IPPROTO_TCP ? 0x9c : 3; /* TCP source port, or an ICMP type */
        l4[3] = 80;
        return 14 + l3len + 8;
}

static void test_pool_guard(void **state) {
        AddressPool p;
        ZoneAddresses z;
        PoolGuard g;
        uint8_t f[128], reply[POOL_GUARD_REPLY_MAX];
        size_t n, rlen;
        char b[INET6_ADDRSTRLEN];

        pool_init(&p, "10.75.0.0/16", "fdd4:1476:6c7e::/48");
        assert_int_equal(address_pool_slot_addresses(&p, 2, &z), 0); /* 10.75.0.8/30, :2::/64 */
        pool_guard_init(&g, &p, &z, true);

        /* Its own gateway, the world outside, ARP: slirp's. */
        n = guard_frame(f, AF_INET, "10.75.0.10", "10.75.0.9", IPPROTO_TCP);
        assert_false(pool_guard_refuse(&g, f, n, reply, &rlen));
        n = guard_frame(f, AF_INET, "10.75.0.10", "198.51.100.1", IPPROTO_TCP);
        assert_false(pool_guard_refuse(&g, f, n, reply, &rlen));
        n = guard_frame(f, AF_INET6, "fdd4:1476:6c7e:2::2", "fdd4:1476:6c7e:2::1", IPPROTO_TCP);
        assert_false(pool_guard_refuse(&g, f, n, reply, &rlen));
        n = guard_frame(f, AF_INET6, "fdd4:1476:6c7e:2::2", "2001:db8:51::1", IPPROTO_TCP);
        assert_false(pool_guard_refuse(&g, f, n, reply, &rlen));
        f[12] = 0x08, f[13] = 0x06;
        assert_false(pool_guard_refuse(&g, f, n, reply, &rlen));

        /* Another zone's address: refused with "administratively prohibited" from the gateway. */
        n = guard_frame(f, AF_INET, "10.75.0.10", "10.75.0.6", IPPROTO_TCP);
        assert_true(pool_guard_refuse(&g, f, n, reply, &rlen));
        assert_int_equal(rlen, 14 + 20 + 8 + 28);
        assert_memory_equal(reply, f + 6, 6);     /* to the zone's MAC */
        assert_memory_equal(reply + 6, f, 6);     /* from the gateway's */
        assert_int_equal(reply[14 + 9], IPPROTO_ICMP);
        assert_string_equal(inet_ntop(AF_INET, reply + 14 + 12, b, sizeof b), "10.75.0.9");
        assert_string_equal(inet_ntop(AF_INET, reply + 14 + 16, b, sizeof b), "10.75.0.10");
        assert_int_equal(inet_csum_fold(inet_csum_partial(reply + 14, 20, 0)), 0);
        assert_int_equal(reply[34], 3);  /* destination unreachable */
        assert_int_equal(reply[35], 13); /* communication administratively prohibited */
        assert_int_equal(inet_csum_fold(inet_csum_partial(reply + 34, 8 + 28, 0)), 0);
        assert_memory_equal(reply + 42, f + 14, 28); /* quotes the refused packet */

        n = guard_frame(f, AF_INET6, "fdd4:1476:6c7e:2::2", "fdd4:1476:6c7e:1::2", IPPROTO_TCP);
        assert_true(pool_guard_refuse(&g, f, n, reply, &rlen));
        assert_int_equal(rlen, 14 + 40 + 8 + 48);
        assert_int_equal(reply[14 + 6], IPPROTO_ICMPV6);
        assert_string_equal(inet_ntop(AF_INET6, reply + 14 + 8, b, sizeof b), "fdd4:1476:6c7e:2::1");
        assert_int_equal(reply[54], 1); /* destination unreachable */
        assert_int_equal(reply[55], 1); /* administratively prohibited */
        uint32_t sum = inet_csum_partial(reply + 14 + 8, 32, IPPROTO_ICMPV6 + 8 + 48);
        assert_int_equal(inet_csum_fold(inet_csum_partial(reply + 54, 8 + 48, sum)), 0);

        /* Refused without an answer: an ICMP error, a later fragment, a zone without IPv6. */
        n = guard_frame(f, AF_INET, "10.75.0.10", "10.75.200.1", IPPROTO_ICMP);
        assert_true(pool_guard_refuse(&g, f, n, reply, &rlen));
        assert_int_equal(rlen, 0);
        n = guard_frame(f, AF_INET, "10.75.0.10", "10.75.200.1", IPPROTO_TCP);
        f[14 + 7] = 1; /* fragment offset 8 */
        assert_true(pool_guard_refuse(&g, f, n, reply, &rlen));
        assert_int_equal(rlen, 0);
        n = guard_frame(f, AF_INET6, "fdd4:1476:6c7e:2::2", "fdd4:1476:6c7e:7::2", IPPROTO_ICMPV6);
        assert_true(pool_guard_refuse(&g, f, n, reply, &rlen));
        assert_int_equal(rlen, 0);
        pool_guard_init(&g, &p, &z, false);
        n = guard_frame(f, AF_INET6, "fdd4:1476:6c7e:2::2", "fdd4:1476:6c7e:2::1", IPPROTO_TCP);
        assert_true(pool_guard_refuse(&g, f, n, reply, &rlen));
        assert_int_equal(rlen, 0);

        /* Truncated headers are not the guard's to judge: slirp drops them. */
        n = guard_frame(f, AF_INET, "10.75.0.10", "10.75.0.6", IPPROTO_TCP);
        assert_false(pool_guard_refuse(&g, f, 14 + 19, reply, &rlen));
        f[14 + 3] = 200; /* a length beyond the frame: refused, no answer */
        assert_true(pool_guard_refuse(&g, f, n, reply, &rlen));
        assert_int_equal(rlen, 0);
        address_pool_done(&p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pool_guard),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
