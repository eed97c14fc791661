/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bus-util.h"
#include "kratactl.h"
#include "log.h"
#include "string-util.h"

OutputMode arg_output = OUTPUT_TABLE;
bool arg_legend = true;
bool arg_ask_password = true;

int exit_code_from_errno(int r) {
        switch (ERRNO_VALUE(r)) {
        case 0:
                return EXIT_OK;
        case EINVAL:
                return EXIT_USAGE;
        case ENOENT:
        case ENXIO:
        case ESRCH:
                return EXIT_NOT_FOUND;
        case EHOSTDOWN:
        case ENOTCONN:
        case ECONNREFUSED:
        case EOPNOTSUPP:
        case ENOMEDIUM:
                return EXIT_UNAVAILABLE;
        case EACCES:
        case EPERM:
                return EXIT_DENIED;
        default:
                return EXIT_FAILURE_GENERIC;
        }
}

int connect_bus(sd_bus **ret) {
        return bus_connect_system(ret) < 0 ? EXIT_UNAVAILABLE : EXIT_OK;
}

int call_failed(const char *what, const sd_bus_error *error, int r) {
        if (what)
                log_error("%s: %s", what, bus_error_message(error, r));
        else
                log_error("%s", bus_error_message(error, r));
        /* A name nobody owns is a daemon that is not there, not a missing object. */
        if (sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                return EXIT_UNAVAILABLE;
        return exit_code_from_errno(r);
}

static void help_group(const char *group, const Verb verbs[]) {
        printf("Usage: kratactl [OPTIONS] %s COMMAND ...\n\nCommands:\n", group);
        for (const Verb *v = verbs; v->name; v++)
                if (v->help)
                        printf("  %-28s %s\n", v->name, v->help);
        printf("\nSee kratactl(1) for details.\n");
}

int dispatch_verb(const char *group, const Verb verbs[], int argc, char *argv[]) {
        if (argc < 1 || streq(argv[0], "help") || streq(argv[0], "--help") || streq(argv[0], "-h")) {
                help_group(group, verbs);
                return argc < 1 ? EXIT_USAGE : EXIT_OK;
        }
        for (const Verb *v = verbs; v->name; v++) {
                if (!streq(v->name, argv[0]))
                        continue;
                if (argc < v->min_args || (v->max_args >= 0 && argc > v->max_args)) {
                        log_error("'%s %s' takes %s arguments; see 'kratactl %s --help'.", group,
                                  v->name, argc < v->min_args ? "more" : "fewer", group);
                        return EXIT_USAGE;
                }
                return v->run(argc, argv);
        }
        log_error("Unknown command '%s %s'; see 'kratactl %s --help'.", group, argv[0], group);
        return EXIT_USAGE;
}

static const Verb groups[] = {
        { "zone", 1, -1, verb_zone, "launch, list, inspect, stop, destroy, attach and watch zones" },
        { "image", 1, -1, verb_image, "pull, list, inspect and remove OCI images" },
        { "kernel", 1, -1, verb_kernel, "check kernel configs and package OCI kernel images" },
        { "network", 1, -1, verb_network, "list zone network attachments and port forwards" },
        {}
};

static void help(void) {
        printf("kratactl [OPTIONS] GROUP COMMAND ...\n\n"
               "Control krata: OCI images run as isolated Xen PV zones.\n\n"
               "Groups:\n");
        for (const Verb *v = groups; v->name; v++)
                printf("  %-10s %s\n", v->name, v->help);
        printf("\nShortcuts: launch, list, destroy (same as 'zone launch', 'zone list', 'zone destroy').\n\n"
               "Options:\n"
               "  -h --help                 Show this help\n"
               "     --version              Show the version\n"
               "  -o --output=table|json    Output format (default: table)\n"
               "     --no-legend            Omit table headers\n"
               "     --no-ask-password      Do not ask for a password for privileged operations\n"
               "     --log-level=LEVEL      debug, info, notice, warning, err\n\n"
               "Exit status: 0 ok, 1 failed, 2 usage, 3 not found, 4 unavailable, 5 denied;\n"
               "'zone launch --attach' exits with the zone's own status.\n"
               "See kratactl(1).\n");
}

int main(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_NO_LEGEND, ARG_LOG_LEVEL, ARG_NO_ASK_PASSWORD };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "output", required_argument, NULL, 'o' },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                {}
        };
        int c;

        log_setup(argv[0]);
        (void) bus_register_krata_errors();

        /* '+': stop at the first non-option, the group's own options follow it. */
        while ((c = getopt_long(argc, argv, "+ho:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case ARG_VERSION:
                        printf("kratactl %s\n", PACKAGE_VERSION);
                        return EXIT_OK;
                case 'o':
                        if (streq(optarg, "json"))
                                arg_output = OUTPUT_JSON;
                        else if (streq(optarg, "table"))
                                arg_output = OUTPUT_TABLE;
                        else {
                                log_error("Unknown output format '%s': use table or json.", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_NO_LEGEND:
                        arg_legend = false;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        arg_ask_password = false;
                        break;
                case ARG_LOG_LEVEL:
                        if (log_parse_level_arg(optarg) < 0)
                                return EXIT_USAGE;
                        break;
                default:
                        return EXIT_USAGE;
                }

        argc -= optind;
        argv += optind;
        if (argc < 1) {
                help();
                return EXIT_USAGE;
        }
        /* Shortcuts for the zone verbs used most (kratactl(1)). */
        if (streq(argv[0], "launch") || streq(argv[0], "list") || streq(argv[0], "destroy"))
                return verb_zone(argc, argv);
        if (streq(argv[0], "help")) {
                help();
                return EXIT_OK;
        }
        for (const Verb *v = groups; v->name; v++)
                if (streq(v->name, argv[0]))
                        return v->run(argc - 1, argv + 1);
        log_error("Unknown command group '%s'; see 'kratactl --help'.", argv[0]);
        return EXIT_USAGE;
}
