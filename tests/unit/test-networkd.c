/* SPDX-License-Identifier: Apache-2.0 */
/* krata-networkd's parts that need no interface: the address pool,
 * configuration and option parsing, resolv.conf, checksum completion, the
 * pool guard, a zone loop on a socketpair. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "address-pool.h"
#include "attach-options.h"
#include "dns-forward.h"
#include "log.h"
#include "networkd-config.h"
#include "packet-socket.h"
#include "pool-guard.h"
#include "zone-loop.h"

static const char *ntop4(struct in_addr a, char *buf) {
        return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static const char *ntop6(const struct in6_addr *a, char *buf) {
        return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

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

static void test_config(void **state) {
        NetworkConfig c;
        char b[INET6_ADDRSTRLEN];

        network_config_init(&c);
        assert_string_equal(ntop4(c.prefix4, b), "10.75.0.0");
        assert_int_equal(c.prefixlen4, 16);
        assert_string_equal(ntop6(&c.prefix6, b), "fdd4:1476:6c7e::");
        assert_int_equal(c.prefixlen6, 48);
        assert_null(c.resolv_conf);

        assert_int_equal(network_config_parse(&c,
                "# comment\n\n[Network]\nIPv4Prefix = 172.20.0.0/20\nIPv6Prefix=fd00:aa::/32\n"
                "ResolvConf=/run/x/resolv.conf\nMTU=9000\nAllowHostLoopback=yes\n; done\n", "t"), 0);
        assert_string_equal(ntop4(c.prefix4, b), "172.20.0.0");
        assert_int_equal(c.prefixlen4, 20);
        assert_string_equal(ntop6(&c.prefix6, b), "fd00:aa::");
        assert_string_equal(c.resolv_conf, "/run/x/resolv.conf");
        assert_int_equal(c.mtu, 9000);
        assert_true(c.allow_host_loopback);

        assert_int_equal(network_config_parse(&c, "[Other]\nWhatever=1\n", "t"), 0); /* other sections ignored */
        assert_int_equal(network_config_parse(&c, "Bogus=1\n", "t"), -EINVAL);
        assert_int_equal(network_config_parse(&c, "MTU=100\n", "t"), -EINVAL);
        assert_int_equal(network_config_parse(&c, "MTU=0\n", "t"), 0);
        assert_int_equal(network_config_parse(&c, "IPv4Prefix=10.75.0.1/16\n", "t"), -EINVAL);
        assert_int_equal(network_config_parse(&c, "ResolvConf=relative\n", "t"), -EINVAL);
        assert_int_equal(network_config_parse(&c, "AllowHostLoopback=maybe\n", "t"), -EINVAL);
        assert_int_equal(network_config_parse(&c, "no equals sign\n", "t"), -EINVAL);
        network_config_done(&c);
}

static void test_port_forward_parse(void **state) {
        PortForward f;

        assert_int_equal(port_forward_parse("8080:80", &f), 0);
        assert_int_equal(f.protocol, FORWARD_TCP);
        assert_int_equal(f.host_port, 8080);
        assert_int_equal(f.zone_port, 80);
        assert_int_equal(port_forward_parse("5353:53/udp", &f), 0);
        assert_int_equal(f.protocol, FORWARD_UDP);
        assert_int_equal(port_forward_parse("22", &f), 0);
        assert_int_equal(f.host_port, 22);
        assert_int_equal(f.zone_port, 22);
        assert_true(port_forward_parse("0:80", &f) < 0);
        assert_true(port_forward_parse("65536:80", &f) < 0);
        assert_true(port_forward_parse("80:", &f) < 0);
        assert_true(port_forward_parse("80:80/sctp", &f) < 0);
        assert_true(port_forward_parse("", &f) < 0);
        assert_true(port_forward_parse("-1:80", &f) < 0);
        assert_int_equal(forward_protocol_from_string("udp"), FORWARD_UDP);
        assert_true(forward_protocol_from_string("UDP") < 0);
        assert_string_equal(forward_protocol_to_string(FORWARD_TCP), "tcp");
}

