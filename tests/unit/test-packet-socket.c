/* SPDX-License-Identifier: Apache-2.0 */
/* Checksum completion and CHECKSUM_PARTIAL frames (net/packet-socket.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "packet-socket.h"

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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_checksum),
                cmocka_unit_test(test_finish_checksum),
                cmocka_unit_test(test_send_partial),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
