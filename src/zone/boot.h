/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>

#include "image.h"
#include "launch-spec.h"
#include "zone-file.h"

/* What the domain boots from besides its image (docs/architecture.md, Zone
 * boot chain). */
typedef struct BootMaterial {
        char *kernel, *initrd, *addons; /* addons NULL: none */
        char *cmdline;
        char *release;
        char *config_disk;              /* written by us: removed on teardown */
} BootMaterial;

void boot_material_done(BootMaterial *b);

/* kernel_prepare(): of the OCI kernel image REF krata-imaged pulled, or
 * the system default (both NULL). On failure *reason says why. */
int boot_kernel_prepare(BootMaterial *b, const char *ref, const ImageInfo *image, char **reason);

/* On top of the image; NULL/unset keeps the image's value. */
typedef struct LaunchOverrides {
        char *const *entrypoint;
        char *const *cmd;
        char *const *env; /* KEY=VALUE, override image variables of the same key */
        const char *cwd;
        const char *user;
        const char *hostname;
        bool tty;
        int umask; /* <0: 0022 */
} LaunchOverrides;

/* The whole config blob or its "config" object (NULL: none), docker's
 * rules: -EINVAL when no command results. No network: that comes after
 * AttachZone. */
int launch_spec_from_oci_config(json_object *image_config, const LaunchOverrides *o, LaunchSpec **ret);

/* $KRATA_RUNTIME_DIR/zone/NAME/config.img */
int boot_config_disk_path(const char *name, char **ret);
/* The launch spec from the OCI config (JSON; NULL: none) and the zone, with
 * the network (moved into it; may be NULL), as the config disk. */
int boot_config_disk_write(BootMaterial *b, const ZoneSpec *zone, const char *image_config, LaunchNetwork *network,
                           char **reason);
void boot_config_disk_remove(BootMaterial *b);
