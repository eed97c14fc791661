/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <systemd/sd-bus.h>

/* A zone's image (or an OCI kernel image) from krata-imaged. */
typedef struct ImageInfo {
        char *squashfs_path;
        char *digest;
        char *config_json; /* the OCI image config */
} ImageInfo;

void image_info_done(ImageInfo *i);

/* Called while a pull runs, with its progress for people or NULL; a
 * negative return cancels. */
typedef int (*image_progress_t)(const char *text, void *userdata);

/* Pull (following the transfer, at most 30 minutes), then InspectImage.
 * On failure *reason says why. */
int image_ensure(sd_bus *bus, const char *ref, image_progress_t progress, void *userdata, ImageInfo *ret,
                 char **reason);
