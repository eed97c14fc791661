/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <net/ethernet.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "time-util.h"
#include "counter.h"
#include "dns-forward.h"
#include "fs-util.h"
#include "log.h"
#include "packet-socket.h"
#include "string-util.h"

#define DNS_PENDING_MAX 256
#define DNS_TIMEOUT_USEC (10 * 1000000ULL)
#define DNS_SERVERS_MAX 3
#define DNS_MSG_MAX 4096 /* EDNS payload we accept upstream */
#define RESOLV_CONF_MAX (64 * 1024)

typedef struct DnsPending {
        bool used;
        uint16_t upstream_id, client_id;
        uint64_t sent_usec;
        int family;
        uint8_t client_mac[ETH_ALEN], gw_mac[ETH_ALEN];
        union { struct in_addr v4; struct in6_addr v6; } client, gw;
        uint16_t client_port; /* network order */
        struct sockaddr_storage server;
} DnsPending;

struct DnsForwarder {
        char *resolv_conf;
        struct timespec resolv_mtime;
        struct sockaddr_storage servers[DNS_SERVERS_MAX];
        size_t n_servers;
        size_t mtu;
        int fd4, fd6;
        dns_send_frame_t send;
        void *userdata;
        DnsPending pending[DNS_PENDING_MAX];
        DnsForwarderStats stats;
};


int resolv_conf_parse(const char *text, struct sockaddr_storage *servers, size_t max, size_t *ret_n) {
        size_t n = 0;

        assert(text);
        assert(servers);
        assert(ret_n);

        for (const char *p = text; p && *p && n < max;) {
                const char *eol = strchrnul(p, '\n');
                char line[256], addr[INET6_ADDRSTRLEN + 1];
                size_t l = MIN((size_t) (eol - p), sizeof line - 1);

                memcpy(line, p, l);
                line[l] = 0;
                p = *eol ? eol + 1 : NULL;

                if (sscanf(line, " nameserver %46s", addr) != 1)
                        continue;
                struct sockaddr_storage *ss = &servers[n];
                memset(ss, 0, sizeof *ss);
                struct sockaddr_in *sin = (struct sockaddr_in *) ss;
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
                if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
                        sin->sin_family = AF_INET;
                        sin->sin_port = htons(53);
                        n++;
                } else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
                        sin6->sin6_family = AF_INET6;
                        sin6->sin6_port = htons(53);
                        n++;
                } /* scoped (fe80::1%eth0) and junk entries are skipped */
        }
        *ret_n = n;
        return 0;
}

/* Re-reads resolv.conf when it changed, like glibc does. */
static void dns_forwarder_refresh(DnsForwarder *d) {
        _cleanup_free_ char *text = NULL;
        struct stat st;

        if (stat(d->resolv_conf, &st) < 0) {
                d->n_servers = 0;
                return;
        }
        if (st.st_mtim.tv_sec == d->resolv_mtime.tv_sec && st.st_mtim.tv_nsec == d->resolv_mtime.tv_nsec)
                return;
        if (read_full_file(d->resolv_conf, RESOLV_CONF_MAX, &text, NULL) < 0) {
                d->n_servers = 0;
                return;
        }
        (void) resolv_conf_parse(text, d->servers, DNS_SERVERS_MAX, &d->n_servers);
        d->resolv_mtime = st.st_mtim;
        log_debug("DNS forwarder: %zu server(s) from %s.", d->n_servers, d->resolv_conf);
}

