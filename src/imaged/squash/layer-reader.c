/* SPDX-License-Identifier: Apache-2.0 */
#include <archive.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "layer-reader.h"
#include "macro.h"
#include "string-util.h"

/* Input is read in 256 KiB chunks and inflated into 1 MiB windows: large
 * enough that the per-call overhead of the inflaters and of libarchive's
 * read callback disappears in the noise. */
#define IN_BUF_SIZE (256U * 1024U)
#define OUT_BUF_SIZE (1024U * 1024U)

static SquashInflate inflate_engine = SQUASH_INFLATE_ISAL;

void squash_set_inflate(SquashInflate engine) {
        inflate_engine = engine;
}

int squash_inflate_from_string(const char *s, SquashInflate *ret) {
        assert(s);
        assert(ret);

        if (streq(s, "isal"))
                *ret = SQUASH_INFLATE_ISAL;
        else if (streq(s, "zlib"))
                *ret = SQUASH_INFLATE_ZLIB;
        else
                return -EINVAL;
        return 0;
}

static const struct {
        const char *media_type;
        SquashCompression compression;
} media_types[] = {
        { "application/vnd.oci.image.layer.v1.tar", SQUASH_COMPRESSION_NONE },
        { "application/vnd.oci.image.layer.v1.tar+gzip", SQUASH_COMPRESSION_GZIP },
        { "application/vnd.oci.image.layer.v1.tar+zstd", SQUASH_COMPRESSION_ZSTD },
        { "application/vnd.oci.image.layer.nondistributable.v1.tar", SQUASH_COMPRESSION_NONE },
        { "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", SQUASH_COMPRESSION_GZIP },
        { "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", SQUASH_COMPRESSION_ZSTD },
        { "application/vnd.docker.image.rootfs.diff.tar", SQUASH_COMPRESSION_NONE },
        { "application/vnd.docker.image.rootfs.diff.tar.gzip", SQUASH_COMPRESSION_GZIP },
        { "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", SQUASH_COMPRESSION_GZIP },
        { "application/vnd.docker.image.rootfs.diff.tar.zstd", SQUASH_COMPRESSION_ZSTD },
};

int squash_media_type_parse(const char *media_type, SquashCompression *ret) {
        assert(media_type);
        assert(ret);

        for (size_t i = 0; i < ELEMENTSOF(media_types); i++)
                if (streq(media_type, media_types[i].media_type)) {
                        *ret = media_types[i].compression;
                        return 0;
                }
        return -EPROTONOSUPPORT;
}

const char *squash_compression_to_string(SquashCompression c) {
        switch (c) {
        case SQUASH_COMPRESSION_NONE:
                return "uncompressed";
        case SQUASH_COMPRESSION_GZIP:
                return "gzip";
        case SQUASH_COMPRESSION_ZSTD:
                return "zstd";
        }
        return "?";
}

struct LayerReader {
        int fd;
        char *path;
        uint64_t file_size;
        SquashCompression compression;
        SquashInflate engine;
        struct archive *archive;

        uint8_t *in, *out;
        size_t in_len, in_pos;  /* unconsumed input is in[in_pos..in_len) */
        bool in_eof;            /* read() returned 0 */
        bool stream_end;        /* the last member/frame ended exactly here */
        bool header_seen;       /* at least one complete member/frame started */

        z_stream z;
        bool z_init;
        struct inflate_state *isal;
        ZSTD_DStream *zstd;

        layer_reader_progress_t progress;
        void *userdata;

        int error;
        char *message;
};

_printf_(3, 4)
static int reader_fail(LayerReader *r, int error, const char *fmt, ...) {
        va_list ap;

        if (r->error == 0) {
                r->error = -ERRNO_VALUE(error);
                va_start(ap, fmt);
                if (vasprintf(&r->message, fmt, ap) < 0)
                        r->message = NULL;
                va_end(ap);
        }
        return r->error;
}

/* Refills the input buffer; returns the number of unconsumed bytes (0 at EOF). */
static ssize_t fill_input(LayerReader *r) {
        ssize_t n;

        if (r->in_pos < r->in_len)
                return (ssize_t) (r->in_len - r->in_pos);
        if (r->in_eof)
                return 0;
        do
                n = read(r->fd, r->in, IN_BUF_SIZE);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return reader_fail(r, errno, "reading %s: %m", r->path);
        r->in_pos = 0;
        r->in_len = (size_t) n;
        if (n == 0) {
                r->in_eof = true;
                return 0;
        }
        if (r->progress && r->progress((uint64_t) n, r->userdata) < 0)
                return reader_fail(r, ECANCELED, "cancelled");
        return n;
}

