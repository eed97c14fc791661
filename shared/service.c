/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "service.h"

enum {
        ARG_VERSION = SERVICE_OPTION_MAX,
        ARG_LOG_LEVEL,
};

static const struct option common_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, ARG_VERSION },
        { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
};

static void help(const ServiceDefinition *def) {
        printf("%s [OPTIONS]\n\n%s\n\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "     --log-level=LEVEL      debug, info, notice, warning, err\n"
               "%s",
               def->name, def->summary, def->options_help ?: "");
        if (def->environment_help)
                printf("\n%s\n", def->environment_help);
}

/* The common options followed by the daemon's own, {} at the end. */
static struct option *merge_options(const struct option *own) {
        size_t n = 0;
        struct option *all;

        while (own && own[n].name)
                n++;
        all = calloc(ELEMENTSOF(common_options) + n + 1, sizeof *all);
        if (!all)
                return NULL;
        memcpy(all, common_options, sizeof common_options);
        if (n > 0)
                memcpy(all + ELEMENTSOF(common_options), own, n * sizeof *own);
        return all;
}

int service_parse_argv(const ServiceDefinition *def, int argc, char *argv[]) {
        _cleanup_free_ struct option *options = NULL;
        int c, r;

        assert(def);
        assert(argv);

        options = merge_options(def->options);
        if (!options)
                return log_oom();
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help(def);
                        return 0;
                case ARG_VERSION:
                        printf("%s %s\n", def->name, PACKAGE_VERSION);
                        return 0;
                case ARG_LOG_LEVEL:
                        r = log_parse_level_arg(optarg);
                        if (r < 0)
                                return r;
                        break;
                case '?':
                        return -EINVAL; /* getopt said why */
                default:
                        assert(def->parse_option);
                        r = def->parse_option(c, optarg);
                        if (r < 0)
                                return r;
                }
        if (optind < argc)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s takes no arguments.", def->name);
        return 1;
}

/* Blocked before any thread exists, so every thread inherits the mask and
 * the signals arrive only through the event loop. */
static int setup_signals(const ServiceDefinition *def, sd_event *e) {
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (def->watch_children)
                sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        /* A client or peer that vanishes mid-write must not kill the daemon. */
        (void) signal(SIGPIPE, SIG_IGN);

        r = sd_event_add_signal(e, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGINT, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to watch signals: %m");
        return 0;
}

static int service_run(const ServiceDefinition *def, Service *s) {
        int r;

        r = sd_event_default(&s->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");
        (void) sd_event_set_watchdog(s->event, true);
        r = setup_signals(def, s->event);
        if (r < 0)
                return r;

        r = bus_connect_system(&s->bus);
        if (r < 0)
                return r;
        r = def->init(s);
        if (r < 0)
                return r;
        r = sd_bus_add_object_vtable(s->bus, NULL, def->object_path, def->interface, def->vtable, s->userdata);
        if (r < 0)
                return log_error_errno(r, "Failed to register %s: %m", def->object_path);
        if (def->add_objects) {
                r = def->add_objects(s);
                if (r < 0)
                        return r;
        }

        (void) sd_notifyf(false, "READY=1\nSTATUS=%s", def->ready_status);
        r = bus_run_service(s->event, s->bus, def->bus_name, s->idle_usec, def->is_idle, s->userdata);
        (void) sd_notify(false, "STOPPING=1");
        return r;
}

int service_main(const ServiceDefinition *def, int argc, char *argv[]) {
        Service s = { .idle_usec = SERVICE_IDLE_USEC_DEFAULT };
        int r;

        assert(def);
        assert(argv);
        assert(def->name && def->bus_name && def->summary && def->ready_status);
        assert(def->object_path && def->interface && def->vtable);
        assert(def->init && def->is_idle && def->done);

        log_setup(def->name);
        r = def->parse_environment ? def->parse_environment() : 0;
        if (r >= 0)
                r = service_parse_argv(def, argc, argv);
        if (r <= 0)
                return r < 0 ? SERVICE_EXIT_USAGE : SERVICE_EXIT_SUCCESS;
        (void) bus_register_krata_errors();

        r = service_run(def, &s);
        if (s.userdata)
                def->done(s.userdata);
        sd_bus_flush_close_unref(s.bus);
        sd_event_unref(s.event);
        return r < 0 ? SERVICE_EXIT_FAILURE : SERVICE_EXIT_SUCCESS;
}
