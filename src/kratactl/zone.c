/* SPDX-License-Identifier: Apache-2.0 */
/* kratactl zone: launch, list, inspect, stop, destroy, watch (attach and logs
 * come from console.c). A pure client of org.krata.Zones1. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus-util.h"
#include "json-util.h"
#include "kratactl.h"
#include "log.h"
#include "string-util.h"
#include "table.h"
#include "zone-file.h"

#define WAIT_USEC (200 * 1000)

static int connect_bus(sd_bus **ret) {
        int r = bus_connect_system(ret);
        return r < 0 ? EXIT_UNAVAILABLE : 0;
}

static int fail_call(const char *what, const sd_bus_error *e, int r) {
        log_error("%s: %s", what, bus_error_message(e, r));
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                return EXIT_UNAVAILABLE;
        if (sd_bus_error_has_name(e, SD_BUS_ERROR_INVALID_ARGS))
                return EXIT_USAGE;
        return exit_code_from_errno(r);
}

static int resolve(sd_bus *bus, const char *id, char **ret_path, int *ret_exit) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, ZONES_BUS_NAME, ZONES_PATH, ZONES_BUS_NAME, "GetZone", &error, &reply, "s", id);
        if (r < 0) {
                *ret_exit = fail_call("Cannot find zone", &error, r);
                return r;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        *ret_path = strdup(path);
        return *ret_path ? 0 : -ENOMEM;
}

static int get_string(sd_bus *bus, const char *path, const char *prop, char **ret) {
        return sd_bus_get_property_string(bus, ZONES_BUS_NAME, path, ZONE_INTERFACE, prop, NULL, ret);
}

/* ---- launch ---- */

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

static int on_zone_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        *(bool *) userdata = true;
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
                r = sd_bus_match_signal(bus, &removed, ZONES_BUS_NAME, ZONES_PATH, ZONES_BUS_NAME, "ZoneRemoved", on_zone_changed,
                                        &woken);
        if (r < 0)
                return log_error_errno(r, "Cannot follow the zone: %m");

        for (;;) {
                _cleanup_free_ char *state = NULL, *status = NULL;
                _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;

                if (woken) {
                        woken = false;
                        r = sd_bus_get_property_string(bus, ZONES_BUS_NAME, path, ZONE_INTERFACE, "State", &error, &state);
                        if (r < 0) {
                                /* an auto-removed zone disappears when it ends */
                                if (sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_OBJECT))
                                        *ret_state = strdup("removed");
                                else
                                        return log_error_errno(r, "Lost the zone: %s", bus_error_message(&error, r));
                                return *ret_state ? 0 : -ENOMEM;
                        }
                        if (streq(state, "exited") || streq(state, "failed") ||
                            (!until_end && (streq(state, "running") || streq(state, "stopping")))) {
                                *ret_state = TAKE_PTR(state);
                                return 0;
                        }
                        if (get_string(bus, path, "Status", &status) >= 0 && !isempty(status) &&
                            !streq_ptr(status, last_status)) {
                                if (arg_output == OUTPUT_TABLE)
                                        fprintf(stderr, "%s\n", status);
                                free(last_status);
                                last_status = TAKE_PTR(status);
                        }
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

        (void) get_string(bus, path, "Error", &error);
        (void) get_string(bus, path, "Result", &result);
        log_error("Zone %s failed: %s", name, isempty(error) ? "(no reason given)" : error);
        if (streq_ptr(result, "no-hypervisor"))
                return EXIT_UNAVAILABLE;
        return EXIT_FAILURE_GENERIC;
}