static size_t build_reply(const DnsPending *p, const uint8_t *payload, size_t plen, uint8_t *out) {
        struct ether_header *eh = (struct ether_header *) out;
        struct udphdr *uh;
        uint32_t sum;
        size_t l3;

        memcpy(eh->ether_dhost, p->client_mac, ETH_ALEN);
        memcpy(eh->ether_shost, p->gw_mac, ETH_ALEN);
        if (p->family == AF_INET) {
                struct ip *ip = (struct ip *) (out + ETHER_HDR_LEN);
                eh->ether_type = htons(ETHERTYPE_IP);
                l3 = sizeof *ip;
                *ip = (struct ip) {
                        .ip_v = 4, .ip_hl = 5, .ip_ttl = 64, .ip_p = IPPROTO_UDP,
                        .ip_len = htons(l3 + sizeof *uh + plen), .ip_off = htons(IP_DF),
                        .ip_src = p->gw.v4, .ip_dst = p->client.v4,
                };
                ip->ip_sum = htons(inet_csum_fold(inet_csum_partial(ip, l3, 0)));
                sum = inet_csum_partial(&ip->ip_src, 8, IPPROTO_UDP + sizeof *uh + plen);
        } else {
                struct ip6_hdr *ip6 = (struct ip6_hdr *) (out + ETHER_HDR_LEN);
                eh->ether_type = htons(ETHERTYPE_IPV6);
                l3 = sizeof *ip6;
                *ip6 = (struct ip6_hdr) {
                        .ip6_flow = htonl(6u << 28), .ip6_plen = htons(sizeof *uh + plen),
                        .ip6_nxt = IPPROTO_UDP, .ip6_hlim = 64,
                        .ip6_src = p->gw.v6, .ip6_dst = p->client.v6,
                };
                sum = inet_csum_partial(&ip6->ip6_src, 32, IPPROTO_UDP + sizeof *uh + plen);
        }
        uh = (struct udphdr *) (out + ETHER_HDR_LEN + l3);
        *uh = (struct udphdr) {
                .uh_sport = htons(53), .uh_dport = p->client_port, .uh_ulen = htons(sizeof *uh + plen),
        };
        memcpy(uh + 1, payload, plen);
        /* Restore the client's own query ID. */
        ((uint8_t *) (uh + 1))[0] = p->client_id >> 8;
        ((uint8_t *) (uh + 1))[1] = p->client_id & 0xff;
        uint16_t c = inet_csum_fold(inet_csum_partial(uh, sizeof *uh + plen, sum));
        uh->uh_sum = htons(c ?: 0xffff);
        return ETHER_HDR_LEN + l3 + sizeof *uh + plen;
}

static bool sockaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
        if (a->ss_family != b->ss_family)
                return false;
        if (a->ss_family == AF_INET) {
                const struct sockaddr_in *x = (const void *) a, *y = (const void *) b;
                return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
        }
        const struct sockaddr_in6 *x = (const void *) a, *y = (const void *) b;
        return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

void dns_forwarder_dispatch(DnsForwarder *d, int fd) {
        uint8_t buf[DNS_MSG_MAX];
        uint8_t frame[DNS_MSG_MAX + 128];

        assert(d);

        for (int i = 0; i < 64; i++) {
                struct sockaddr_storage from;
                socklen_t fromlen = sizeof from;
                ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *) &from, &fromlen);
                if (n < 0)
                        break;
                if (n < 12)
                        continue;
                uint16_t id = (uint16_t) (buf[0] << 8 | buf[1]);
                DnsPending *p = NULL;
                for (size_t k = 0; k < DNS_PENDING_MAX; k++)
                        if (d->pending[k].used && d->pending[k].upstream_id == id &&
                            sockaddr_same(&d->pending[k].server, &from)) {
                                p = &d->pending[k];
                                break;
                        }
                if (!p)
                        continue; /* late, unsolicited or spoofed */
                size_t hdr = ETHER_HDR_LEN + (p->family == AF_INET ? 20 : 40) + 8;
                if (hdr + (size_t) n > d->mtu + ETHER_HDR_LEN) {
                        COUNTER_INC(d->stats.dropped); /* larger than the zone's MTU; the client retries over TCP */
                } else {
                        size_t len = build_reply(p, buf, (size_t) n, frame);
                        if (d->send(frame, len, d->userdata) >= 0)
                                COUNTER_INC(d->stats.answers);
                }
                p->used = false;
        }
}

