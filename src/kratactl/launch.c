/* SPDX-License-Identifier: Apache-2.0 */
/* kratactl zone launch: CreateZone, then follow the zone until it runs (or,
 * with --attach, attach its console and exit with its status). */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-util.h"
#include "json-util.h"
#include "kratactl.h"
#include "log.h"
#include "string-util.h"
#include "zone-file.h"

typedef struct LaunchArgs {
        const char *name;        /* "": krata-zoned picks one */
        const char *image;
        char **command;          /* borrowed from argv; NULL: the image's */
        char **env, **ports;
        const char *kernel, *cwd, *user;
        uint64_t memory;         /* 0: krata-zoned's default */
        unsigned vcpus;          /* 0: krata-zoned's default */
        bool attach, tty, rm;
} LaunchArgs;

static void launch_args_done(LaunchArgs *a) {
        strv_free(a->env);
        strv_free(a->ports);
}

static void launch_help(void) {
        printf("kratactl zone launch [-n NAME] [-a] [-t] [-e K=V]... [-p HOST:ZONE[/udp]]...\n"
               "                     [-m MEM] [-c VCPUS] [-k KERNEL_REF] [-w DIR] [-u USER] [--rm]\n"
               "                     IMAGE [CMD...]\n");
}

/* Checks one option's value into a; < 0 (logged) for a bad one. */
static int launch_option(LaunchArgs *a, int c, const char *arg) {
        ZonePort port;

        switch (c) {
        case 'n':
                if (!zone_name_is_valid(arg))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid zone name '%s': use [a-z0-9][a-z0-9-]{0,62}.", arg);
                a->name = arg;
                return 0;
        case 'a':
                a->attach = true;
                return 0;
        case 't':
                a->tty = true;
                return 0;
        case 'e':
                if (!zone_env_is_valid(arg))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "-e wants KEY=VALUE, got '%s'.", arg);
                return strv_extend(&a->env, arg) < 0 ? log_oom() : 0;
        case 'p':
                if (zone_port_parse(arg, &port) < 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "-p wants HOST:ZONE[/tcp|/udp], got '%s'.", arg);
                return strv_extend(&a->ports, arg) < 0 ? log_oom() : 0;
        case 'm':
                if (parse_size(arg, &a->memory) < 0 || a->memory < ZONE_MEMORY_MIN)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "-m wants a size of at least 32M (e.g. 512M, 2G), got '%s'.", arg);
                return 0;
        case 'c':
                if (safe_atou(arg, &a->vcpus) < 0 || a->vcpus < 1 || a->vcpus > ZONE_VCPUS_MAX)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "-c wants a vCPU count (1..%u), got '%s'.",
                                               ZONE_VCPUS_MAX, arg);
                return 0;
        case 'k':
                a->kernel = arg;
                return 0;
        case 'w':
                if (arg[0] != '/')
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "-w wants an absolute path, got '%s'.", arg);
                a->cwd = arg;
                return 0;
        case 'u':
                a->user = arg;
                return 0;
        }
        return -EINVAL;
}

/* 1: go on; 0: --help answered; < 0 (logged): a usage error. */
static int parse_launch_args(int argc, char *argv[], LaunchArgs *a) {
        enum { ARG_RM = 0x100 };
        static const struct option options[] = {
                { "name", required_argument, NULL, 'n' },
                { "attach", no_argument, NULL, 'a' },
                { "tty", no_argument, NULL, 't' },
                { "env", required_argument, NULL, 'e' },
                { "port", required_argument, NULL, 'p' },
                { "memory", required_argument, NULL, 'm' },
                { "cpus", required_argument, NULL, 'c' },
                { "kernel", required_argument, NULL, 'k' },
                { "working-directory", required_argument, NULL, 'w' },
                { "user", required_argument, NULL, 'u' },
                { "rm", no_argument, NULL, ARG_RM },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c, r;

        a->name = "";
        optind = 0;
        while ((c = getopt_long(argc, argv, "+n:ate:p:m:c:k:w:u:h", options, NULL)) >= 0)
                switch (c) {
                case ARG_RM:
                        a->rm = true;
                        break;
                case 'h':
                        launch_help();
                        return 0;
                case '?':
                        return -EINVAL;
                default:
                        r = launch_option(a, c, optarg);
                        if (r < 0)
                                return r;
                }
        if (optind >= argc)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "'zone launch' needs an IMAGE.");
        a->image = argv[optind];
        if (optind + 1 < argc)
                a->command = argv + optind + 1;
        return 1;
}

