/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "tree.h"

typedef struct SqfsOut SqfsOut;

/* Starts a zstd squashfs on fd (empty, opened read-write): super block
 * placeholder, compressor options, then data blocks as files stream in. */
int sqfs_out_new(int fd, int level, unsigned workers, SqfsOut **ret);
SqfsOut *sqfs_out_free(SqfsOut *o);
static inline void sqfs_out_freep(SqfsOut **o) {
        if (*o)
                sqfs_out_free(*o);
}

/* Streaming one regular file's data; *inode is kept updated by libsquashfs
 * until sqfs_out_finish(). */
int sqfs_out_file_begin(SqfsOut *o, sqfs_inode_generic_t **inode);
int sqfs_out_file_append(SqfsOut *o, const void *data, size_t size);
int sqfs_out_file_end(SqfsOut *o);

/* One xattr set; *ret_idx is the squashfs xattr index for the inode. */
int sqfs_out_xattr_begin(SqfsOut *o);
int sqfs_out_xattr_add(SqfsOut *o, const char *key, const void *value, size_t size);
int sqfs_out_xattr_end(SqfsOut *o, uint32_t *ret_idx);

/* Waits for the data blocks, writes inodes (children first, entries in
 * strcmp() order), directories, fragment, id and xattr tables, the final
 * super block and the padding to 4 KiB. */
int sqfs_out_finish(SqfsOut *o, Tree *t);

/* A description of the last failure. */
const char *sqfs_out_strerror(SqfsOut *o, int sqfs_error);
/* Maps an SQFS_ERROR to a negative errno (the write errno for I/O errors). */
int sqfs_out_errno(SqfsOut *o, int sqfs_error);
