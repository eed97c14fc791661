/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include "macro.h"

/* /kernel/metadata of an OCI kernel image: KEY=VALUE lines. */
typedef struct KernelMetadata {
        char *arch;    /* KERNEL_ARCH: x86_64 | aarch64 */
        char *version; /* KERNEL_VERSION: the release, as uname -r */
        char *flavor;  /* KERNEL_FLAVOR */
        char *config;  /* KERNEL_CONFIG: digest of the .config blob */
        char *tags;    /* KERNEL_TAGS */
} KernelMetadata;

void kernel_metadata_done(KernelMetadata *m);
/* Unknown keys are ignored; KERNEL_ARCH and KERNEL_VERSION are mandatory. */
int kernel_metadata_parse(const char *text, size_t size, KernelMetadata *ret);
int kernel_metadata_load(const char *path, KernelMetadata *ret);
/* "KEY=VALUE\n" text for kernel package. */
int kernel_metadata_format(const KernelMetadata *m, char **ret);

/* The host's architecture in metadata terms (uname machine). */
const char *kernel_host_arch(void);

/* The release string of an x86 bzImage (boot protocol header, kernel_version
 * field): "6.1.0-56-amd64". -EMEDIUMTYPE when the file is no bzImage. */
int kernel_image_release(const char *path, char **ret);

/* The release a module was built for, from its "vermagic=" modinfo string. */
int module_vermagic_release(const char *path, char **ret);
