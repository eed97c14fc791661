/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "address-pool.h"
#include "conf-parser.h"
#include "log.h"
#include "networkd-config.h"
#include "string-util.h"

void network_config_init(NetworkConfig *c) {
        assert(c);

        *c = (NetworkConfig) {};
        (void) parse_prefix4(NETWORKD_DEFAULT_PREFIX4, &c->prefix4, &c->prefixlen4);
        (void) parse_prefix6(NETWORKD_DEFAULT_PREFIX6, &c->prefix6, &c->prefixlen6);
}

void network_config_done(NetworkConfig *c) {
        c->resolv_conf = mfree(c->resolv_conf);
}

static int parse_ipv4_prefix(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data) {
        NetworkConfig *c = data;
        return parse_prefix4(value, &c->prefix4, &c->prefixlen4);
}

static int parse_ipv6_prefix(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data) {
        NetworkConfig *c = data;
        return parse_prefix6(value, &c->prefix6, &c->prefixlen6);
}

/* 0 (the interface's own) or NETWORKD_MTU_MIN..NETWORKD_MTU_MAX. */
static int parse_mtu(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data) {
        unsigned mtu;

        if (safe_atou(value, &mtu) < 0 || (mtu != 0 && (mtu < NETWORKD_MTU_MIN || mtu > NETWORKD_MTU_MAX)))
                return config_error(ctx, "'%s' is not 0 or an MTU in %u..%u", value, NETWORKD_MTU_MIN,
                                    NETWORKD_MTU_MAX);
        *(unsigned *) data = mtu;
        return 0;
}

/* Keys before any header count as [Network]; other sections are skipped with a
 * warning; an unknown key in [Network] is an error (a typo must not silently
 * give zones a different network). */
static const ConfigTableItem network_config_items[] = {
        { "Network", "IPv4Prefix", parse_ipv4_prefix, 0 },
        { "Network", "IPv6Prefix", parse_ipv6_prefix, 0 },
        { "Network", "MTU", parse_mtu, offsetof(NetworkConfig, mtu) },
        { "Network", "AllowHostLoopback", config_parse_bool, offsetof(NetworkConfig, allow_host_loopback) },
        { "Network", "ResolvConf", config_parse_path, offsetof(NetworkConfig, resolv_conf) },
        {}
};

static const ConfigFormat network_config_format = {
        .items = network_config_items,
        .default_section = "Network",
        .flags = CONFIG_UNKNOWN_SECTION_WARN,
};

int network_config_parse(NetworkConfig *c, const char *text, const char *source) {
        assert(c);
        assert(text);
        assert(source);

        return config_parse_logged(&network_config_format, source, text, c);
}

int network_config_load(NetworkConfig *c, const char *path) {
        assert(c);
        assert(path);

        return config_load_logged(&network_config_format, path, c);
}

static const char *const forward_protocol_table[_FORWARD_PROTOCOL_MAX] = {
        [FORWARD_TCP] = "tcp",
        [FORWARD_UDP] = "udp",
};

const char *forward_protocol_to_string(ForwardProtocol p) {
        if (p < 0 || p >= _FORWARD_PROTOCOL_MAX)
                return NULL;
        return forward_protocol_table[p];
}

ForwardProtocol forward_protocol_from_string(const char *s) {
        for (int i = 0; i < _FORWARD_PROTOCOL_MAX; i++)
                if (streq_ptr(s, forward_protocol_table[i]))
                        return i;
        return _FORWARD_PROTOCOL_INVALID;
}

static int parse_port(const char *s, uint16_t *ret) {
        unsigned u;

        if (safe_atou(s, &u) < 0 || u < 1 || u > 65535)
                return -EINVAL;
        *ret = (uint16_t) u;
        return 0;
}

int port_forward_parse(const char *s, PortForward *ret) {
        _cleanup_free_ char *copy = NULL;
        PortForward f = { .protocol = FORWARD_TCP };
        char *slash, *colon;

        assert(ret);

        if (isempty(s) || strlen(s) > 32)
                return -EINVAL;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        slash = strchr(copy, '/');
        if (slash) {
                *slash++ = 0;
                f.protocol = forward_protocol_from_string(slash);
                if (f.protocol < 0)
                        return -EINVAL;
        }
        colon = strchr(copy, ':');
        if (colon) {
                *colon++ = 0;
                if (parse_port(copy, &f.host_port) < 0 || parse_port(colon, &f.zone_port) < 0)
                        return -EINVAL;
        } else {
                if (parse_port(copy, &f.host_port) < 0)
                        return -EINVAL;
                f.zone_port = f.host_port;
        }
        *ret = f;
        return 0;
}
