/* SPDX-License-Identifier: Apache-2.0 */
/* Pulling a zone's image through krata-imaged (krata-imaged(8)): Pull, the
 * transfer's Phase/Progress/Error, then InspectImage. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus-util.h"
#include "fs-util.h"
#include "image.h"
#include "json-util.h"
#include "log.h"
#include "paths.h"
#include "reason.h"
#include "string-util.h"
#include "time-util.h"

#define IMAGE_INSPECT_MAX (1U << 20)
#define PULL_TIMEOUT_USEC (30ULL * 60 * 1000000)
#define PULL_POLL_USEC (200ULL * 1000)

void image_info_done(ImageInfo *i) {
        assert(i);

        i->squashfs_path = mfree(i->squashfs_path);
        i->digest = mfree(i->digest);
        i->config_json = mfree(i->config_json);
}

static bool error_is_absent_service(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                      "org.freedesktop.DBus.Error.Spawn.ChildExited",
                                      "org.freedesktop.DBus.Error.Spawn.ExecFailed");
}

/* A failed transfer's Error arrives in its last PropertiesChanged, possibly
 * before Pull's reply has told us its path and certainly before we could ask:
 * keep the errors of all transfers, "PATH\tERROR", matched up afterwards. */
static int on_transfer_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        char ***errors = userdata;
        const char *iface, *key, *v;

        if (sd_bus_message_read(m, "s", &iface) < 0 || !streq(iface, IMAGES_TRANSFER_INTERFACE))
                return 0;
        if (sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
                return 0;
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                if (sd_bus_message_read(m, "s", &key) < 0)
                        return 0;
                if (streq(key, "Error") && sd_bus_message_read(m, "v", "s", &v) >= 0) {
                        char *e = NULL;
                        if (!isempty(v) && string_is_printable(v, 1024) && strv_length(*errors) < 64 &&
                            asprintf_safe(&e, "%s\t%s", sd_bus_message_get_path(m), v) >= 0)
                                (void) strv_consume(errors, e);
                } else if (sd_bus_message_skip(m, "v") < 0)
                        return 0;
                if (sd_bus_message_exit_container(m) < 0)
                        return 0;
        }
        return 0;
}

static const char *transfer_error(char **errors, const char *path) {
        const char *found = NULL;

        STRV_FOREACH(e, errors) {
                const char *rest = startswith(*e, path);
                if (rest && rest[0] == '\t')
                        found = rest + 1; /* the last one wins */
        }
        return found;
}

/* Pull: the transfer's object path. */
static int pull_start(sd_bus *bus, const char *ref, char **ret_transfer, char **reason) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        const char *path;
        uint32_t id;
        int r;

        r = sd_bus_call_method(bus, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE, "Pull", &error, &reply, "st", ref,
                               (uint64_t) 0);
        if (r < 0) {
                if (error_is_absent_service(&error))
                        return reason_set(reason, SYNTHETIC_ERRNO(EHOSTDOWN),
                                          "krata-imaged is not available (%s); cannot get image %s.",
                                          bus_error_message(&error, r), ref);
                return reason_set(reason, r, "Pulling %s failed: %s", ref, bus_error_message(&error, r));
        }
        r = sd_bus_message_read(reply, "uo", &id, &path);
        if (r < 0)
                return reason_set(reason, r, "krata-imaged's Pull reply is malformed: %m");
        *ret_transfer = strdup(path);
        return *ret_transfer ? 0 : -ENOMEM;
}

/* One look at the transfer: 1 when it is done (or gone: the image tells),
 * 0 while it runs, with its progress in text (empty when unknown). */
static int pull_check(sd_bus *bus, const char *ref, const char *transfer, char ***errors, char *text, size_t size,
                      char **reason) {
        _cleanup_free_ char *phase = NULL;
        double progress = -1;

        text[0] = 0;
        while (sd_bus_process(bus, NULL) > 0) /* dispatch the transfer's signals */
                ;
        if (sd_bus_get_property_string(bus, IMAGES_BUS_NAME, transfer, IMAGES_TRANSFER_INTERFACE, "Phase", NULL,
                                       &phase) < 0 ||
            streq(phase, "done"))
                return 1;
        if (streq(phase, "failed") || streq(phase, "canceled")) {
                _cleanup_free_ char *why = NULL;
                (void) sd_bus_get_property_string(bus, IMAGES_BUS_NAME, transfer, IMAGES_TRANSFER_INTERFACE, "Error",
                                                  NULL, &why);
                return reason_set(reason, SYNTHETIC_ERRNO(ENOENT), "Pulling image %s %s: %s", ref, phase,
                                  !isempty(why) ? why : transfer_error(*errors, transfer) ?: "(no reason given)");
        }
        if (sd_bus_get_property_trivial(bus, IMAGES_BUS_NAME, transfer, IMAGES_TRANSFER_INTERFACE, "Progress", NULL,
                                        'd', &progress) >= 0 &&
            progress >= 0)
                snprintf(text, size, "Pulling image %s: %s %.0f%%", ref, phase, progress * 100.0);
        return 0;
}

