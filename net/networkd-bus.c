/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include "attach-options.h"
#include "bus-polkit.h"
#include "bus-util.h"
#include "log.h"
#include "networkd-bus.h"
#include "string-util.h"
#include "zone-file.h"

static int append_sv_string(sd_bus_message *r, const char *key, const char *value) {
        return sd_bus_message_append(r, "{sv}", key, "s", value);
}

static int append_sv_u(sd_bus_message *r, const char *key, uint32_t value) {
        return sd_bus_message_append(r, "{sv}", key, "u", value);
}

static int append_attach_reply(sd_bus_message *reply, const Attachment *a) {
        const ZoneAddresses *z = &a->addresses;
        char addr4[INET_ADDRSTRLEN], gw4[INET_ADDRSTRLEN], addr6[INET6_ADDRSTRLEN], gw6[INET6_ADDRSTRLEN];
        int r;

        inet_ntop(AF_INET, &z->address4, addr4, sizeof addr4);
        inet_ntop(AF_INET, &z->gateway4, gw4, sizeof gw4);
        inet_ntop(AF_INET6, &z->address6, addr6, sizeof addr6);
        inet_ntop(AF_INET6, &z->gateway6, gw6, sizeof gw6);

        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0) r = append_sv_string(reply, "ifname", a->ifname);
        if (r >= 0) r = append_sv_string(reply, "state", attachment_state_to_string(a->state));
        if (r >= 0) r = append_sv_string(reply, "ipv4-address", addr4);
        if (r >= 0) r = append_sv_u(reply, "ipv4-prefix-length", z->prefixlen4);
        if (r >= 0) r = append_sv_string(reply, "ipv4-gateway", gw4);
        if (r >= 0 && a->options.ipv6) {
                r = append_sv_string(reply, "ipv6-address", addr6);
                if (r >= 0) r = append_sv_u(reply, "ipv6-prefix-length", z->prefixlen6);
                if (r >= 0) r = append_sv_string(reply, "ipv6-gateway", gw6);
        }
        if (r >= 0) r = append_sv_u(reply, "mtu", a->mtu);
        if (r >= 0) r = sd_bus_message_append(reply, "{sv}", "dns", "as", a->options.ipv6 ? 2 : 1, gw4, gw6);
        if (r >= 0) r = sd_bus_message_close_container(reply);
        return r;
}

