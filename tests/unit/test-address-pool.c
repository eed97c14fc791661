/* SPDX-License-Identifier: Apache-2.0 */
/* krata-networkd's address pool (net/address-pool.c): prefixes, per-zone addresses, slots. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "address-pool.h"
#include "addr-util.h"
#include "log.h"

static void test_prefixes(void **state) {
        struct in_addr a;
        struct in6_addr a6;
        unsigned l;

        assert_int_equal(parse_prefix4("10.75.0.0/16", &a, &l), 0);
        assert_int_equal(l, 16);
        assert_int_equal(ntohl(a.s_addr), 0x0a4b0000);
        assert_int_equal(parse_prefix4("10.75.0.1/16", &a, &l), -EINVAL); /* host bits */
        assert_int_equal(parse_prefix4("10.75.0.0/29", &a, &l), -ERANGE); /* not even 4 zones */
        assert_int_equal(parse_prefix4("10.0.0.0/7", &a, &l), -ERANGE);
        assert_true(parse_prefix4("10.75.0.0", &a, &l) < 0);
        assert_true(parse_prefix4("10.75.0.0/", &a, &l) < 0);
        assert_true(parse_prefix4("/16", &a, &l) < 0);
        assert_true(parse_prefix4("fdd4::/48", &a, &l) < 0);
        assert_true(parse_prefix4("10.75.0.0/16x", &a, &l) < 0);

        assert_int_equal(parse_prefix6("fdd4:1476:6c7e::/48", &a6, &l), 0);
        assert_int_equal(l, 48);
        assert_int_equal(parse_prefix6("fdd4:1476:6c7e::1/48", &a6, &l), -EINVAL);
        assert_int_equal(parse_prefix6("fdd4:1476:6c7e::/64", &a6, &l), -ERANGE);
        assert_int_equal(parse_prefix6("fdd4::/8", &a6, &l), -ERANGE);
        assert_true(parse_prefix6("10.0.0.0/16", &a6, &l) < 0);
}

static void pool_init(AddressPool *p, const char *v4, const char *v6) {
        struct in_addr a;
        struct in6_addr a6;
        unsigned l4, l6;

        assert_int_equal(parse_prefix4(v4, &a, &l4), 0);
        assert_int_equal(parse_prefix6(v6, &a6, &l6), 0);
        assert_int_equal(address_pool_init(p, a, l4, &a6, l6), 0);
}

static void test_pool_addresses(void **state) {
        AddressPool p;
        ZoneAddresses z;
        char b[INET6_ADDRSTRLEN];

        pool_init(&p, "10.75.0.0/16", "fdd4:1476:6c7e::/48");
        assert_int_equal(p.n_slots, 1u << 14); /* /16 in /30s; the /48 has 65536 /64s */
        assert_int_equal(address_pool_slot_addresses(&p, 0, &z), 0);
        assert_string_equal(ntop4(z.gateway4, b), "10.75.0.1");
        assert_string_equal(ntop4(z.address4, b), "10.75.0.2");
        assert_string_equal(ntop4(z.netmask4, b), "255.255.255.252");
        assert_string_equal(ntop6(&z.gateway6, b), "fdd4:1476:6c7e::1");
        assert_string_equal(ntop6(&z.address6, b), "fdd4:1476:6c7e::2");
        assert_int_equal(address_pool_slot_addresses(&p, 5, &z), 0);
        assert_string_equal(ntop4(z.network4, b), "10.75.0.20");
        assert_string_equal(ntop4(z.address4, b), "10.75.0.22");
        assert_string_equal(ntop6(&z.network6, b), "fdd4:1476:6c7e:5::");
        assert_string_equal(ntop6(&z.address6, b), "fdd4:1476:6c7e:5::2");
        assert_int_equal(address_pool_slot_addresses(&p, (1u << 14) - 1, &z), 0);
        assert_string_equal(ntop4(z.address4, b), "10.75.255.254");
        assert_string_equal(ntop6(&z.address6, b), "fdd4:1476:6c7e:3fff::2");
        assert_int_equal(address_pool_slot_addresses(&p, 1u << 14, &z), -ERANGE);
        address_pool_done(&p);

        /* A small IPv6 prefix bounds the pool too. */
        pool_init(&p, "10.0.0.0/8", "fd00:1:2:30::/60");
        assert_int_equal(p.n_slots, 16);
        assert_int_equal(address_pool_slot_addresses(&p, 15, &z), 0);
        assert_string_equal(ntop6(&z.address6, b), "fd00:1:2:3f::2");
        address_pool_done(&p);
}

static void test_pool_allocation(void **state) {
        AddressPool p;
        uint32_t slots[16], s, again;
        char name[16];

        pool_init(&p, "10.75.0.0/26", "fdd4:1476:6c7e::/48"); /* 16 slots */
        assert_int_equal(p.n_slots, 16);

        /* Stable: a name maps to the same slot while it is free. */
        assert_int_equal(address_pool_allocate(&p, "web", &s), 0);
        address_pool_release(&p, s);
        assert_int_equal(address_pool_allocate(&p, "web", &again), 0);
        assert_int_equal(s, again);
        address_pool_release(&p, s);

        /* Never twice while held: fill the pool with distinct slots. */
        for (int i = 0; i < 16; i++) {
                snprintf(name, sizeof name, "zone-%d", i);
                assert_int_equal(address_pool_allocate(&p, name, &slots[i]), 0);
                for (int k = 0; k < i; k++)
                        assert_int_not_equal(slots[i], slots[k]);
        }
        assert_int_equal(address_pool_allocate(&p, "one-more", &s), -ENOSPC);
        address_pool_release(&p, slots[7]);
        assert_int_equal(address_pool_allocate(&p, "one-more", &s), 0);
        assert_int_equal(s, slots[7]);

        assert_int_equal(address_pool_reserve(&p, slots[3]), -EEXIST);
        assert_int_equal(address_pool_reserve(&p, 16), -ERANGE);
        address_pool_release(&p, slots[3]);
        assert_int_equal(address_pool_reserve(&p, slots[3]), 0);
        address_pool_done(&p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_prefixes),
                cmocka_unit_test(test_pool_addresses),
                cmocka_unit_test(test_pool_allocation),
        };
        log_set_max_level(LOG_CRIT); /* the refusals are expected */
        return cmocka_run_group_tests(tests, NULL, NULL);
}