static int pull_follow(sd_bus *bus, const char *ref, const char *transfer, char ***errors, image_progress_t progress,
                       void *userdata, char **reason) {
        uint64_t deadline = now(CLOCK_MONOTONIC) + PULL_TIMEOUT_USEC;

        for (;;) {
                char text[256];
                int r = pull_check(bus, ref, transfer, errors, text, sizeof text, reason);

                if (r != 0)
                        return r < 0 ? r : 0;
                if (now(CLOCK_MONOTONIC) > deadline)
                        return reason_set(reason, SYNTHETIC_ERRNO(ETIMEDOUT), "Pulling image %s timed out.", ref);
                if (progress && progress(text[0] ? text : NULL, userdata) < 0)
                        return reason_set(reason, SYNTHETIC_ERRNO(ECANCELED), "Stopped while pulling image %s.", ref);
                (void) sd_bus_wait(bus, PULL_POLL_USEC);
        }
}

/* InspectImage's JSON (krata-imaged(8)): "path" (the squashfs), "digest",
 * "config" (the OCI image config object). */
static int inspect_parse(const char *json, ImageInfo *ret) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *images = krata_state_path("images/");
        json_object *v;
        const char *path = NULL;

        if (!images)
                return -ENOMEM;
        if (json_parse_bounded(json, strlen(json), IMAGE_INSPECT_MAX, true, &o) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "krata-imaged's InspectImage answer is not a JSON object.");
        if (json_object_object_get_ex(o, "path", &v))
                path = json_object_get_string(v);
        if (isempty(path) || path[0] != '/' || strstr(path, "/../"))
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "krata-imaged gave no usable squashfs path.");
        if (!startswith(path, images))
                log_warning("Image path %s is outside %s.", path, images);
        if (!(ret->squashfs_path = strdup(path)))
                return -ENOMEM;
        if (json_object_object_get_ex(o, "digest", &v) && json_object_is_type(v, json_type_string) &&
            !(ret->digest = strdup(json_object_get_string(v))))
                return -ENOMEM;
        if (json_object_object_get_ex(o, "config", &v) && json_object_is_type(v, json_type_object) &&
            !(ret->config_json = strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN))))
                return -ENOMEM;
        return 0;
}

static int inspect(sd_bus *bus, const char *ref, const char *transfer, char ***errors, ImageInfo *ret, char **reason) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        const char *json, *why;
        int r;

        r = sd_bus_call_method(bus, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE, "InspectImage", &error, &reply,
                               "s", ref);
        if (r < 0) {
                while (sd_bus_process(bus, NULL) > 0)
                        ;
                why = transfer_error(*errors, transfer);
                if (why)
                        return reason_set(reason, SYNTHETIC_ERRNO(ENOENT), "%s", why); /* names image and cause */
                return reason_set(reason, r, "Image %s is not available after its pull: %s", ref,
                                  bus_error_message(&error, r));
        }
        r = sd_bus_message_read(reply, "s", &json);
        if (r < 0)
                return r;
        r = inspect_parse(json, ret);
        if (r < 0)
                return r;
        if (access(ret->squashfs_path, R_OK) < 0)
                return reason_set(reason, errno, "Image %s: %s: %m", ref, ret->squashfs_path);
        return 0;
}

int image_ensure(sd_bus *bus, const char *ref, image_progress_t progress, void *userdata, ImageInfo *ret,
                 char **reason) {
        _cleanup_strv_free_ char **errors = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *watch = NULL; /* released before errors */
        _cleanup_free_ char *transfer = NULL;
        int r;

        assert(ref);
        assert(ret);
        assert(reason);

        if (!bus)
                return reason_set(reason, SYNTHETIC_ERRNO(ENOTCONN), "No system bus: cannot ask krata-imaged for %s.", ref);
        r = sd_bus_add_match(bus, &watch,
                             "type='signal',sender='" IMAGES_BUS_NAME "',interface='org.freedesktop.DBus.Properties',"
                             "member='PropertiesChanged',path_namespace='" IMAGES_PATH "'",
                             on_transfer_changed, &errors);
        if (r < 0)
                return reason_set(reason, r, "Cannot follow krata-imaged's transfers: %m");
        r = pull_start(bus, ref, &transfer, reason);
        if (r < 0)
                return r;
        /* errors grows as signals are dispatched: passed by reference */
        r = pull_follow(bus, ref, transfer, &errors, progress, userdata, reason);
        if (r < 0)
                return r;
        return inspect(bus, ref, transfer, &errors, ret, reason);
}
