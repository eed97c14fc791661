/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "time-util.h"
#include "bus-polkit.h"
#include "log.h"
#include "store.h"
#include "string-util.h"
#include "transfer.h"

#define NOTIFY_INTERVAL_USEC (100 * 1000)


static void wake(Transfer *t) {
        uint64_t one = 1;
        (void) !write(t->efd, &one, sizeof one);
}

/* Worker side. */
static void report_phase(TransferPhase phase, void *userdata) {
        Transfer *t = userdata;
        pthread_mutex_lock(&t->lock);
        t->phase = phase;
        t->bytes_done = t->bytes_total = 0;
        t->last_notify_usec = now(CLOCK_MONOTONIC);
        pthread_mutex_unlock(&t->lock);
        wake(t);
}

static void report_bytes(uint64_t done, uint64_t total, void *userdata) {
        Transfer *t = userdata;
        uint64_t t_usec = now(CLOCK_MONOTONIC);
        bool notify;

        pthread_mutex_lock(&t->lock);
        t->bytes_done = done;
        t->bytes_total = total;
        notify = t_usec - t->last_notify_usec >= NOTIFY_INTERVAL_USEC || done == total;
        if (notify)
                t->last_notify_usec = t_usec;
        pthread_mutex_unlock(&t->lock);
        if (notify)
                wake(t);
}

static void *transfer_thread(void *p) {
        Transfer *t = p;
        PullReporter rep = { report_phase, report_bytes, t };
        PullOutcome outcome = {};
        char *error = NULL;
        int r;

        r = pull_run(&t->req, &rep, &outcome, &error);
        pthread_mutex_lock(&t->lock);
        t->finished = true;
        t->result = r;
        t->error = error;
        t->outcome = outcome;
        pthread_mutex_unlock(&t->lock);
        wake(t);
        return NULL;
}

/* Event loop side. */
static int emit_changed(Transfer *t) {
        const char *names[6];
        size_t n = 0;

        pthread_mutex_lock(&t->lock);
        if (t->phase != t->pub_phase)
                names[n++] = "Phase";
        if (t->bytes_done != t->pub_done || t->bytes_total != t->pub_total) {
                names[n++] = "BytesDone";
                names[n++] = "BytesTotal";
        }
        t->pub_phase = t->phase;
        t->pub_done = t->bytes_done;
        t->pub_total = t->bytes_total;
        pthread_mutex_unlock(&t->lock);
        if (n == 0)
                return 0;
        if (n > 1 || !streq(names[0], "Phase"))
                names[n++] = "Progress";
        names[n] = NULL;
        return sd_bus_emit_properties_changed_strv(t->manager->bus, t->object_path, IMAGES_TRANSFER_INTERFACE,
                                                   (char **) names);
}

static void transfer_complete(Transfer *t) {
        Manager *m = t->manager;
        const char *result;
        int r = t->result;

        if (t->thread_running) {
                pthread_join(t->thread, NULL);
                t->thread_running = false;
        }
        /* Committing is a rename and a few small files: fine on the loop. */
        if (r >= 0 && t->outcome.tmp_dir) {
                r = store_commit_image(t->outcome.tmp_dir, t->outcome.record, t->req.reference);
                if (r < 0)
                        (void) asprintf_safe(&t->error, "storing the image failed: %s", strerror(-r));
                else
                        t->outcome.tmp_dir = mfree(t->outcome.tmp_dir);
        } else if (r >= 0) {
                r = store_tag_image(t->outcome.record->digest, t->req.reference);
                if (r < 0)
                        (void) asprintf_safe(&t->error, "tagging the cached image failed: %s", strerror(-r));
        }

        if (r >= 0) {
                t->pub_phase = PHASE_DONE;
                result = "done";
                log_info("Pulled %s: %s (%" PRIu64 " bytes; downloaded %" PRIu64 " bytes in %" PRIu64
                         " ms, converted in %" PRIu64 " ms; %u registry requests).",
                         t->req.reference, t->outcome.record->digest, t->outcome.record->size,
                         t->outcome.bytes_downloaded, t->outcome.download_usec / 1000,
                         t->outcome.convert_usec / 1000, t->outcome.n_requests);
        } else if (r == -ECANCELED) {
                t->pub_phase = PHASE_CANCELED;
                result = "canceled";
                log_info("Pull of %s canceled.", t->req.reference);
        } else {
                t->pub_phase = PHASE_FAILED;
                result = "failed";
                (void) asprintf_safe(&t->pub_error, "Pulling %s failed: %s", t->req.reference,
                                     t->error ?: strerror(ERRNO_VALUE(r)));
                log_error("%s", strempty(t->pub_error));
        }
        if (t->pub_phase == PHASE_DONE)
                t->pub_done = t->pub_total;
        (void) sd_bus_emit_properties_changed(m->bus, t->object_path, IMAGES_TRANSFER_INTERFACE, "Phase", "Error", NULL);
        (void) sd_bus_emit_signal(m->bus, IMAGES_PATH, IMAGES_INTERFACE, "TransferRemoved", "uos", t->id,
                                  t->object_path, result);
        manager_remove_transfer(m, t);
        transfer_free(t);
        manager_update_status(m);
}

