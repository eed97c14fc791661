/* SPDX-License-Identifier: Apache-2.0 */
/* kratactl image: a client of org.krata.Images1 (see krata-imaged(8)). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus-util.h"
#include "json-util.h"
#include "kratactl.h"
#include "log.h"
#include "string-util.h"
#include "table.h"


static int connect_bus(sd_bus **ret) {
        int r = bus_connect_system(ret);
        return r < 0 ? exit_code_from_errno(-EHOSTDOWN) : 0;
}

/* Prints the bus error and maps it to an exit code. */
static int call_failed(const char *what, const sd_bus_error *error, int r) {
        log_error("%s: %s", what, bus_error_message(error, r));
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
            sd_bus_error_has_name(error, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                return EXIT_UNAVAILABLE;
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED))
                return EXIT_DENIED;
        return exit_code_from_errno(sd_bus_error_get_errno(error) ?: r);
}

typedef struct PullWatch {
        const char *path;
        uint32_t id;
        char phase[32];
        uint64_t done, total;
        char *error;
        char result[16];
        bool tty;
        int last_percent;
        char last_phase[32];
        bool daemon_gone;
} PullWatch;

static void show_progress(PullWatch *w) {
        char a[16], b[16];
        int pct = w->total ? (int) (w->done * 100 / w->total) : 0;

        if (w->tty) {
                int bars = pct * 30 / 100;
                fprintf(stderr, "\r%-12s [%.*s%*s] %3d%% %s/%s   ", w->phase, bars,
                        "##############################", 30 - bars, "", pct,
                        format_size(a, sizeof a, w->done), format_size(b, sizeof b, w->total));
                fflush(stderr);
                return;
        }
        /* Plain lines: one per phase and per 25% step. */
        if (!streq(w->phase, w->last_phase)) {
                fprintf(stderr, "%s\n", w->phase);
                snprintf(w->last_phase, sizeof w->last_phase, "%s", w->phase);
                w->last_percent = -1;
        }
        if (w->total && pct / 25 != w->last_percent / 25 && pct > 0) {
                fprintf(stderr, "%s %d%% %s/%s\n", w->phase, pct, format_size(a, sizeof a, w->done),
                        format_size(b, sizeof b, w->total));
                w->last_percent = pct;
        }
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PullWatch *w = userdata;
        const char *iface;
        int r;

        if (!w->path || !streq_ptr(sd_bus_message_get_path(m), w->path))
                return 0;
        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0 || !streq(iface, IMAGES_TRANSFER_INTERFACE))
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return 0;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *s;
                uint64_t t;

                if (sd_bus_message_read(m, "s", &name) < 0)
                        return 0;
                if (streq(name, "Phase") && sd_bus_message_read(m, "v", "s", &s) >= 0)
                        snprintf(w->phase, sizeof w->phase, "%s", s);
                else if (streq(name, "Error") && sd_bus_message_read(m, "v", "s", &s) >= 0) {
                        free(w->error);
                        w->error = isempty(s) ? NULL : strdup(s);
                } else if (streq(name, "BytesDone") && sd_bus_message_read(m, "v", "t", &t) >= 0)
                        w->done = t;
                else if (streq(name, "BytesTotal") && sd_bus_message_read(m, "v", "t", &t) >= 0)
                        w->total = t;
                else if (sd_bus_message_skip(m, "v") < 0)
                        return 0;
                if (sd_bus_message_exit_container(m) < 0)
                        return 0;
        }
        if (!streq(w->phase, "done") && !streq(w->phase, "failed") && !streq(w->phase, "canceled"))
                show_progress(w);
        return 0;
}

static int on_transfer_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PullWatch *w = userdata;
        const char *path, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uos", &id, &path, &result) < 0)
                return 0;
        if (w->path && streq(path, w->path))
                snprintf(w->result, sizeof w->result, "%s", result);
        return 0;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PullWatch *w = userdata;
        const char *name, *old, *new;

        if (sd_bus_message_read(m, "sss", &name, &old, &new) >= 0 && streq(name, IMAGES_BUS_NAME) &&
            isempty(new) && w->path)
                w->daemon_gone = true;
        return 0;
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
        interrupted = 1;
}

