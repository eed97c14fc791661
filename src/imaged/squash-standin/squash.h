/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The agreed API of src/imaged/squash/ (see the team notes), declared here
 * only so the daemon builds before that library is merged. */
#include <stddef.h>
#include <stdint.h>

typedef struct SquashLayer {
        const char *path;
        const char *media_type;
        uint64_t size;
} SquashLayer;

typedef int (*squash_progress_t)(uint64_t bytes_done, uint64_t bytes_total, void *userdata); /* <0 cancels */

typedef struct SquashOptions {
        int compression_level;
        unsigned workers;
        squash_progress_t progress;
        void *userdata;
} SquashOptions;

/* layers bottom->top as in the manifest; writes output atomically; on failure sets *ret_error (malloc'd) */
int squash_layers(const SquashLayer *layers, size_t n, const char *output, const SquashOptions *opts,
                  char **ret_error);