static int on_efd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Transfer *t = userdata;
        uint64_t v;
        bool finished;

        (void) !read(fd, &v, sizeof v);
        (void) emit_changed(t);
        pthread_mutex_lock(&t->lock);
        finished = t->finished;
        pthread_mutex_unlock(&t->lock);
        if (finished)
                transfer_complete(t);
        return 0;
}

static BUS_DEFINE_PROPERTY_GET_ENUM(property_get_phase, transfer_phase, TransferPhase);

static int property_get_progress(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Transfer *t = userdata;

        return sd_bus_message_append(reply, "d",
                                     t->pub_phase == PHASE_DONE ? 1.0 :
                                     t->pub_total ? (double) t->pub_done / (double) t->pub_total : 0.0);
}

static int method_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Transfer *t = userdata;
        int r = bus_verify_polkit_async(msg, POLKIT_ACTION_IMAGE_PULL, &t->manager->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        transfer_cancel(t);
        return sd_bus_reply_method_return(msg, NULL);
}

/* What the worker publishes is copied to pub_* on the event loop (emit_changed). */
static const sd_bus_vtable transfer_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "u", NULL, offsetof(Transfer, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Reference", "s", NULL, offsetof(Transfer, req.reference), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Platform", "s", NULL, offsetof(Transfer, req.platform), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Phase", "s", property_get_phase, offsetof(Transfer, pub_phase),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("BytesDone", "t", NULL, offsetof(Transfer, pub_done), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("BytesTotal", "t", NULL, offsetof(Transfer, pub_total), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Progress", "d", property_get_progress, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Error", "s", NULL, offsetof(Transfer, pub_error), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD("Cancel", "", "", method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

void transfer_cancel(Transfer *t) {
        assert(t);

        atomic_store(&t->req.cancel, true);
}

Transfer *transfer_free(Transfer *t) {
        if (!t)
                return NULL;
        if (t->thread_running) {
                transfer_cancel(t);
                pthread_join(t->thread, NULL);
        }
        sd_bus_slot_unref(t->slot);
        sd_event_source_disable_unref(t->efd_source);
        safe_close(t->efd);
        pthread_mutex_destroy(&t->lock);
        pull_outcome_done(&t->outcome);
        pull_request_done(&t->req);
        free(t->object_path);
        free(t->error);
        free(t->pub_error);
        return mfree(t);
}

int transfer_start(Manager *m, PullRequest *req, Transfer **ret) {
        Transfer *t = calloc(1, sizeof *t);
        char idbuf[16];
        int r;

        assert(m);
        assert(req);
        assert(ret);

        if (!t)
                return -ENOMEM;
        t->manager = m;
        t->efd = -EBADF;
        pthread_mutex_init(&t->lock, NULL);
        t->req = *req;
        atomic_init(&t->req.cancel, false);
        *req = (PullRequest) {};
        t->id = ++m->next_transfer_id;
        snprintf(idbuf, sizeof idbuf, "%" PRIu32, t->id);
        t->object_path = path_join(IMAGES_TRANSFER_PATH_PREFIX, idbuf);
        if (!t->object_path) {
                r = -ENOMEM;
                goto fail;
        }
        t->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (t->efd < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(m->event, &t->efd_source, t->efd, EPOLLIN, on_efd, t);
        if (r < 0)
                goto fail;
        r = sd_bus_add_object_vtable(m->bus, &t->slot, t->object_path, IMAGES_TRANSFER_INTERFACE, transfer_vtable, t);
        if (r < 0)
                goto fail;
        r = manager_add_transfer(m, t);
        if (r < 0)
                goto fail;
        r = -pthread_create(&t->thread, NULL, transfer_thread, t);
        if (r < 0) {
                manager_remove_transfer(m, t);
                goto fail;
        }
        t->thread_running = true;
        (void) sd_bus_emit_signal(m->bus, IMAGES_PATH, IMAGES_INTERFACE, "TransferNew", "uo", t->id,
                                  t->object_path);
        log_info("Pulling %s (%s) as transfer %" PRIu32 ".", t->req.reference, t->req.platform, t->id);
        manager_update_status(m);
        *ret = t;
        return 0;
fail:
        transfer_free(t);
        return r;
}
