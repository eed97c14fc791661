/* SPDX-License-Identifier: Apache-2.0 */
/* krata-zoned: wires the bus, the event loop and the zone registry. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "string-util.h"
#include "zoned.h"

#define IDLE_USEC_DEFAULT (30ULL * 1000000ULL)

static int check_idle(void *userdata) {
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

static void help(void) {
        printf("krata-zoned [OPTIONS]\n\n"
               "The krata zone registry: org.krata.Zones1 on the system bus.\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --log-level=LEVEL   debug, info, notice, warning, err\n\n"
               "Environment: KRATA_ZONED_IDLE_SEC (exit after this long idle; 0 never),\n"
               "KRATA_ZONED_SUPERVISOR=spawn|systemd. See krata-zoned(8).\n");
}

int main(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_LOG_LEVEL };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                {}
        };
        Manager m = {};
        uint64_t idle = IDLE_USEC_DEFAULT;
        const char *e;
        sigset_t mask;
        int c, r;

        log_setup("krata-zoned");
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("krata-zoned %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_LOG_LEVEL:
                        if (log_parse_level_arg(optarg) < 0)
                                return 2;
                        break;
                default:
                        return 2;
                }
        if (optind < argc) {
                log_error("krata-zoned takes no arguments.");
                return 2;
        }
        e = getenv("KRATA_ZONED_IDLE_SEC");
        if (e) {
                unsigned s;
                if (safe_atou(e, &s) < 0) {
                        log_error("KRATA_ZONED_IDLE_SEC=%s is not a number of seconds.", e);
                        return 2;
                }
                idle = s == 0 ? UINT64_MAX : (uint64_t) s * 1000000ULL;
        }
        (void) bus_register_krata_errors();

        /* SIGCHLD for sd_event_add_child; SIGTERM/SIGINT for a clean exit. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = sd_event_default(&m.event);
        if (r < 0) {
                log_error_errno(r, "Failed to allocate event loop: %m");
                goto finish;
        }
        (void) sd_event_add_signal(m.event, NULL, SIGTERM, NULL, NULL);
        (void) sd_event_add_signal(m.event, NULL, SIGINT, NULL, NULL);
        r = bus_connect_system(&m.bus);
        if (r < 0)
                goto finish;
        m.use_systemd = want_systemd(m.bus);
        log_info("Supervisors are started %s.", m.use_systemd ? "as krata-zone@.service units" : "as our own children");

        r = sd_bus_add_object_vtable(m.bus, NULL, ZONES_PATH, ZONES_INTERFACE, manager_vtable, &m);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(m.bus, NULL, ZONE_PATH_PREFIX, ZONE_INTERFACE, zone_vtable,
                                               zone_object_find, &m);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(m.bus, NULL, ZONE_PATH_PREFIX, zone_node_enumerator, &m);
        if (r >= 0)
                r = sd_bus_add_object_manager(m.bus, NULL, KRATA_OBJECT_MANAGER_PATH);
        if (r < 0) {
                log_error_errno(r, "Failed to register objects: %m");
                goto finish;
        }

        (void) manager_load_zones(&m);
        (void) manager_scan_domains(&m);
        log_info("Loaded %zu zone(s); %zu unknown domain(s).", m.n_zones, m.n_orphans);

        r = bus_run_service(m.event, m.bus, ZONES_BUS_NAME, idle, check_idle, &m);
finish:
        manager_free(&m);
        return r < 0 ? 1 : 0;
}