static int print_pulled(sd_bus *bus, const char *reference) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_json_ json_object *o = NULL, *out = NULL;
        json_object *v;
        const char *json;
        char buf[16];
        int r;

        r = sd_bus_call_method(bus, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE, "InspectImage", &error, &reply, "s",
                               reference);
        if (r < 0)
                return call_failed("Failed to inspect the pulled image", &error, r);
        if (sd_bus_message_read(reply, "s", &json) < 0 ||
            json_parse_bounded(json, strlen(json), 64u << 20, true, &o) < 0)
                return log_error("krata-imaged sent a malformed answer."), EXIT_FAILURE_GENERIC;
        out = json_object_new_object();
        if (!out)
                return log_oom(), EXIT_FAILURE_GENERIC;
        json_object_object_add(out, "reference", json_object_new_string(reference));
        static const char *const keys[] = { "digest", "path", "size", "platform" };
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (json_object_object_get_ex(o, keys[i], &v))
                        json_object_object_add(out, keys[i], json_object_get(v));
        if (arg_output == OUTPUT_JSON)
                return json_print(stdout, out, true) < 0 ? EXIT_FAILURE_GENERIC : EXIT_OK;
        json_object_object_get_ex(out, "size", &v);
        printf("%s\n  digest: %s\n  path:   %s\n  size:   %s\n", reference,
               json_object_get_string(json_object_object_get(out, "digest")),
               json_object_get_string(json_object_object_get(out, "path")),
               format_size(buf, sizeof buf, (uint64_t) json_object_get_int64(v)));
        return EXIT_OK;
}

static int verb_pull(int argc, char *argv[]) {
        enum { ARG_PLATFORM = 0x100, ARG_FORCE };
        static const struct option options[] = {
                { "platform", required_argument, NULL, ARG_PLATFORM },
                { "force", no_argument, NULL, ARG_FORCE },
                {}
        };
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        const char *platform = NULL, *path;
        uint64_t flags = 0;
        PullWatch w = { .last_percent = -1 };
        bool cancel_sent = false;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_PLATFORM:
                        platform = optarg;
                        break;
                case ARG_FORCE:
                        flags |= 1;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc - 1) {
                log_error("Usage: kratactl image pull [--platform=OS/ARCH[/VARIANT]] [--force] REFERENCE");
                return EXIT_USAGE;
        }
        const char *ref = argv[optind];

        r = connect_bus(&bus);
        if (r != 0)
                return r;
        /* Subscribe before asking, so no signal of a quick pull is missed. */
        if (sd_bus_match_signal(bus, NULL, IMAGES_BUS_NAME, NULL, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged", on_properties_changed, &w) < 0 ||
            sd_bus_match_signal(bus, NULL, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE, "TransferRemoved",
                                on_transfer_removed, &w) < 0 ||
            sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                "NameOwnerChanged", on_name_owner_changed, &w) < 0)
                return log_error("Failed to subscribe to krata-imaged's signals."), EXIT_FAILURE_GENERIC;

        if (platform)
                r = sd_bus_call_method(bus, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE, "PullPlatform", &error, &reply,
                                       "sst", ref, platform, flags);
        else
                r = sd_bus_call_method(bus, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE, "Pull", &error, &reply, "st",
                                       ref, flags);
        if (r < 0)
                return call_failed("Failed to pull", &error, r);
        if (sd_bus_message_read(reply, "uo", &w.id, &path) < 0)
                return log_error("krata-imaged sent a malformed answer."), EXIT_FAILURE_GENERIC;
        w.path = path;
        w.tty = isatty(STDERR_FILENO);
        if (!w.tty)
                fprintf(stderr, "Pulling %s (transfer %" PRIu32 ")\n", ref, w.id);
        snprintf(w.phase, sizeof w.phase, "resolving");

        struct sigaction sa = { .sa_handler = on_sigint };
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);

        while (!w.result[0] && !w.daemon_gone) {
                if (interrupted && !cancel_sent) {
                        _cleanup_bus_error_ sd_bus_error e2 = SD_BUS_ERROR_NULL;
                        cancel_sent = true;
                        (void) sd_bus_call_method(bus, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE, "CancelTransfer",
                                                  &e2, NULL, "u", w.id);
                }
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return log_error("Lost the bus connection: %s", strerror(-r)), EXIT_FAILURE_GENERIC;
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, 500 * 1000);
                if (r < 0 && r != -EINTR)
                        return log_error("Lost the bus connection: %s", strerror(-r)), EXIT_FAILURE_GENERIC;
        }
        if (w.tty)
                fputc('\n', stderr);
        if (w.daemon_gone && !w.result[0]) {
                log_error("krata-imaged exited while pulling %s.", ref);
                free(w.error);
                return EXIT_UNAVAILABLE;
        }
        if (streq(w.result, "done")) {
                free(w.error);
                return print_pulled(bus, ref);
        }
        if (streq(w.result, "canceled"))
                log_error("Pull of %s canceled.", ref);
        else
                log_error("%s", w.error ?: "Pull failed (see krata-imaged's log).");
        free(w.error);
        return EXIT_FAILURE_GENERIC;
}

