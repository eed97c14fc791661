/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "image.h"
#include "launch-spec.h"
#include "zone-file.h"

/* What the domain boots from besides its image (docs/architecture.md, Zone
 * boot chain): the kernel with its initrd and addons, its command line, and
 * the config disk holding the launch spec. */
typedef struct BootMaterial {
        char *kernel, *initrd, *addons; /* addons NULL: none */
        char *cmdline;
        char *release;
        char *config_disk;              /* written by us: removed on teardown */
} BootMaterial;

void boot_material_done(BootMaterial *b);

/* The kernel and its cached initrd (kernel_prepare()): from the OCI kernel
 * image REF that krata-imaged pulled (image), or the system default (both
 * NULL). On failure *reason says why. */
int boot_kernel_prepare(BootMaterial *b, const char *ref, const ImageInfo *image, char **reason);

/* What the launch asked for on top of the image. NULL/unset fields keep the
 * image's value. As with docker: an entrypoint override drops the image's Cmd
 * unless cmd is given too. */
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

/* Merges an OCI image config (the whole config blob, or its "config" object;
 * NULL: none) with the overrides (may be NULL) into a fresh spec (no
 * network: the supervisor adds it after AttachZone). -EINVAL when no command
 * results. Host-only: krata-init reads the result, never an OCI config. */
int launch_spec_from_oci_config(json_object *image_config, const LaunchOverrides *o, LaunchSpec **ret);

/* $KRATA_RUNTIME_DIR/zone/NAME/config.img */
int boot_config_disk_path(const char *name, char **ret);
/* The launch spec from the image's OCI config (JSON; NULL: none) and the
 * zone's overrides, with the network krata-networkd handed out (moved into
 * the spec; may be NULL), written as the config disk. */
int boot_config_disk_write(BootMaterial *b, const ZoneSpec *zone, const char *image_config, LaunchNetwork *network,
                           char **reason);
/* Removes the config disk and its directory. */
void boot_config_disk_remove(BootMaterial *b);
