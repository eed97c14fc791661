/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Converts an OCI image's layers straight into one squashfs file: layers are
 * merged with OCI whiteout semantics while they are read (top layer first, so
 * every path is decided once) and file data is streamed into libsquashfs's
 * multi-threaded zstd block processor; nothing is unpacked to disk. */

#include <stddef.h>
#include <stdint.h>

typedef struct SquashLayer {
        const char *path;       /* the (verified) layer blob */
        const char *media_type; /* OCI or Docker layer media type; NULL: sniff the magic */
        uint64_t size;          /* descriptor size; 0: don't check */
} SquashLayer;

/* Called as compressed input is consumed; returning <0 cancels (-ECANCELED). */
typedef int (*squash_progress_t)(uint64_t bytes_done, uint64_t bytes_total, void *userdata);

typedef struct SquashOptions {
        int compression_level;  /* zstd level 1..22; 0: SQUASH_DEFAULT_LEVEL */
        unsigned workers;       /* compression threads; 0: one per CPU */
        squash_progress_t progress;
        void *userdata;
} SquashOptions;

/* zstd level 3: ~20x less CPU than mksquashfs's default 15 for ~12% larger
 * images (docs/architecture.md, "Converter"). */
#define SQUASH_DEFAULT_LEVEL 3

/* layers bottom->top as in the manifest; writes output atomically; on failure sets *ret_error (malloc'd) */
int squash_layers(const SquashLayer *layers, size_t n, const char *output, const SquashOptions *opts, char **ret_error);