/* Each step decompresses into r->out and returns the bytes produced, 0 at the
 * end of the compressed stream, or a negative errno. */
static ssize_t step_none(LayerReader *r) {
        ssize_t n = fill_input(r);
        if (n <= 0)
                return n;
        memcpy(r->out, r->in + r->in_pos, (size_t) n); /* kept simple: tar layers are rare */
        r->in_pos = r->in_len;
        return n;
}

/* After a gzip member, only another member may follow. (A member header
 * split across reads is judged by its first byte alone.) */
static bool gzip_magic_follows(LayerReader *r, size_t n) {
        const uint8_t *p = r->in + r->in_pos;
        return p[0] == 0x1f && (n < 2 || p[1] == 0x8b);
}

static ssize_t step_zlib(LayerReader *r) {
        for (;;) {
                ssize_t n = fill_input(r);
                size_t produced;
                int zr;

                if (n < 0)
                        return n;
                if (n == 0 && r->stream_end)
                        return 0;
                if (n > 0 && r->stream_end) {
                        /* Another gzip member follows (RFC 1952 allows concatenation). */
                        if (!gzip_magic_follows(r, (size_t) n))
                                return reader_fail(r, EBADMSG, "%s: trailing garbage after the gzip stream", r->path);
                        if (inflateReset(&r->z) != Z_OK)
                                return reader_fail(r, EIO, "%s: inflateReset failed", r->path);
                        r->stream_end = false;
                }
                r->z.next_in = r->in + r->in_pos;
                r->z.avail_in = (uInt) n;
                r->z.next_out = r->out;
                r->z.avail_out = OUT_BUF_SIZE;
                zr = inflate(&r->z, Z_NO_FLUSH);
                r->in_pos = r->in_len - r->z.avail_in;
                produced = OUT_BUF_SIZE - r->z.avail_out;
                if (zr == Z_STREAM_END)
                        r->stream_end = true;
                else if (zr != Z_OK && zr != Z_BUF_ERROR)
                        return reader_fail(r, EBADMSG, "%s: corrupt gzip stream: %s", r->path,
                                           r->z.msg ?: "inflate failed");
                if (produced > 0)
                        return (ssize_t) produced;
                if (n == 0)
                        return reader_fail(r, EBADMSG, "%s: truncated gzip stream", r->path);
        }
}

static ssize_t step_isal(LayerReader *r) {
        for (;;) {
                ssize_t n = fill_input(r);
                size_t produced;
                int ir;

                if (n < 0)
                        return n;
                if (n == 0 && r->stream_end)
                        return 0;
                if (n > 0 && r->stream_end) {
                        if (!gzip_magic_follows(r, (size_t) n))
                                return reader_fail(r, EBADMSG, "%s: trailing garbage after the gzip stream", r->path);
                        isal_inflate_reset(r->isal);
                        r->isal->crc_flag = ISAL_GZIP;
                        r->stream_end = false;
                }
                r->isal->next_in = r->in + r->in_pos;
                r->isal->avail_in = (uint32_t) n;
                r->isal->next_out = r->out;
                r->isal->avail_out = OUT_BUF_SIZE;
                ir = isal_inflate(r->isal);
                r->in_pos = r->in_len - r->isal->avail_in;
                produced = OUT_BUF_SIZE - r->isal->avail_out;
                if (ir != ISAL_DECOMP_OK)
                        return reader_fail(r, EBADMSG, "%s: corrupt gzip stream (isa-l error %d)", r->path, ir);
                if (r->isal->block_state == ISAL_BLOCK_FINISH)
                        r->stream_end = true;
                if (produced > 0)
                        return (ssize_t) produced;
                if (n == 0)
                        return reader_fail(r, EBADMSG, "%s: truncated gzip stream", r->path);
        }
}

static ssize_t step_zstd(LayerReader *r) {
        size_t produced = 0;

        while (produced == 0) {
                ssize_t n = fill_input(r);
                ZSTD_inBuffer in;
                ZSTD_outBuffer out = { r->out, OUT_BUF_SIZE, 0 };
                size_t zr;

                if (n < 0)
                        return n;
                if (n == 0) {
                        /* The decoder may still hold output for a frame whose input is all in. */
                        in = (ZSTD_inBuffer) { r->in, 0, 0 };
                        zr = ZSTD_decompressStream(r->zstd, &out, &in);
                        if (ZSTD_isError(zr))
                                return reader_fail(r, EBADMSG, "%s: corrupt zstd stream: %s", r->path,
                                                   ZSTD_getErrorName(zr));
                        if (out.pos > 0) {
                                r->stream_end = zr == 0;
                                return (ssize_t) out.pos;
                        }
                        if (!r->stream_end)
                                return reader_fail(r, EBADMSG, "%s: truncated zstd stream", r->path);
                        return 0;
                }
                in = (ZSTD_inBuffer) { r->in + r->in_pos, (size_t) n, 0 };
                zr = ZSTD_decompressStream(r->zstd, &out, &in);
                if (ZSTD_isError(zr))
                        return reader_fail(r, EBADMSG, "%s: corrupt zstd stream: %s", r->path,
                                           ZSTD_getErrorName(zr));
                r->in_pos += in.pos;
                r->stream_end = zr == 0;
                produced = out.pos;
        }
        return (ssize_t) produced;
}

