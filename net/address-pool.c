/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "address-pool.h"
#include "string-util.h"

/* "ADDR/LEN" of family af: length within [min_len, max_len], host bits zero. */
static int parse_prefix(int af, const char *s, unsigned min_len, unsigned max_len, void *ret, unsigned *ret_len) {
        char addr[INET6_ADDRSTRLEN];
        uint8_t bytes[16];
        size_t n_bits = af == AF_INET ? 32 : 128;
        const char *slash;
        unsigned len;

        if (isempty(s))
                return -EINVAL;
        slash = strchr(s, '/');
        if (!slash || slash == s || (size_t) (slash - s) >= sizeof addr)
                return -EINVAL;
        memcpy(addr, s, slash - s);
        addr[slash - s] = 0;
        if (safe_atou(slash + 1, &len) < 0 || inet_pton(af, addr, bytes) != 1)
                return -EINVAL;
        if (len < min_len || len > max_len)
                return -ERANGE;
        for (size_t bit = len; bit < n_bits; bit++)
                if (bytes[bit / 8] & (0x80 >> (bit % 8)))
                        return -EINVAL; /* host bits set */
        memcpy(ret, bytes, n_bits / 8);
        *ret_len = len;
        return 0;
}

int parse_prefix4(const char *s, struct in_addr *ret, unsigned *ret_len) {
        assert(s);
        assert(ret);
        assert(ret_len);

        return parse_prefix(AF_INET, s, 8, ZONE_PREFIXLEN4 - 2, ret, ret_len);
}

int parse_prefix6(const char *s, struct in6_addr *ret, unsigned *ret_len) {
        assert(s);
        assert(ret);
        assert(ret_len);

        return parse_prefix(AF_INET6, s, 16, ZONE_PREFIXLEN6 - 4, ret, ret_len);
}

int address_pool_init(AddressPool *p, struct in_addr prefix4, unsigned len4,
                      const struct in6_addr *prefix6, unsigned len6) {
        uint64_t n4, n6, n;

        assert(p);
        assert(prefix6);

        if (len4 > ZONE_PREFIXLEN4 - 2 || len6 > ZONE_PREFIXLEN6 - 4 || len4 < 8 || len6 < 16)
                return -ERANGE;
        n4 = UINT64_C(1) << (ZONE_PREFIXLEN4 - len4);
        n6 = UINT64_C(1) << MIN(ZONE_PREFIXLEN6 - len6, 32u);
        n = MIN(MIN(n4, n6), (uint64_t) ADDRESS_POOL_MAX_SLOTS);

        *p = (AddressPool) {
                .prefix4 = prefix4,
                .prefixlen4 = len4,
                .prefix6 = *prefix6,
                .prefixlen6 = len6,
                .n_slots = (uint32_t) n,
        };
        p->used = calloc((n + 7) / 8, 1);
        return p->used ? 0 : -ENOMEM;
}

void address_pool_done(AddressPool *p) {
        p->used = mfree(p->used);
        p->n_slots = 0;
}

bool address_pool_is_used(const AddressPool *p, uint32_t slot) {
        assert(p);

        return slot < p->n_slots && (p->used[slot / 8] & (1u << (slot % 8)));
}

static uint32_t name_hash(const char *s) {
        uint32_t h = 2166136261u; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (uint8_t) *s) * 16777619u;
        return h;
}

int address_pool_reserve(AddressPool *p, uint32_t slot) {
        assert(p);

        if (slot >= p->n_slots)
                return -ERANGE;
        if (address_pool_is_used(p, slot))
                return -EEXIST;
        p->used[slot / 8] |= 1u << (slot % 8);
        return 0;
}

void address_pool_release(AddressPool *p, uint32_t slot) {
        assert(p);

        if (slot < p->n_slots)
                p->used[slot / 8] &= ~(1u << (slot % 8));
}

int address_pool_allocate(AddressPool *p, const char *zone, uint32_t *ret_slot) {
        uint32_t start;

        assert(p);
        assert(zone);
        assert(ret_slot);

        if (p->n_slots == 0)
                return -ENOSPC;
        start = name_hash(zone) % p->n_slots;
        for (uint32_t i = 0; i < p->n_slots; i++) {
                uint32_t slot = (start + i) % p->n_slots;
                if (!address_pool_is_used(p, slot)) {
                        (void) address_pool_reserve(p, slot);
                        *ret_slot = slot;
                        return 0;
                }
        }
        return -ENOSPC;
}

int address_pool_slot_addresses(const AddressPool *p, uint32_t slot, ZoneAddresses *ret) {
        uint32_t net4;
        uint64_t hi6 = 0;

        assert(p);
        assert(ret);

        if (slot >= p->n_slots)
                return -ERANGE;

        net4 = ntohl(p->prefix4.s_addr) | (slot << (32 - ZONE_PREFIXLEN4));
        *ret = (ZoneAddresses) {
                .network4.s_addr = htonl(net4),
                .gateway4.s_addr = htonl(net4 + 1),
                .address4.s_addr = htonl(net4 + 2),
                .netmask4.s_addr = htonl(~((1u << (32 - ZONE_PREFIXLEN4)) - 1)),
                .prefixlen4 = ZONE_PREFIXLEN4,
                .prefixlen6 = ZONE_PREFIXLEN6,
        };

        /* The slot fills the bits between the configured prefix and /64. */
        for (int i = 0; i < 8; i++)
                hi6 = hi6 << 8 | p->prefix6.s6_addr[i];
        hi6 |= (uint64_t) slot;
        for (int i = 7; i >= 0; i--, hi6 >>= 8)
                ret->network6.s6_addr[i] = hi6 & 0xff;
        ret->gateway6 = ret->network6;
        ret->gateway6.s6_addr[15] = 1;
        ret->address6 = ret->network6;
        ret->address6.s6_addr[15] = 2;
        return 0;
}
