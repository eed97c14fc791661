/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bzlib.h>
#include <dirent.h>
#include <elf.h>
#include <lz4.h>
#include <lzma.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <cmocka.h>

#include "fs-util.h"
#include "kernel-inflate.h"
#include "string-util.h"

/* A 9 MiB "vmlinux": an ELF header, one PT_NOTE with Xen's notes, then a
 * pattern (so that lz4's 8 MiB blocks come twice). */
#define FAKE_ELF_SIZE ((9U << 20) + 12345U)

typedef struct Buf {
        uint8_t *data;
        size_t size;
} Buf;

static void buf_done(Buf *b) {
        b->data = mfree(b->data);
        b->size = 0;
}

static void put32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
        p[2] = (uint8_t) (v >> 16);
        p[3] = (uint8_t) (v >> 24);
}

/* A note: namesz, descsz, type, "Xen\0", 8-byte desc. */
static size_t put_note(uint8_t *p, uint32_t type) {
        put32(p, 4);
        put32(p + 4, 8);
        put32(p + 8, type);
        memcpy(p + 12, "Xen", 4);
        memset(p + 16, 0xab, 8);
        return 24;
}

static Buf fake_elf(uint32_t note_type, uint16_t machine) {
        Buf b = { .data = calloc(1, FAKE_ELF_SIZE), .size = FAKE_ELF_SIZE };
        Elf64_Ehdr eh = {
                .e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
                .e_type = ET_EXEC,
                .e_machine = machine,
                .e_version = EV_CURRENT,
                .e_phoff = sizeof(Elf64_Ehdr),
                .e_ehsize = sizeof(Elf64_Ehdr),
                .e_phentsize = sizeof(Elf64_Phdr),
                .e_phnum = 2,
        };
        Elf64_Phdr load = { .p_type = PT_LOAD, .p_offset = 0x1000, .p_filesz = 0x1000 };
        Elf64_Phdr note = { .p_type = PT_NOTE, .p_offset = 0x200 };
        size_t n;

        assert_non_null(b.data);
        /* a GUEST_OS note first, so the parser has to walk past one */
        n = put_note(b.data + 0x200, 6);
        n += put_note(b.data + 0x200 + n, note_type);
        note.p_filesz = n;
        memcpy(b.data, &eh, sizeof eh);
        memcpy(b.data + sizeof eh, &load, sizeof load);
        memcpy(b.data + sizeof eh + sizeof load, &note, sizeof note);
        for (size_t i = 0x1000; i < b.size; i++)
                b.data[i] = (uint8_t) ((i * 2654435761U) >> 13) & (i % 7 == 0 ? 0xff : 0x0f);
        return b;
}

static Buf compress_as(KernelCompression c, const Buf *in) {
        size_t cap = in->size + in->size / 2 + (1U << 16);
        Buf out = { .data = malloc(cap) };

        assert_non_null(out.data);
        switch (c) {
        case KERNEL_COMPRESSION_GZIP: {
                z_stream z = { .next_in = in->data, .avail_in = (uInt) in->size, .next_out = out.data, .avail_out = (uInt) cap };
                assert_int_equal(deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
                assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
                out.size = z.total_out;
                deflateEnd(&z);
                break;
        }
        case KERNEL_COMPRESSION_XZ:
                /* what the kernel's xz_wrap.sh uses: CRC32, an x86 BCJ filter */
                {
                        lzma_options_lzma opt;
                        lzma_filter filters[] = {
                                { .id = LZMA_FILTER_X86 },
                                { .id = LZMA_FILTER_LZMA2, .options = &opt },
                                { .id = LZMA_VLI_UNKNOWN },
                        };
                        assert_false(lzma_lzma_preset(&opt, 0));
                        assert_int_equal(lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, NULL, in->data, in->size,
                                                                   out.data, &out.size, cap),
                                         LZMA_OK);
                }
                break;
        case KERNEL_COMPRESSION_LZMA: {
                lzma_stream s = LZMA_STREAM_INIT;
                lzma_options_lzma opt;
                assert_false(lzma_lzma_preset(&opt, 0));
                assert_int_equal(lzma_alone_encoder(&s, &opt), LZMA_OK);
                s.next_in = in->data;
                s.avail_in = in->size;
                s.next_out = out.data;
                s.avail_out = cap;
                assert_int_equal(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
                out.size = s.total_out;
                lzma_end(&s);
                break;
        }
        case KERNEL_COMPRESSION_ZSTD:
        {
                /* with a checksum, as zstd(1) writes by default */
                ZSTD_CCtx *cctx = ZSTD_createCCtx();
                assert_non_null(cctx);
                assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)));
                out.size = ZSTD_compress2(cctx, out.data, cap, in->data, in->size);
                assert_false(ZSTD_isError(out.size));
                ZSTD_freeCCtx(cctx);
                break;
        }
        case KERNEL_COMPRESSION_BZIP2: {
                unsigned len = (unsigned) cap;
                assert_int_equal(BZ2_bzBuffToBuffCompress((char *) out.data, &len, (char *) in->data,
                                                          (unsigned) in->size, 1, 0, 0),
                                 BZ_OK);
                out.size = len;
                break;
        }
        case KERNEL_COMPRESSION_LZ4:
                /* lz4 -l: magic, then (length, block) of at most 8 MiB input each */
                put32(out.data, 0x184C2102U);
                out.size = 4;
                for (size_t off = 0; off < in->size; off += 8U << 20) {
                        int k = LZ4_compress_default((const char *) in->data + off, (char *) out.data + out.size + 4,
                                                     (int) MIN(in->size - off, (size_t) 8U << 20),
                                                     (int) (cap - out.size - 4));
                        assert_true(k > 0);
                        put32(out.data + out.size, (uint32_t) k);
                        out.size += 4 + (size_t) k;
                }
                break;
        case KERNEL_COMPRESSION_LZO:
                memcpy(out.data, "\x89LZO\0\r\n\x1a\n", 9);
                out.size = 64;
                break;
        default:
                fail();
        }
        return out;
}

