/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bus-util.h"
#include "log.h"
#include "peers.h"
#include "string-util.h"

int peers_register_supervisor(Peers *p, const char *uuid) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        assert(p);
        assert(uuid);

        if (!p->bus)
                return 0;
        r = sd_bus_call_method(p->bus, ZONES_BUS_NAME, ZONES_PATH, ZONES_INTERFACE, "RegisterSupervisor", &error,
                               NULL, "ssu", p->zone, uuid, (uint32_t) getpid());
        if (r < 0)
                log_notice("Zone %s: not registered with krata-zoned: %s", p->zone, bus_error_message(&error, r));
        return 0;
}

static int append_report(sd_bus_message *m, const ZoneRecord *rec, const char *result, const char *status_text) {
        static char *empty[] = { NULL };
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}",
                                          REPORT_STATE, "s", zone_state_to_string(rec->state),
                                          REPORT_DOMID, "u", (uint32_t) (rec->domid > 0 ? rec->domid : 0),
                                          REPORT_EXIT_STATUS, "i", (int32_t) rec->exit_status,
                                          REPORT_ERROR, "s", strempty(rec->error),
                                          REPORT_RESULT, "s", strempty(result),
                                          REPORT_STATUS, "s", strempty(status_text),
                                          REPORT_IMAGE_DIGEST, "s", strempty(rec->image_digest),
                                          REPORT_KERNEL, "s", strempty(rec->kernel));
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", REPORT_ADDRESSES);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, rec->addresses ?: empty);
        for (int k = 0; r >= 0 && k < 3; k++)
                r = sd_bus_message_close_container(m);
        return r;
}

int peers_report(Peers *p, const ZoneRecord *rec, const char *result, const char *status_text) {
        _cleanup_bus_message_ sd_bus_message *m = NULL;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        assert(p);
        assert(rec);

        if (!p->bus)
                return 0;
        r = sd_bus_message_new_method_call(p->bus, &m, ZONES_BUS_NAME, ZONES_PATH, ZONES_INTERFACE, "ReportState");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", p->zone);
        if (r >= 0)
                r = append_report(m, rec, result, status_text);
        if (r < 0)
                return r;
        r = sd_bus_call(p->bus, m, 5 * 1000000ULL, &error, NULL);
        if (r < 0)
                log_debug("Zone %s: krata-zoned did not take the report: %s", p->zone, bus_error_message(&error, r));
        return 0;
}

int peers_console_register(Peers *p, uint32_t domid) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        assert(p);

        if (!p->bus)
                return 0;
        r = sd_bus_call_method(p->bus, CONSOLE_BUS_NAME, CONSOLE_PATH, CONSOLE_INTERFACE, "RegisterZone", &error,
                               NULL, "su", p->zone, domid);
        if (r < 0) {
                log_notice("Zone %s: console not handed to krata-consoled: %s", p->zone, bus_error_message(&error, r));
                return 0;
        }
        p->console_registered = true;
        return 0;
}

void peers_console_unregister(Peers *p) {
        assert(p);

        if (!p->console_registered || !p->bus)
                return;
        (void) sd_bus_call_method(p->bus, CONSOLE_BUS_NAME, CONSOLE_PATH, CONSOLE_INTERFACE, "UnregisterZone", NULL,
                                  NULL, "s", p->zone);
        p->console_registered = false;
}

static int append_attach_options(sd_bus_message *m, const ZoneSpec *zone) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && zone->n_ports > 0) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", NET_OPT_PORT_FORWARDS);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "a(sqq)");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "(sqq)");
                for (size_t i = 0; r >= 0 && i < zone->n_ports; i++) {
                        const ZonePort *port = &zone->ports[i];
                        r = sd_bus_message_append(m, "(sqq)", port->proto == ZONE_PORT_UDP ? "udp" : "tcp",
                                                  port->host_port, port->zone_port);
                }
                for (int k = 0; r >= 0 && k < 3; k++)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* The addresses in AttachZone's reply (krata-networkd(8)). */
