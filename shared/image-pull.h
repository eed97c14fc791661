/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bus-util.h"

/* The one client of "pull an image and follow its transfer"
 * (org.krata.Images1, krata-imaged(8)): Pull or PullPlatform, then the
 * transfer's PropertiesChanged (progress, Error) and TransferRemoved (its
 * result) until it ends, then InspectImage for what was pulled. It blocks,
 * running the bus with sd_bus_process()/sd_bus_wait(), so it fits a command
 * line tool and a supervisor's linear start-up alike; poll() lets the caller
 * stop it and keep a watchdog fed. */

#define IMAGE_PULL_POLL_USEC (200ULL * 1000ULL)

typedef struct ImagePullProgress {
        uint32_t transfer_id;
        const char *phase;        /* "resolving", "downloading", "converting" */
        uint64_t bytes_done, bytes_total;
        double progress;          /* 0..1, krata-imaged's Progress */
} ImagePullProgress;

typedef struct ImagePullOptions {
        const char *platform;     /* OS/ARCH[/VARIANT] (PullPlatform); NULL: krata-imaged's (Pull) */
        uint64_t flags;           /* IMAGES_PULL_* */
        uint64_t timeout_usec;    /* the whole pull, CLOCK_MONOTONIC; 0: no limit */
        /* Once when the transfer is known (phase "resolving", no bytes yet),
         * then on every change of its progress. NULL: not wanted. */
        void (*progress)(const ImagePullProgress *p, void *userdata);
        /* At least every IMAGE_PULL_POLL_USEC while waiting; true stops the
         * wait. NULL: never stops. */
        bool (*poll)(void *userdata);
        /* When poll() stops it: true cancels the transfer (CancelTransfer)
         * and waits for its end; false leaves the transfer to whoever else
         * shares it and returns -ECANCELED at once. */
        bool cancel_transfer;
        void *userdata;
} ImagePullOptions;

/* What InspectImage says about the pulled image. */
typedef struct PulledImage {
        char *digest;             /* the manifest digest, "sha256:..." */
        char *path;               /* its rootfs.squashfs (absolute) */
        char *platform;           /* "linux/amd64" */
        uint64_t size;            /* bytes of rootfs.squashfs */
        char *config_json;        /* the OCI image config as JSON text; NULL when there is none */
} PulledImage;

void pulled_image_done(PulledImage *i);

/* Pulls reference through krata-imaged and waits for the transfer's end.
 * Returns 0 and fills *ret, or a negative errno with *ret_error's message a
 * sentence for people that names the image:
 *   a failed Pull or InspectImage call: that call's errno, and its error
 *     name kept (org.freedesktop.DBus.Error.ServiceUnknown when krata-imaged
 *     cannot be activated, AccessDenied, InvalidArgs for a bad reference);
 *   -EREMOTEIO: the pull failed; the message is the transfer's Error
 *     ("Pulling REF failed: why");
 *   -ECANCELED: canceled, by poll() or by anyone else;
 *   -EHOSTDOWN: krata-imaged went away during the pull;
 *   -ETIMEDOUT: timeout_usec passed;
 *   -EBADMSG: krata-imaged's answer is malformed. */
int image_pull(sd_bus *bus, const char *reference, const ImagePullOptions *opts, PulledImage *ret,
               sd_bus_error *ret_error);