static int upstream_socket(int family, int *fd) {
        if (*fd >= 0)
                return 0;
        *fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        return *fd < 0 ? -errno : 0;
}

int dns_forwarder_fd(const DnsForwarder *d, int family) {
        assert(d);

        return family == AF_INET ? d->fd4 : d->fd6;
}

int dns_forwarder_new(const char *resolv_conf, size_t mtu, dns_send_frame_t send, void *userdata,
                      DnsForwarder **ret) {
        DnsForwarder *d = calloc(1, sizeof *d);

        assert(resolv_conf);
        assert(ret);

        if (!d)
                return -ENOMEM;
        d->resolv_conf = strdup(resolv_conf);
        d->fd4 = d->fd6 = -EBADF;
        d->mtu = mtu;
        d->send = send;
        d->userdata = userdata;
        if (!d->resolv_conf) {
                dns_forwarder_free(d);
                return -ENOMEM;
        }
        *ret = d;
        return 0;
}

DnsForwarder *dns_forwarder_free(DnsForwarder *d) {
        if (!d)
                return NULL;
        safe_close(d->fd4);
        safe_close(d->fd6);
        free(d->resolv_conf);
        free(d);
        return NULL;
}

void dns_forwarder_get_stats(const DnsForwarder *d, DnsForwarderStats *ret) {
        assert(d);
        assert(ret);

        *ret = (DnsForwarderStats) {
                .queries = COUNTER_GET(d->stats.queries),
                .answers = COUNTER_GET(d->stats.answers),
                .dropped = COUNTER_GET(d->stats.dropped),
        };
}

static DnsPending *pending_slot(DnsForwarder *d, uint64_t now) {
        DnsPending *oldest = &d->pending[0];

        for (size_t k = 0; k < DNS_PENDING_MAX; k++) {
                DnsPending *p = &d->pending[k];
                if (!p->used || now - p->sent_usec > DNS_TIMEOUT_USEC)
                        return p;
                if (p->sent_usec < oldest->sent_usec)
                        oldest = p;
        }
        COUNTER_INC(d->stats.dropped); /* table full: the oldest query loses */
        return oldest;
}

/* An IPv4 UDP datagram to the gateway: q's addresses, *ret_off at its UDP
 * header, *len trimmed to the IP length (no Ethernet padding). */
static bool match_ipv4(const uint8_t *frame, size_t *len, const struct in_addr *gw4, DnsPending *q, size_t *ret_off) {
        struct ip ip;

        if (!gw4 || *len < ETHER_HDR_LEN + sizeof ip)
                return false;
        memcpy(&ip, frame + ETHER_HDR_LEN, sizeof ip);
        if (ip.ip_v != 4 || ip.ip_p != IPPROTO_UDP || ip.ip_dst.s_addr != gw4->s_addr ||
            (ntohs(ip.ip_off) & (IP_MF | IP_OFFMASK)))
                return false;
        if (ip.ip_hl < 5 || ETHER_HDR_LEN + (size_t) ntohs(ip.ip_len) > *len || ntohs(ip.ip_len) < ip.ip_hl * 4u + 8)
                return false;
        *ret_off = ETHER_HDR_LEN + ip.ip_hl * 4u;
        *len = ETHER_HDR_LEN + ntohs(ip.ip_len);
        q->family = AF_INET;
        q->client.v4 = ip.ip_src;
        q->gw.v4 = ip.ip_dst;
        return true;
}

