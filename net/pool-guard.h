/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address-pool.h"

/* Addresses of krata's own pools (IPv4Prefix, IPv6Prefix) are not on any
 * network a zone can reach: another zone's slot lives in another slirp
 * instance, and slirp would NAT such a packet out through dom0's default
 * route to whatever answers upstream. So a frame from a zone to a pool
 * address outside its own slot is refused before slirp sees it, and the
 * zone gets an ICMP "administratively prohibited" from its gateway (a
 * connect() fails at once with EHOSTUNREACH or EACCES). See
 * krata-networkd(8). */

/* An ICMP error quotes at most this much of the refused packet (IPv4: the
 * 576-byte datagram every host accepts; IPv6: the 1280-byte minimum MTU). */
#define POOL_GUARD_REPLY_MAX (14 + 1280)

typedef struct PoolGuard {
        struct in_addr pool4, poolmask4; /* the IPv4 pool */
        struct in_addr own4, ownmask4;   /* the zone's slot */
        struct in_addr gateway4;         /* where errors come from */
        bool ipv6;
        struct in6_addr pool6, own6, gateway6;
        unsigned poollen6, ownlen6;
} PoolGuard;

void pool_guard_init(PoolGuard *g, const AddressPool *pool, const ZoneAddresses *own, bool ipv6);

/* False: the frame may go on to slirp. True: it is refused; *ret_len is the
 * length of the ICMP error written to reply (POOL_GUARD_REPLY_MAX bytes),
 * or 0 when none is due (the frame was an ICMP error itself, a later
 * fragment, or came from an address no error may be sent to). */
bool pool_guard_refuse(const PoolGuard *g, const uint8_t *frame, size_t len, uint8_t *reply, size_t *ret_len);