/* A bzImage around a payload: 1 setup sector + the boot sector, the payload
 * 0x100 bytes into the protected-mode part, the size trailer after it. */
static Buf fake_bzimage(const Buf *payload, uint32_t trailer) {
        size_t start = 2 * 512 + 0x100;
        Buf b = { .size = start + payload->size + 4 + 100 };

        b.data = calloc(1, b.size);
        assert_non_null(b.data);
        b.data[0x1f1] = 1;
        memcpy(b.data + 0x202, "HdrS", 4);
        b.data[0x206] = 0x0f;
        b.data[0x207] = 0x02;
        put32(b.data + 0x248, 0x100);
        put32(b.data + 0x24c, (uint32_t) payload->size + 4);
        memcpy(b.data + start, payload->data, payload->size);
        put32(b.data + start + payload->size, trailer);
        return b;
}

static int inflate_image(const Buf *img, Buf *ret) {
        const uint8_t *p;
        size_t n;
        int r = bzimage_payload(img->data, img->size, &p, &n);

        if (r < 0)
                return r;
        *ret = (Buf) {};
        return kernel_payload_inflate(p, n, &ret->data, &ret->size);
}

/* kernel_inflate_file() of img refuses with r and writes nothing. */
static void refuse_file(const Buf *img, const char *src, const char *dest, int r) {
        assert_int_equal(write_file_atomic(src, img->data, img->size, 0644), 0);
        assert_int_equal(kernel_inflate_file(src, dest, NULL), r);
        assert_int_equal(access(dest, F_OK), -1);
}

