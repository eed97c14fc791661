/* SPDX-License-Identifier: Apache-2.0 */
/* krata-zoned: wires the bus, the event loop and the zone registry. */
#include <errno.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "service.h"
#include "string-util.h"
#include "time-util.h"
#include "zoned.h"

static uint64_t arg_idle_usec = SERVICE_IDLE_USEC_DEFAULT;

/* KRATA_ZONED_IDLE_SEC: exit after this long idle; 0 never. */
static int parse_environment(void) {
        const char *e = getenv("KRATA_ZONED_IDLE_SEC");
        unsigned s;

        if (!e)
                return 0;
        if (safe_atou(e, &s) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "KRATA_ZONED_IDLE_SEC=%s is not a number of seconds.", e);
        arg_idle_usec = s == 0 ? UINT64_MAX : (uint64_t) s * USEC_PER_SEC;
        return 0;
}

static bool zoned_is_idle(void *userdata) {
        return !manager_is_busy(userdata);
}

static bool systemd_on_bus(sd_bus *bus) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        int has = 0;

        if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "NameHasOwner", NULL, &reply, "s", "org.freedesktop.systemd1") < 0)
                return false;
        return sd_bus_message_read(reply, "b", &has) >= 0 && has;
}

/* systemd starts krata-zone@.service when it is PID 1 and on our bus (a
 * private test bus has no systemd even on a systemd host); KRATA_ZONED_SUPERVISOR
 * = spawn|systemd overrides. */
static bool want_systemd(sd_bus *bus) {
        const char *e = getenv("KRATA_ZONED_SUPERVISOR");

        if (streq_ptr(e, "spawn"))
                return false;
        if (streq_ptr(e, "systemd"))
                return true;
        return sd_booted() > 0 && systemd_on_bus(bus);
}

static int zoned_init(Service *s) {
        Manager *m = calloc(1, sizeof *m);

        if (!m)
                return log_oom();
        m->event = s->event;
        m->bus = s->bus;
        s->userdata = m;
        s->idle_usec = arg_idle_usec;
        m->use_systemd = want_systemd(m->bus);
        log_info("Supervisors are started %s.", m->use_systemd ? "as krata-zone@.service units" : "as our own children");
        return 0;
}

/* The zone objects, then the state rebuilt before the first caller comes. */
static int zoned_add_objects(Service *s) {
        Manager *m = s->userdata;
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, ZONE_PATH_PREFIX, ZONE_INTERFACE, zone_vtable, zone_object_find, m);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(m->bus, NULL, ZONE_PATH_PREFIX, zone_node_enumerator, m);
        if (r >= 0)
                r = sd_bus_add_object_manager(m->bus, NULL, KRATA_OBJECT_MANAGER_PATH);
        if (r < 0)
                return log_error_errno(r, "Failed to register objects: %m");

        (void) manager_load_zones(m);
        (void) manager_scan_domains(m);
        log_info("Loaded %zu zone(s); %zu unknown domain(s).", m->n_zones, m->n_orphans);
        return 0;
}

static void zoned_done(void *userdata) {
        Manager *m = userdata;

        manager_free(m);
        free(m);
}

static const ServiceDefinition zoned = {
        .name = "krata-zoned",
        .bus_name = ZONES_BUS_NAME,
        .summary = "The krata zone registry: " ZONES_BUS_NAME " on the system bus.",
        .environment_help = "Environment: KRATA_ZONED_IDLE_SEC (exit after this long idle; 0 never),\n"
                            "KRATA_ZONED_SUPERVISOR=spawn|systemd. See krata-zoned(8).",
        .parse_environment = parse_environment,
        .watch_children = true,
        .ready_status = "Serving zones.",
        .init = zoned_init,
        .object_path = ZONES_PATH,
        .interface = ZONES_INTERFACE,
        .vtable = manager_vtable,
        .add_objects = zoned_add_objects,
        .is_idle = zoned_is_idle,
        .done = zoned_done,
};

int main(int argc, char *argv[]) {
        return service_main(&zoned, argc, argv);
}
