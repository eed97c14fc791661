/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/ip_icmp.h>
#include <string.h>

#include "macro.h"
#include "packet-socket.h"
#include "pool-guard.h"

#define ICMP4_QUOTE_MAX (576 - 20 - 8)
#define ICMP6_QUOTE_MAX (1280 - 40 - 8)

static struct in_addr mask4(unsigned len) {
        return (struct in_addr) { .s_addr = htonl(len == 0 ? 0 : ~((1u << (32 - len)) - 1)) };
}

static bool in6_prefix_match(const struct in6_addr *a, const struct in6_addr *prefix, unsigned len) {
        unsigned bytes = len / 8, bits = len % 8;

        if (memcmp(a, prefix, bytes) != 0)
                return false;
        if (bits == 0)
                return true;
        uint8_t m = (uint8_t) (0xff << (8 - bits));
        return (a->s6_addr[bytes] & m) == (prefix->s6_addr[bytes] & m);
}

void pool_guard_init(PoolGuard *g, const AddressPool *pool, const ZoneAddresses *own, bool ipv6) {
        *g = (PoolGuard) {
                .pool4 = pool->prefix4,
                .poolmask4 = mask4(pool->prefixlen4),
                .own4 = own->network4,
                .ownmask4 = own->netmask4,
                .gateway4 = own->gateway4,
                .ipv6 = ipv6,
                .pool6 = pool->prefix6,
                .poollen6 = pool->prefixlen6,
                .own6 = own->network6,
                .ownlen6 = own->prefixlen6,
                .gateway6 = own->gateway6,
        };
}

static void put_be16(uint8_t *p, uint16_t v) {
        p[0] = v >> 8;
        p[1] = v & 0xff;
}

static void ether_reply(const uint8_t *frame, uint8_t *reply, uint16_t type) {
        struct ether_header *eh = (struct ether_header *) reply;

        /* Back to the sender, from the address it sent to (the gateway's). */
        memcpy(eh->ether_dhost, frame + ETH_ALEN, ETH_ALEN);
        memcpy(eh->ether_shost, frame, ETH_ALEN);
        eh->ether_type = htons(type);
}

static bool refuse4(const PoolGuard *g, const uint8_t *frame, size_t len, uint8_t *reply, size_t *ret_len) {
        const uint8_t *l3 = frame + ETHER_HDR_LEN;
        struct ip ip;
        size_t hl, total, quote;

        if (len < ETHER_HDR_LEN + sizeof ip)
                return false;
        memcpy(&ip, l3, sizeof ip);
        if (ip.ip_v != 4 || (ip.ip_dst.s_addr & g->poolmask4.s_addr) != g->pool4.s_addr ||
            (ip.ip_dst.s_addr & g->ownmask4.s_addr) == g->own4.s_addr)
                return false;

        /* Refused from here on; an error only where RFC 1122 allows one. */
        *ret_len = 0;
        hl = ip.ip_hl * 4u;
        total = ntohs(ip.ip_len);
        if (hl < sizeof ip || total < hl || ETHER_HDR_LEN + total > len)
                return true;
        if (ntohs(ip.ip_off) & IP_OFFMASK)
                return true;
        if (ip.ip_src.s_addr == INADDR_ANY || IN_MULTICAST(ntohl(ip.ip_src.s_addr)) ||
            ip.ip_src.s_addr == INADDR_BROADCAST)
                return true;
        if (ip.ip_p == IPPROTO_ICMP) {
                if (total < hl + 1)
                        return true;
                uint8_t type = l3[hl];
                if (type != ICMP_ECHO && type != ICMP_TIMESTAMP && type != ICMP_INFO_REQUEST &&
                    type != ICMP_ADDRESS)
                        return true; /* never an error about an error */
        }

        quote = MIN(total, (size_t) ICMP4_QUOTE_MAX);
        ether_reply(frame, reply, ETHERTYPE_IP);
        /* Headers are built aligned and copied: reply + 14 is not. */
        struct ip rip = {
                .ip_v = 4, .ip_hl = 5, .ip_ttl = 64, .ip_p = IPPROTO_ICMP,
                .ip_len = htons(sizeof rip + 8 + quote),
                .ip_src = g->gateway4,
                .ip_dst = ip.ip_src,
        };
        rip.ip_sum = htons(inet_csum_fold(inet_csum_partial(&rip, sizeof rip, 0)));
        uint8_t *ic = reply + ETHER_HDR_LEN + sizeof rip;
        memcpy(reply + ETHER_HDR_LEN, &rip, sizeof rip);
        memset(ic, 0, 8);
        ic[0] = ICMP_UNREACH;
        ic[1] = ICMP_UNREACH_FILTER_PROHIB;
        memcpy(ic + 8, l3, quote);
        put_be16(ic + 2, inet_csum_fold(inet_csum_partial(ic, 8 + quote, 0)));
        *ret_len = ETHER_HDR_LEN + sizeof rip + 8 + quote;
        return true;
}