static int method_attach_zone(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_free_ PortForward *forwards = NULL;
        Manager *m = userdata;
        const char *zone, *ifname, *why = NULL;
        Attachment *a;
        size_t n = 0;
        int r;

        r = bus_verify_polkit_async(msg, POLKIT_ACTION_NETWORK_MANAGE, &m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked; the call comes back */

        r = sd_bus_message_read(msg, "ss", &zone, &ifname);
        if (r < 0)
                return r;
        if (!zone_name_is_valid(zone))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid zone name '%s'.", zone);
        if (!ifname_is_valid(ifname))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid interface name for zone %s.", zone);

        AttachOptions opts = { .allow_host_loopback = m->config.allow_host_loopback, .ipv6 = true };
        r = attach_options_read(msg, &opts, &forwards, &n, &why);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Zone %s: bad option: %s.", zone, why);

        r = manager_attach(m, zone, ifname, &opts, forwards, n, &a);
        if (r == -ENOSPC)
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED, "No free address for zone %s: the pool is full.", zone);
        if (r == -EADDRINUSE)
                return sd_bus_error_setf(error, "org.freedesktop.DBus.Error.AddressInUse", "Zone %s: a requested host port is taken (forwarded to another zone or in use on the host).", zone);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to attach zone %s: %s", zone, strerror(-r));
        log_info("Zone %s attached to %s (%s).", zone, ifname, attachment_state_to_string(a->state));

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_attach_reply(reply, a);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_detach_zone(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *zone;
        int r;

        r = bus_verify_polkit_async(msg, POLKIT_ACTION_NETWORK_MANAGE, &m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked; the call comes back */

        r = sd_bus_message_read(msg, "s", &zone);
        if (r < 0)
                return r;
        r = manager_detach(m, zone);
        if (r == -ENXIO)
                return sd_bus_error_setf(error, KRATA_ERROR_NO_SUCH_ZONE, "Zone '%s' is not attached.", zone);
        if (r < 0)
                return r;
        log_info("Zone %s detached.", zone);
        return sd_bus_reply_method_return(msg, NULL);
}

static int append_counter(sd_bus_message *r, const char *k, uint64_t v) {
        return sd_bus_message_append(r, "{st}", k, v);
}

static int method_list_attachments(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sssssba(sqq)a{st})");
        for (Attachment *a = m->attachments; r >= 0 && a; a = a->next) {
                char a4[INET_ADDRSTRLEN + 4], a6[INET6_ADDRSTRLEN + 4];
                size_t l;

                inet_ntop(AF_INET, &a->addresses.address4, a4, INET_ADDRSTRLEN);
                l = strlen(a4);
                snprintf(a4 + l, sizeof a4 - l, "/%u", a->addresses.prefixlen4);
                a6[0] = 0;
                if (a->options.ipv6) {
                        inet_ntop(AF_INET6, &a->addresses.address6, a6, INET6_ADDRSTRLEN);
                        l = strlen(a6);
                        snprintf(a6 + l, sizeof a6 - l, "/%u", a->addresses.prefixlen6);
                }
                r = sd_bus_message_open_container(reply, 'r', "sssssba(sqq)a{st}");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "sssssb", a->zone, a->ifname,
                                                  attachment_state_to_string(a->state), a4, a6,
                                                  a->options.allow_host_loopback);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'a', "(sqq)");
                for (size_t i = 0; r >= 0 && i < a->n_forwards; i++)
                        r = sd_bus_message_append(reply, "(sqq)", forward_protocol_to_string(a->forwards[i].protocol),
                                                  a->forwards[i].host_port, a->forwards[i].zone_port);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'a', "{st}");
                DnsForwarderStats dns = {};
                if (a->loop)
                        zone_loop_get_dns_stats(a->loop, &dns);
                /* The zone's thread writes these as we read them. */
                if (r >= 0) r = append_counter(reply, "rx-frames", COUNTER_GET(a->counters.rx_frames));
                if (r >= 0) r = append_counter(reply, "rx-bytes", COUNTER_GET(a->counters.rx_bytes));
                if (r >= 0) r = append_counter(reply, "tx-frames", COUNTER_GET(a->counters.tx_frames));
                if (r >= 0) r = append_counter(reply, "tx-bytes", COUNTER_GET(a->counters.tx_bytes));
                if (r >= 0) r = append_counter(reply, "dropped", COUNTER_GET(a->counters.dropped));
                if (r >= 0) r = append_counter(reply, "dns-queries", dns.queries);
                if (r >= 0) r = append_counter(reply, "dns-answers", dns.answers);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int read_forward_args(sd_bus_message *msg, Manager *m, bool with_zone_port, Attachment **ret_a,
                             PortForward *ret_f, sd_bus_error *error) {
        const char *zone, *proto;
        uint16_t hp, zp = 0;
        int r;

        r = with_zone_port ? sd_bus_message_read(msg, "ssqq", &zone, &proto, &hp, &zp)
                           : sd_bus_message_read(msg, "ssq", &zone, &proto, &hp);
        if (r < 0)
                return r;
        *ret_a = manager_find(m, zone);
        if (!*ret_a)
                return sd_bus_error_setf(error, KRATA_ERROR_NO_SUCH_ZONE, "Zone '%s' is not attached.", zone);
        ret_f->protocol = forward_protocol_from_string(proto);
        if (ret_f->protocol < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown protocol '%s': use tcp or udp.", proto);
        if (hp == 0 || (with_zone_port && zp == 0))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Port 0 cannot be forwarded.");
        ret_f->host_port = hp;
        ret_f->zone_port = zp;
        return 1;
}

static int method_add_port_forward(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        Attachment *a, *other;
        PortForward f;
        int r;

        r = bus_verify_polkit_async(msg, POLKIT_ACTION_NETWORK_MANAGE, &m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked; the call comes back */

        r = read_forward_args(msg, m, true, &a, &f, error);
        if (r <= 0)
                return r;
        other = manager_find_forward(m, f.protocol, f.host_port);
        if (other)
                return sd_bus_error_setf(error, "org.freedesktop.DBus.Error.AddressInUse",
                                         "Host port %s/%u is already forwarded to zone %s.",
                                         forward_protocol_to_string(f.protocol), f.host_port, other->zone);
        r = attachment_add_forward(a, &f);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot forward host port %s/%u to zone %s: %s",
                                               forward_protocol_to_string(f.protocol), f.host_port, a->zone, strerror(-r));
        (void) manager_save_state(m);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_remove_port_forward(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        Attachment *a;
        PortForward f;
        int r;

        r = bus_verify_polkit_async(msg, POLKIT_ACTION_NETWORK_MANAGE, &m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: polkit asked; the call comes back */

        r = read_forward_args(msg, m, false, &a, &f, error);
        if (r <= 0)
                return r;
        r = attachment_remove_forward(a, f.protocol, f.host_port);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, KRATA_ERROR_NO_SUCH_FORWARD, "Zone %s has no %s forward of host port %u.",
                                         a->zone, forward_protocol_to_string(f.protocol), f.host_port);
        (void) manager_save_state(m);
        return sd_bus_reply_method_return(msg, NULL);
}

const sd_bus_vtable network_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("AttachZone",
                                SD_BUS_ARGS("s", zone, "s", ifname, "a{sv}", options),
                                SD_BUS_RESULT("a{sv}", config),
                                method_attach_zone, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DetachZone", SD_BUS_ARGS("s", zone), SD_BUS_NO_RESULT,
                                method_detach_zone, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListAttachments", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(sssssba(sqq)a{st})", attachments),
                                method_list_attachments, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddPortForward",
                                SD_BUS_ARGS("s", zone, "s", protocol, "q", host_port, "q", zone_port),
                                SD_BUS_NO_RESULT, method_add_port_forward, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemovePortForward",
                                SD_BUS_ARGS("s", zone, "s", protocol, "q", host_port),
                                SD_BUS_NO_RESULT, method_remove_port_forward, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