static bool match_ipv6(const uint8_t *frame, size_t *len, const struct in6_addr *gw6, DnsPending *q, size_t *ret_off) {
        struct ip6_hdr ip6;
        size_t off = ETHER_HDR_LEN + sizeof ip6;

        if (!gw6 || *len < off)
                return false;
        memcpy(&ip6, frame + ETHER_HDR_LEN, sizeof ip6);
        if (ip6.ip6_nxt != IPPROTO_UDP || memcmp(&ip6.ip6_dst, gw6, 16) != 0)
                return false;
        if (off + (size_t) ntohs(ip6.ip6_plen) > *len || ntohs(ip6.ip6_plen) < 8)
                return false;
        *ret_off = off;
        *len = off + ntohs(ip6.ip6_plen);
        q->family = AF_INET6;
        q->client.v6 = ip6.ip6_src;
        q->gw.v6 = ip6.ip6_dst;
        return true;
}

/* Sends the query under a random ID to the first nameserver that takes it,
 * remembering q to route the answer back. */
static void forward_query(DnsForwarder *d, DnsPending *q, const uint8_t *msg, size_t mlen) {
        uint8_t out[DNS_MSG_MAX];

        q->client_id = (uint16_t) (msg[0] << 8 | msg[1]);
        q->sent_usec = now(CLOCK_MONOTONIC);
        if (getrandom(&q->upstream_id, sizeof q->upstream_id, GRND_NONBLOCK) != sizeof q->upstream_id)
                q->upstream_id = (uint16_t) (q->sent_usec ^ q->client_id);
        q->used = true;
        memcpy(out, msg, mlen);
        out[0] = q->upstream_id >> 8;
        out[1] = q->upstream_id & 0xff;

        for (size_t i = 0; i < d->n_servers; i++) {
                const struct sockaddr_storage *srv = &d->servers[i];
                int *fd = srv->ss_family == AF_INET ? &d->fd4 : &d->fd6;
                socklen_t sl = srv->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);

                if (upstream_socket(srv->ss_family, fd) < 0)
                        continue;
                if (sendto(*fd, out, mlen, MSG_DONTWAIT, (const struct sockaddr *) srv, sl) < 0)
                        continue; /* unreachable family or server: try the next one */
                q->server = *srv;
                *pending_slot(d, q->sent_usec) = *q;
                return;
        }
        COUNTER_INC(d->stats.dropped);
}

bool dns_forwarder_handle(DnsForwarder *d, const uint8_t *frame, size_t len,
                          const struct in_addr *gw4, const struct in6_addr *gw6) {
        const struct ether_header *eh = (const void *) frame;
        const struct udphdr *uh;
        DnsPending q = {};
        size_t off = 0, ulen;
        bool ip;

        assert(d);
        assert(frame || len == 0);

        if (len < ETHER_HDR_LEN)
                return false;
        switch (ntohs(eh->ether_type)) {
        case ETHERTYPE_IP:
                ip = match_ipv4(frame, &len, gw4, &q, &off);
                break;
        case ETHERTYPE_IPV6:
                ip = match_ipv6(frame, &len, gw6, &q, &off);
                break;
        default:
                ip = false;
        }
        if (!ip)
                return false;
        uh = (const void *) (frame + off);
        if (ntohs(uh->uh_dport) != 53)
                return false;

        /* From here on the frame is ours: a query to the gateway's DNS. */
        COUNTER_INC(d->stats.queries);
        ulen = ntohs(uh->uh_ulen);
        if (ulen < 8 + 12 || off + ulen > len || ulen - 8 > DNS_MSG_MAX) {
                COUNTER_INC(d->stats.dropped);
                return true;
        }
        dns_forwarder_refresh(d);
        if (d->n_servers == 0) {
                COUNTER_INC(d->stats.dropped);
                log_debug("DNS query dropped: no nameserver in %s.", d->resolv_conf);
                return true;
        }
        memcpy(q.client_mac, eh->ether_shost, ETH_ALEN);
        memcpy(q.gw_mac, eh->ether_dhost, ETH_ALEN);
        q.client_port = uh->uh_sport;
        forward_query(d, &q, frame + off + 8, ulen - 8);
        return true;
}
