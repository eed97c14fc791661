/* SPDX-License-Identifier: Apache-2.0 */
/* The manager object /org/krata/images1: its vtable and handlers. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-polkit.h"
#include "fs-util.h"
#include "json-util.h"
#include "log.h"
#include "manager.h"
#include "manifest.h"
#include "store.h"
#include "string-util.h"
#include "transfer.h"

static int find_image(sd_bus_message *msg, const char *what, ImageRecord **ret, sd_bus_error *error) {
        int r;

        if (!string_is_printable(what, 512) || isempty(what))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid image name.");
        r = store_find_image(what, ret);
        if (r == -ENOENT) {
                /* "busybox" means docker.io/library/busybox:latest */
                _cleanup_oci_ref_ OciRef *ref = NULL;
                _cleanup_free_ char *norm = NULL;
                if (oci_ref_parse(what, &ref, NULL) >= 0 && (norm = oci_ref_to_string(ref)) && !streq(norm, what))
                        r = store_find_image(norm, ret);
        }
        if (r == -ENOENT)
                return sd_bus_error_setf(error, KRATA_ERROR_NO_SUCH_IMAGE, "No image '%s' (pull it first).", what);
        if (r == -ENOTUNIQ)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "'%s' matches more than one image.", what);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to look up image '%s': %s", what, strerror(-r));
        return 0;
}

/* Privileged methods: root, or whom polkit allows; 0 means "asked, wait". */
static int check_polkit(sd_bus_message *msg, Manager *m, sd_bus_error *error) {
        return bus_verify_polkit_async(msg, POLKIT_ACTION_IMAGE_PULL, &m->polkit, error);
}

static int start_pull(sd_bus_message *msg, Manager *m, const char *ref_s, const char *platform, uint64_t flags,
                      sd_bus_error *error) {
        _cleanup_(pull_request_done) PullRequest req = {};
        const char *why = NULL;
        Transfer *t;
        int r;

        r = check_polkit(msg, m, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        if (flags & ~PULL_FLAGS_ALL)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64 ".",
                                         flags & ~PULL_FLAGS_ALL);
        r = oci_ref_parse(ref_s, &req.ref, &why);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid image reference '%.300s': %s.",
                                         ref_s, why ?: strerror(-r));
        if (!isempty(platform)) {
                r = platform_parse(platform, &req.os, &req.architecture, &req.variant);
                if (r < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Invalid platform '%.100s': use OS/ARCH[/VARIANT].", platform);
        } else {
                req.os = strdup("linux");
                req.architecture = strdup(m->config.architecture ?: host_oci_architecture());
                req.variant = m->config.variant ? strdup(m->config.variant) : NULL;
                if (!req.os || !req.architecture || (m->config.variant && !req.variant))
                        return -ENOMEM;
        }
        req.platform = req.variant ? strjoin(req.os, "/", req.architecture, "/", req.variant)
                                   : strjoin(req.os, "/", req.architecture);
        req.reference = oci_ref_to_string(req.ref);
        if (!req.platform || !req.reference)
                return -ENOMEM;
        req.flags = flags;
        req.config = &m->config;

        /* Two clients pulling the same image share one transfer. */
        t = manager_find_pull(m, req.reference, req.platform);
        if (!t) {
                r = transfer_start(m, &req, &t);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, -r, "Failed to start pulling %s: %s", ref_s, strerror(-r));
        }
        return sd_bus_reply_method_return(msg, "uo", t->id, t->object_path);
}

static int method_pull(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *ref;
        uint64_t flags;
        int r = sd_bus_message_read(msg, "st", &ref, &flags);
        if (r < 0)
                return r;
        return start_pull(msg, userdata, ref, NULL, flags, error);
}

static int method_pull_platform(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *ref, *platform;
        uint64_t flags;
        int r = sd_bus_message_read(msg, "sst", &ref, &platform, &flags);
        if (r < 0)
                return r;
        return start_pull(msg, userdata, ref, platform, flags, error);
}

static int append_image_row(sd_bus_message *reply, const ImageRecord *rec, const char *reference) {
        _cleanup_free_ char *path = store_squashfs_path(rec);
        if (!path)
                return -ENOMEM;
        return sd_bus_message_append(reply, "(sssstt)", reference, rec->digest, path, strempty(rec->platform),
                                     rec->size, rec->created_usec);
}

