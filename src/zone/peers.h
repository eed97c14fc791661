/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The supervisor's peers, behind one header so each can be wired to its
 * merged implementation with one change here:
 *
 *  - krata-imaged (org.krata.Images1): Pull + InspectImage. Coded against the
 *    agreed interface in krata-team.md; InspectImage's JSON field names are
 *    read permissively until man/krata-imaged.8 fixes them.
 *  - the boot chain: kernel + initrd selection and the launch-spec config disk.
 *    Until shared/launch-spec.[ch] lands: the default kernel at
 *    $KRATA_STATE_DIR/zone/{kernel,initrd,addons.squashfs} and a config disk
 *    written by config_disk_write() below in the agreed shape (magic, length,
 *    JSON, padded to 4 KiB); replace it with launch-spec's writer.
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
