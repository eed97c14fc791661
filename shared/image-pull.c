/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image-pull.h"
#include "json-util.h"
#include "log.h"
#include "string-util.h"
#include "time-util.h"

/* InspectImage's answer: the image record and its OCI config (at most 8 MiB). */
#define INSPECT_MAX (16U << 20)
#define TRANSFER_ERROR_MAX 4096

typedef struct PullWatch {
        const char *reference;
        const ImagePullOptions *opts;
        char *owner;             /* krata-imaged's unique name, from Pull's reply */
        char *path;              /* the transfer's object path, from Pull's reply */
        ImagePullProgress progress; /* .phase points to phase */
        char phase[32];
        char *error;             /* the transfer's Error */
        char result[16];         /* TransferRemoved's: done, failed, canceled */
        bool daemon_gone;
} PullWatch;

static void pull_watch_done(PullWatch *w) {
        free(w->owner);
        free(w->path);
        free(w->error);
}

static void report_progress(PullWatch *w) {
        if (w->opts->progress)
                w->opts->progress(&w->progress, w->opts->userdata);
}

static int read_changed_property(PullWatch *w, sd_bus_message *m, const char *name) {
        const char *s;

        if (streq(name, "Phase")) {
                if (sd_bus_message_read(m, "v", "s", &s) < 0)
                        return -EBADMSG;
                snprintf(w->phase, sizeof w->phase, "%s", s);
        } else if (streq(name, "Error")) {
                if (sd_bus_message_read(m, "v", "s", &s) < 0)
                        return -EBADMSG;
                free(w->error);
                w->error = isempty(s) ? NULL : strndup(s, TRANSFER_ERROR_MAX);
        } else if (streq(name, "BytesDone"))
                return sd_bus_message_read(m, "v", "t", &w->progress.bytes_done);
        else if (streq(name, "BytesTotal"))
                return sd_bus_message_read(m, "v", "t", &w->progress.bytes_total);
        else if (streq(name, "Progress"))
                return sd_bus_message_read(m, "v", "d", &w->progress.progress);
        else
                return sd_bus_message_skip(m, "v");
        return 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PullWatch *w = userdata;
        const char *iface, *name;

        if (!w->path || !streq_ptr(sd_bus_message_get_path(m), w->path))
                return 0;
        if (sd_bus_message_read(m, "s", &iface) < 0 || !streq(iface, IMAGES_TRANSFER_INTERFACE))
                return 0;
        if (sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
                return 0;
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                if (sd_bus_message_read(m, "s", &name) < 0 || read_changed_property(w, m, name) < 0 ||
                    sd_bus_message_exit_container(m) < 0)
                        return 0;
        }
        if (!streq(w->phase, "done") && !streq(w->phase, "failed") && !streq(w->phase, "canceled"))
                report_progress(w);
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

/* Only the instance that took our Pull counts: an older one that was just
 * exiting when the call activated a new one does not. */
static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        PullWatch *w = userdata;
        const char *name, *old, *new;

        if (sd_bus_message_read(m, "sss", &name, &old, &new) >= 0 && streq(name, IMAGES_BUS_NAME) &&
            w->owner && streq(old, w->owner) && isempty(new))
                w->daemon_gone = true;
        return 0;
}

static int subscribe(sd_bus *bus, PullWatch *w, sd_bus_slot *slots[static 3]) {
        int r;

        r = sd_bus_add_match(bus, &slots[0],
                             "type='signal',sender='" IMAGES_BUS_NAME "',interface='org.freedesktop.DBus.Properties',"
                             "member='PropertiesChanged',path_namespace='" IMAGES_TRANSFER_PATH_PREFIX "'",
                             on_properties_changed, w);
        if (r >= 0)
                r = sd_bus_match_signal(bus, &slots[1], IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE,
                                        "TransferRemoved", on_transfer_removed, w);
        if (r >= 0)
                r = sd_bus_add_match(bus, &slots[2],
                                     "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                     "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                                     "arg0='" IMAGES_BUS_NAME "'",
                                     on_name_owner_changed, w);
        return r;
}

/* Keeps a failed call's error name (callers map it) under a sentence that
 * names the image. */