static int verb_launch(int argc, char *argv[]) {
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
        _cleanup_strv_free_ char **env = NULL, **ports = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_bus_message_ sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *state = NULL, *name = NULL;
        const char *arg_name = "", *kernel = NULL, *cwd = NULL, *user = NULL, *path;
        uint64_t memory = 0;
        unsigned vcpus = 0;
        bool attach = false, tty = false, rm = false;
        int c, r, n_opts;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+n:ate:p:m:c:k:w:u:h", options, NULL)) >= 0)
                switch (c) {
                case 'n':
                        if (!zone_name_is_valid(optarg)) {
                                log_error("Invalid zone name '%s': use [a-z0-9][a-z0-9-]{0,62}.", optarg);
                                return EXIT_USAGE;
                        }
                        arg_name = optarg;
                        break;
                case 'a':
                        attach = true;
                        break;
                case 't':
                        tty = true;
                        break;
                case 'e':
                        if (!zone_env_is_valid(optarg)) {
                                log_error("-e wants KEY=VALUE, got '%s'.", optarg);
                                return EXIT_USAGE;
                        }
                        if (strv_extend(&env, optarg) < 0)
                                return log_oom(), EXIT_FAILURE_GENERIC;
                        break;
                case 'p': {
                        ZonePort p;
                        if (zone_port_parse(optarg, &p) < 0) {
                                log_error("-p wants HOST:ZONE[/tcp|/udp], got '%s'.", optarg);
                                return EXIT_USAGE;
                        }
                        if (strv_extend(&ports, optarg) < 0)
                                return log_oom(), EXIT_FAILURE_GENERIC;
                        break;
                }
                case 'm':
                        if (parse_size(optarg, &memory) < 0 || memory < ZONE_MEMORY_MIN) {
                                log_error("-m wants a size of at least 32M (e.g. 512M, 2G), got '%s'.", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'c':
                        if (safe_atou(optarg, &vcpus) < 0 || vcpus < 1 || vcpus > ZONE_VCPUS_MAX) {
                                log_error("-c wants a vCPU count (1..%u), got '%s'.", ZONE_VCPUS_MAX, optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'k':
                        kernel = optarg;
                        break;
                case 'w':
                        if (optarg[0] != '/') {
                                log_error("-w wants an absolute path, got '%s'.", optarg);
                                return EXIT_USAGE;
                        }
                        cwd = optarg;
                        break;
                case 'u':
                        user = optarg;
                        break;
                case ARG_RM:
                        rm = true;
                        break;
                case 'h':
                        printf("kratactl zone launch [-n NAME] [-a] [-t] [-e K=V]... [-p HOST:ZONE[/udp]]...\n"
                               "                     [-m MEM] [-c VCPUS] [-k KERNEL_REF] [-w DIR] [-u USER] [--rm]\n"
                               "                     IMAGE [CMD...]\n");
                        return EXIT_OK;
                default:
                        return EXIT_USAGE;
                }
        if (optind >= argc) {
                log_error("'zone launch' needs an IMAGE.");
                return EXIT_USAGE;
        }
        if (connect_bus(&bus) != 0)
                return EXIT_UNAVAILABLE;

        r = sd_bus_message_new_method_call(bus, &m, ZONES_BUS_NAME, ZONES_PATH, ZONES_BUS_NAME, "CreateZone");
        if (r < 0)
                goto bad;
        r = sd_bus_message_append(m, "ss", arg_name, argv[optind]);
        if (r < 0)
                goto bad;
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                goto bad;
        n_opts = 0;
        if (memory)
                r = sd_bus_message_append(m, "{sv}", ZONE_OPT_MEMORY, "t", memory), n_opts++;
        if (r >= 0 && vcpus)
                r = sd_bus_message_append(m, "{sv}", ZONE_OPT_VCPUS, "u", vcpus);
        if (r >= 0 && kernel)
                r = sd_bus_message_append(m, "{sv}", ZONE_OPT_KERNEL, "s", kernel);
        if (r >= 0 && cwd)
                r = sd_bus_message_append(m, "{sv}", ZONE_OPT_WORKING_DIRECTORY, "s", cwd);
        if (r >= 0 && user)
                r = sd_bus_message_append(m, "{sv}", ZONE_OPT_USER, "s", user);
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", ZONE_OPT_TTY, "b", tty);
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", ZONE_OPT_AUTO_REMOVE, "b", rm);
        if (r >= 0 && optind + 1 < argc)
                r = append_strv_option(m, ZONE_OPT_COMMAND, argv + optind + 1);
        if (r >= 0)
                r = append_strv_option(m, ZONE_OPT_ENVIRONMENT, env);
        if (r >= 0)
                r = append_strv_option(m, ZONE_OPT_PORTS, ports);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                goto bad;
        (void) n_opts;
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return fail_call("Cannot create the zone", &error, r);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                goto bad;
        if (get_string(bus, path, "Name", &name) < 0)
                name = strdup(arg_name);

        r = wait_zone(bus, path, false, &state);
        if (r < 0)
                return EXIT_FAILURE_GENERIC;
        if (streq(state, "failed"))
                return report_failure(bus, path, name);
        if (!attach) {
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
        free(state);
        state = NULL;
        r = wait_zone(bus, path, true, &state);
        if (r < 0)
                return EXIT_FAILURE_GENERIC;
        if (streq(state, "failed"))
                return report_failure(bus, path, name);
        if (streq(state, "removed"))
                return EXIT_OK; /* --rm zones vanish; their status went with them */
        {
                int32_t status = -1;
                if (sd_bus_get_property_trivial(bus, ZONES_BUS_NAME, path, ZONE_INTERFACE, "ExitStatus", NULL, 'i', &status) < 0 ||
                    status < 0)
                        return EXIT_FAILURE_GENERIC;
                return status;
        }
bad:
        log_error_errno(r, "Failed to build the request: %m");
        return EXIT_FAILURE_GENERIC;
}

/* ---- list ---- */

/* Domains no zone accounts for are reported, never hidden (stderr: the
 * table or JSON on stdout stays clean). */
static void warn_orphans(sd_bus *bus) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        const char *uuid, *reason;
        uint32_t domid;

        if (sd_bus_call_method(bus, ZONES_BUS_NAME, ZONES_PATH, ZONES_BUS_NAME, "ListOrphans", NULL, &reply, NULL) < 0)
                return;
        if (sd_bus_message_enter_container(reply, 'a', "(uss)") < 0)
                return;
        while (sd_bus_message_read(reply, "(uss)", &domid, &uuid, &reason) > 0)
                log_warning("Domain %u (handle %s): %s.", domid, uuid, reason);
}

static int verb_list(int argc, char *argv[]) {
        static const TableColumn columns[] = {
                { "name", "NAME", COLUMN_STRING },
                { "uuid", "UUID", COLUMN_STRING },
                { "state", "STATE", COLUMN_STRING },
                { "domid", "DOMID", COLUMN_STRING },
                { "image", "IMAGE", COLUMN_STRING },
        };
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_table_ Table *t = table_new(columns, ELEMENTSOF(columns));
        const char *name, *uuid, *state, *image, *path;
        uint32_t domid;
        int r;

        if (!t)
                return EXIT_FAILURE_GENERIC;
        if (connect_bus(&bus) != 0)
                return EXIT_UNAVAILABLE;
        r = sd_bus_call_method(bus, ZONES_BUS_NAME, ZONES_PATH, ZONES_BUS_NAME, "ListZones", &error, &reply, NULL);
        if (r < 0)
                return fail_call("Cannot list zones", &error, r);
        r = sd_bus_message_enter_container(reply, 'a', "(ssssuo)");
        if (r < 0)
                return EXIT_FAILURE_GENERIC;
        while ((r = sd_bus_message_read(reply, "(ssssuo)", &name, &uuid, &state, &image, &domid, &path)) > 0) {
                json_object *row = json_object_new_object();
                json_object_object_add(row, "name", json_object_new_string(name));
                json_object_object_add(row, "uuid", json_object_new_string(uuid));
                json_object_object_add(row, "state", json_object_new_string(state));
                if (domid > 0)
                        json_object_object_add(row, "domid", json_object_new_int64(domid));
                json_object_object_add(row, "image", json_object_new_string(image));
                if (table_add_row(t, row) < 0)
                        return EXIT_FAILURE_GENERIC;
        }
        if (r < 0)
                return EXIT_FAILURE_GENERIC;
        r = table_print(t, arg_output) < 0 ? EXIT_FAILURE_GENERIC : EXIT_OK;
        warn_orphans(bus);
        return r;
}

/* ---- inspect ---- */

static json_object *variant_to_json(sd_bus_message *m) {
        const char *contents;
        char type;
        json_object *o = NULL;

        if (sd_bus_message_peek_type(m, &type, &contents) <= 0)
                return NULL;
        if (sd_bus_message_enter_container(m, 'v', contents) < 0)
                return NULL;
        if (streq(contents, "s")) {
                const char *s;
                if (sd_bus_message_read(m, "s", &s) >= 0)
                        o = json_object_new_string(s);
        } else if (streq(contents, "u")) {
                uint32_t u;
                if (sd_bus_message_read(m, "u", &u) >= 0)
                        o = json_object_new_int64(u);
        } else if (streq(contents, "i")) {
                int32_t i;
                if (sd_bus_message_read(m, "i", &i) >= 0)
                        o = json_object_new_int64(i);
        } else if (streq(contents, "t")) {
                uint64_t t;
                if (sd_bus_message_read(m, "t", &t) >= 0)
                        o = json_object_new_uint64(t);
        } else if (streq(contents, "b")) {
                int b;
                if (sd_bus_message_read(m, "b", &b) >= 0)
                        o = json_object_new_boolean(b);
        } else if (streq(contents, "as")) {
                char **l = NULL;
                if (sd_bus_message_read_strv(m, &l) >= 0) {
                        o = json_object_new_array();
                        STRV_FOREACH(x, l)
                                json_object_array_add(o, json_object_new_string(*x));
                        strv_free(l);
                }
        } else
                (void) sd_bus_message_skip(m, contents);
        (void) sd_bus_message_exit_container(m);
        return o;
}

static int zone_properties(sd_bus *bus, const char *path, json_object **ret) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_json_ json_object *o = json_object_new_object();
        const char *key;
        int r;

        r = sd_bus_call_method(bus, ZONES_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll", &error, &reply, "s",
                               ZONE_INTERFACE);
        if (r < 0)
                return fail_call("Cannot read the zone", &error, r);
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return EXIT_FAILURE_GENERIC;
        while (sd_bus_message_enter_container(reply, 'e', "sv") > 0) {
                json_object *v;
                if (sd_bus_message_read(reply, "s", &key) < 0)
                        return EXIT_FAILURE_GENERIC;
                v = variant_to_json(reply);
                if (v)
                        json_object_object_add(o, key, v);
                (void) sd_bus_message_exit_container(reply);
        }
        *ret = TAKE_PTR(o);
        return 0;
}

static int verb_inspect(int argc, char *argv[]) {
        _cleanup_bus_ sd_bus *bus = NULL;
        int ret = EXIT_OK;

        if (connect_bus(&bus) != 0)
                return EXIT_UNAVAILABLE;
        for (int i = 1; i < argc; i++) {
                _cleanup_free_ char *path = NULL;
                _cleanup_json_ json_object *o = NULL;
                int ex = EXIT_OK, r;

                if (resolve(bus, argv[i], &path, &ex) < 0) {
                        ret = ex;
                        continue;
                }
                r = zone_properties(bus, path, &o);
                if (r != 0) {
                        ret = r;
                        continue;
                }
                if (arg_output == OUTPUT_JSON)
                        json_print(stdout, o, true);
                else {
                        json_object_object_foreach(o, k, v) {
                                const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                        : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
                                printf("%16s: %s\n", k, s);
                        }
                        if (i + 1 < argc)
                                printf("\n");
                }
        }
        return ret;
}

/* ---- stop / destroy ---- */

static int verb_stop_destroy(int argc, char *argv[]) {
        bool destroy = streq(argv[0], "destroy"), kill_now = false;
        _cleanup_bus_ sd_bus *bus = NULL;
        int ret = EXIT_OK, first = 1;

        if (argc > 1 && (streq(argv[1], "--kill") || streq(argv[1], "-k")) && !destroy) {
                kill_now = true;
                first = 2;
        }
        if (first >= argc) {
                log_error("'zone %s' needs a zone name or UUID.", argv[0]);
                return EXIT_USAGE;
        }
        if (connect_bus(&bus) != 0)
                return EXIT_UNAVAILABLE;
        for (int i = first; i < argc; i++) {
                _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_free_ char *path = NULL, *name = NULL;
                int ex = EXIT_OK, r;

                if (resolve(bus, argv[i], &path, &ex) < 0) {
                        ret = ex;
                        continue;
                }
                if (get_string(bus, path, "Name", &name) < 0) {
                        ret = EXIT_NOT_FOUND;
                        continue;
                }
                r = sd_bus_call_method(bus, ZONES_BUS_NAME, ZONES_PATH, ZONES_BUS_NAME,
                                       destroy ? "DestroyZone" : kill_now ? "KillZone" : "StopZone", &error, NULL,
                                       "s", name);
                if (r < 0) {
                        ret = fail_call(destroy ? "Cannot destroy the zone" : "Cannot stop the zone", &error, r);
                        continue;
                }
                if (destroy) {
                        /* The zone goes once its supervisor has torn everything down. */
                        for (unsigned t = 0; t < 300; t++) {
                                _cleanup_free_ char *st = NULL;
                                struct timespec pause = { 0, WAIT_USEC * 1000 };
                                if (get_string(bus, path, "State", &st) < 0)
                                        break;
                                nanosleep(&pause, NULL);
                        }
                }
        }
        return ret;
}

/* ---- watch ---- */

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *member = sd_bus_message_get_member(m), *path = sd_bus_message_get_path(m);
        _cleanup_json_ json_object *o = json_object_new_object();
        time_t now = time(NULL);
        char when[32];

        strftime(when, sizeof when, "%H:%M:%S", localtime(&now));
        if (streq(member, "ZoneNew") || streq(member, "ZoneRemoved")) {
                const char *name, *p;
                if (sd_bus_message_read(m, "so", &name, &p) < 0)
                        return 0;
                json_object_object_add(o, "event", json_object_new_string(streq(member, "ZoneNew") ? "new" : "removed"));
                json_object_object_add(o, "zone", json_object_new_string(name));
        } else {
                const char *iface;
                _cleanup_free_ char *name = NULL;
                if (sd_bus_message_read(m, "s", &iface) < 0 || !streq(iface, ZONE_INTERFACE))
                        return 0;
                if (sd_bus_path_decode(path, ZONE_PATH_PREFIX, &name) <= 0)
                        return 0;
                json_object_object_add(o, "event", json_object_new_string("changed"));
                json_object_object_add(o, "zone", json_object_new_string(name));
                if (sd_bus_message_enter_container(m, 'a', "{sv}") >= 0) {
                        const char *key;
                        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                                json_object *v;
                                if (sd_bus_message_read(m, "s", &key) < 0)
                                        break;
                                v = variant_to_json(m);
                                if (v)
                                        json_object_object_add(o, key, v);
                                (void) sd_bus_message_exit_container(m);
                        }
                }
        }
        if (arg_output == OUTPUT_JSON)
                json_print(stdout, o, false);
        else {
                printf("%s", when);
                json_object_object_foreach(o, k, v)
                        printf(" %s=%s", k, json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                printf("\n");
        }
        fflush(stdout);
        return 0;
}

static int verb_watch(int argc, char *argv[]) {
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (connect_bus(&bus) != 0)
                return EXIT_UNAVAILABLE;
        /* Activate zoned so its signals flow. */
        r = sd_bus_call_method(bus, ZONES_BUS_NAME, ZONES_PATH, ZONES_BUS_NAME, "ListZones", &error, NULL, NULL);
        if (r < 0)
                return fail_call("Cannot reach krata-zoned", &error, r);
        if (sd_bus_match_signal(bus, NULL, NULL, ZONES_PATH, ZONES_BUS_NAME, "ZoneNew", on_signal, NULL) < 0 ||
            sd_bus_match_signal(bus, NULL, NULL, ZONES_PATH, ZONES_BUS_NAME, "ZoneRemoved", on_signal, NULL) < 0 ||
            sd_bus_add_match(bus, NULL,
                             "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                             "path_namespace='/org/krata/zone'",
                             on_signal, NULL) < 0)
                return EXIT_FAILURE_GENERIC;
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return log_error_errno(r, "Bus connection lost: %m"), EXIT_UNAVAILABLE;
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0)
                        return EXIT_FAILURE_GENERIC;
        }
}

int verb_zone(int argc, char *argv[]) {
        static const Verb verbs[] = {
                { "launch", 2, -1, verb_launch, "[OPTIONS] IMAGE [CMD...]  launch a zone" },
                { "list", 1, 1, verb_list, "list zones" },
                { "inspect", 2, -1, verb_inspect, "NAME|UUID...  show a zone's properties" },
                { "stop", 2, -1, verb_stop_destroy, "[--kill] NAME|UUID...  stop zones" },
                { "destroy", 2, -1, verb_stop_destroy, "NAME|UUID...  stop and remove zones" },
                { "attach", 2, -1, verb_zone_attach, "[-r] [-H] NAME  attach the terminal to a zone's console (Ctrl+] detaches)" },
                { "logs", 2, -1, verb_zone_logs, "[-f] NAME  print a zone's console log" },
                { "watch", 1, 1, verb_watch, "print zone changes as they happen" },
                {}
        };
        return dispatch_verb("zone", verbs, argc, argv);
}
