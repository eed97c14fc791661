/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* DNS on the zone's gateway address, answered by forwarding to the servers
 * of a resolv.conf we are told about (slirp's own forwarder reads the fixed
 * /etc/resolv.conf, which tests must never depend on). UDP only: queries to
 * gateway:53 are taken from the frame stream before slirp sees them, sent
 * from a host socket with a fresh random ID, and the answer is wrapped in a
 * UDP/IP/Ethernet frame back to the zone. It runs on its zone's thread:
 * the zone loop polls dns_forwarder_fd() and calls dns_forwarder_dispatch();
 * only dns_forwarder_get_stats() may be called from another thread. */

typedef struct DnsForwarder DnsForwarder;
typedef int (*dns_send_frame_t)(const void *frame, size_t len, void *userdata);

typedef struct DnsForwarderStats {
        uint64_t queries, answers, dropped;
} DnsForwarderStats;

int dns_forwarder_new(const char *resolv_conf, size_t mtu, dns_send_frame_t send, void *userdata,
                      DnsForwarder **ret);
DnsForwarder *dns_forwarder_free(DnsForwarder *d);
/* True when frame is a UDP query to gw4/gw6 port 53 (then consumed). */
bool dns_forwarder_handle(DnsForwarder *d, const uint8_t *frame, size_t len,
                          const struct in_addr *gw4, const struct in6_addr *gw6);
/* The upstream socket of a family (AF_INET, AF_INET6), or negative while
 * none was needed yet: the loop polls it for answers. */
int dns_forwarder_fd(const DnsForwarder *d, int family);
/* Reads the answers waiting on fd and sends them to the zone. */
void dns_forwarder_dispatch(DnsForwarder *d, int fd);
/* A snapshot, safe from any thread. */
void dns_forwarder_get_stats(const DnsForwarder *d, DnsForwarderStats *ret);

/* Up to max "nameserver" addresses of a resolv.conf text (port 53). */
int resolv_conf_parse(const char *text, struct sockaddr_storage *servers, size_t max, size_t *ret_n);
