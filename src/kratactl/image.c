/* SPDX-License-Identifier: Apache-2.0 */
/* kratactl image: a client of org.krata.Images1 (see krata-imaged(8)). */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus-util.h"
#include "image-pull.h"
#include "json-util.h"
#include "kratactl.h"
#include "log.h"
#include "string-util.h"
#include "table.h"

typedef struct PullView {
        const char *reference;
        bool tty, started;
        int last_percent;
        char last_phase[32];
} PullView;

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
        interrupted = 1;
}

static bool pull_interrupted(void *userdata) {
        return interrupted;
}

/* A bar on a terminal; else one line per phase and per 25% step. */
static void show_progress(const ImagePullProgress *p, void *userdata) {
        PullView *v = userdata;
        char a[16], b[16];
        int pct = p->bytes_total ? (int) (p->bytes_done * 100 / p->bytes_total) : 0;

        if (!v->started) {
                /* From now on Ctrl+C cancels the transfer instead of leaving it running. */
                struct sigaction sa = { .sa_handler = on_sigint };
                (void) sigaction(SIGINT, &sa, NULL);
                (void) sigaction(SIGTERM, &sa, NULL);
                v->started = true;
                if (!v->tty)
                        fprintf(stderr, "Pulling %s (transfer %" PRIu32 ")\n", v->reference, p->transfer_id);
                return;
        }
        if (v->tty) {
                int bars = pct * 30 / 100;
                fprintf(stderr, "\r%-12s [%.*s%*s] %3d%% %s/%s   ", p->phase, bars,
                        "##############################", 30 - bars, "", pct,
                        format_size(a, sizeof a, p->bytes_done), format_size(b, sizeof b, p->bytes_total));
                fflush(stderr);
                return;
        }
        if (!streq(p->phase, v->last_phase)) {
                fprintf(stderr, "%s\n", p->phase);
                snprintf(v->last_phase, sizeof v->last_phase, "%s", p->phase);
                v->last_percent = -1;
        }
        if (p->bytes_total && pct / 25 != v->last_percent / 25 && pct > 0) {
                fprintf(stderr, "%s %d%% %s/%s\n", p->phase, pct, format_size(a, sizeof a, p->bytes_done),
                        format_size(b, sizeof b, p->bytes_total));
                v->last_percent = pct;
        }
}

static int print_pulled(const char *reference, const PulledImage *img) {
        _cleanup_json_ json_object *o = json_object_new_object();
        char buf[16];

        if (!o)
                return log_oom(), EXIT_FAILURE_GENERIC;
        if (arg_output == OUTPUT_JSON) {
                json_object_object_add(o, "reference", json_object_new_string(reference));
                json_object_object_add(o, "digest", json_object_new_string(img->digest));
                json_object_object_add(o, "path", json_object_new_string(img->path));
                json_object_object_add(o, "size", json_object_new_uint64(img->size));
                if (img->platform)
                        json_object_object_add(o, "platform", json_object_new_string(img->platform));
                return json_print(stdout, o, true) < 0 ? EXIT_FAILURE_GENERIC : EXIT_OK;
        }
        printf("%s\n  digest: %s\n  path:   %s\n  size:   %s\n", reference, img->digest, img->path,
               format_size(buf, sizeof buf, img->size));
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
        _cleanup_(pulled_image_done) PulledImage img = {};
        _cleanup_bus_ sd_bus *bus = NULL;
        PullView view = { .last_percent = -1, .tty = isatty(STDERR_FILENO) };
        ImagePullOptions opts = {
                .progress = show_progress,
                .poll = pull_interrupted,
                .cancel_transfer = true,
                .userdata = &view,
        };
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_PLATFORM:
                        opts.platform = optarg;
                        break;
                case ARG_FORCE:
                        opts.flags |= IMAGES_PULL_FORCE;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind != argc - 1) {
                log_error("Usage: kratactl image pull [--platform=OS/ARCH[/VARIANT]] [--force] REFERENCE");
                return EXIT_USAGE;
        }
        view.reference = argv[optind];

        r = connect_bus(&bus);
        if (r != EXIT_OK)
                return r;
        r = image_pull(bus, view.reference, &opts, &img, &error);
        if (view.tty && view.started)
                fputc('\n', stderr);
        if (r < 0)
                return call_failed(NULL, &error, r);
        return print_pulled(view.reference, &img);
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
                flags |= IMAGES_PRUNE_ALL_BLOBS;
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
        assert(argv);

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
