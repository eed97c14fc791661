/* SPDX-License-Identifier: Apache-2.0 */
/* A zone's image through krata-imaged (krata-imaged(8)), with the shared
 * pull client: progress becomes the supervisor's status, its poll feeds
 * systemd's start timeout and notices a stop. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image-pull.h"
#include "image.h"
#include "log.h"
#include "paths.h"
#include "reason.h"
#include "string-util.h"

#define PULL_TIMEOUT_USEC (30ULL * 60 * 1000000)

void image_info_done(ImageInfo *i) {
        assert(i);

        i->squashfs_path = mfree(i->squashfs_path);
        i->digest = mfree(i->digest);
        i->config_json = mfree(i->config_json);
}

typedef struct PullWatch {
        const char *ref;
        image_progress_t progress;
        void *userdata;
        char last_phase[32];
        int last_percent;
} PullWatch;

/* Progress arrives up to ten times a second: report a new phase or percent only. */
static void on_progress(const ImagePullProgress *p, void *userdata) {
        PullWatch *w = userdata;
        int percent = (int) (p->progress * 100.0);
        char text[256];

        if (!w->progress || (percent == w->last_percent && streq(w->last_phase, strempty(p->phase))))
                return;
        snprintf(w->last_phase, sizeof w->last_phase, "%s", strempty(p->phase));
        w->last_percent = percent;
        snprintf(text, sizeof text, "Pulling image %s: %s %d%%", w->ref, strempty(p->phase), percent);
        (void) w->progress(text, w->userdata);
}

static bool on_poll(void *userdata) {
        PullWatch *w = userdata;

        return w->progress && w->progress(NULL, w->userdata) < 0;
}

static bool error_is_absent_service(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                      "org.freedesktop.DBus.Error.Spawn.ChildExited",
                                      "org.freedesktop.DBus.Error.Spawn.ExecFailed");
}

static int take_image(const char *ref, PulledImage *pulled, ImageInfo *ret, char **reason) {
        _cleanup_free_ char *images = krata_state_path("images/");

        if (!images)
                return -ENOMEM;
        if (isempty(pulled->path) || pulled->path[0] != '/' || strstr(pulled->path, "/../"))
                return reason_set(reason, SYNTHETIC_ERRNO(EBADMSG), "krata-imaged gave no usable squashfs path for %s.", ref);
        if (!startswith(pulled->path, images))
                log_warning("Image path %s is outside %s.", pulled->path, images);
        if (access(pulled->path, R_OK) < 0)
                return reason_set(reason, errno, "Image %s: %s: %m", ref, pulled->path);
        ret->squashfs_path = TAKE_PTR(pulled->path);
        ret->digest = TAKE_PTR(pulled->digest);
        ret->config_json = TAKE_PTR(pulled->config_json);
        return 0;
}

int image_ensure(sd_bus *bus, const char *ref, image_progress_t progress, void *userdata, ImageInfo *ret,
                 char **reason) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(pulled_image_done) PulledImage pulled = {};
        PullWatch w = { .ref = ref, .progress = progress, .userdata = userdata, .last_percent = -1 };
        ImagePullOptions opts = {
                .timeout_usec = PULL_TIMEOUT_USEC,
                .progress = on_progress,
                .poll = on_poll,
                .cancel_transfer = false, /* other zones may share the transfer */
                .userdata = &w,
        };
        int r;

        assert(ref);
        assert(ret);
        assert(reason);

        if (!bus)
                return reason_set(reason, SYNTHETIC_ERRNO(ENOTCONN), "No system bus: cannot ask krata-imaged for %s.", ref);
        r = image_pull(bus, ref, &opts, &pulled, &error);
        if (r < 0) {
                if (error_is_absent_service(&error))
                        return reason_set(reason, SYNTHETIC_ERRNO(EHOSTDOWN),
                                          "krata-imaged is not available (%s); cannot get image %s.",
                                          bus_error_message(&error, r), ref);
                if (r == -ECANCELED)
                        return reason_set(reason, r, "Stopped while pulling image %s.", ref);
                return reason_set(reason, r, "%s", bus_error_message(&error, r));
        }
        return take_image(ref, &pulled, ret, reason);
}
