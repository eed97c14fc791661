/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The supervisor's peers, behind one header so each can be rewired in one
 * place:
 *
 *  - krata-imaged (org.krata.Images1): Pull, the transfer's Phase/Progress/
 *    Error, then InspectImage (krata-imaged(8)).
 *  - the boot chain (src/kernel, shared/launch-spec): kernel_prepare() for the
 *    default kernel or an OCI kernel image, launch_spec_from_oci_config() and
 *    launch_disk_write() for the config disk.
 *  - krata-consoled (org.krata.Console1) RegisterZone/UnregisterZone: optional.
 *  - krata-networkd (org.krata.Network1) AttachZone/DetachZone: optional.
 *  - krata-zoned (org.krata.Zones1) RegisterSupervisor/ReportState: optional. */

#include "zone.h"

typedef struct ImageInfo {
        char *squashfs_path;
        char *digest;
        char *config_json; /* the OCI image config */
} ImageInfo;

void image_info_done(ImageInfo *i);
int image_acquire(Supervisor *s, const char *ref, ImageInfo *ret);

typedef struct KernelInfo {
        char *kernel_path;
        char *initrd_path;
        char *addons_path; /* NULL when there is none */
        char *cmdline;
        char *release;
} KernelInfo;

void kernel_info_done(KernelInfo *k);
int kernel_acquire(Supervisor *s, const char *ref, KernelInfo *ret);

/* Writes the launch spec disk (OCI config merged with the zone's overrides). */
int config_disk_write(Supervisor *s, char **ret_path);

int console_register(Supervisor *s);
void console_unregister(Supervisor *s);
int network_attach(Supervisor *s);
void network_detach(Supervisor *s);
int zoned_register(Supervisor *s);