static int call_failed(sd_bus_error *ret_error, const sd_bus_error *error, int r, const char *what,
                       const char *reference) {
        if (sd_bus_error_is_set(error))
                (void) sd_bus_error_setf(ret_error, error->name, "%s %s: %s", what, reference,
                                         bus_error_message(error, r));
        else
                (void) sd_bus_error_set_errnof(ret_error, -r, "%s %s: %s", what, reference, strerror(-r));
        return r;
}

static int call_pull(sd_bus *bus, PullWatch *w, sd_bus_error *ret_error) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        const ImagePullOptions *o = w->opts;
        const char *path;
        int r;

        if (o->platform)
                r = sd_bus_call_method(bus, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE, "PullPlatform", &error,
                                       &reply, "sst", w->reference, o->platform, o->flags);
        else
                r = sd_bus_call_method(bus, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE, "Pull", &error,
                                       &reply, "st", w->reference, o->flags);
        if (r < 0)
                return call_failed(ret_error, &error, r, "Failed to pull", w->reference);
        if (sd_bus_message_read(reply, "uo", &w->progress.transfer_id, &path) < 0)
                return sd_bus_error_set_errnof(ret_error, EBADMSG, "krata-imaged's Pull answer is malformed.");
        w->path = strdup(path);
        w->owner = strdup(strempty(sd_bus_message_get_sender(reply)));
        if (!w->path || !w->owner)
                return -ENOMEM;
        snprintf(w->phase, sizeof w->phase, "resolving");
        report_progress(w);
        return 0;
}

static void cancel_transfer(sd_bus *bus, PullWatch *w) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE, "CancelTransfer", &error, NULL,
                               "u", w->progress.transfer_id);
        if (r < 0) /* it may have ended meanwhile: its end is what we wait for */
                log_debug("Cannot cancel transfer %u: %s", w->progress.transfer_id, bus_error_message(&error, r));
}

/* Runs the bus until the transfer has ended or krata-imaged is gone. */
static int wait_transfer(sd_bus *bus, PullWatch *w, sd_bus_error *ret_error) {
        const ImagePullOptions *o = w->opts;
        uint64_t deadline = o->timeout_usec > 0 ? now(CLOCK_MONOTONIC) + o->timeout_usec : UINT64_MAX;
        bool stopped = false;
        int r;

        while (!w->result[0] && !w->daemon_gone) {
                uint64_t t = now(CLOCK_MONOTONIC);

                if (!stopped && o->poll && o->poll(o->userdata)) {
                        if (!o->cancel_transfer)
                                return sd_bus_error_set_errnof(ret_error, ECANCELED, "Stopped while pulling %s.",
                                                               w->reference);
                        cancel_transfer(bus, w);
                        stopped = true;
                }
                if (t >= deadline)
                        return sd_bus_error_set_errnof(ret_error, ETIMEDOUT, "Pulling %s timed out.", w->reference);
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return sd_bus_error_set_errnof(ret_error, -r, "Lost the bus connection: %s", strerror(-r));
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, MIN(IMAGE_PULL_POLL_USEC, deadline - t));
                if (r < 0 && r != -EINTR)
                        return sd_bus_error_set_errnof(ret_error, -r, "Lost the bus connection: %s", strerror(-r));
        }
        if (streq(w->result, "done"))
                return 0;
        if (!w->result[0])
                return sd_bus_error_set_errnof(ret_error, EHOSTDOWN, "krata-imaged exited while pulling %s.",
                                               w->reference);
        if (streq(w->result, "canceled"))
                return sd_bus_error_set_errnof(ret_error, ECANCELED, "Pull of %s canceled.", w->reference);
        if (w->error)
                return sd_bus_error_set_errnof(ret_error, EREMOTEIO, "%s", w->error);
        return sd_bus_error_set_errnof(ret_error, EREMOTEIO, "Pull of %s failed (see krata-imaged's log).",
                                       w->reference);
}

void pulled_image_done(PulledImage *i) {
        assert(i);

        i->digest = mfree(i->digest);
        i->path = mfree(i->path);
        i->platform = mfree(i->platform);
        i->config_json = mfree(i->config_json);
}

