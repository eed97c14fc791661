/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "macro.h"

/* Zone kernels: the system default or an OCI kernel image, validated, with
 * an initrd (krata-init + the modules needed before disks and network)
 * assembled once per kernel and cached. This is what krata-zone calls. */

typedef struct KernelSource {
        char *image;    /* kernel image (bzImage / vmlinuz) */
        char *addons;   /* addons.squashfs: /lib/modules/RELEASE's contents; NULL = none */
        char *metadata; /* OCI /kernel/metadata; NULL for the system default */
} KernelSource;

typedef struct KernelPrepared {
        char *kernel;  /* what to boot: the cached inflated ELF, else image */
        char *image;   /* the kernel image as given (bzImage / vmlinuz) */
        char *initrd;  /* cached newc cpio */
        char *addons;  /* attach as the krata.addons disk; NULL = none */
        char *release; /* "6.1.0-56-amd64" */
        char *digest;  /* sha256 hex of the kernel image: the cache key */
} KernelPrepared;

typedef struct KernelPrepareOptions {
        const char *init_path;  /* NULL: $KRATA_INIT, else LIBEXECDIR/krata-init */
        const char *cache_dir;  /* NULL: $KRATA_CACHE_DIR/kernels */
        char *const *modules;   /* NULL: kernel_initrd_modules */
} KernelPrepareOptions;

/* The zone kernel's command line: "console=hvc0 quiet krata.image=51712
 * krata.config=51728" and " krata.addons=51744" when p has addons. */
int kernel_prepared_cmdline(const KernelPrepared *p, char **ret);

/* The modules a zone needs before its disks and network exist. */
extern char *const kernel_initrd_modules[];

void kernel_source_done(KernelSource *s);
void kernel_prepared_done(KernelPrepared *p);

/* $KRATA_STATE_DIR/zone/kernel and addons.squashfs (-ENOENT if no kernel). */
int kernel_source_default(KernelSource *ret);
/* A directory holding image, addons.squashfs and metadata (an OCI kernel
 * image's /kernel). */
int kernel_source_from_dir(const char *dir, KernelSource *ret);
/* Extracts /kernel/{image,addons.squashfs,metadata} from an OCI kernel
 * image's rootfs squashfs (as krata-imaged stores it) into the cache, once
 * per key (the image's manifest digest), and returns the source. */
int kernel_source_from_image_squashfs(const char *rootfs, const char *key, const char *cache_dir,
                                      KernelSource *ret);

/* Validates (metadata arch = host arch; metadata version = the image's
 * release = the addons' modules' vermagic) and returns the kernel, a cached
 * initrd and the addons. The kernel is the bzImage's payload inflated once
 * into the cache (an ELF checked for Xen's PV entry note), so the domain
 * builder need not inflate it at every launch; the image itself when its
 * payload is in a format not inflated here (lzo) or it is no bzImage. Safe to
 * call concurrently: initrd and kernel are written atomically. */
int kernel_prepare(const KernelSource *src, const KernelPrepareOptions *opts, KernelPrepared *ret);