static int verb_list(int argc, char *argv[]) {
        static const TableColumn columns[] = {
                { "reference", "REFERENCE", COLUMN_STRING },
                { "digest", "DIGEST", COLUMN_STRING },
                { "platform", "PLATFORM", COLUMN_STRING },
                { "size", "SIZE", COLUMN_SIZE },
                { "created", "PULLED", COLUMN_TIMESTAMP },
                { "path", "PATH", COLUMN_STRING },
        };
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_table_ Table *t = table_new(columns, ELEMENTSOF(columns));
        const char *ref, *digest, *path, *platform;
        uint64_t size, created;
        int r;

        if (!t)
                return log_oom(), EXIT_FAILURE_GENERIC;
        r = connect_bus(&bus);
        if (r != 0)
                return r;
        r = sd_bus_call_method(bus, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE, "ListImages", &error, &reply, NULL);
        if (r < 0)
                return call_failed("Failed to list images", &error, r);
        r = sd_bus_message_enter_container(reply, 'a', "(sssstt)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sssstt)", &ref, &digest, &path, &platform, &size, &created)) > 0) {
                json_object *row = json_object_new_object();
                if (!row)
                        return log_oom(), EXIT_FAILURE_GENERIC;
                json_object_object_add(row, "reference", isempty(ref) ? NULL : json_object_new_string(ref));
                json_object_object_add(row, "digest", json_object_new_string(digest));
                json_object_object_add(row, "platform", json_object_new_string(platform));
                json_object_object_add(row, "size", json_object_new_uint64(size));
                json_object_object_add(row, "created", json_object_new_uint64(created));
                json_object_object_add(row, "path", json_object_new_string(path));
                if (table_add_row(t, row) < 0)
                        return log_oom(), EXIT_FAILURE_GENERIC;
        }
        if (r < 0)
                return log_error("krata-imaged sent a malformed answer."), EXIT_FAILURE_GENERIC;
        return table_print(t, arg_output) < 0 ? EXIT_FAILURE_GENERIC : EXIT_OK;
}

static int verb_inspect(int argc, char *argv[]) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_json_ json_object *o = NULL;
        const char *json;
        int r;

        r = connect_bus(&bus);
        if (r != 0)
                return r;
        r = sd_bus_call_method(bus, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE, "InspectImage", &error, &reply, "s",
                               argv[1]);
        if (r < 0)
                return call_failed("Failed to inspect image", &error, r);
        if (sd_bus_message_read(reply, "s", &json) < 0 ||
            json_parse_bounded(json, strlen(json), 64u << 20, true, &o) < 0)
                return log_error("krata-imaged sent a malformed answer."), EXIT_FAILURE_GENERIC;
        /* The record is JSON already: both output modes print it. */
        return json_print(stdout, o, true) < 0 ? EXIT_FAILURE_GENERIC : EXIT_OK;
}

static int verb_rm(int argc, char *argv[]) {
        _cleanup_bus_ sd_bus *bus = NULL;
        int r, ret = EXIT_OK;

        r = connect_bus(&bus);
        if (r != 0)
                return r;
        for (int i = 1; i < argc; i++) {
                _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
                r = sd_bus_call_method(bus, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE, "RemoveImage", &error, NULL,
                                       "st", argv[i], UINT64_C(0));
                if (r < 0) {
                        _cleanup_free_ char *what = strjoin("Failed to remove ", argv[i]);
                        ret = call_failed(what ?: argv[i], &error, r);
                }
        }
        return ret;
}

static int verb_prune(int argc, char *argv[]) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        uint64_t flags = 0, bytes;
        uint32_t images, blobs;
        char buf[16];
        int r;

        for (int i = 1; i < argc; i++) {
                if (!streq(argv[i], "--all")) {
                        log_error("Usage: kratactl image prune [--all]");
                        return EXIT_USAGE;
                }
                flags |= 1;
        }
        r = connect_bus(&bus);
        if (r != 0)
                return r;
        r = sd_bus_call_method(bus, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE, "Prune", &error, &reply, "t", flags);
        if (r < 0)
                return call_failed("Failed to prune", &error, r);
        if (sd_bus_message_read(reply, "uut", &images, &blobs, &bytes) < 0)
                return log_error("krata-imaged sent a malformed answer."), EXIT_FAILURE_GENERIC;
        if (arg_output == OUTPUT_JSON) {
                printf("{\"images\": %" PRIu32 ", \"blobs\": %" PRIu32 ", \"bytes\": %" PRIu64 "}\n", images, blobs, bytes);
                return EXIT_OK;
        }
        printf("Removed %" PRIu32 " images and %" PRIu32 " blobs, freed %s.\n", images, blobs,
               format_size(buf, sizeof buf, bytes));
        return EXIT_OK;
}

int verb_image(int argc, char *argv[]) {
        static const Verb verbs[] = {
                { "pull", 2, -1, verb_pull, "[--platform=OS/ARCH] [--force] REF  pull an image" },
                { "list", 1, 1, verb_list, "list pulled images" },
                { "inspect", 2, 2, verb_inspect, "IMAGE  show an image's record and OCI config" },
                { "rm", 2, -1, verb_rm, "IMAGE...  remove images" },
                { "prune", 1, 2, verb_prune, "[--all]  remove untagged images and unused blobs" },
                {}
        };
        return dispatch_verb("image", verbs, argc, argv);
}