static void test_formats(void **state) {
        static const KernelCompression all[] = {
                KERNEL_COMPRESSION_GZIP, KERNEL_COMPRESSION_XZ,    KERNEL_COMPRESSION_LZMA,
                KERNEL_COMPRESSION_ZSTD, KERNEL_COMPRESSION_BZIP2, KERNEL_COMPRESSION_LZ4,
        };
        char dir[] = "/tmp/test-kernel-inflate.XXXXXX";
        _cleanup_free_ char *src = NULL, *dest = NULL;
        Buf elf = fake_elf(1, EM_X86_64);

        assert_non_null(mkdtemp(dir));
        src = path_join(dir, "vmlinuz");
        dest = path_join(dir, "vmlinux");
        assert_int_equal(kernel_elf_check_xen_pv(elf.data, elf.size), 0);
        for (size_t i = 0; i < ELEMENTSOF(all); i++) {
                Buf z = compress_as(all[i], &elf), img = fake_bzimage(&z, (uint32_t) elf.size), out = {};
                KernelCompression c = _KERNEL_COMPRESSION_INVALID;
                _cleanup_free_ char *written = NULL;
                size_t wsize;

                print_message("%s: %zu -> %zu bytes\n", kernel_compression_to_string(all[i]), elf.size, z.size);
                assert_int_equal(kernel_payload_compression(z.data, z.size), all[i]);
                assert_int_equal(inflate_image(&img, &out), 0);
                assert_int_equal(out.size, elf.size);
                assert_memory_equal(out.data, elf.data, elf.size);
                buf_done(&out);

                /* The trailer must match what the stream holds, either way. */
                buf_done(&img);
                img = fake_bzimage(&z, (uint32_t) elf.size + 1);
                assert_int_equal(inflate_image(&img, &out), -EBADMSG);
                buf_done(&img);
                img = fake_bzimage(&z, (uint32_t) elf.size - 1);
                assert_int_equal(inflate_image(&img, &out), -EBADMSG);
                buf_done(&img);
                img = fake_bzimage(&z, KERNEL_INFLATED_MAX + 1);
                assert_int_equal(inflate_image(&img, &out), -EBADMSG);
                buf_done(&img);

                /* Truncated streams. */
                for (size_t cut = 1; cut < z.size; cut = cut * 3 + 1) {
                        Buf t = { .data = z.data, .size = z.size - cut };
                        img = fake_bzimage(&t, (uint32_t) elf.size);
                        assert_int_equal(inflate_image(&img, &out), -EBADMSG);
                        buf_done(&img);
                }
                /* Flipped bytes: refused or, where the format has no check, a wrong but bounded result. */
                for (size_t k = 0; k < 16; k++) {
                        int r;
                        img = fake_bzimage(&z, (uint32_t) elf.size);
                        img.data[2 * 512 + 0x100 + 16 + (k * 7919) % (z.size - 16)] ^= (uint8_t) (1u << (k % 8));
                        r = inflate_image(&img, &out);
                        assert_true(r == 0 || r == -EBADMSG);
                        if (r == 0)
                                assert_int_equal(out.size, elf.size);
                        buf_done(&out);
                        buf_done(&img);
                }

                img = fake_bzimage(&z, (uint32_t) elf.size);
                assert_int_equal(write_file_atomic(src, img.data, img.size, 0644), 0);
                assert_int_equal(kernel_inflate_file(src, dest, &c), 0);
                assert_int_equal(c, all[i]);
                assert_int_equal(read_full_file(dest, KERNEL_INFLATED_MAX, &written, &wsize), 0);
                assert_int_equal(wsize, elf.size);
                assert_memory_equal(written, elf.data, elf.size);
                assert_int_equal(unlink(dest), 0);
                buf_done(&img);
                buf_done(&z);
        }
        buf_done(&elf);
        assert_int_equal(rm_rf(dir), 0);
}