typedef struct InspectAnswer {
        char *digest, *path, *platform;
        uint64_t size;
        json_object *config;
} InspectAnswer;

static void inspect_answer_done(InspectAnswer *a) {
        free(a->digest);
        free(a->path);
        free(a->platform);
        json_object_put(a->config);
}

/* InspectImage's JSON (krata-imaged(8)): the image record plus "path" and
 * "config". */
static int parse_inspect(const char *json, PulledImage *ret, sd_bus_error *ret_error) {
        static const JsonDispatch table[] = {
                { "digest", json_type_string, json_dispatch_string, offsetof(InspectAnswer, digest), JSON_MANDATORY },
                { "path", json_type_string, json_dispatch_string, offsetof(InspectAnswer, path), JSON_MANDATORY },
                { "platform", json_type_string, json_dispatch_string, offsetof(InspectAnswer, platform), 0 },
                { "size", json_type_int, json_dispatch_uint64, offsetof(InspectAnswer, size), 0 },
                { "config", json_type_object, json_dispatch_object, offsetof(InspectAnswer, config), 0 },
                {}
        };
        _cleanup_(inspect_answer_done) InspectAnswer a = {};
        _cleanup_json_ json_object *o = NULL;

        if (json_parse_bounded(json, strlen(json), INSPECT_MAX, true, &o) < 0 ||
            json_dispatch(o, table, "InspectImage answer", &a) < 0)
                return sd_bus_error_set_errnof(ret_error, EBADMSG, "krata-imaged's InspectImage answer is malformed.");
        if (a.path[0] != '/' || strstr(a.path, "/../") || endswith(a.path, "/.."))
                return sd_bus_error_set_errnof(ret_error, EBADMSG, "krata-imaged gave no usable image path.");
        if (a.config) {
                const char *text = json_object_to_json_string_ext(a.config, JSON_C_TO_STRING_PLAIN);
                ret->config_json = text ? strdup(text) : NULL;
                if (!ret->config_json)
                        return -ENOMEM;
        }
        ret->digest = TAKE_PTR(a.digest);
        ret->path = TAKE_PTR(a.path);
        ret->platform = TAKE_PTR(a.platform);
        ret->size = a.size;
        return 0;
}

static int inspect(sd_bus *bus, const char *reference, PulledImage *ret, sd_bus_error *ret_error) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        const char *json;
        int r;

        r = sd_bus_call_method(bus, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE, "InspectImage", &error, &reply,
                               "s", reference);
        if (r < 0)
                return call_failed(ret_error, &error, r, "Failed to inspect the pulled image", reference);
        if (sd_bus_message_read(reply, "s", &json) < 0)
                return sd_bus_error_set_errnof(ret_error, EBADMSG, "krata-imaged's InspectImage answer is malformed.");
        return parse_inspect(json, ret, ret_error);
}

int image_pull(sd_bus *bus, const char *reference, const ImagePullOptions *opts, PulledImage *ret,
               sd_bus_error *ret_error) {
        _cleanup_(pull_watch_done) PullWatch w = { .reference = reference, .opts = opts };
        sd_bus_slot *slots[3] = {};
        PulledImage image = {};
        int r;

        assert(bus);
        assert(reference);
        assert(opts);
        assert(ret);

        w.progress.phase = w.phase;
        /* Subscribed before asking, so no signal of a quick pull is missed. */
        r = subscribe(bus, &w, slots);
        if (r < 0)
                sd_bus_error_set_errnof(ret_error, -r, "Cannot follow krata-imaged's transfers: %s", strerror(-r));
        if (r >= 0)
                r = call_pull(bus, &w, ret_error);
        if (r >= 0)
                r = wait_transfer(bus, &w, ret_error);
        for (size_t i = 0; i < ELEMENTSOF(slots); i++)
                sd_bus_slot_unref(slots[i]);
        if (r < 0)
                return r;

        r = inspect(bus, reference, &image, ret_error);
        if (r < 0) {
                pulled_image_done(&image);
                return r;
        }
        *ret = image;
        return 0;
}
