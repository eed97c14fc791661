/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "macro.h"
#include "packet-socket.h"

int packet_socket_open(int ifindex, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_ll sll = {
                .sll_family = AF_PACKET,
                .sll_protocol = htons(ETH_P_ALL),
                .sll_ifindex = ifindex,
        };
        int one = 1, bufsz = 4 * 1024 * 1024;

        assert(ret_fd);

        /* Protocol 0: receive nothing until bound to the one interface. */
        fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0)
                return -errno;
        /* Our own transmissions would otherwise loop back into slirp. */
        (void) setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
        /* The zone is the only consumer: skip the host's qdisc. */
        (void) setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
        if (bind(fd, (struct sockaddr *) &sll, sizeof sll) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

uint32_t inet_csum_partial(const void *data, size_t len, uint32_t sum) {
        const uint8_t *p = data;
        uint64_t s = 0;
        uint32_t native;

        assert(data || len == 0);

        /* RFC 1071: the one's complement sum does not care about byte order,
         * so add native 32-bit words and swap once at the end. */
        for (; len >= 4; p += 4, len -= 4) {
                uint32_t w;
                memcpy(&w, p, 4);
                s += w;
        }
        if (len >= 2) {
                uint16_t w;
                memcpy(&w, p, 2);
                s += w;
                p += 2;
                len -= 2;
        }
        if (len) {
                uint16_t w = 0;
                memcpy(&w, p, 1); /* the odd byte is the high byte in network order */
                s += w;
        }
        while (s >> 16)
                s = (s & 0xffff) + (s >> 16);
        native = ntohs((uint16_t) s); /* now a network-order (numeric) sum */
        s = (uint64_t) native + sum;
        while (s >> 32)
                s = (s & 0xffffffff) + (s >> 32);
        return (uint32_t) s;
}

uint16_t inet_csum_fold(uint32_t sum) {
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return (uint16_t) ~sum;
}

int packet_finish_checksum(uint8_t *frame, size_t len, const struct virtio_net_hdr *h) {
        size_t start = h->csum_start, off = h->csum_offset;
        uint16_t c;

        assert(frame || len == 0);
        assert(h);

        if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
                return 0;
        if (start >= len || off + 2 > len - start)
                return -EBADMSG;
        /* The field already holds the pseudo-header sum; fold the rest in. */
        c = inet_csum_fold(inet_csum_partial(frame + start, len - start, 0));
        /* UDP sends an all-zero result as all ones (0 means "no checksum"). */
        if (c == 0 && off == 6)
                c = 0xffff;
        frame[start + off] = c >> 8;
        frame[start + off + 1] = c & 0xff;
        return 0;
}

/* What a received frame needs before slirp sees it; 0 means skip it. */
static size_t frame_fixup(const struct sockaddr_ll *sll, const struct virtio_net_hdr *h, uint8_t *buf,
                          size_t n, size_t size) {
        if (sll->sll_pkttype == PACKET_OUTGOING)
                return 0;
        if (n < sizeof *h + ETHER_HDR_LEN || n - sizeof *h > size)
                return 0; /* runt or truncated */
        n -= sizeof *h;

        switch (h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
        case VIRTIO_NET_HDR_GSO_NONE:
        case VIRTIO_NET_HDR_GSO_TCPV4:
        case VIRTIO_NET_HDR_GSO_TCPV6:
                /* A TCP super-frame's IP length covers it all: slirp takes it whole. */
                break;
        default:
                return 0; /* UDP segmentation offload: not produced without UDP_SEGMENT */
        }
        if (packet_finish_checksum(buf, n, h) < 0)
                return 0;
        return n;
}

PacketBatch *packet_batch_new(void) {
        PacketBatch *b = calloc(1, sizeof *b);

        if (!b)
                return NULL;
        for (size_t i = 0; i < PACKET_BATCH; i++) {
                b->iov[i][0] = (struct iovec) { .iov_base = &b->hdr[i], .iov_len = sizeof b->hdr[i] };
                b->iov[i][1] = (struct iovec) { .iov_base = b->buf[i], .iov_len = PACKET_FRAME_MAX };
        }
        return b;
}

int packet_socket_recv_batch(int fd, PacketBatch *b) {
        int n;

        assert(b);

        for (size_t i = 0; i < PACKET_BATCH; i++)
                b->msgs[i] = (struct mmsghdr) {
                        .msg_hdr = {
                                .msg_name = &b->sll[i],
                                .msg_namelen = sizeof b->sll[i],
                                .msg_iov = b->iov[i],
                                .msg_iovlen = 2,
                        },
                };
        n = recvmmsg(fd, b->msgs, PACKET_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
        if (n < 0)
                return -errno;
        for (int i = 0; i < n; i++)
                b->len[i] = frame_fixup(&b->sll[i], &b->hdr[i], b->buf[i], b->msgs[i].msg_len, PACKET_FRAME_MAX);
        return n;
}

/* Finds the L4 checksum of a TCP or UDP frame (IPv4 without fragments, IPv6
 * without extension headers) and the folded pseudo-header sum that the
 * field holds in a CHECKSUM_PARTIAL packet. */
static bool frame_l4_partial(const uint8_t *f, size_t len, size_t *ret_start, size_t *ret_off, uint16_t *ret_pseudo) {
        size_t l3, l4len;
        uint32_t sum;
        uint8_t proto;

        if (len < ETHER_HDR_LEN + 40)
                return false;
        switch (f[12] << 8 | f[13]) {
        case ETHERTYPE_IP:
                l3 = (size_t) (f[14] & 0xf) * 4;
                if ((f[14] >> 4) != 4 || l3 < 20 || l3 > len - ETHER_HDR_LEN ||
                    (f[20] & 0x3f) || f[21]) /* MF or offset: a fragment */
                        return false;
                proto = f[23];
                if ((size_t) (f[16] << 8 | f[17]) != len - ETHER_HDR_LEN)
                        return false; /* padded or truncated: leave it alone */
                l4len = len - ETHER_HDR_LEN - l3;
                sum = inet_csum_partial(f + 26, 8, proto + (uint32_t) l4len);
                break;
        case ETHERTYPE_IPV6:
                l3 = 40;
                proto = f[20];
                if ((size_t) (f[18] << 8 | f[19]) != len - ETHER_HDR_LEN - 40)
                        return false;
                l4len = len - ETHER_HDR_LEN - 40;
                sum = inet_csum_partial(f + 22, 32, proto + (uint32_t) l4len);
                break;
        default:
                return false;
        }
        if (proto == IPPROTO_TCP && l4len >= 20)
                *ret_off = 16;
        else if (proto == IPPROTO_UDP && l4len >= 8 && ETHER_HDR_LEN + l3 + 6 + 2 <= len &&
                 (f[ETHER_HDR_LEN + l3 + 6] | f[ETHER_HDR_LEN + l3 + 7]))
                *ret_off = 6; /* a zero UDP checksum means "none": keep it */
        else
                return false;
        *ret_start = ETHER_HDR_LEN + l3;
        *ret_pseudo = (uint16_t) ~inet_csum_fold(sum);
        return true;
}

ssize_t packet_socket_send(int fd, const void *frame, size_t len) {
        const uint8_t *f = frame;
        struct virtio_net_hdr h = {};
        size_t start, off;
        uint8_t field[2];
        struct iovec iov[4] = {
                { .iov_base = &h, .iov_len = sizeof h },
                { .iov_base = (void *) frame, .iov_len = len },
        };
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
        uint16_t pseudo;

        assert(frame || len == 0);

        /* slirp finished the checksum; hand the frame over as CHECKSUM_PARTIAL
         * instead (the field back to the pseudo-header sum) so the zone's
         * kernel trusts it rather than summing every byte again. If the zone
         * forwards the packet, its kernel completes the checksum on the way
         * out, as it does for its own sockets' packets. */
        if (frame_l4_partial(f, len, &start, &off, &pseudo)) {
                h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
                h.csum_start = (uint16_t) start;
                h.csum_offset = (uint16_t) off;
                field[0] = pseudo >> 8;
                field[1] = pseudo & 0xff;
                iov[1].iov_len = start + off;
                iov[2] = (struct iovec) { .iov_base = field, .iov_len = 2 };
                iov[3] = (struct iovec) { .iov_base = (void *) (f + start + off + 2), .iov_len = len - start - off - 2 };
                msg.msg_iovlen = 4;
        }
        if (sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                return -errno;
        return (ssize_t) len;
}

int link_set_up(int ifindex, unsigned *ret_mtu) {
        _cleanup_close_ int fd = -EBADF;
        struct ifreq ifr = {};

        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (!if_indextoname(ifindex, ifr.ifr_name))
                return -errno;
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        if (!(ifr.ifr_flags & IFF_UP)) {
                ifr.ifr_flags |= IFF_UP;
                if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                        return -errno;
        }
        if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
                return -errno;
        if (ret_mtu)
                *ret_mtu = (unsigned) ifr.ifr_mtu;
        return 0;
}
