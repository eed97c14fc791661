/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <systemd/sd-daemon.h>

#include "bus-util.h"
#include "consoled.h"
#include "log.h"
#include "string-util.h"

/* krata-consoled: wiring only. ring.c moves bytes through console pages,
 * zone.c keeps each zone's console and clients, bus.c is the D-Bus face,
 * backend-xen.c / backend-test.c supply the pages and doorbells. */

#define IDLE_USEC_DEFAULT (30ULL * 1000000ULL)

static uint64_t arg_scrollback = SCROLLBACK_DEFAULT;
static uint64_t arg_idle_usec = IDLE_USEC_DEFAULT;
static bool arg_journal = true;

static void help(void) {
        printf("krata-consoled [OPTIONS]\n\n"
               "Broker for krata zones' Xen PV consoles (org.krata.Console1).\n\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "     --scrollback-size=SIZE Scrollback kept per zone (default 1M; 4K..32M)\n"
               "     --exit-idle-time=SEC   Exit after SEC seconds without zones (default 30)\n"
               "     --no-journal           Do not copy zone output into the journal\n"
               "     --log-level=LEVEL      debug, info, notice, warning, err\n\n"
               "Environment: KRATA_CONSOLED_SCROLLBACK, KRATA_CONSOLED_EXIT_IDLE_TIME,\n"
               "KRATA_CONSOLED_JOURNAL=0 give the same settings. See krata-consoled(8).\n");
}

static int parse_scrollback(const char *s) {
        uint64_t v;

        if (parse_size(s, &v) < 0 || v < SCROLLBACK_MIN || v > SCROLLBACK_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid scrollback size '%s': between 4K and 32M.", s);
        arg_scrollback = v;
        return 0;
}

static int parse_idle(const char *s) {
        unsigned v;

        if (safe_atou(s, &v) < 0 || v > 86400)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid idle time '%s': seconds, at most 86400.", s);
        arg_idle_usec = (uint64_t) v * 1000000ULL;
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_SCROLLBACK, ARG_IDLE, ARG_NO_JOURNAL, ARG_LOG_LEVEL };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "scrollback-size", required_argument, NULL, ARG_SCROLLBACK },
                { "exit-idle-time", required_argument, NULL, ARG_IDLE },
                { "no-journal", no_argument, NULL, ARG_NO_JOURNAL },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                {}
        };
        const char *e;
        int c, r;

        e = getenv("KRATA_CONSOLED_SCROLLBACK");
        if (e && (r = parse_scrollback(e)) < 0)
                return r;
        e = getenv("KRATA_CONSOLED_EXIT_IDLE_TIME");
        if (e && (r = parse_idle(e)) < 0)
                return r;
        e = getenv("KRATA_CONSOLED_JOURNAL");
        if (e)
                arg_journal = parse_boolean(e) != 0;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("krata-consoled %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_SCROLLBACK:
                        if ((r = parse_scrollback(optarg)) < 0)
                                return r;
                        break;
                case ARG_IDLE:
                        if ((r = parse_idle(optarg)) < 0)
                                return r;
                        break;
                case ARG_NO_JOURNAL:
                        arg_journal = false;
                        break;
                case ARG_LOG_LEVEL:
                        if (log_parse_level_arg(optarg) < 0)
                                return -EINVAL;
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "This program takes no arguments.");
        return 1;
}

static int check_idle(void *userdata) {
        Manager *m = userdata;
        return m->n_zones == 0 && !polkit_registry_busy(m->polkit);
}

int main(int argc, char *argv[]) {
        _cleanup_event_ sd_event *event = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        Manager m = { .journal = true };
        uint64_t now = 0;
        sigset_t mask;
        int r;

        log_setup(argv[0]);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        m.scrollback_size = (size_t) arg_scrollback;
        m.journal = arg_journal;

        (void) bus_register_krata_errors();
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        /* A client that vanishes must not kill us: sends use MSG_NOSIGNAL,
         * and libxen* writes are covered by this too. */
        signal(SIGPIPE, SIG_IGN);

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate event loop: %m"), EXIT_FAILURE;
        (void) sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        (void) sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);

        r = backend_new(&m.backend);
        if (r < 0)
                return log_oom(), EXIT_FAILURE;
        m.event = event;
        (void) sd_event_now(event, CLOCK_MONOTONIC, &now);
        journal_limit_init(&m.journal_limit, true, now);

        r = bus_connect_system(&bus);
        if (r < 0)
                goto finish;
        m.bus = bus;
        r = manager_add_bus_objects(&m);
        if (r < 0)
                goto finish;

        (void) sd_notify(false, "READY=1\nSTATUS=Serving consoles.");
        r = bus_run_service(event, bus, CONSOLE_BUS_NAME, arg_idle_usec, check_idle, &m);
        (void) sd_notify(false, "STOPPING=1");

finish:
        manager_free_zones(&m);
        m.watch_source = sd_event_source_disable_unref(m.watch_source);
        m.backend = backend_free(m.backend);
        m.polkit = polkit_registry_free(m.polkit);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
