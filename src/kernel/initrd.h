/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A newc ("070701") cpio archive built in memory: the initrd format the
 * kernel unpacks into its initramfs. Uncompressed: the payload is a static
 * binary and kernel modules, and the domain builder copies it as is. */
typedef struct Cpio {
        uint8_t *data;
        size_t size, cap;
        uint32_t ino;
} Cpio;

void cpio_done(Cpio *c);
int cpio_add_dir(Cpio *c, const char *name, mode_t mode);
/* Adds the parents of name first (each once per call site's care). */
int cpio_add_file(Cpio *c, const char *name, mode_t mode, const void *data, size_t size);
int cpio_add_device(Cpio *c, const char *name, mode_t mode, unsigned major, unsigned minor);
int cpio_finish(Cpio *c);