static ssize_t reader_step(LayerReader *r) {
        if (r->error < 0)
                return r->error;
        switch (r->compression) {
        case SQUASH_COMPRESSION_NONE:
                return step_none(r);
        case SQUASH_COMPRESSION_GZIP:
                return r->engine == SQUASH_INFLATE_ISAL ? step_isal(r) : step_zlib(r);
        case SQUASH_COMPRESSION_ZSTD:
                return step_zstd(r);
        }
        return -EINVAL;
}

static la_ssize_t archive_read_cb(struct archive *a, void *userdata, const void **buffer) {
        LayerReader *r = userdata;
        ssize_t n = reader_step(r);

        if (n < 0) {
                archive_set_error(a, ERRNO_VALUE((int) n), "%s", r->message ?: "decompression failed");
                return -1;
        }
        *buffer = r->out;
        return n;
}

static int sniff(LayerReader *r, SquashCompression *ret) {
        uint8_t magic[4];
        ssize_t n;

        n = pread(r->fd, magic, sizeof magic, 0);
        if (n < 0)
                return reader_fail(r, errno, "reading %s: %m", r->path);
        if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
                *ret = SQUASH_COMPRESSION_GZIP;
        else if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
                *ret = SQUASH_COMPRESSION_ZSTD;
        else
                *ret = SQUASH_COMPRESSION_NONE;
        return 0;
}

/* The layer file: a regular file of the size its descriptor says. */
static int reader_open_file(LayerReader *r, uint64_t expected_size) {
        struct stat st;

        r->fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (r->fd < 0)
                return reader_fail(r, errno, "opening layer %s: %m", r->path);
        if (fstat(r->fd, &st) < 0)
                return reader_fail(r, errno, "stat %s: %m", r->path);
        if (!S_ISREG(st.st_mode))
                return reader_fail(r, EBADFD, "layer %s is not a regular file", r->path);
        r->file_size = (uint64_t) st.st_size;
        if (expected_size > 0 && r->file_size != expected_size)
                return reader_fail(r, EBADMSG, "layer %s has %llu bytes, its descriptor says %llu", r->path,
                                   (unsigned long long) r->file_size, (unsigned long long) expected_size);
        (void) posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        return 0;
}

/* The compression the magic shows, which a given media type must agree with. */
static int reader_choose_compression(LayerReader *r, const char *media_type) {
        SquashCompression sniffed = SQUASH_COMPRESSION_NONE;
        int k;

        k = sniff(r, &sniffed);
        if (k < 0)
                return k;
        if (!media_type) {
                r->compression = sniffed;
                return 0;
        }
        k = squash_media_type_parse(media_type, &r->compression);
        if (k < 0)
                return reader_fail(r, k, "layer %s: unsupported media type \"%s\"", r->path, media_type);
        if (r->compression != sniffed && r->compression != SQUASH_COMPRESSION_NONE)
                return reader_fail(r, EBADMSG, "layer %s: media type says %s but the data is not %s", r->path,
                                   squash_compression_to_string(r->compression),
                                   squash_compression_to_string(r->compression));
        if (r->compression == SQUASH_COMPRESSION_NONE && sniffed != SQUASH_COMPRESSION_NONE)
                return reader_fail(r, EBADMSG, "layer %s: media type says uncompressed tar but the data is %s",
                                   r->path, squash_compression_to_string(sniffed));
        return 0;
}

