/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
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

ssize_t packet_socket_recv(int fd, uint8_t *buf, size_t size) {
        struct virtio_net_hdr h;
        struct sockaddr_ll sll;
        struct iovec iov[2] = {
                { .iov_base = &h, .iov_len = sizeof h },
                { .iov_base = buf, .iov_len = size },
        };
        struct msghdr msg = {
                .msg_name = &sll,
                .msg_namelen = sizeof sll,
                .msg_iov = iov,
                .msg_iovlen = 2,
        };
        ssize_t n;

        n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0)
                return -errno;
        if (sll.sll_pkttype == PACKET_OUTGOING)
                return 0;
        if ((size_t) n < sizeof h + ETHER_HDR_LEN || (size_t) n - sizeof h > size)
                return 0; /* runt or truncated */
        n -= sizeof h;

        switch (h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
        case VIRTIO_NET_HDR_GSO_NONE:
        case VIRTIO_NET_HDR_GSO_TCPV4:
        case VIRTIO_NET_HDR_GSO_TCPV6:
                /* A TCP super-frame's IP length covers it all: slirp takes it whole. */
                break;
        default:
                return 0; /* UDP segmentation offload: not produced without UDP_SEGMENT */
        }
        if (packet_finish_checksum(buf, (size_t) n, &h) < 0)
                return 0;
        return n;
}

ssize_t packet_socket_send(int fd, const void *frame, size_t len) {
        struct virtio_net_hdr h = {}; /* complete frame: no offload requests */
        struct iovec iov[2] = {
                { .iov_base = &h, .iov_len = sizeof h },
                { .iov_base = (void *) frame, .iov_len = len },
        };
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
        ssize_t n;

        n = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0)
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
