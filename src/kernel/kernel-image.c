/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fs-util.h"
#include "kernel-image.h"
#include "log.h"
#include "string-util.h"

#define METADATA_MAX (64u * 1024u)
#define MODULE_MAX (64u * 1024u * 1024u)

void kernel_metadata_done(KernelMetadata *m) {
        assert(m);

        m->arch = mfree(m->arch);
        m->version = mfree(m->version);
        m->flavor = mfree(m->flavor);
        m->config = mfree(m->config);
        m->tags = mfree(m->tags);
}

int kernel_metadata_parse(const char *text, size_t size, KernelMetadata *ret) {
        KernelMetadata m = {};
        const char *p = text, *end = text + size;

        assert(text || size == 0);
        assert(ret);

        struct {
                const char *key;
                char **dest;
        } keys[] = {
                { "KERNEL_ARCH", &m.arch },     { "KERNEL_VERSION", &m.version }, { "KERNEL_FLAVOR", &m.flavor },
                { "KERNEL_CONFIG", &m.config }, { "KERNEL_TAGS", &m.tags },
        };

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p)), *le = nl ?: end, *eq;
                size_t len = (size_t) (le - p);

                if (len > 0 && p[0] != '#') {
                        eq = memchr(p, '=', len);
                        if (!eq) {
                                kernel_metadata_done(&m);
                                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Kernel metadata: line without '='.");
                        }
                        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                                if ((size_t) (eq - p) == strlen(keys[i].key) && strneq(p, keys[i].key, (size_t) (eq - p))) {
                                        char *v = strndup(eq + 1, (size_t) (le - eq - 1));
                                        if (!v || !string_is_printable(v, 4096)) {
                                                free(v);
                                                kernel_metadata_done(&m);
                                                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Kernel metadata: %s is invalid.", keys[i].key);
                                        }
                                        free(*keys[i].dest);
                                        *keys[i].dest = v;
                                }
                }
                p = le + 1;
        }
        if (isempty(m.arch) || isempty(m.version)) {
                kernel_metadata_done(&m);
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Kernel metadata: KERNEL_ARCH and KERNEL_VERSION are mandatory.");
        }
        if (!filename_is_valid(m.version)) {
                kernel_metadata_done(&m);
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Kernel metadata: KERNEL_VERSION is not a valid release.");
        }
        *ret = m;
        return 0;
}

int kernel_metadata_load(const char *path, KernelMetadata *ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r = read_full_file(path, METADATA_MAX, &text, &size);

        assert(path);
        assert(ret);

        if (r < 0)
                return log_error_errno(r, "Failed to read kernel metadata %s: %m", path);
        return kernel_metadata_parse(text, size, ret);
}

int kernel_metadata_format(const KernelMetadata *m, char **ret) {
        assert(m);
        assert(ret);

        return asprintf_safe(ret, "KERNEL_ARCH=%s\nKERNEL_VERSION=%s\nKERNEL_FLAVOR=%s\nKERNEL_CONFIG=%s\nKERNEL_TAGS=%s\n",
                             m->arch, m->version, strempty(m->flavor), strempty(m->config), strempty(m->tags));
}

const char *kernel_host_arch(void) {
        static struct utsname u;
        if (uname(&u) < 0)
                return "unknown";
        return u.machine;
}

int kernel_image_release(const char *path, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        unsigned char hdr[0x210];
        char buf[256];
        uint16_t ptr;
        ssize_t n;
        size_t len;

        assert(path);
        assert(ret);

        if (fd < 0)
                return negative_errno();
        n = pread(fd, hdr, sizeof hdr, 0);
        if (n < (ssize_t) sizeof hdr || memcmp(hdr + 0x202, "HdrS", 4) != 0)
                return -EMEDIUMTYPE;
        memcpy(&ptr, hdr + 0x20e, 2);
        if (ptr == 0)
                return -EMEDIUMTYPE;
        n = pread(fd, buf, sizeof buf - 1, 0x200 + (off_t) ptr);
        if (n <= 0)
                return -EMEDIUMTYPE;
        buf[n] = 0;
        len = strcspn(buf, " ");
        if (len == 0 || len >= 128)
                return -EMEDIUMTYPE;
        *ret = strndup(buf, len);
        return *ret ? 0 : -ENOMEM;
}

int module_vermagic_release(const char *path, char **ret) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        const char *v;
        int r;

        assert(path);
        assert(ret);

        r = read_full_file(path, MODULE_MAX, &data, &size);
        if (r < 0)
                return r;
        v = memmem(data, size, "vermagic=", 9);
        if (!v)
                return -EBADMSG;
        v += 9;
        size_t rest = size - (size_t) (v - data), len = 0;
        while (len < rest && len < 128 && v[len] != ' ' && v[len] != 0)
                len++;
        if (len == 0 || len >= 128)
                return -EBADMSG;
        *ret = strndup(v, len);
        return *ret ? 0 : -ENOMEM;
}