static void test_resolv_conf(void **state) {
        struct sockaddr_storage s[3];
        size_t n;

        assert_int_equal(resolv_conf_parse("# x\nsearch example.org\nnameserver 192.0.2.1\n"
                                           "nameserver fe80::1%eth0\nnameserver  2001:db8::53 \n"
                                           "nameserver bogus\nnameserver 192.0.2.2\nnameserver 192.0.2.3\n",
                                           s, 3, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(s[0].ss_family, AF_INET);
        assert_int_equal(ntohs(((struct sockaddr_in *) &s[0])->sin_port), 53);
        assert_int_equal(s[1].ss_family, AF_INET6);
        assert_int_equal(s[2].ss_family, AF_INET);
        assert_int_equal(resolv_conf_parse("", s, 3, &n), 0);
        assert_int_equal(n, 0);
}

static uint32_t ref_csum(const uint8_t *p, size_t len, uint32_t sum) {
        uint64_t s = sum;
        for (; len >= 2; p += 2, len -= 2)
                s += (uint32_t) p[0] << 8 | p[1];
        if (len)
                s += (uint32_t) p[0] << 8;
        while (s >> 16)
                s = (s & 0xffff) + (s >> 16);
        return (uint32_t) s;
}

static void test_checksum(void **state) {
        /* RFC 1071's example: the sum of these words is 0xddf2. */
        static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
        uint8_t buf[1501];

        assert_int_equal(inet_csum_fold(inet_csum_partial(rfc, sizeof rfc, 0)), (uint16_t) ~0xddf2);
        srand(7);
        for (int i = 0; i < 2000; i++) {
                size_t len = (size_t) rand() % sizeof buf, off = (size_t) rand() % 4;
                uint32_t sum = (uint32_t) rand() % 0x30000;
                for (size_t k = 0; k < len; k++)
                        buf[k] = (uint8_t) rand();
                if (off > len)
                        off = 0;
                assert_int_equal(inet_csum_fold(inet_csum_partial(buf + off, len - off, sum)),
                                 inet_csum_fold(ref_csum(buf + off, len - off, sum)));
        }
}

static void test_finish_checksum(void **state) {
        /* An Ethernet + IPv4 + UDP frame as a sender with checksum offload
         * leaves it: the UDP field holds only the pseudo-header sum. */
        uint8_t f[14 + 20 + 8 + 5] = {};
        const uint8_t src[4] = { 10, 75, 0, 2 }, dst[4] = { 10, 75, 0, 1 };
        uint8_t *ip = f + 14, *udp = ip + 20;
        struct virtio_net_hdr h = {
                .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 6,
        };
        uint32_t pseudo;

        f[12] = 0x08;
        ip[0] = 0x45;
        ip[9] = 17;
        memcpy(ip + 12, src, 4);
        memcpy(ip + 16, dst, 4);
        udp[1] = 99;
        udp[3] = 53;
        udp[5] = 13;
        memcpy(udp + 8, "hello", 5);
        pseudo = ref_csum(ip + 12, 8, 17 + 13);
        udp[6] = (uint8_t) (pseudo >> 8);
        udp[7] = (uint8_t) pseudo;

        assert_int_equal(packet_finish_checksum(f, sizeof f, &h), 0);
        /* Verifying a correct checksum over pseudo-header + datagram gives 0. */
        assert_int_equal(inet_csum_fold(ref_csum(udp, 13, ref_csum(ip + 12, 8, 17 + 13))), 0);

        h.csum_start = sizeof f;
        assert_int_equal(packet_finish_checksum(f, sizeof f, &h), -EBADMSG);
        h.csum_start = 34;
        h.csum_offset = 12;
        assert_int_equal(packet_finish_checksum(f, sizeof f, &h), -EBADMSG);
        h.flags = 0;
        assert_int_equal(packet_finish_checksum(f, sizeof f, &h), 0);
}

/* Frames to the zone leave as CHECKSUM_PARTIAL; finishing them must give
 * back exactly what slirp built. A datagram socketpair stands in for the
 * packet socket. */
static void test_send_partial(void **state) {
        uint8_t f[14 + 40 + 20 + 7] = {}, got[sizeof f + sizeof(struct virtio_net_hdr)];
        uint8_t *ip6 = f + 14, *tcp = ip6 + 40;
        struct virtio_net_hdr h;
        uint32_t sum;
        uint16_t c;
        int sv[2];

        f[12] = 0x86;
        f[13] = 0xdd;
        ip6[0] = 0x60;
        ip6[5] = 27; /* payload length */
        ip6[6] = 6;  /* TCP */
        ip6[7] = 64;
        for (int i = 0; i < 32; i++)
                ip6[8 + i] = (uint8_t) (i * 7 + 1);
        tcp[1] = 80;
        tcp[3] = 99;
        tcp[12] = 5 << 4;
        memcpy(tcp + 20, "payload", 7);
        /* the complete checksum, as slirp writes it */
        sum = ref_csum(ip6 + 8, 32, 6 + 27);
        c = inet_csum_fold(ref_csum(tcp, 27, sum));
        tcp[16] = (uint8_t) (c >> 8);
        tcp[17] = (uint8_t) c;

        assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(packet_socket_send(sv[0], f, sizeof f), (ssize_t) sizeof f);
        assert_int_equal(recv(sv[1], got, sizeof got, 0), (ssize_t) sizeof got);
        memcpy(&h, got, sizeof h);
        assert_true(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
        assert_int_equal(h.csum_start, 54);
        assert_int_equal(h.csum_offset, 16);
        assert_memory_not_equal(got + sizeof h, f, sizeof f); /* field holds the pseudo sum now */
        assert_int_equal(packet_finish_checksum(got + sizeof h, sizeof f, &h), 0);
        assert_memory_equal(got + sizeof h, f, sizeof f);

        /* Anything else goes out complete and unflagged. */
        f[12] = 0x08;
        f[13] = 0x06; /* ARP */
        assert_int_equal(packet_socket_send(sv[0], f, sizeof f), (ssize_t) sizeof f);
        assert_int_equal(recv(sv[1], got, sizeof got, 0), (ssize_t) sizeof got);
        memcpy(&h, got, sizeof h);
        assert_int_equal(h.flags, 0);
        assert_memory_equal(got + sizeof h, f, sizeof f);
        close(sv[0]);
        close(sv[1]);
}

/* a{sv} options, through a real sd-bus message. */
static sd_bus *test_bus(void) {
        sd_bus *bus = NULL;
        int fds[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        assert_int_equal(sd_bus_new(&bus), 0);
        assert_int_equal(sd_bus_set_fd(bus, fds[0], fds[0]), 0);
        assert_true(sd_bus_start(bus) >= 0);
        close(fds[1]);
        return bus;
}

static sd_bus_message *options_message(sd_bus *bus, const char *sig, ...) {
        sd_bus_message *m = NULL;
        va_list ap;

        assert_int_equal(sd_bus_message_new_method_call(bus, &m, "org.krata.Network1", "/org/krata/network1",
                                                        "org.krata.Network1", "AttachZone"), 0);
        va_start(ap, sig);
        assert_true(sd_bus_message_appendv(m, sig, ap) >= 0);
        va_end(ap);
        assert_int_equal(sd_bus_message_seal(m, 1, 0), 0);
        assert_true(sd_bus_message_rewind(m, true) >= 0);
        return m;
}

static void test_attach_options(void **state) {
        sd_bus *bus = test_bus();
        sd_bus_message *m;
        AttachOptions o;
        PortForward *f = NULL;
        size_t n = 0;
        const char *err = NULL;

        m = options_message(bus, "a{sv}", 4, "allow-host-loopback", "b", 1, "ipv6", "b", 0, "mtu", "u", 9000,
                            "port-forwards", "a(sqq)", 2, "tcp", 8080, 80, "udp", 5353, 53);
        o = (AttachOptions) { .ipv6 = true };
        assert_int_equal(attach_options_read(m, &o, &f, &n, &err), 0);
        assert_true(o.allow_host_loopback);
        assert_false(o.ipv6);
        assert_int_equal(o.mtu, 9000);
        assert_int_equal(n, 2);
        assert_int_equal(f[1].protocol, FORWARD_UDP);
        assert_int_equal(f[1].host_port, 5353);
        assert_int_equal(f[1].zone_port, 53);
        free(f);
        f = NULL;
        sd_bus_message_unref(m);

        m = options_message(bus, "a{sv}", 0);
        o = (AttachOptions) { .ipv6 = true };
        assert_int_equal(attach_options_read(m, &o, &f, &n, &err), 0);
        assert_true(o.ipv6);
        assert_int_equal(n, 0);
        sd_bus_message_unref(m);

        m = options_message(bus, "a{sv}", 1, "frobnicate", "b", 1);
        assert_true(attach_options_read(m, &o, &f, &n, &err) < 0);
        assert_non_null(strstr(err, "unknown option"));
        sd_bus_message_unref(m);

        m = options_message(bus, "a{sv}", 1, "mtu", "s", "big");
        assert_true(attach_options_read(m, &o, &f, &n, &err) < 0);
        assert_non_null(strstr(err, "mtu"));
        sd_bus_message_unref(m);

        m = options_message(bus, "a{sv}", 1, "mtu", "u", 100);
        assert_true(attach_options_read(m, &o, &f, &n, &err) < 0);
        sd_bus_message_unref(m);

        m = options_message(bus, "a{sv}", 1, "port-forwards", "a(sqq)", 1, "sctp", 1, 1);
        assert_true(attach_options_read(m, &o, &f, &n, &err) < 0);
        assert_non_null(strstr(err, "port-forwards"));
        sd_bus_message_unref(m);

        m = options_message(bus, "a{sv}", 1, "port-forwards", "a(sqq)", 2, "tcp", 80, 80, "tcp", 80, 81);
        assert_true(attach_options_read(m, &o, &f, &n, &err) < 0);
        assert_non_null(strstr(err, "twice"));
        sd_bus_message_unref(m);

        m = options_message(bus, "a{sv}", 1, "port-forwards", "a(sqq)", 1, "tcp", 0, 80);
        assert_true(attach_options_read(m, &o, &f, &n, &err) < 0);
        sd_bus_message_unref(m);

        m = options_message(bus, "a{sv}", 1, "ipv6", "u", 1);
        assert_true(attach_options_read(m, &o, &f, &n, &err) < 0);
        sd_bus_message_unref(m);

        sd_bus_flush_close_unref(bus);
}

/* A zone loop end to end, with a datagram socketpair standing in for the
 * packet socket: frames go to slirp on the zone's thread and its answers come
 * back; work handed over with zone_loop_call() runs on that thread and
 * returns its result; the counters reach the caller. */
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

static void test_zone_loop(void **state) {
        FrameCounters counters = {};
        SlirpConfig cfg = {
                .version = 4,
                .in_enabled = true,
                .if_mtu = 1500,
                .if_mru = 1500,
                .disable_host_loopback = true,
                .disable_dns = true,
                .disable_dhcp = true,
        };
        uint8_t frame[sizeof(struct virtio_net_hdr) + 42] = {}, got[2048];
        uint8_t *arp = frame + sizeof(struct virtio_net_hdr) + 14;
        static const uint8_t zone_mac[6] = { 0x02, 0, 0, 0, 0, 0x15 };
        struct pollfd pfd;
        sd_event *e = NULL;
        ZoneLoop *l = NULL;
        CallProbe probe = {};
        int sv[2];
        ssize_t n;

        inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
        inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
        inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
        inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
        inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
        AddressPool pool;
        ZoneAddresses own;
        PoolGuard guard;
        pool_init(&pool, "10.75.0.0/16", "fdd4:1476:6c7e::/48");
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

        /* ARP: who has 10.0.2.2? tell 10.0.2.15 */
        uint8_t *eth = frame + sizeof(struct virtio_net_hdr);
        memset(eth, 0xff, 6);
        memcpy(eth + 6, zone_mac, 6);
        eth[12] = 0x08;
        eth[13] = 0x06;
        static const uint8_t arp_head[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
        memcpy(arp, arp_head, sizeof arp_head);
        memcpy(arp + 8, zone_mac, 6);
        inet_pton(AF_INET, "10.0.2.15", arp + 14);
        inet_pton(AF_INET, "10.0.2.2", arp + 24);
        assert_int_equal(send(sv[1], frame, sizeof frame, 0), (ssize_t) sizeof frame);

        /* The reply comes from the zone's thread; wait for it (bounded, not timed). */
        pfd = (struct pollfd) { .fd = sv[1], .events = POLLIN };
        assert_int_equal(poll(&pfd, 1, 10000), 1);
        n = recv(sv[1], got, sizeof got, 0);
        assert_true(n >= (ssize_t) (sizeof(struct virtio_net_hdr) + 42));
        uint8_t *reply = got + sizeof(struct virtio_net_hdr);
        assert_memory_equal(reply, zone_mac, 6);              /* to the zone */
        assert_int_equal(reply[12] << 8 | reply[13], 0x0806); /* ARP */
        assert_int_equal(reply[14 + 7], 2);                   /* a reply */
        assert_memory_equal(reply + 14 + 14, arp + 24, 4);    /* from 10.0.2.2 */

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
                cmocka_unit_test(test_prefixes),
                cmocka_unit_test(test_pool_addresses),
                cmocka_unit_test(test_pool_allocation),
                cmocka_unit_test(test_config),
                cmocka_unit_test(test_port_forward_parse),
                cmocka_unit_test(test_resolv_conf),
                cmocka_unit_test(test_checksum),
                cmocka_unit_test(test_finish_checksum),
                cmocka_unit_test(test_send_partial),
                cmocka_unit_test(test_attach_options),
                cmocka_unit_test(test_pool_guard),
                cmocka_unit_test(test_zone_loop),
        };
        log_set_max_level(LOG_CRIT); /* the refusals are expected */
        return cmocka_run_group_tests(tests, NULL, NULL);
}
