/* SPDX-License-Identifier: Apache-2.0 */
/* kratactl zone: list, inspect, stop, destroy, watch (launch is launch.c,
 * attach and logs come from console.c). A pure client of org.krata.Zones1. */
#include <assert.h>
#include <errno.h>
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

#define WAIT_USEC (200 * 1000)

static int resolve(sd_bus *bus, const char *id, char **ret_path, int *ret_exit) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, ZONES_BUS_NAME, ZONES_PATH, ZONES_INTERFACE, "GetZone", &error, &reply, "s", id);
        if (r < 0) {
                *ret_exit = call_failed("Cannot find zone", &error, r);
                return r;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        *ret_path = strdup(path);
        return *ret_path ? 0 : -ENOMEM;
}

int zone_property_string(sd_bus *bus, const char *path, const char *property, char **ret) {
        assert(bus);
        assert(path);
        assert(property);
        assert(ret);

        return sd_bus_get_property_string(bus, ZONES_BUS_NAME, path, ZONE_INTERFACE, property, NULL, ret);
}

/* ---- list ---- */

/* Domains no zone accounts for are reported, never hidden (stderr: the
 * table or JSON on stdout stays clean). */
static void warn_orphans(sd_bus *bus) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        const char *uuid, *reason;
        uint32_t domid;

        if (sd_bus_call_method(bus, ZONES_BUS_NAME, ZONES_PATH, ZONES_INTERFACE, "ListOrphans", NULL, &reply, NULL) < 0)
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
        r = sd_bus_call_method(bus, ZONES_BUS_NAME, ZONES_PATH, ZONES_INTERFACE, "ListZones", &error, &reply, NULL);
        if (r < 0)
                return call_failed("Cannot list zones", &error, r);
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
                return call_failed("Cannot read the zone", &error, r);
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
                if (zone_property_string(bus, path, "Name", &name) < 0) {
                        ret = EXIT_NOT_FOUND;
                        continue;
                }
                r = sd_bus_call_method(bus, ZONES_BUS_NAME, ZONES_PATH, ZONES_INTERFACE,
                                       destroy ? "DestroyZone" : kill_now ? "KillZone" : "StopZone", &error, NULL,
                                       "s", name);
                if (r < 0) {
                        ret = call_failed(destroy ? "Cannot destroy the zone" : "Cannot stop the zone", &error, r);
                        continue;
                }
                if (destroy) {
                        /* The zone goes once its supervisor has torn everything down. */
                        for (unsigned t = 0; t < 300; t++) {
                                _cleanup_free_ char *st = NULL;
                                struct timespec pause = { 0, WAIT_USEC * 1000 };
                                if (zone_property_string(bus, path, "State", &st) < 0)
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
        r = sd_bus_call_method(bus, ZONES_BUS_NAME, ZONES_PATH, ZONES_INTERFACE, "ListZones", &error, NULL, NULL);
        if (r < 0)
                return call_failed("Cannot reach krata-zoned", &error, r);
        if (sd_bus_match_signal(bus, NULL, NULL, ZONES_PATH, ZONES_INTERFACE, "ZoneNew", on_signal, NULL) < 0 ||
            sd_bus_match_signal(bus, NULL, NULL, ZONES_PATH, ZONES_INTERFACE, "ZoneRemoved", on_signal, NULL) < 0 ||
            sd_bus_add_match(bus, NULL,
                             "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                             "path_namespace='" ZONE_PATH_PREFIX "'",
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
        assert(argv);

        static const Verb verbs[] = {
                { "launch", 2, -1, verb_zone_launch, "[OPTIONS] IMAGE [CMD...]  launch a zone" },
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
