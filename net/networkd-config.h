/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define NETWORKD_CONFIG_FILE "networkd.conf"
#define NETWORKD_DEFAULT_PREFIX4 "10.75.0.0/16"
#define NETWORKD_DEFAULT_PREFIX6 "fdd4:1476:6c7e::/48"
#define NETWORKD_DEFAULT_RESOLV_CONF "/etc/resolv.conf"
#define NETWORKD_MTU_MIN 1280 /* IPv6's minimum */
#define NETWORKD_MTU_MAX 65520

/* $KRATA_CONFIG_DIR/networkd.conf, an INI file with one [Network] section. */
typedef struct NetworkConfig {
        struct in_addr prefix4;
        unsigned prefixlen4;
        struct in6_addr prefix6;
        unsigned prefixlen6;
        char *resolv_conf;       /* where the DNS forwarder finds its upstream servers */
        unsigned mtu;            /* 0: the interface's own MTU */
        bool allow_host_loopback; /* default for zones that do not say */
} NetworkConfig;

void network_config_init(NetworkConfig *c);
void network_config_done(NetworkConfig *c);
/* Parses text into c (defaults kept for keys not given). Unknown keys and
 * malformed values are refused, naming the line. */
int network_config_parse(NetworkConfig *c, const char *text, const char *source);
/* Loads the file; a missing file means the defaults. */
int network_config_load(NetworkConfig *c, const char *path);

typedef enum ForwardProtocol {
        FORWARD_TCP,
        FORWARD_UDP,
        _FORWARD_PROTOCOL_MAX,
        _FORWARD_PROTOCOL_INVALID = -EINVAL,
} ForwardProtocol;

const char *forward_protocol_to_string(ForwardProtocol p);
ForwardProtocol forward_protocol_from_string(const char *s);

typedef struct PortForward {
        ForwardProtocol protocol;
        uint16_t host_port;
        uint16_t zone_port;
} PortForward;

/* "8080:80", "8080:80/udp", "53/udp" (same port both sides). */
int port_forward_parse(const char *s, PortForward *ret);