static int append_strv_option(sd_bus_message *m, const char *key, char **l) {
        int r;

        if (!l)
                return 0;
        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", key);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, l);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* CreateZone's a{sv}: only what the command line set, so krata-zoned's defaults apply. */
static int append_create_options(sd_bus_message *m, const LaunchArgs *a) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && a->memory)
                r = sd_bus_message_append(m, "{sv}", ZONE_OPT_MEMORY, "t", a->memory);
        if (r >= 0 && a->vcpus)
                r = sd_bus_message_append(m, "{sv}", ZONE_OPT_VCPUS, "u", a->vcpus);
        if (r >= 0 && a->kernel)
                r = sd_bus_message_append(m, "{sv}", ZONE_OPT_KERNEL, "s", a->kernel);
        if (r >= 0 && a->cwd)
                r = sd_bus_message_append(m, "{sv}", ZONE_OPT_WORKING_DIRECTORY, "s", a->cwd);
        if (r >= 0 && a->user)
                r = sd_bus_message_append(m, "{sv}", ZONE_OPT_USER, "s", a->user);
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", ZONE_OPT_TTY, "b", a->tty);
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", ZONE_OPT_AUTO_REMOVE, "b", a->rm);
        if (r >= 0)
                r = append_strv_option(m, ZONE_OPT_COMMAND, a->command);
        if (r >= 0)
                r = append_strv_option(m, ZONE_OPT_ENVIRONMENT, a->env);
        if (r >= 0)
                r = append_strv_option(m, ZONE_OPT_PORTS, a->ports);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* Returns an exit code; on EXIT_OK *ret_path is the new zone's object. */
static int create_zone(sd_bus *bus, const LaunchArgs *a, char **ret_path) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *m = NULL, *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, ZONES_BUS_NAME, ZONES_PATH, ZONES_INTERFACE, "CreateZone");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", a->name, a->image);
        if (r >= 0)
                r = append_create_options(m, a);
        if (r < 0)
                return log_error_errno(r, "Failed to build the request: %m"), EXIT_FAILURE_GENERIC;
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return call_failed("Cannot create the zone", &error, r);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return log_error_errno(r, "Failed to read krata-zoned's answer: %m"), EXIT_FAILURE_GENERIC;
        *ret_path = strdup(path);
        return *ret_path ? EXIT_OK : (log_oom(), EXIT_FAILURE_GENERIC);
}

static int on_zone_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        *(bool *) userdata = true;
        return 0;
}

/* The zone's state, or "removed" when an auto-removed zone is gone; echoes
 * a new Status for people. Returns 1 when the wait is over. */
static int check_zone(sd_bus *bus, const char *path, bool until_end, char **last_status, char **ret_state) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *state = NULL, *status = NULL;
        int r;

        r = sd_bus_get_property_string(bus, ZONES_BUS_NAME, path, ZONE_INTERFACE, "State", &error, &state);
        if (r < 0) {
                /* an auto-removed zone disappears when it ends */
                if (!sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_OBJECT))
                        return log_error_errno(r, "Lost the zone: %s", bus_error_message(&error, r));
                *ret_state = strdup("removed");
                return *ret_state ? 1 : -ENOMEM;
        }
        if (streq(state, "exited") || streq(state, "failed") ||
            (!until_end && (streq(state, "running") || streq(state, "stopping")))) {
                *ret_state = TAKE_PTR(state);
                return 1;
        }
        if (zone_property_string(bus, path, "Status", &status) >= 0 && !isempty(status) &&
            !streq_ptr(status, *last_status)) {
                if (arg_output == OUTPUT_TABLE)
                        fprintf(stderr, "%s\n", status);
                free(*last_status);
                *last_status = TAKE_PTR(status);
        }
        return 0;
}

/* Waits until the zone leaves "created"/"starting" (or, with until_end, until
 * it has ended), echoing the supervisor's progress. Woken by the zone's
 * PropertiesChanged (and ZoneRemoved), with a 1 s poll as a safety net. */
