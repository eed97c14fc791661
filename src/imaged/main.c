/* SPDX-License-Identifier: Apache-2.0 */
#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "manager.h"
#include "store.h"
#include "string-util.h"

static int help(void) {
        printf("krata-imaged [OPTIONS]\n\n"
               "Pulls OCI images into verified squashfs root filesystems; serves\n"
               IMAGES_BUS_NAME " on the system bus. See krata-imaged(8).\n\n"
               "  -h --help       Show this help\n"
               "     --version    Show the version\n");
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        _cleanup_(manager_freep) Manager *m = NULL;
        sigset_t mask;
        int c, r;

        log_setup("krata-imaged");
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        return help();
                case 'V':
                        printf("krata-imaged %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return 2;
                }
        if (optind < argc) {
                log_error("This program takes no arguments.");
                return 2;
        }

        (void) bus_register_krata_errors();
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                log_error("Failed to initialise libcurl.");
                return 1;
        }
        /* Before any thread exists, so workers inherit the mask. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        r = manager_new(&m);
        if (r < 0)
                goto finish;
        r = store_init();
        if (r < 0)
                goto finish;
        r = sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);
        if (r < 0) {
                log_error_errno(r, "Failed to watch signals: %m");
                goto finish;
        }
        r = manager_connect_bus(m);
        if (r < 0)
                goto finish;
        (void) sd_notify(0, "READY=1\nSTATUS=Idle.");
        r = bus_run_service(m->event, m->bus, IMAGES_BUS_NAME, m->config.idle_exit_sec * 1000000ULL,
                            manager_is_idle, m);
        (void) sd_notify(0, "STOPPING=1");
finish:
        m = manager_free(m);
        curl_global_cleanup();
        return r < 0 ? 1 : 0;
}
