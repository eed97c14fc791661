/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* An x86 bzImage carries the kernel proper, an ELF "vmlinux", compressed
 * (boot protocol ≥ 2.08: payload_offset/payload_length in the setup header;
 * the build appends the inflated size as 4 little-endian bytes). libxenguest's
 * domain builder inflates it at every domain build, seconds of CPU under
 * emulation; krata inflates it once and hands the ELF over instead. */

/* Bound on the inflated kernel: Debian 12's is 66 MB. */
#define KERNEL_INFLATED_MAX (512U << 20)
/* Bound on the bzImage read to inflate it. */
#define KERNEL_IMAGE_MAX (256U << 20)

typedef enum KernelCompression {
        KERNEL_COMPRESSION_GZIP,
        KERNEL_COMPRESSION_XZ,
        KERNEL_COMPRESSION_ZSTD,
        KERNEL_COMPRESSION_LZ4,
        KERNEL_COMPRESSION_BZIP2,
        KERNEL_COMPRESSION_LZMA,
        KERNEL_COMPRESSION_LZO, /* recognised, not inflated: the builder does it */
        _KERNEL_COMPRESSION_MAX,
        _KERNEL_COMPRESSION_INVALID = -EINVAL,
} KernelCompression;

const char *kernel_compression_to_string(KernelCompression c);

/* Finds the payload of a bzImage in memory; -EMEDIUMTYPE when data is no
 * bzImage of boot protocol 2.08 or later, -EBADMSG when its header points
 * outside it. */
int bzimage_payload(const uint8_t *data, size_t size, const uint8_t **ret, size_t *ret_size);
/* By its magic; _KERNEL_COMPRESSION_INVALID when unknown. */
KernelCompression kernel_payload_compression(const uint8_t *payload, size_t size);

/* Inflates a payload into a new buffer of exactly the size its trailer
 * announces (≤ KERNEL_INFLATED_MAX). -EOPNOTSUPP for a format krata does not
 * inflate, -EBADMSG for a corrupt or truncated stream or a size mismatch. */
int kernel_payload_inflate(const uint8_t *payload, size_t size, uint8_t **ret, size_t *ret_size);

/* 0 when data is an x86-64 ELF whose PT_NOTE segments carry Xen's
 * XEN_ELFNOTE_ENTRY (a PV entry point), -EMEDIUMTYPE when it is not; every
 * offset is checked against size. */
int kernel_elf_check_xen_pv(const uint8_t *data, size_t size);

/* Reads the bzImage at image, inflates its payload, checks the result and
 * writes it atomically to dest. -EOPNOTSUPP when image is not a bzImage or
 * its compression is not one inflated here (the caller boots image as is),
 * -EBADMSG for a corrupt payload, -EMEDIUMTYPE when it inflates to no Xen PV
 * ELF. */
int kernel_inflate_file(const char *image, const char *dest, KernelCompression *ret_compression);