static bool refuse6(const PoolGuard *g, const uint8_t *frame, size_t len, uint8_t *reply, size_t *ret_len) {
        const uint8_t *l3 = frame + ETHER_HDR_LEN;
        struct ip6_hdr ip6;
        size_t total, quote;

        if (len < ETHER_HDR_LEN + sizeof ip6)
                return false;
        memcpy(&ip6, l3, sizeof ip6);
        if ((ip6.ip6_vfc >> 4) != 6 || !in6_prefix_match(&ip6.ip6_dst, &g->pool6, g->poollen6) ||
            (g->ipv6 && in6_prefix_match(&ip6.ip6_dst, &g->own6, g->ownlen6)))
                return false;

        *ret_len = 0;
        if (!g->ipv6)
                return true; /* the zone has no IPv6 gateway to answer from */
        total = sizeof ip6 + ntohs(ip6.ip6_plen);
        if (ETHER_HDR_LEN + total > len)
                return true;
        if (IN6_IS_ADDR_UNSPECIFIED(&ip6.ip6_src) || IN6_IS_ADDR_MULTICAST(&ip6.ip6_src))
                return true;
        if (ip6.ip6_nxt == IPPROTO_ICMPV6 && (total < sizeof ip6 + 1 || l3[sizeof ip6] < ICMP6_ECHO_REQUEST))
                return true; /* RFC 4443 2.4 (e): no error about an error */

        quote = MIN(total, (size_t) ICMP6_QUOTE_MAX);
        ether_reply(frame, reply, ETHERTYPE_IPV6);
        struct ip6_hdr rip6 = {
                .ip6_flow = htonl(6u << 28),
                .ip6_plen = htons(8 + quote),
                .ip6_nxt = IPPROTO_ICMPV6,
                .ip6_hlim = 64,
                .ip6_src = g->gateway6,
                .ip6_dst = ip6.ip6_src,
        };
        uint8_t *ic = reply + ETHER_HDR_LEN + sizeof rip6;
        memcpy(reply + ETHER_HDR_LEN, &rip6, sizeof rip6);
        memset(ic, 0, 8);
        ic[0] = ICMP6_DST_UNREACH;
        ic[1] = ICMP6_DST_UNREACH_ADMIN;
        memcpy(ic + 8, l3, quote);
        uint32_t sum = inet_csum_partial(&rip6.ip6_src, 32, IPPROTO_ICMPV6 + 8 + quote);
        put_be16(ic + 2, inet_csum_fold(inet_csum_partial(ic, 8 + quote, sum)));
        *ret_len = ETHER_HDR_LEN + sizeof rip6 + 8 + quote;
        return true;
}

bool pool_guard_refuse(const PoolGuard *g, const uint8_t *frame, size_t len, uint8_t *reply, size_t *ret_len) {
        const struct ether_header *eh = (const void *) frame;

        *ret_len = 0;
        if (len < ETHER_HDR_LEN)
                return false;
        switch (ntohs(eh->ether_type)) {
        case ETHERTYPE_IP:
                return refuse4(g, frame, len, reply, ret_len);
        case ETHERTYPE_IPV6:
                return refuse6(g, frame, len, reply, ret_len);
        default:
                return false;
        }
}
