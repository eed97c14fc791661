/* SPDX-License-Identifier: Apache-2.0 */
/* krata-zone NAME: the supervisor of one zone (krata-zone@NAME.service). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "run.h"

static void help(void) {
        printf("krata-zone [OPTIONS] NAME\n\n"
               "Supervise zone NAME: build its Xen domain, wait for it, exit with its status.\n"
               "Run by krata-zone@NAME.service (or by krata-zoned without systemd).\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --cleanup           Tear down what a dead supervisor of NAME left behind\n"
               "     --log-level=LEVEL   debug, info, notice, warning, err\n\n"
               "See krata-zone@.service(8).\n");
}

int main(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_LOG_LEVEL, ARG_CLEANUP };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "cleanup", no_argument, NULL, ARG_CLEANUP },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                {}
        };
        _cleanup_(supervisor_done) Supervisor s = {};
        bool cleanup = false;
        sigset_t mask;
        int c, r;

        log_setup("krata-zone");
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("krata-zone %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_CLEANUP:
                        cleanup = true;
                        break;
                case ARG_LOG_LEVEL:
                        if (log_parse_level_arg(optarg) < 0)
                                return 2;
                        break;
                default:
                        return 2;
                }
        if (argc - optind != 1) {
                log_error("Usage: krata-zone [--cleanup] NAME");
                return 2;
        }
        if (cleanup)
                return cleanup_orphan(argv[optind]) < 0 ? 1 : 0;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = supervisor_load(&s, argv[optind]);
        if (r < 0) {
                (void) sd_notifyf(false, "STATUS=Failed: cannot load zone %s", argv[optind]);
                return 1;
        }
        r = sd_event_default(&s.event);
        if (r < 0) {
                log_error_errno(r, "Failed to allocate event loop: %m");
                return 1;
        }
        r = sd_bus_open_system(&s.peers.bus);
        if (r < 0) {
                log_notice_errno(r, "No system bus (%m): running without krata-zoned, imaged, consoled, networkd.");
                s.peers.bus = NULL;
        }
        r = run(&s);
        /* The zone's own status when it ran; 1 when the supervisor failed. */
        return r < 0 ? 1 : r;
}
