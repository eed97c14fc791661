/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <bzlib.h>
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <lz4.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "fs-util.h"
#include "kernel-inflate.h"
#include "macro.h"

#define XEN_ELFNOTE_ENTRY 1 /* xen/include/public/elfnote.h: the PV entry point */
#define LZ4_LEGACY_MAGIC 0x184C2102U
#define LZ4_LEGACY_BLOCK (8U << 20) /* lz4 -l: 8 MiB blocks */
#define LZMA_MEMLIMIT (256U << 20)  /* Linux's xz uses a 32 MiB dictionary */

static const char *const compression_names[_KERNEL_COMPRESSION_MAX] = {
        [KERNEL_COMPRESSION_GZIP] = "gzip", [KERNEL_COMPRESSION_XZ] = "xz",       [KERNEL_COMPRESSION_ZSTD] = "zstd",
        [KERNEL_COMPRESSION_LZ4] = "lz4",   [KERNEL_COMPRESSION_BZIP2] = "bzip2", [KERNEL_COMPRESSION_LZMA] = "lzma",
        [KERNEL_COMPRESSION_LZO] = "lzo",
};

const char *kernel_compression_to_string(KernelCompression c) {
        return c >= 0 && c < _KERNEL_COMPRESSION_MAX ? compression_names[c] : NULL;
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint16_t le16(const uint8_t *p) {
        return (uint16_t) (p[0] | p[1] << 8);
}

int bzimage_payload(const uint8_t *data, size_t size, const uint8_t **ret, size_t *ret_size) {
        size_t setup_sects, start, off, len;

        assert(data || size == 0);
        assert(ret);
        assert(ret_size);

        /* Documentation/arch/x86/boot.rst: setup_sects at 0x1f1 (0 means 4),
         * "HdrS" at 0x202, version at 0x206, payload_offset/length at 0x248. */
        if (size < 0x250 || memcmp(data + 0x202, "HdrS", 4) != 0 || le16(data + 0x206) < 0x0208)
                return -EMEDIUMTYPE;
        setup_sects = data[0x1f1] ?: 4;
        start = (setup_sects + 1) * 512;
        off = le32(data + 0x248);
        len = le32(data + 0x24c);
        if (start > size || off > size - start || len > size - start - off || len < 8)
                return -EBADMSG;
        *ret = data + start + off;
        *ret_size = len;
        return 0;
}

KernelCompression kernel_payload_compression(const uint8_t *p, size_t size) {
        assert(p || size == 0);

        static const struct {
                KernelCompression c;
                size_t len;
                const char *magic;
        } magics[] = {
                { KERNEL_COMPRESSION_GZIP, 2, "\x1f\x8b" },
                { KERNEL_COMPRESSION_XZ, 6, "\xfd" "7zXZ\0" },
                { KERNEL_COMPRESSION_ZSTD, 4, "\x28\xb5\x2f\xfd" },
                { KERNEL_COMPRESSION_LZ4, 4, "\x02\x21\x4c\x18" },
                { KERNEL_COMPRESSION_BZIP2, 3, "BZh" },
                { KERNEL_COMPRESSION_LZMA, 3, "\x5d\0\0" },
                { KERNEL_COMPRESSION_LZO, 4, "\x89LZO" },
        };

        for (size_t i = 0; i < ELEMENTSOF(magics); i++)
                if (size >= magics[i].len && memcmp(p, magics[i].magic, magics[i].len) == 0)
                        return magics[i].c;
        return _KERNEL_COMPRESSION_INVALID;
}

/* Each inflates the first stream of in into out (at most n bytes), returns
 * the bytes written or -EBADMSG and sets *used to the input consumed: what
 * follows the stream must be the size trailer and nothing else, which catches
 * truncation in formats without a checksum of their own (lz4, lzma). */

static ssize_t inflate_gzip(const uint8_t *in, size_t in_size, uint8_t *out, size_t n, size_t *used) {
        z_stream z = { .next_in = (Bytef *) in, .avail_in = (uInt) in_size, .next_out = out, .avail_out = (uInt) n };
        int r;

        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
                return -ENOMEM;
        do
                r = inflate(&z, Z_FINISH);
        while (r == Z_OK);
        inflateEnd(&z);
        *used = z.total_in;
        return r == Z_STREAM_END ? (ssize_t) z.total_out : -EBADMSG;
}

static ssize_t inflate_lzma(const uint8_t *in, size_t in_size, uint8_t *out, size_t n, bool alone, size_t *used) {
        lzma_stream s = LZMA_STREAM_INIT;
        lzma_ret r;

        r = alone ? lzma_alone_decoder(&s, LZMA_MEMLIMIT) : lzma_stream_decoder(&s, LZMA_MEMLIMIT, 0);
        if (r != LZMA_OK)
                return -ENOMEM;
        s.next_in = in;
        s.avail_in = in_size;
        s.next_out = out;
        s.avail_out = n;
        do /* LZMA_BUF_ERROR ends it when no progress is possible */
                r = lzma_code(&s, LZMA_FINISH);
        while (r == LZMA_OK);
        lzma_end(&s);
        *used = s.total_in;
        return r == LZMA_STREAM_END ? (ssize_t) s.total_out : -EBADMSG;
}

static ssize_t inflate_zstd(const uint8_t *in, size_t in_size, uint8_t *out, size_t n, size_t *used) {
        size_t frame = ZSTD_findFrameCompressedSize(in, in_size), r;

        if (ZSTD_isError(frame))
                return -EBADMSG;
        r = ZSTD_decompress(out, n, in, frame);
        *used = frame;
        return ZSTD_isError(r) ? -EBADMSG : (ssize_t) r;
}

/* lz4 -l (what the kernel build uses): the magic, then blocks of a 32-bit
 * compressed length and at most 8 MiB of output each. */
static ssize_t inflate_lz4(const uint8_t *in, size_t in_size, uint8_t *out, size_t n, size_t *used) {
        const uint8_t *p = in + 4, *end = in + in_size;
        size_t done = 0;

        while (end - p > 4) {
                uint32_t chunk = le32(p);
                int k;

                p += 4;
                if (chunk == LZ4_LEGACY_MAGIC) /* concatenated archives */
                        continue;
                if (chunk > (size_t) (end - p) || chunk > (uint32_t) LZ4_compressBound(LZ4_LEGACY_BLOCK) || done == n)
                        return -EBADMSG;
                k = LZ4_decompress_safe((const char *) p, (char *) out + done, (int) chunk,
                                        (int) MIN(n - done, (size_t) LZ4_LEGACY_BLOCK));
                if (k < 0)
                        return -EBADMSG;
                done += (size_t) k;
                p += chunk;
        }
        *used = (size_t) (p - in);
        return (ssize_t) done;
}

static ssize_t inflate_bzip2(const uint8_t *in, size_t in_size, uint8_t *out, size_t n, size_t *used) {
        bz_stream s = { .next_in = (char *) in, .avail_in = (unsigned) in_size, .next_out = (char *) out,
                        .avail_out = (unsigned) n };
        int r;

        if (in_size > UINT_MAX || n > UINT_MAX)
                return -EBADMSG;
        if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
                return -ENOMEM;
        do
                r = BZ2_bzDecompress(&s);
        while (r == BZ_OK && s.avail_in > 0 && s.avail_out > 0);
        *used = in_size - s.avail_in;
        BZ2_bzDecompressEnd(&s);
        return r == BZ_STREAM_END ? (ssize_t) (n - s.avail_out) : -EBADMSG;
}

int kernel_payload_inflate(const uint8_t *payload, size_t size, uint8_t **ret, size_t *ret_size) {
        KernelCompression c = kernel_payload_compression(payload, size);
        _cleanup_free_ uint8_t *out = NULL;
        size_t n, used = 0;
        ssize_t k;

        assert(payload || size == 0);
        assert(ret);
        assert(ret_size);

        if (size < 8)
                return -EBADMSG;
        if (c < 0 || c == KERNEL_COMPRESSION_LZO)
                return -EOPNOTSUPP;
        n = le32(payload + size - 4);
        if (n < sizeof(Elf64_Ehdr) || n > KERNEL_INFLATED_MAX)
                return -EBADMSG;
        out = malloc(n);
        if (!out)
                return -ENOMEM;
        switch (c) {
        case KERNEL_COMPRESSION_GZIP:
                k = inflate_gzip(payload, size, out, n, &used);
                break;
        case KERNEL_COMPRESSION_XZ:
        case KERNEL_COMPRESSION_LZMA:
                k = inflate_lzma(payload, size, out, n, c == KERNEL_COMPRESSION_LZMA, &used);
                break;
        case KERNEL_COMPRESSION_ZSTD:
                k = inflate_zstd(payload, size, out, n, &used);
                break;
        case KERNEL_COMPRESSION_LZ4:
                k = inflate_lz4(payload, size, out, n, &used);
                break;
        case KERNEL_COMPRESSION_BZIP2:
                k = inflate_bzip2(payload, size, out, n, &used);
                break;
        default:
                return -EOPNOTSUPP;
        }
        if (k < 0)
                return (int) k;
        /* exactly what the trailer announced, and the trailer right after the stream */
        if ((size_t) k != n || used != size - 4)
                return -EBADMSG;
        *ret = TAKE_PTR(out);
        *ret_size = n;
        return 0;
}

static bool has_xen_entry_note(const uint8_t *note, size_t size) {
        size_t pos = 0;

        while (size - pos >= 12) {
                uint32_t namesz = le32(note + pos), descsz = le32(note + pos + 4), type = le32(note + pos + 8);
                size_t name_pad = ((size_t) namesz + 3) & ~(size_t) 3, desc_pad = ((size_t) descsz + 3) & ~(size_t) 3;

                pos += 12;
                if (name_pad > size - pos || desc_pad > size - pos - name_pad)
                        return false;
                if (namesz == 4 && memcmp(note + pos, "Xen", 4) == 0 && type == XEN_ELFNOTE_ENTRY && descsz >= 4)
                        return true;
                pos += name_pad + desc_pad;
        }
        return false;
}

int kernel_elf_check_xen_pv(const uint8_t *data, size_t size) {
        Elf64_Ehdr eh;

        assert(data || size == 0);

        if (size < sizeof eh)
                return -EMEDIUMTYPE;
        memcpy(&eh, data, sizeof eh);
        if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
            eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
            eh.e_phoff > size || eh.e_phnum > (size - eh.e_phoff) / sizeof(Elf64_Phdr))
                return -EMEDIUMTYPE;
        for (size_t i = 0; i < eh.e_phnum; i++) {
                Elf64_Phdr ph;

                memcpy(&ph, data + eh.e_phoff + i * sizeof ph, sizeof ph);
                if (ph.p_type != PT_NOTE || ph.p_offset > size || ph.p_filesz > size - ph.p_offset)
                        continue;
                if (has_xen_entry_note(data + ph.p_offset, ph.p_filesz))
                        return 0;
        }
        return -EMEDIUMTYPE;
}

int kernel_inflate_file(const char *image, const char *dest, KernelCompression *ret_compression) {
        _cleanup_free_ char *data = NULL;
        _cleanup_free_ uint8_t *elf = NULL;
        const uint8_t *payload;
        size_t size, payload_size, elf_size;
        KernelCompression c;
        int r;

        assert(image);
        assert(dest);

        r = read_full_file(image, KERNEL_IMAGE_MAX, &data, &size);
        if (r < 0)
                return r;
        r = bzimage_payload((const uint8_t *) data, size, &payload, &payload_size);
        if (r == -EMEDIUMTYPE)
                return -EOPNOTSUPP;
        if (r < 0)
                return r;
        c = kernel_payload_compression(payload, payload_size);
        if (ret_compression)
                *ret_compression = c;
        r = kernel_payload_inflate(payload, payload_size, &elf, &elf_size);
        if (r < 0)
                return r;
        r = kernel_elf_check_xen_pv(elf, elf_size);
        if (r < 0)
                return r;
        return write_file_atomic(dest, elf, elf_size, 0644);
}