static int reader_init_inflater(LayerReader *r) {
        r->in = malloc(IN_BUF_SIZE);
        r->out = malloc(OUT_BUF_SIZE);
        if (!r->in || !r->out)
                return -ENOMEM;

        switch (r->compression) {
        case SQUASH_COMPRESSION_NONE:
                r->stream_end = true; /* nothing can be truncated at this level */
                return 0;
        case SQUASH_COMPRESSION_GZIP:
                if (r->engine == SQUASH_INFLATE_ISAL) {
                        r->isal = calloc(1, sizeof *r->isal);
                        if (!r->isal)
                                return -ENOMEM;
                        isal_inflate_init(r->isal);
                        r->isal->crc_flag = ISAL_GZIP;
                        return 0;
                }
                if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK)
                        return -ENOMEM;
                r->z_init = true;
                return 0;
        case SQUASH_COMPRESSION_ZSTD:
                r->zstd = ZSTD_createDStream();
                return r->zstd ? 0 : -ENOMEM;
        }
        return -EINVAL;
}

/* Everything but the tar parser: file, size check, compression, inflater. */
static int reader_new(const char *path, const char *media_type, uint64_t expected_size,
                      layer_reader_progress_t progress, void *userdata,
                      LayerReader **ret, char **ret_error) {
        _cleanup_(layer_reader_freep) LayerReader *r = NULL;
        int k;

        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->fd = -EBADF;
        r->engine = inflate_engine;
        r->progress = progress;
        r->userdata = userdata;
        r->path = strdup(path);
        if (!r->path)
                return -ENOMEM;

        k = reader_open_file(r, expected_size);
        if (k >= 0)
                k = reader_choose_compression(r, media_type);
        if (k < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(r->message);
                return k;
        }
        k = reader_init_inflater(r);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;
}

int layer_reader_open(const char *path, const char *media_type, uint64_t expected_size,
                      layer_reader_progress_t progress, void *userdata,
                      LayerReader **ret, char **ret_error) {
        _cleanup_(layer_reader_freep) LayerReader *r = NULL;
        int rr;

        assert(path);
        assert(ret);

        rr = reader_new(path, media_type, expected_size, progress, userdata, &r, ret_error);
        if (rr < 0)
                return rr;
        r->archive = archive_read_new();
        if (!r->archive)
                return -ENOMEM;
        /* We decompress ourselves; libarchive only parses tar headers. */
        if (archive_read_support_format_tar(r->archive) != ARCHIVE_OK ||
            archive_read_support_filter_none(r->archive) != ARCHIVE_OK)
                return -EIO;
        if (archive_read_open(r->archive, r, NULL, archive_read_cb, NULL) != ARCHIVE_OK) {
                if (r->error == 0)
                        reader_fail(r, EBADMSG, "layer %s: not a tar archive: %s", path,
                                    archive_error_string(r->archive) ?: "unknown error");
                if (ret_error)
                        *ret_error = TAKE_PTR(r->message);
                return r->error;
        }
        *ret = TAKE_PTR(r);
        return 0;
}

int layer_reader_drain(const char *path, const char *media_type, uint64_t *ret_bytes, char **ret_error) {
        _cleanup_(layer_reader_freep) LayerReader *r = NULL;
        uint64_t total = 0;
        ssize_t n;
        int rr;

        assert(path);
        assert(ret_bytes);

        rr = reader_new(path, media_type, 0, NULL, NULL, &r, ret_error);
        if (rr < 0)
                return rr;
        while ((n = reader_step(r)) > 0)
                total += (uint64_t) n;
        if (n < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(r->message);
                return (int) n;
        }
        *ret_bytes = total;
        return 0;
}

struct archive *layer_reader_archive(LayerReader *r) {
        assert(r);

        return r->archive;
}

int layer_reader_error(LayerReader *r, const char **ret_message) {
        assert(r);

        if (ret_message)
                *ret_message = r->message;
        return r->error;
}

int layer_reader_finish(LayerReader *r) {
        assert(r);

        for (;;) {
                ssize_t n = reader_step(r);
                if (n < 0)
                        return (int) n;
                if (n == 0)
                        break;
                /* Past the tar end marker only zero padding may follow. */
                for (ssize_t i = 0; i < n; i++)
                        if (r->out[i] != 0)
                                return reader_fail(r, EBADMSG, "%s: data after the end of the tar archive", r->path);
        }
        if (r->compression == SQUASH_COMPRESSION_NONE)
                return 0;
        if (r->in_pos < r->in_len || !r->in_eof)
                return reader_fail(r, EBADMSG, "%s: trailing garbage after the compressed stream", r->path);
        return 0;
}

LayerReader *layer_reader_free(LayerReader *r) {
        if (!r)
                return NULL;
        if (r->archive)
                archive_read_free(r->archive);
        if (r->z_init)
                inflateEnd(&r->z);
        free(r->isal);
        ZSTD_freeDStream(r->zstd);
        safe_close(r->fd);
        free(r->in);
        free(r->out);
        free(r->path);
        free(r->message);
        free(r);
        return NULL;
}
