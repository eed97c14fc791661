/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "initrd.h"
#include "macro.h"

void cpio_done(Cpio *c) {
        assert(c);

        c->data = mfree(c->data);
        c->size = c->cap = 0;
}

static int reserve(Cpio *c, size_t more) {
        if (c->size + more <= c->cap)
                return 0;
        size_t ncap = MAX(c->cap * 2, c->size + more + 4096);
        uint8_t *n = realloc(c->data, ncap);
        if (!n)
                return -ENOMEM;
        c->data = n;
        c->cap = ncap;
        return 0;
}

static void pad4(Cpio *c) {
        while (c->size % 4)
                c->data[c->size++] = 0;
}

static int entry(Cpio *c, const char *name, mode_t mode, unsigned rmajor, unsigned rminor, const void *data,
                 size_t size) {
        size_t nlen = strlen(name) + 1;
        char hdr[111];
        int r;

        if (size > UINT32_MAX || nlen > 4096)
                return -EFBIG;
        r = reserve(c, sizeof hdr + nlen + size + 8);
        if (r < 0)
                return r;
        /* magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
         * devminor, rdevmajor, rdevminor, namesize, check */
        snprintf(hdr, sizeof hdr, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ++c->ino,
                 (unsigned) mode, 0u, 0u, S_ISDIR(mode) ? 2u : 1u, 0u, (unsigned) size, 0u, 0u, rmajor, rminor,
                 (unsigned) nlen, 0u);
        memcpy(c->data + c->size, hdr, 110);
        c->size += 110;
        memcpy(c->data + c->size, name, nlen);
        c->size += nlen;
        pad4(c);
        if (size > 0) {
                memcpy(c->data + c->size, data, size);
                c->size += size;
                pad4(c);
        }
        return 0;
}

int cpio_add_dir(Cpio *c, const char *name, mode_t mode) {
        assert(c);
        assert(name);

        return entry(c, name, S_IFDIR | (mode & 07777), 0, 0, NULL, 0);
}

int cpio_add_file(Cpio *c, const char *name, mode_t mode, const void *data, size_t size) {
        assert(c);
        assert(name);
        assert(data || size == 0);

        return entry(c, name, S_IFREG | (mode & 07777), 0, 0, data, size);
}

int cpio_add_device(Cpio *c, const char *name, mode_t mode, unsigned major, unsigned minor) {
        assert(c);
        assert(name);

        return entry(c, name, mode, major, minor, NULL, 0);
}

int cpio_finish(Cpio *c) {
        int r;

        assert(c);

        r = entry(c, "TRAILER!!!", 0, 0, 0, NULL, 0);
        if (r < 0)
                return r;
        /* Pad to 512 bytes, as cpio(1) does. */
        r = reserve(c, 512);
        if (r < 0)
                return r;
        while (c->size % 512)
                c->data[c->size++] = 0;
        return 0;
}
