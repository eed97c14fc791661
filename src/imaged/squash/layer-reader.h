/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

struct archive;

typedef enum SquashCompression {
        SQUASH_COMPRESSION_NONE,
        SQUASH_COMPRESSION_GZIP,
        SQUASH_COMPRESSION_ZSTD,
} SquashCompression;

/* Which gzip inflate implementation to use: isa-l's igzip is the default
 * (see docs/benchmarks.md); zlib is kept for comparison. */
typedef enum SquashInflate {
        SQUASH_INFLATE_ISAL,
        SQUASH_INFLATE_ZLIB,
} SquashInflate;

void squash_set_inflate(SquashInflate engine);
int squash_inflate_from_string(const char *s, SquashInflate *ret);

/* OCI and Docker layer media types; -EPROTONOSUPPORT for anything else. */
int squash_media_type_parse(const char *media_type, SquashCompression *ret);
const char *squash_compression_to_string(SquashCompression c);

typedef struct LayerReader LayerReader;
/* Called with the number of compressed bytes just consumed; <0 cancels. */
typedef int (*layer_reader_progress_t)(uint64_t bytes, void *userdata);

/* Opens a layer blob as a tar stream (struct archive) decompressed by us.
 * media_type NULL sniffs the magic; a media type that disagrees with the
 * blob's magic is refused. expected_size 0 skips the size check. On failure
 * *ret_error names the cause. */
int layer_reader_open(const char *path, const char *media_type, uint64_t expected_size,
                      layer_reader_progress_t progress, void *userdata,
                      LayerReader **ret, char **ret_error);
struct archive *layer_reader_archive(LayerReader *r);
/* The decompressor's own error (truncated or corrupt stream, I/O, cancel),
 * which explains libarchive failures better than libarchive can. */
int layer_reader_error(LayerReader *r, const char **ret_message);
/* Reads the rest of the compressed stream after the tar end marker so that
 * truncation, checksums and trailing garbage are checked. */
int layer_reader_finish(LayerReader *r);
/* Decompresses a whole blob into nothing (to measure the inflaters). */
int layer_reader_drain(const char *path, const char *media_type, uint64_t *ret_bytes, char **ret_error);
LayerReader *layer_reader_free(LayerReader *r);
static inline void layer_reader_freep(LayerReader **r) {
        if (*r)
                layer_reader_free(*r);
}