static void test_refusals(void **state) {
        char dir[] = "/tmp/test-kernel-inflate.XXXXXX";
        _cleanup_free_ char *src = NULL, *dest = NULL;
        Buf elf = fake_elf(1, EM_X86_64), z = compress_as(KERNEL_COMPRESSION_ZSTD, &elf), img, out = {};
        const uint8_t *p;
        size_t n;

        assert_non_null(mkdtemp(dir));
        src = path_join(dir, "vmlinuz");
        dest = path_join(dir, "vmlinux");

        /* The boot header. */
        img = fake_bzimage(&z, (uint32_t) elf.size);
        img.data[0x206] = 0x07; /* protocol 2.07: no payload fields */
        assert_int_equal(bzimage_payload(img.data, img.size, &p, &n), -EMEDIUMTYPE);
        img.data[0x206] = 0x0f;
        img.data[0x202] = 'X';
        assert_int_equal(bzimage_payload(img.data, img.size, &p, &n), -EMEDIUMTYPE);
        refuse_file(&img, src, dest, -EOPNOTSUPP);
        img.data[0x202] = 'H';
        put32(img.data + 0x248, 0xfffffff0U);
        assert_int_equal(bzimage_payload(img.data, img.size, &p, &n), -EBADMSG);
        put32(img.data + 0x248, 0x100);
        put32(img.data + 0x24c, (uint32_t) img.size);
        assert_int_equal(bzimage_payload(img.data, img.size, &p, &n), -EBADMSG);
        img.data[0x1f1] = 0xff; /* setup past the end */
        assert_int_equal(bzimage_payload(img.data, img.size, &p, &n), -EBADMSG);
        assert_int_equal(bzimage_payload(img.data, 0x100, &p, &n), -EMEDIUMTYPE);
        buf_done(&img);

        /* Formats not inflated here: the caller boots the image as is. */
        buf_done(&z);
        z = compress_as(KERNEL_COMPRESSION_LZO, &elf);
        img = fake_bzimage(&z, (uint32_t) elf.size);
        assert_int_equal(inflate_image(&img, &out), -EOPNOTSUPP);
        memset(z.data, 0x42, 8);
        buf_done(&img);
        img = fake_bzimage(&z, (uint32_t) elf.size);
        assert_int_equal(inflate_image(&img, &out), -EOPNOTSUPP);
        refuse_file(&img, src, dest, -EOPNOTSUPP);
        buf_done(&img);
        buf_done(&z);

        /* Inflates, but not to a PV kernel: nothing is written. */
        buf_done(&elf);
        elf = fake_elf(18, EM_X86_64); /* XEN_ELFNOTE_PHYS32_ENTRY only: PVH, not PV */
        assert_int_equal(kernel_elf_check_xen_pv(elf.data, elf.size), -EMEDIUMTYPE);
        z = compress_as(KERNEL_COMPRESSION_GZIP, &elf);
        img = fake_bzimage(&z, (uint32_t) elf.size);
        refuse_file(&img, src, dest, -EMEDIUMTYPE);
        buf_done(&img);
        buf_done(&z);
        buf_done(&elf);

        /* Hostile ELF headers. */
        elf = fake_elf(1, EM_AARCH64);
        assert_int_equal(kernel_elf_check_xen_pv(elf.data, elf.size), -EMEDIUMTYPE);
        buf_done(&elf);
        elf = fake_elf(1, EM_X86_64);
        assert_int_equal(kernel_elf_check_xen_pv(elf.data, sizeof(Elf64_Ehdr) + 10), -EMEDIUMTYPE);
        assert_int_equal(kernel_elf_check_xen_pv(elf.data, 0x200 + 30), -EMEDIUMTYPE); /* note cut short */
        assert_int_equal(kernel_elf_check_xen_pv(elf.data, 10), -EMEDIUMTYPE);
        put32(elf.data + 0x200 + 24, 0xfffffffcU); /* second note's namesz */
        assert_int_equal(kernel_elf_check_xen_pv(elf.data, elf.size), -EMEDIUMTYPE);
        buf_done(&elf);
        elf = fake_elf(1, EM_X86_64);
        ((Elf64_Ehdr *) elf.data)->e_phnum = 0xffff;
        assert_int_equal(kernel_elf_check_xen_pv(elf.data, 0x1000), -EMEDIUMTYPE);
        ((Elf64_Ehdr *) elf.data)->e_phnum = 2;
        ((Elf64_Ehdr *) elf.data)->e_phoff = UINT64_MAX - 8;
        assert_int_equal(kernel_elf_check_xen_pv(elf.data, elf.size), -EMEDIUMTYPE);
        ((Elf64_Ehdr *) elf.data)->e_phoff = sizeof(Elf64_Ehdr);
        ((Elf64_Phdr *) (elf.data + sizeof(Elf64_Ehdr)))[1].p_offset = UINT64_MAX - 4;
        assert_int_equal(kernel_elf_check_xen_pv(elf.data, elf.size), -EMEDIUMTYPE);
        buf_done(&elf);
        assert_int_equal(rm_rf(dir), 0);
}

/* Debian's own kernel, as the zones boot it: /boot/vmlinuz-RELEASE (tools/install-deps
 * installs linux-image-amd64; tests/integration/test-kernel.sh uses the same). */
static void test_debian_kernel(void **state) {
        _cleanup_free_ char *image = NULL, *data = NULL;
        Buf out = {};
        const uint8_t *p;
        size_t size, n;
        DIR *d = opendir("/boot");
        struct dirent *de;

        if (d) {
                while ((de = readdir(d)))
                        if (startswith(de->d_name, "vmlinuz-") && (!image || strverscmp(de->d_name, image + 6) > 0)) {
                                free(image);
                                image = path_join("/boot", de->d_name);
                        }
                closedir(d);
        }
        if (!image) {
                print_message("no /boot/vmlinuz-*: install linux-image-amd64 (tools/install-deps)\n");
                skip();
        }
        assert_int_equal(read_full_file(image, KERNEL_IMAGE_MAX, &data, &size), 0);
        assert_int_equal(bzimage_payload((const uint8_t *) data, size, &p, &n), 0);
        print_message("%s: %s payload, %zu bytes\n", image, kernel_compression_to_string(kernel_payload_compression(p, n)), n);
        assert_int_equal(kernel_payload_inflate(p, n, &out.data, &out.size), 0);
        assert_int_equal(out.size, (size_t) p[n - 4] | (size_t) p[n - 3] << 8 | (size_t) p[n - 2] << 16 | (size_t) p[n - 1] << 24);
        assert_int_equal(kernel_elf_check_xen_pv(out.data, out.size), 0);
        print_message("inflated: %zu bytes, an x86-64 ELF with a Xen PV entry note\n", out.size);
        buf_done(&out);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_formats),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_debian_kernel),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
