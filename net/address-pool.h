/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* Each zone owns one "slot" of the configured prefixes: slot N is the N-th
 * /30 of the IPv4 prefix (network, gateway .1, zone .2, broadcast) and the
 * N-th /64 of the IPv6 prefix (gateway ::1, zone ::2). Each zone runs its own
 * slirp instance, so the slot is that instance's whole virtual network. */
#define ZONE_PREFIXLEN4 30
#define ZONE_PREFIXLEN6 64
/* Bounds the bitmap; far more zones than one host runs. */
#define ADDRESS_POOL_MAX_SLOTS (1u << 20)

typedef struct AddressPool {
        struct in_addr prefix4;
        unsigned prefixlen4;
        struct in6_addr prefix6;
        unsigned prefixlen6;
        uint32_t n_slots;
        uint8_t *used; /* bitmap, n_slots bits */
} AddressPool;

typedef struct ZoneAddresses {
        struct in_addr address4, gateway4, network4, netmask4;
        unsigned prefixlen4;
        struct in6_addr address6, gateway6, network6;
        unsigned prefixlen6;
} ZoneAddresses;

/* "10.75.0.0/16": host bits must be zero, prefix length 8..28. */
int parse_prefix4(const char *s, struct in_addr *ret, unsigned *ret_len);
/* "fdd4:1476:6c7e::/48": host bits must be zero, prefix length 16..60. */
int parse_prefix6(const char *s, struct in6_addr *ret, unsigned *ret_len);

int address_pool_init(AddressPool *p, struct in_addr prefix4, unsigned len4,
                      const struct in6_addr *prefix6, unsigned len6);
void address_pool_done(AddressPool *p);

/* Picks a free slot for zone: the one its name hashes to when free (so a
 * relaunched zone usually gets its old addresses back), else the next free
 * one. Marks it used. -ENOSPC when the pool is full. */
int address_pool_allocate(AddressPool *p, const char *zone, uint32_t *ret_slot);
/* Marks a known slot used (state reload); -EEXIST when already held,
 * -ERANGE when outside the pool. */
int address_pool_reserve(AddressPool *p, uint32_t slot);
void address_pool_release(AddressPool *p, uint32_t slot);
bool address_pool_is_used(const AddressPool *p, uint32_t slot);
int address_pool_slot_addresses(const AddressPool *p, uint32_t slot, ZoneAddresses *ret);
