/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Packs a built kernel into an OCI image layout (umoci/skopeo compatible):
 * one uncompressed tar layer holding exactly /kernel/image,
 * /kernel/addons.squashfs (the modules directory, mksquashfs) and
 * /kernel/metadata. The .config is stored as a blob of the layout too and
 * named by digest in KERNEL_CONFIG and the manifest annotations. */
typedef struct KernelPackageOptions {
        const char *image;       /* kernel image */
        const char *modules_dir; /* /lib/modules/RELEASE */
        const char *config;      /* .config (plain or gzip) */
        const char *flavor;      /* NULL: "standard" */
        const char *tag;         /* NULL: the release */
        const char *layout;      /* output directory; created or updated */
        int compression_level;   /* zstd level for the addons; 0: 3 */
} KernelPackageOptions;

#include "kernel-config.h"

/* zstd, else xz, else gzip: what the kernel's squashfs can read. */
const char *kernel_addons_compressor(const KernelConfig *kc);
/* mksquashfs of a /lib/modules/RELEASE directory (must have modules.dep). */
int kernel_build_addons(const char *modules_dir, const char *compressor, int level, const char *out);

int kernel_package(const KernelPackageOptions *o, char **ret_manifest_digest);

/* For kratactl kernel check on a layout: the config blob of tag's manifest
 * (tag NULL: the only manifest) → path. */
int kernel_layout_config_path(const char *layout, const char *tag, char **ret);
