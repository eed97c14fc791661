/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fs-util.h"
#include "kernel-config.h"
#include "log.h"
#include "string-util.h"

#define CONFIG_MAX (8u * 1024u * 1024u)

/* One table: the options from krata's "Custom Kernels" document (zone list,
 * then the dom0 additions), plus what krata itself relies on. Two seed rows
 * are downgraded to recommended: they enable virtio over Xen grants, which
 * krata's PV block/net devices do not use, and Debian 12's kernel (a
 * supported zone kernel) does not set them. */
static const KernelOption options[] = {
        { "XEN", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_PV", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_512GB", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_PV_SMP", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_PVHVM", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_PVHVM_SMP", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_PVHVM_GUEST", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_SAVE_RESTORE", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_PVH", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_PV_MSR_SAFE", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "PCI_XEN", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "NET_9P_XEN", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_PCIDEV_FRONTEND", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_BLKDEV_FRONTEND", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_NETDEV_FRONTEND", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "INPUT_XEN_KBDDEV_FRONTEND", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "HVC_XEN", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "HVC_XEN_FRONTEND", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_FBDEV_FRONTEND", "m", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_BALLOON", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_BALLOON_MEMORY_HOTPLUG", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_MEMORY_HOTPLUG_LIMIT", "512", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_SCRUB_PAGES_DEFAULT", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_DEV_EVTCHN", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_BACKEND", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XENFS", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_COMPAT_XENFS", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_SYS_HYPERVISOR", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_XENBUS_FRONTEND", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "SWIOTLB_XEN", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_HAVE_PVMMU", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_EFI", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_AUTO_XLATE", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_ACPI", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_HAVE_VPMU", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, NULL },
        { "XEN_GRANT_DMA_OPS", "y", KERNEL_ROLE_ZONE, OPTION_RECOMMENDED, "virtio over Xen grants; krata uses blkfront/netfront" },
        { "XEN_VIRTIO", "y", KERNEL_ROLE_ZONE, OPTION_RECOMMENDED, "virtio over Xen grants; krata uses blkfront/netfront" },
        /* krata's own needs in a zone kernel */
        { "BLK_DEV_INITRD", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, "krata-init boots from an initrd" },
        { "DEVTMPFS", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, "krata-init mounts devtmpfs on /dev" },
        { "SQUASHFS", "m", KERNEL_ROLE_ZONE, OPTION_REQUIRED, "images and addons are squashfs" },
        { "SQUASHFS_ZSTD", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, "krata-imaged compresses images with zstd" },
        { "OVERLAY_FS", "m", KERNEL_ROLE_ZONE, OPTION_REQUIRED, "the zone root is a tmpfs overlay on the image" },
        { "TMPFS", "y", KERNEL_ROLE_ZONE, OPTION_REQUIRED, "the writable layer of the zone root" },
        /* dom0 */
        { "XEN_PV_DOM0", "y", KERNEL_ROLE_HOST, OPTION_REQUIRED, NULL },
        { "XEN_DOM0", "y", KERNEL_ROLE_HOST, OPTION_REQUIRED, NULL },
        { "XEN_PCIDEV_BACKEND", "y", KERNEL_ROLE_HOST, OPTION_REQUIRED, NULL },
        { "XEN_BLKDEV_BACKEND", "y", KERNEL_ROLE_HOST, OPTION_REQUIRED, NULL },
        { "XEN_NETDEV_BACKEND", "y", KERNEL_ROLE_HOST, OPTION_REQUIRED, NULL },
        { "XEN_SCSI_BACKEND", "y", KERNEL_ROLE_HOST, OPTION_REQUIRED, NULL },
        { "XEN_PVCALLS_BACKEND", "y", KERNEL_ROLE_HOST, OPTION_RECOMMENDED, "krata networks zones through netback, not pvcalls" },
        { "TCG_XEN", "m", KERNEL_ROLE_HOST, OPTION_REQUIRED, NULL },
        { "XEN_WDT", "y", KERNEL_ROLE_HOST, OPTION_REQUIRED, NULL },
        { "XEN_GNTDEV", "y", KERNEL_ROLE_HOST, OPTION_REQUIRED, NULL },
        { "XEN_GRANT_DEV_ALLOC", "y", KERNEL_ROLE_HOST, OPTION_REQUIRED, NULL },
        { "XEN_GRANT_DMA_ALLOC", "y", KERNEL_ROLE_HOST, OPTION_RECOMMENDED, "only for virtio over Xen grants" },
        { "XEN_PRIVCMD", "y", KERNEL_ROLE_HOST, OPTION_REQUIRED, NULL },
        { "XEN_ACPI_PROCESSOR", "y", KERNEL_ROLE_HOST, OPTION_REQUIRED, NULL },
        { "XEN_MCE_LOG", "y", KERNEL_ROLE_HOST, OPTION_REQUIRED, NULL },
        { "BLK_DEV_LOOP", "m", KERNEL_ROLE_HOST, OPTION_REQUIRED, "zone disks are loop devices over files" },
};

struct KernelConfig {
        char **names; /* parallel arrays */
        char **values;
        size_t n, cap;
};

const KernelOption *kernel_options(size_t *ret_n) {
        assert(ret_n);

        *ret_n = ELEMENTSOF(options);
        return options;
}

const char *option_state_to_string(OptionState s) {
        static const char *const names[] = {
                [OPTION_OK] = "ok", [OPTION_MODULE] = "module", [OPTION_DIFFERENT] = "different", [OPTION_MISSING] = "missing",
        };
        return s <= OPTION_MISSING ? names[s] : "?";
}