static int wait_zone(sd_bus *bus, const char *path, bool until_end, char **ret_state) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *changed = NULL, *removed = NULL;
        _cleanup_free_ char *last_status = NULL;
        bool woken = true;
        int r;

        r = sd_bus_match_signal(bus, &changed, ZONES_BUS_NAME, path, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", on_zone_changed, &woken);
        if (r >= 0)
                r = sd_bus_match_signal(bus, &removed, ZONES_BUS_NAME, ZONES_PATH, ZONES_INTERFACE, "ZoneRemoved",
                                        on_zone_changed, &woken);
        if (r < 0)
                return log_error_errno(r, "Cannot follow the zone: %m");

        for (;;) {
                if (woken) {
                        woken = false;
                        r = check_zone(bus, path, until_end, &last_status, ret_state);
                        if (r != 0)
                                return r < 0 ? r : 0;
                }
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return log_error_errno(r, "Bus connection lost: %m");
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, 1000000);
                if (r < 0)
                        return log_error_errno(r, "Bus connection lost: %m");
                if (r == 0)
                        woken = true; /* the safety-net poll */
        }
}

static int report_failure(sd_bus *bus, const char *path, const char *name) {
        _cleanup_free_ char *error = NULL, *result = NULL;

        (void) zone_property_string(bus, path, "Error", &error);
        (void) zone_property_string(bus, path, "Result", &result);
        log_error("Zone %s failed: %s", name, isempty(error) ? "(no reason given)" : error);
        if (streq_ptr(result, "no-hypervisor"))
                return EXIT_UNAVAILABLE;
        return EXIT_FAILURE_GENERIC;
}

static int print_launched(const char *name, const char *path, const char *state) {
        if (arg_output == OUTPUT_JSON) {
                _cleanup_json_ json_object *o = json_object_new_object();
                json_object_object_add(o, "name", json_object_new_string(name));
                json_object_object_add(o, "path", json_object_new_string(path));
                json_object_object_add(o, "state", json_object_new_string(state));
                json_print(stdout, o, false);
        } else
                printf("%s\n", name);
        return EXIT_OK;
}

/* --attach: the console (console.c), then the zone's own exit status. */
static int attach_and_wait(sd_bus *bus, const char *path, char *name, const char *state) {
        _cleanup_free_ char *end = NULL;
        int32_t status = -1;

        if (streq(state, "running")) {
                /* --history: what the zone printed before we attached comes first. */
                char *attach_argv[] = { (char *) "attach", (char *) "--history", name, NULL };
                if (verb_zone_attach(3, attach_argv) == EXIT_UNAVAILABLE)
                        log_notice("No console in this build; waiting for zone %s to end.", name);
        } else if (streq(state, "exited")) {
                /* It ended before we could attach: its output is in the log. */
                char *logs_argv[] = { (char *) "logs", name, NULL };
                (void) verb_zone_logs(2, logs_argv);
        }
        if (wait_zone(bus, path, true, &end) < 0)
                return EXIT_FAILURE_GENERIC;
        if (streq(end, "failed"))
                return report_failure(bus, path, name);
        if (streq(end, "removed"))
                return EXIT_OK; /* --rm zones vanish; their status went with them */
        if (sd_bus_get_property_trivial(bus, ZONES_BUS_NAME, path, ZONE_INTERFACE, "ExitStatus", NULL, 'i', &status) < 0 ||
            status < 0)
                return EXIT_FAILURE_GENERIC;
        return status;
}

int verb_zone_launch(int argc, char *argv[]) {
        _cleanup_(launch_args_done) LaunchArgs a = {};
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_free_ char *path = NULL, *name = NULL, *state = NULL;
        int r;

        assert(argv);

        r = parse_launch_args(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_OK;
        r = connect_bus(&bus);
        if (r != EXIT_OK)
                return r;
        r = create_zone(bus, &a, &path);
        if (r != EXIT_OK)
                return r;
        if (zone_property_string(bus, path, "Name", &name) < 0 && !(name = strdup(a.name)))
                return log_oom(), EXIT_FAILURE_GENERIC;

        if (wait_zone(bus, path, false, &state) < 0)
                return EXIT_FAILURE_GENERIC;
        if (streq(state, "failed"))
                return report_failure(bus, path, name);
        if (!a.attach)
                return print_launched(name, path, state);
        return attach_and_wait(bus, path, name, state);
}