static const struct {
        const char *key;
        char type;    /* 's': a printable string, 'u': a prefix length */
        size_t offset;
        bool address; /* also one of the zone's addresses */
} reply_fields[] = {
        { NET_REPLY_IPV4_ADDRESS, 's', offsetof(LaunchNetwork, ipv4.address), true },
        { NET_REPLY_IPV4_PREFIX_LENGTH, 'u', offsetof(LaunchNetwork, ipv4.prefix), false },
        { NET_REPLY_IPV4_GATEWAY, 's', offsetof(LaunchNetwork, ipv4.gateway), false },
        { NET_REPLY_IPV6_ADDRESS, 's', offsetof(LaunchNetwork, ipv6.address), true },
        { NET_REPLY_IPV6_PREFIX_LENGTH, 'u', offsetof(LaunchNetwork, ipv6.prefix), false },
        { NET_REPLY_IPV6_GATEWAY, 's', offsetof(LaunchNetwork, ipv6.gateway), false },
};

/* One {sv} entry of the reply: a field of ret, the DNS servers, or skipped. */
static int read_reply_entry(sd_bus_message *reply, LaunchNetwork *ret, char ***addresses) {
        const char *key, *contents, *v;
        int r;

        r = sd_bus_message_read(reply, "s", &key);
        if (r >= 0)
                r = sd_bus_message_peek_type(reply, NULL, &contents);
        if (r < 0)
                return r;
        if (streq(key, NET_REPLY_DNS) && streq(contents, "as")) {
                strv_free(ret->dns);
                ret->dns = NULL;
                r = sd_bus_message_enter_container(reply, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_read_strv(reply, &ret->dns);
                return r < 0 ? r : sd_bus_message_exit_container(reply);
        }
        for (size_t i = 0; i < ELEMENTSOF(reply_fields); i++) {
                void *field = (uint8_t *) ret + reply_fields[i].offset;

                if (!streq(key, reply_fields[i].key) || contents[0] != reply_fields[i].type || contents[1])
                        continue;
                if (reply_fields[i].type == 'u')
                        return sd_bus_message_read(reply, "v", "u", (unsigned *) field);
                r = sd_bus_message_read(reply, "v", "s", &v);
                if (r < 0)
                        return r;
                if (!string_is_printable(v, 64))
                        return -EBADMSG;
                free(*(char **) field);
                if (!(*(char **) field = strdup(v)))
                        return -ENOMEM;
                if (reply_fields[i].address)
                        (void) strv_extend(addresses, v);
                return 0;
        }
        return sd_bus_message_skip(reply, "v");
}

static int read_reply(sd_bus_message *reply, LaunchNetwork *ret, char ***addresses) {
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                r = read_reply_entry(reply, ret, addresses);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        return r < 0 ? r : sd_bus_message_exit_container(reply);
}

int peers_network_attach(Peers *p, uint32_t domid, const ZoneSpec *zone, LaunchNetwork *ret, char ***addresses) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *m = NULL, *reply = NULL;
        char ifname[32];
        int r;

        assert(p);
        assert(zone);
        assert(ret);
        assert(addresses);

        if (!p->bus)
                return 0;
        snprintf(ifname, sizeof ifname, "vif%u.0", domid);
        r = sd_bus_message_new_method_call(p->bus, &m, NETWORK_BUS_NAME, NETWORK_PATH, NETWORK_INTERFACE,
                                           "AttachZone");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", p->zone, ifname);
        if (r >= 0)
                r = append_attach_options(m, zone);
        if (r < 0)
                return r;
        r = sd_bus_call(p->bus, m, 0, &error, &reply);
        if (r < 0) {
                log_notice("Zone %s: network not attached by krata-networkd: %s", p->zone, bus_error_message(&error, r));
                return 0;
        }
        p->network_attached = true;
        r = read_reply(reply, ret, addresses);
        if (r < 0)
                log_warning_errno(r, "Zone %s: cannot read krata-networkd's addresses: %m", p->zone);
        return 0;
}

void peers_network_detach(Peers *p) {
        assert(p);

        if (!p->network_attached || !p->bus)
                return;
        (void) sd_bus_call_method(p->bus, NETWORK_BUS_NAME, NETWORK_PATH, NETWORK_INTERFACE, "DetachZone", NULL, NULL,
                                  "s", p->zone);
        p->network_attached = false;
}
