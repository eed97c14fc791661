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

/* Called while a pull runs: text is its progress for people, NULL when
 * there is none this time; a negative return cancels the pull. */
typedef int (*image_progress_t)(const char *text, void *userdata);

/* Has krata-imaged pull REF (Pull, following the transfer, at most 30
 * minutes) and inspect it (InspectImage). On failure *reason says why. */
int image_ensure(sd_bus *bus, const char *ref, image_progress_t progress, void *userdata, ImageInfo *ret,
                 char **reason);
