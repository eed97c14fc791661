/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* An AF_PACKET socket on one interface, with PACKET_VNET_HDR: every frame
 * comes with a virtio_net_hdr saying whether its L4 checksum is unfinished
 * (CHECKSUM_PARTIAL, as veth and netback hand over frames of a sender that
 * offloads checksumming) and whether it is a GSO super-frame. We finish the
 * checksum in userspace and give slirp the super-frame whole: its BSD TCP
 * accepts segments larger than the MSS, which saves per-segment work.
 * Towards the zone the header is used the other way round (see
 * packet_socket_send()). */

#define PACKET_FRAME_MAX (65536 + 64)

int packet_socket_open(int ifindex, int *ret_fd);
/* Frames are read PACKET_BATCH at a time with recvmmsg(): fewer syscalls,
 * and a short batch says the socket is drained without another call. */
#define PACKET_BATCH 16

typedef struct PacketBatch {
        struct virtio_net_hdr hdr[PACKET_BATCH];
        struct sockaddr_ll sll[PACKET_BATCH];
        struct iovec iov[PACKET_BATCH][2];
        struct mmsghdr msgs[PACKET_BATCH];
        size_t len[PACKET_BATCH];
        uint8_t buf[PACKET_BATCH][PACKET_FRAME_MAX];
} PacketBatch;

PacketBatch *packet_batch_new(void);
/* Receives up to PACKET_BATCH frames; returns how many slots were filled
 * (-EAGAIN when none). len[i] is 0 for a frame to skip: our own outgoing
 * frames, unsupported GSO types, broken checksum offsets, runts. */
int packet_socket_recv_batch(int fd, PacketBatch *b);
/* Sends one complete frame (checksums done). TCP and UDP frames go out as
 * CHECKSUM_PARTIAL so the zone's kernel does not verify them again. */
ssize_t packet_socket_send(int fd, const void *frame, size_t len);

/* Completes a CHECKSUM_PARTIAL frame: one's complement sum from csum_start
 * to the end, stored at csum_start + csum_offset. Exposed for tests. */
int packet_finish_checksum(uint8_t *frame, size_t len, const struct virtio_net_hdr *h);
/* The Internet checksum helpers the DNS forwarder also uses. */
uint32_t inet_csum_partial(const void *data, size_t len, uint32_t sum);
uint16_t inet_csum_fold(uint32_t sum);
/* Brings the interface up and returns its MTU. */
int link_set_up(int ifindex, unsigned *ret_mtu);
