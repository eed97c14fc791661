/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "fs-util.h"
#include "json-util.h"
#include "log.h"
#include "networkd-manager.h"
#include "paths.h"
#include "string-util.h"
#include "zone-file.h"

#define STATE_MAX_SIZE (4 * 1024 * 1024)

bool ifname_is_valid(const char *s) {
        if (isempty(s) || strlen(s) >= IFNAMSIZ || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (*p <= ' ' || *p >= 0x7f || *p == '/' || *p == ':')
                        return false;
        return true;
}

Attachment *manager_find(Manager *m, const char *zone) {
        assert(m);
        assert(zone);

        for (Attachment *a = m->attachments; a; a = a->next)
                if (streq(a->zone, zone))
                        return a;
        return NULL;
}

Attachment *manager_find_forward(Manager *m, ForwardProtocol proto, uint16_t host_port) {
        assert(m);

        for (Attachment *a = m->attachments; a; a = a->next)
                for (size_t i = 0; i < a->n_forwards; i++)
                        if (a->forwards[i].protocol == proto && a->forwards[i].host_port == host_port)
                                return a;
        return NULL;
}

bool manager_is_idle(Manager *m) {
        assert(m);
        return !m->attachments && polkit_registry_busy(m->polkit) <= 0;
}

static void manager_unlink(Manager *m, Attachment *a) {
        for (Attachment **p = &m->attachments; *p; p = &(*p)->next)
                if (*p == a) {
                        *p = a->next;
                        break;
                }
}

static void on_link(const char *ifname, int ifindex, bool present, void *userdata) {
        Manager *m = userdata;

        for (Attachment *a = m->attachments; a; a = a->next) {
                if (ifname && !streq(a->ifname, ifname))
                        continue;
                if (ifname && !present) {
                        if (a->state != ATTACHMENT_WAITING) {
                                log_info("Zone %s: interface %s went away.", a->zone, a->ifname);
                                attachment_stop(a);
                        }
                        continue;
                }
                /* Appeared, changed (a new ifindex is a new interface of the old name), or a rescan. */
                if (a->state == ATTACHMENT_RUNNING) {
                        int now = (int) if_nametoindex(a->ifname);
                        if (now == a->ifindex)
                                continue;
                        attachment_stop(a);
                }
                (void) attachment_start(a);
        }
}

static json_object *attachment_to_json(const Attachment *a) {
        char a4[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
        json_object *o = json_object_new_object(), *fw = json_object_new_array();

        if (!o || !fw) {
                json_object_put(o);
                json_object_put(fw);
                return NULL;
        }
        inet_ntop(AF_INET, &a->addresses.address4, a4, sizeof a4);
        inet_ntop(AF_INET6, &a->addresses.address6, a6, sizeof a6);
        json_object_object_add(o, "zone", json_object_new_string(a->zone));
        json_object_object_add(o, "ifname", json_object_new_string(a->ifname));
        json_object_object_add(o, "slot", json_object_new_int64(a->slot));
        json_object_object_add(o, "ipv4", json_object_new_string(a4));
        json_object_object_add(o, "ipv6", json_object_new_string(a6));
        json_object_object_add(o, "allow-host-loopback", json_object_new_boolean(a->options.allow_host_loopback));
        json_object_object_add(o, "ipv6-enabled", json_object_new_boolean(a->options.ipv6));
        json_object_object_add(o, "mtu", json_object_new_int64(a->options.mtu));
        for (size_t i = 0; i < a->n_forwards; i++) {
                json_object *f = json_object_new_object();
                if (!f)
                        continue;
                json_object_object_add(f, "protocol", json_object_new_string(forward_protocol_to_string(a->forwards[i].protocol)));
                json_object_object_add(f, "host", json_object_new_int(a->forwards[i].host_port));
                json_object_object_add(f, "zone", json_object_new_int(a->forwards[i].zone_port));
                json_object_array_add(fw, f);
        }
        json_object_object_add(o, "forwards", fw);
        return o;
}

int manager_save_state(Manager *m) {
        _cleanup_json_ json_object *root = json_object_new_object();
        json_object *zones = json_object_new_array();
        _cleanup_free_ char *dir = NULL;
        const char *text;
        int r;

        assert(m);

        if (!root || !zones) {
                json_object_put(zones);
                return log_oom();
        }
        json_object_object_add(root, "version", json_object_new_int(1));
        json_object_object_add(root, "zones", zones);
        for (Attachment *a = m->attachments; a; a = a->next) {
                json_object *o = attachment_to_json(a);
                if (!o)
                        return log_oom();
                json_object_array_add(zones, o);
        }
        dir = krata_runtime_path("network");
        if (!dir)
                return log_oom();
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", dir);
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
        r = write_string_file_atomic(m->state_path, text, 0600);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", m->state_path);
        return 0;
}

typedef struct StateZone {
        char *zone, *ifname, *ipv4;
        uint32_t slot;
        bool allow_host_loopback, ipv6;
        uint32_t mtu;
        json_object *forwards;
} StateZone;

static void state_zone_done(StateZone *z) {
        free(z->zone);
        free(z->ifname);
        free(z->ipv4);
        json_object_put(z->forwards);
}

static int restore_zone(Manager *m, json_object *o) {
        static const JsonDispatch table[] = {
                { "zone", json_type_string, json_dispatch_string, offsetof(StateZone, zone), JSON_MANDATORY },
                { "ifname", json_type_string, json_dispatch_string, offsetof(StateZone, ifname), JSON_MANDATORY },
                { "ipv4", json_type_string, json_dispatch_string, offsetof(StateZone, ipv4), 0 },
                { "slot", json_type_int, json_dispatch_uint32, offsetof(StateZone, slot), JSON_MANDATORY },
                { "allow-host-loopback", json_type_boolean, json_dispatch_bool, offsetof(StateZone, allow_host_loopback), 0 },
                { "ipv6-enabled", json_type_boolean, json_dispatch_bool, offsetof(StateZone, ipv6), 0 },
                { "mtu", json_type_int, json_dispatch_uint32, offsetof(StateZone, mtu), 0 },
                { "forwards", json_type_array, json_dispatch_object, offsetof(StateZone, forwards), 0 },
                {}
        };
        _cleanup_(state_zone_done) StateZone z = { .ipv6 = true };
        Attachment *a;
        char a4[INET_ADDRSTRLEN];
        int r;

        r = json_dispatch(o, table, "network state zone", &z);
        if (r < 0)
                return r;
        if (!zone_name_is_valid(z.zone) || !ifname_is_valid(z.ifname) || manager_find(m, z.zone) ||
            (z.mtu != 0 && (z.mtu < NETWORKD_MTU_MIN || z.mtu > NETWORKD_MTU_MAX)))
                return log_warning_errno(SYNTHETIC_ERRNO(EBADMSG), "Network state: dropping invalid zone entry.");
        r = address_pool_reserve(&m->pool, z.slot);
        if (r < 0)
                return log_warning_errno(r, "Network state: zone %s: slot %u unusable: %m", z.zone, z.slot);

        AttachOptions opts = { .allow_host_loopback = z.allow_host_loopback, .ipv6 = z.ipv6, .mtu = z.mtu };
        r = attachment_new(m, z.zone, z.ifname, z.slot, &opts, &a);
        if (r < 0) {
                address_pool_release(&m->pool, z.slot);
                return log_oom();
        }
        inet_ntop(AF_INET, &a->addresses.address4, a4, sizeof a4);
        if (z.ipv4 && !streq(z.ipv4, a4))
                log_warning("Zone %s: address changes from %s to %s (prefixes reconfigured).", z.zone, z.ipv4, a4);
        for (size_t i = 0; z.forwards && i < json_object_array_length(z.forwards); i++) {
                json_object *f = json_object_array_get_idx(z.forwards, i), *v;
                PortForward pf = {};
                int64_t hp, zp;
                if (!json_object_is_type(f, json_type_object) ||
                    !json_object_object_get_ex(f, "protocol", &v) ||
                    (pf.protocol = forward_protocol_from_string(json_object_get_string(v))) < 0 ||
                    !json_object_object_get_ex(f, "host", &v) || (hp = json_object_get_int64(v)) < 1 || hp > 65535 ||
                    !json_object_object_get_ex(f, "zone", &v) || (zp = json_object_get_int64(v)) < 1 || zp > 65535)
                        continue;
                pf.host_port = (uint16_t) hp;
                pf.zone_port = (uint16_t) zp;
                (void) attachment_add_forward(a, &pf);
        }
        a->next = m->attachments;
        m->attachments = a;
        return 0;
}

static int manager_load_state(Manager *m) {
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ json_object *root = NULL;
        json_object *zones;
        size_t size;
        int r;

        r = read_full_file(m->state_path, STATE_MAX_SIZE, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", m->state_path);
        r = json_parse_bounded(text, size, STATE_MAX_SIZE, true, &root);
        if (r < 0)
                return log_error_errno(r, "Ignoring unparsable %s: %m", m->state_path);
        if (!json_object_object_get_ex(root, "zones", &zones) || !json_object_is_type(zones, json_type_array))
                return 0;
        for (size_t i = 0; i < json_object_array_length(zones); i++)
                (void) restore_zone(m, json_object_array_get_idx(zones, i));
        return 0;
}

int manager_attach(Manager *m, const char *zone, const char *ifname, const AttachOptions *opts,
                   const PortForward *forwards, size_t n_forwards, Attachment **ret) {
        Attachment *a;
        uint32_t slot;
        int r;

        assert(m);
        assert(zone);
        assert(ifname);
        assert(opts);

        for (size_t i = 0; i < n_forwards; i++) {
                Attachment *o = manager_find_forward(m, forwards[i].protocol, forwards[i].host_port);
                if (o && !streq(o->zone, zone))
                        return -EADDRINUSE;
        }

        a = manager_find(m, zone);
        bool created = !a;
        if (a) {
                /* Re-attach: same addresses; a new interface (a relaunched zone's vif) moves it. */
                bool restart = a->options.allow_host_loopback != opts->allow_host_loopback ||
                               a->options.ipv6 != opts->ipv6 || a->options.mtu != opts->mtu;
                if (restart)
                        attachment_stop(a);
                a->options = *opts;
                r = attachment_set_ifname(a, ifname);
                if (r < 0)
                        return r;
        } else {
                r = address_pool_allocate(&m->pool, zone, &slot);
                if (r < 0)
                        return r;
                r = attachment_new(m, zone, ifname, slot, opts, &a);
                if (r < 0) {
                        address_pool_release(&m->pool, slot);
                        return r;
                }
                a->next = m->attachments;
                m->attachments = a;
        }
        /* Start first, so that forwards bind now and a taken port fails the call. */
        (void) attachment_start(a);
        for (size_t i = 0; i < n_forwards; i++) {
                r = attachment_add_forward(a, &forwards[i]);
                if (r == -EEXIST)
                        continue;
                if (r < 0) {
                        log_warning_errno(r, "Zone %s: cannot forward host port %s/%u: %m", zone,
                                          forward_protocol_to_string(forwards[i].protocol), forwards[i].host_port);
                        if (created)
                                (void) manager_detach(m, zone);
                        else
                                (void) manager_save_state(m);
                        return r;
                }
        }
        (void) manager_save_state(m);
        if (ret)
                *ret = a;
        return 0;
}

int manager_detach(Manager *m, const char *zone) {
        Attachment *a = manager_find(m, zone);

        assert(m);
        assert(zone);

        if (!a)
                return -ENXIO;
        manager_unlink(m, a);
        address_pool_release(&m->pool, a->slot);
        attachment_free(a);
        (void) manager_save_state(m);
        return 0;
}

int manager_new(sd_event *event, sd_bus *bus, Manager **ret) {
        _cleanup_free_ char *cfg = NULL;
        Manager *m;
        int r;

        assert(event);
        assert(bus);
        assert(ret);

        m = calloc(1, sizeof *m);
        if (!m)
                return log_oom();
        m->event = event;
        m->bus = bus;
        network_config_init(&m->config);

        cfg = krata_config_path(NETWORKD_CONFIG_FILE);
        m->state_path = krata_runtime_path("network/state.json");
        if (!cfg || !m->state_path) {
                manager_free(m);
                return log_oom();
        }
        r = network_config_load(&m->config, cfg);
        if (r >= 0)
                r = address_pool_init(&m->pool, m->config.prefix4, m->config.prefixlen4,
                                      &m->config.prefix6, m->config.prefixlen6);
        if (r < 0) {
                manager_free(m);
                return r;
        }
        *ret = m;
        return 0;
}

int manager_startup(Manager *m) {
        int r;

        assert(m);

        r = link_watch_new(m->event, on_link, m, &m->link_watch);
        if (r < 0)
                return log_error_errno(r, "Failed to watch network interfaces: %m");
        r = manager_load_state(m);
        if (r < 0)
                return r;
        for (Attachment *a = m->attachments; a; a = a->next)
                (void) attachment_start(a);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        while (m->attachments) {
                Attachment *a = m->attachments;
                m->attachments = a->next;
                attachment_free(a);
        }
        link_watch_free(m->link_watch);
        address_pool_done(&m->pool);
        network_config_done(&m->config);
        free(m->state_path);
        polkit_registry_free(m->polkit);
        return mfree(m);
}
