/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "address-pool.h"
#include "fs-util.h"
#include "log.h"
#include "networkd-config.h"
#include "string-util.h"

#define CONFIG_MAX_SIZE (64 * 1024)

void network_config_init(NetworkConfig *c) {
        *c = (NetworkConfig) {};
        (void) parse_prefix4(NETWORKD_DEFAULT_PREFIX4, &c->prefix4, &c->prefixlen4);
        (void) parse_prefix6(NETWORKD_DEFAULT_PREFIX6, &c->prefix6, &c->prefixlen6);
}

void network_config_done(NetworkConfig *c) {
        c->resolv_conf = mfree(c->resolv_conf);
}

static int parse_mtu(const char *v, unsigned *ret) {
        unsigned mtu;

        if (safe_atou(v, &mtu) < 0)
                return -EINVAL;
        if (mtu != 0 && (mtu < NETWORKD_MTU_MIN || mtu > NETWORKD_MTU_MAX))
                return -ERANGE;
        *ret = mtu;
        return 0;
}

static int config_assign(NetworkConfig *c, const char *key, const char *value) {
        int r;

        if (streq(key, "IPv4Prefix"))
                return parse_prefix4(value, &c->prefix4, &c->prefixlen4);
        if (streq(key, "IPv6Prefix"))
                return parse_prefix6(value, &c->prefix6, &c->prefixlen6);
        if (streq(key, "MTU"))
                return parse_mtu(value, &c->mtu);
        if (streq(key, "AllowHostLoopback")) {
                r = parse_boolean(value);
                if (r < 0)
                        return r;
                c->allow_host_loopback = r;
                return 0;
        }
        if (streq(key, "ResolvConf")) {
                char *p;
                if (value[0] != '/' || !string_is_printable(value, 4096))
                        return -EINVAL;
                p = strdup(value);
                if (!p)
                        return -ENOMEM;
                free(c->resolv_conf);
                c->resolv_conf = p;
                return 0;
        }
        return -ENOKEY;
}

int network_config_parse(NetworkConfig *c, const char *text, const char *source) {
        _cleanup_free_ char *copy = strdup(text);
        char *line, *save = NULL;
        unsigned n = 0;
        bool in_network = true; /* keys before any section count as [Network] */

        if (!copy)
                return -ENOMEM;
        /* strtok_r would skip empty lines and break line numbers; split by hand. */
        for (line = copy; line; line = save) {
                char *eq, *key, *value;
                int r;

                save = strchr(line, '\n');
                if (save)
                        *save++ = 0;
                n++;
                line = strstrip(line);
                if (!*line || *line == '#' || *line == ';')
                        continue;
                if (*line == '[') {
                        in_network = streq(line, "[Network]");
                        if (!in_network)
                                log_warning("%s:%u: ignoring unknown section %s.", source, n, line);
                        continue;
                }
                if (!in_network)
                        continue;
                eq = strchr(line, '=');
                if (!eq)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s:%u: expected KEY=VALUE.", source, n);
                *eq = 0;
                key = strstrip(line);
                value = strstrip(eq + 1);
                r = config_assign(c, key, value);
                if (r == -ENOKEY)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s:%u: unknown key '%s'.", source, n, key);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s:%u: invalid value for %s: '%s'.",
                                               source, n, key, value);
        }
        return 0;
}

int network_config_load(NetworkConfig *c, const char *path) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_full_file(path, CONFIG_MAX_SIZE, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", path);
        return network_config_parse(c, text, path);
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
