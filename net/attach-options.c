/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "attach-options.h"
#include "krata-bus.h"
#include "macro.h"
#include "string-util.h"

static int read_forwards(sd_bus_message *m, PortForward **ret, size_t *ret_n, const char **err) {
        _cleanup_free_ PortForward *list = NULL;
        size_t n = 0;
        const char *proto;
        uint16_t hp, zp;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(sqq)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(sqq)", &proto, &hp, &zp)) > 0) {
                PortForward f = { .protocol = forward_protocol_from_string(proto), .host_port = hp, .zone_port = zp };
                if (f.protocol < 0 || hp == 0 || zp == 0) {
                        *err = "port-forwards: protocol must be tcp or udp and ports 1-65535";
                        return -EINVAL;
                }
                if (n >= ATTACH_FORWARDS_MAX) {
                        *err = "port-forwards: too many";
                        return -E2BIG;
                }
                for (size_t i = 0; i < n; i++)
                        if (list[i].protocol == f.protocol && list[i].host_port == hp) {
                                *err = "port-forwards: a host port is given twice";
                                return -EINVAL;
                        }
                PortForward *p = realloc(list, (n + 1) * sizeof *p);
                if (!p)
                        return -ENOMEM;
                list = p;
                list[n++] = f;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

int attach_options_read(sd_bus_message *m, AttachOptions *opts, PortForward **ret_forwards,
                        size_t *ret_n, const char **ret_error) {
        _cleanup_free_ PortForward *forwards = NULL;
        size_t n = 0;
        const char *err = NULL;
        int r;

        assert(m);
        assert(opts);
        assert(ret_forwards);
        assert(ret_n);

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                goto fail;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;
                int b;

                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        goto fail;
                if (streq(key, NET_OPT_ALLOW_HOST_LOOPBACK) || streq(key, NET_OPT_IPV6)) {
                        r = sd_bus_message_read(m, "v", "b", &b);
                        if (r < 0) {
                                err = streq(key, NET_OPT_IPV6) ? "ipv6: expected a boolean" : "allow-host-loopback: expected a boolean";
                                goto fail;
                        }
                        if (streq(key, NET_OPT_IPV6))
                                opts->ipv6 = b;
                        else
                                opts->allow_host_loopback = b;
                } else if (streq(key, NET_OPT_MTU)) {
                        uint32_t mtu;
                        r = sd_bus_message_read(m, "v", "u", &mtu);
                        if (r < 0 || (mtu != 0 && (mtu < NETWORKD_MTU_MIN || mtu > NETWORKD_MTU_MAX))) {
                                err = "mtu: expected an unsigned 32-bit integer, 0 or 1280-65520";
                                r = r < 0 ? r : -ERANGE;
                                goto fail;
                        }
                        opts->mtu = mtu;
                } else if (streq(key, NET_OPT_PORT_FORWARDS)) {
                        if (forwards) {
                                err = "port-forwards: given twice";
                                r = -EINVAL;
                                goto fail;
                        }
                        r = sd_bus_message_enter_container(m, 'v', "a(sqq)");
                        if (r < 0) {
                                err = "port-forwards: expected a(sqq)";
                                goto fail;
                        }
                        r = read_forwards(m, &forwards, &n, &err);
                        if (r < 0)
                                goto fail;
                        r = sd_bus_message_exit_container(m);
                        if (r < 0)
                                goto fail;
                } else {
                        err = "unknown option (known: allow-host-loopback, ipv6, mtu, port-forwards)";
                        r = -EINVAL;
                        goto fail;
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        goto fail;
        }
        if (r < 0)
                goto fail;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                goto fail;
        *ret_forwards = TAKE_PTR(forwards);
        *ret_n = n;
        return 0;
fail:
        if (ret_error)
                *ret_error = err ?: "malformed options: expected a{sv}";
        return r < 0 ? r : -EINVAL;
}