KernelConfig *kernel_config_free(KernelConfig *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n; i++) {
                free(c->names[i]);
                free(c->values[i]);
        }
        free(c->names);
        free(c->values);
        free(c);
        return NULL;
}

static int config_add(KernelConfig *c, const char *name, size_t nlen, const char *value, size_t vlen) {
        if (c->n == c->cap) {
                size_t ncap = c->cap ? c->cap * 2 : 1024;
                char **a = realloc(c->names, ncap * sizeof(char *)), **b;
                if (!a)
                        return -ENOMEM;
                c->names = a;
                b = realloc(c->values, ncap * sizeof(char *));
                if (!b)
                        return -ENOMEM;
                c->values = b;
                c->cap = ncap;
        }
        c->names[c->n] = strndup(name, nlen);
        c->values[c->n] = strndup(value, vlen);
        if (!c->names[c->n] || !c->values[c->n]) {
                free(c->names[c->n]);
                free(c->values[c->n]);
                return -ENOMEM;
        }
        c->n++;
        return 0;
}

int kernel_config_parse(const char *text, size_t size, KernelConfig **ret) {
        _cleanup_(kernel_config_freep) KernelConfig *c = calloc(1, sizeof(KernelConfig));
        const char *p = text, *end = text + size;
        size_t lines = 0, valid = 0;

        assert(text || size == 0);
        assert(ret);

        if (!c)
                return -ENOMEM;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *le = nl ?: end, *eq;
                size_t len = (size_t) (le - p);

                lines++;
                if (len > 7 && strneq(p, "CONFIG_", 7) && (eq = memchr(p, '=', len))) {
                        const char *v = eq + 1;
                        size_t vlen = (size_t) (le - v);
                        if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                                v++;
                                vlen -= 2;
                        }
                        if (config_add(c, p + 7, (size_t) (eq - p - 7), v, vlen) < 0)
                                return -ENOMEM;
                        valid++;
                } else if (len == 0 || p[0] == '#')
                        valid++;
                p = le + 1;
        }
        /* Anything else is not a kernel config (a binary, an image...). */
        if (c->n == 0 || valid * 10 < lines * 9)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Not a kernel configuration (%zu of %zu lines look like one).",
                                       valid, lines);
        *ret = TAKE_PTR(c);
        return 0;
}

static int read_gzip(const char *path, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = malloc(CONFIG_MAX + 1);
        gzFile f;
        int n;

        if (!buf)
                return -ENOMEM;
        f = gzopen(path, "rb");
        if (!f)
                return errno > 0 ? -errno : -ENOMEM;
        n = gzread(f, buf, CONFIG_MAX + 1);
        gzclose(f);
        if (n < 0)
                return -EBADMSG;
        if ((unsigned) n > CONFIG_MAX)
                return -EFBIG;
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = (size_t) n;
        return 0;
}

int kernel_config_load(const char *path, KernelConfig **ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        assert(path);
        assert(ret);

        r = read_full_file(path, CONFIG_MAX, &text, &size);
        if (r >= 0 && size >= 2 && (unsigned char) text[0] == 0x1f && (unsigned char) text[1] == 0x8b) {
                text = mfree(text);
                r = read_gzip(path, &text, &size);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to read kernel config %s: %m", path);
        r = kernel_config_parse(text, size, ret);
        if (r < 0)
                return log_error_errno(r, "%s: not a kernel configuration.", path);
        return 0;
}

const char *kernel_config_get(const KernelConfig *c, const char *name) {
        assert(c);
        assert(name);

        for (size_t i = 0; i < c->n; i++)
                if (streq(c->names[i], name))
                        return c->values[i];
        return NULL;
}

void option_results_free(OptionResult *r, size_t n) {
        for (size_t i = 0; r && i < n; i++)
                free(r[i].have);
        free(r);
}

int kernel_config_check(const KernelConfig *c, KernelRole role, OptionResult **ret_results, size_t *ret_n) {
        OptionResult *res = calloc(ELEMENTSOF(options), sizeof(OptionResult));
        size_t n = 0;
        int missing = 0;

        assert(c);
        assert(ret_results);
        assert(ret_n);

        if (!res)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(options); i++) {
                const KernelOption *o = &options[i];
                const char *have;
                OptionResult *r;

                if (o->role == KERNEL_ROLE_HOST && role != KERNEL_ROLE_HOST)
                        continue;
                r = &res[n++];
                r->option = o;
                have = kernel_config_get(c, o->name);
                if (have && !(r->have = strdup(have))) {
                        option_results_free(res, n);
                        return -ENOMEM;
                }
                if (!have || streq(have, "n"))
                        r->state = OPTION_MISSING;
                else if (streq(o->value, "y"))
                        r->state = streq(have, "y") ? OPTION_OK : streq(have, "m") ? OPTION_MODULE : OPTION_DIFFERENT;
                else if (streq(o->value, "m"))
                        r->state = streq(have, "y") || streq(have, "m") ? OPTION_OK : OPTION_DIFFERENT;
                else
                        r->state = streq(have, o->value) ? OPTION_OK : OPTION_DIFFERENT;
                if (r->state == OPTION_MISSING && o->level == OPTION_REQUIRED)
                        missing++;
        }
        *ret_results = res;
        *ret_n = n;
        return missing;
}
