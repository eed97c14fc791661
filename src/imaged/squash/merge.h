/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "sqfs-out.h"
#include "squash.h"
#include "tree.h"

/* Bounds on hostile layers. */
#define SQUASH_MAX_LAYERS 1024
#define SQUASH_MAX_ENTRIES (2U * 1024U * 1024U)  /* ~500 bytes of memory each */
#define SQUASH_MAX_FILE_SIZE (256ULL << 30)       /* one file */
#define SQUASH_MAX_TOTAL_SIZE (1ULL << 40)        /* all file data, uncompressed */
#define SQUASH_MAX_XATTRS 128                     /* per entry */
#define SQUASH_MAX_XATTR_VALUE (64U * 1024U)      /* Linux's XATTR_SIZE_MAX */
#define SQUASH_MAX_LINK_CHAIN 64

/* Reads the layers top-down into the tree, streaming file data into out.
 * On failure *ret_error explains (malloc'd). */
int merge_layers(const SquashLayer *layers, size_t n, Tree *tree, SqfsOut *out,
                 squash_progress_t progress, void *userdata, char **ret_error);