static int method_list_images(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        ImageRecord **l = NULL;
        size_t n = 0;
        int r;

        r = store_list_images(&l, &n);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to list images: %s", strerror(-r));
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sssstt)");
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (!l[i]->references || !l[i]->references[0])
                        r = append_image_row(reply, l[i], "");
                STRV_FOREACH(ref, l[i]->references)
                        if (r >= 0)
                                r = append_image_row(reply, l[i], *ref);
        }
        image_record_list_free(l, n);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_inspect_image(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        _cleanup_json_ json_object *o = NULL, *config = NULL;
        _cleanup_free_ char *path = NULL, *cfg_path = NULL, *text = NULL;
        const char *what;
        size_t size;
        int r;

        r = sd_bus_message_read(msg, "s", &what);
        if (r < 0)
                return r;
        r = find_image(msg, what, &rec, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        o = image_record_to_json(rec);
        path = store_squashfs_path(rec);
        cfg_path = path_join(rec->dir, "config.json");
        if (!o || !path || !cfg_path)
                return -ENOMEM;
        r = read_full_file(cfg_path, CONFIG_SIZE_MAX, &text, &size);
        if (r >= 0)
                r = json_parse_bounded(text, size, CONFIG_SIZE_MAX, true, &config);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Image %s has an unreadable config.json: %s", rec->digest,
                                               strerror(-r));
        if (json_object_object_add(o, "reference",
                                   json_object_new_string(rec->references && rec->references[0] ? rec->references[0] : "")) < 0 ||
            json_object_object_add(o, "path", json_object_new_string(path)) < 0 ||
            json_object_object_add(o, "config", TAKE_PTR(config)) < 0)
                return -ENOMEM;
        return sd_bus_reply_method_return(msg, "s",
                                          json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                                    JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int method_remove_image(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        const char *what;
        uint64_t flags;
        int r;

        r = sd_bus_message_read(msg, "st", &what, &flags);
        if (r < 0)
                return r;
        r = check_polkit(msg, userdata, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (flags != 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "No flags are defined.");
        r = find_image(msg, what, &rec, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        r = store_remove_image(rec);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to remove image %s: %s", rec->digest, strerror(-r));
        log_info("Removed image %s (%s).", rec->digest, what);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_prune(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        unsigned images = 0, blobs = 0;
        uint64_t flags, bytes = 0;
        int r;

        r = sd_bus_message_read(msg, "t", &flags);
        if (r < 0)
                return r;
        r = check_polkit(msg, m, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (flags & ~IMAGES_PRUNE_ALL_BLOBS)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags.");
        /* A running pull owns blobs no image lists yet. */
        if (m->n_transfers > 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED,
                                         "%zu transfer(s) running; prune again once they are done.", m->n_transfers);
        r = store_prune(flags, &images, &blobs, &bytes);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Prune failed: %s", strerror(-r));
        log_info("Pruned %u images and %u blobs, %" PRIu64 " bytes.", images, blobs, bytes);
        return sd_bus_reply_method_return(msg, "uut", images, blobs, bytes);
}

static int method_cancel_transfer(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Transfer *t;
        uint32_t id;
        int r;

        r = sd_bus_message_read(msg, "u", &id);
        if (r < 0)
                return r;
        r = check_polkit(msg, userdata, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        t = manager_find_transfer(userdata, id);
        if (!t)
                return sd_bus_error_setf(error, KRATA_ERROR_NO_SUCH_TRANSFER, "No transfer %" PRIu32 ".", id);
        transfer_cancel(t);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_list_transfers(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(usssdo)");
        for (size_t i = 0; i < m->n_transfers && r >= 0; i++) {
                Transfer *t = m->transfers[i];
                r = sd_bus_message_append(reply, "(usssdo)", t->id, t->req.reference, t->req.platform,
                                          transfer_phase_to_string(t->pub_phase),
                                          t->pub_total ? (double) t->pub_done / (double) t->pub_total : 0.0,
                                          t->object_path);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Pull", SD_BUS_ARGS("s", reference, "t", flags),
                                SD_BUS_RESULT("u", transfer_id, "o", transfer_path), method_pull, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PullPlatform", SD_BUS_ARGS("s", reference, "s", platform, "t", flags),
                                SD_BUS_RESULT("u", transfer_id, "o", transfer_path), method_pull_platform, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListImages", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(sssstt)", images), method_list_images, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("InspectImage", SD_BUS_ARGS("s", image), SD_BUS_RESULT("s", json),
                                method_inspect_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveImage", SD_BUS_ARGS("s", image, "t", flags), SD_BUS_NO_RESULT,
                                method_remove_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Prune", SD_BUS_ARGS("t", flags),
                                SD_BUS_RESULT("u", images_removed, "u", blobs_removed, "t", bytes_freed),
                                method_prune, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CancelTransfer", SD_BUS_ARGS("u", transfer_id), SD_BUS_NO_RESULT,
                                method_cancel_transfer, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListTransfers", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(usssdo)", transfers),
                                method_list_transfers, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("TransferNew", SD_BUS_ARGS("u", transfer_id, "o", transfer_path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("TransferRemoved",
                                SD_BUS_ARGS("u", transfer_id, "o", transfer_path, "s", result), 0),
        SD_BUS_VTABLE_END
};
