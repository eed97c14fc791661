/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "guest-protocol.h"
#include "initrd.h"
#include "kernel-image.h"
#include "kernel-inflate.h"
#include "kernel-prepare.h"
#include "log.h"
#include "modules-dep.h"
#include "paths.h"
#include "string-util.h"
#include "util.h"

#define INIT_MAX (64u * 1024u * 1024u)
#define MODULE_MAX (64u * 1024u * 1024u)

char *const kernel_initrd_modules[] = {
        "xen-blkfront", "xen-netfront", "squashfs", "overlay", NULL,
};

void kernel_source_done(KernelSource *s) {
        assert(s);

        s->image = mfree(s->image);
        s->addons = mfree(s->addons);
        s->metadata = mfree(s->metadata);
}

void kernel_prepared_done(KernelPrepared *p) {
        assert(p);

        p->kernel = mfree(p->kernel);
        p->image = mfree(p->image);
        p->initrd = mfree(p->initrd);
        p->addons = mfree(p->addons);
        p->release = mfree(p->release);
        p->digest = mfree(p->digest);
}

int kernel_prepared_cmdline(const KernelPrepared *p, char **ret) {
        char addons[32] = "";

        assert(p);
        assert(ret);

        if (p->addons)
                snprintf(addons, sizeof addons, " " KRATA_CMDLINE_ADDONS "%u", KRATA_VDEV_ADDONS);
        return asprintf_safe(ret, "console=hvc0 quiet " KRATA_CMDLINE_IMAGE "%u " KRATA_CMDLINE_CONFIG "%u%s",
                             KRATA_VDEV_IMAGE, KRATA_VDEV_CONFIG, addons);
}

static int source_from(const char *dir, const char *image, const char *addons, const char *metadata, KernelSource *ret) {
        KernelSource s = {};

        s.image = path_join(dir, image);
        s.addons = path_join(dir, addons);
        s.metadata = metadata ? path_join(dir, metadata) : NULL;
        if (!s.image || !s.addons || (metadata && !s.metadata)) {
                kernel_source_done(&s);
                return -ENOMEM;
        }
        if (access(s.image, R_OK) < 0) {
                int r = log_error_errno(errno, "Kernel image %s: %m", s.image);
                kernel_source_done(&s);
                return r;
        }
        if (access(s.addons, R_OK) < 0)
                s.addons = mfree(s.addons);
        if (s.metadata && access(s.metadata, R_OK) < 0) {
                int r = log_error_errno(errno, "Kernel metadata %s: %m", s.metadata);
                kernel_source_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

int kernel_source_default(KernelSource *ret) {
        _cleanup_free_ char *dir = krata_state_path("zone");

        assert(ret);

        if (!dir)
                return -ENOMEM;
        return source_from(dir, "kernel", "addons.squashfs", NULL, ret);
}

int kernel_source_from_dir(const char *dir, KernelSource *ret) {
        assert(dir);
        assert(ret);

        return source_from(dir, "image", "addons.squashfs", "metadata", ret);
}

static int cache_root(const char *cache_dir, char **ret) {
        *ret = cache_dir ? strdup(cache_dir) : krata_cache_path("kernels");
        return *ret ? 0 : -ENOMEM;
}

int kernel_source_from_image_squashfs(const char *rootfs, const char *key, const char *cache_dir, KernelSource *ret) {
        _cleanup_free_ char *root = NULL, *dir = NULL, *tmp = NULL, *kdir = NULL;
        int r;

        assert(rootfs);
        assert(key);
        assert(ret);

        if (!filename_is_valid(key))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid kernel image key '%s'.", key);
        r = cache_root(cache_dir, &root);
        if (r < 0)
                return r;
        dir = path_join(root, "images", key);
        if (!dir)
                return -ENOMEM;
        kdir = path_join(dir, "kernel");
        if (!kdir)
                return -ENOMEM;
        if (access(kdir, F_OK) < 0) {
                r = mkdir_p(dir, 0755);
                if (r < 0)
                        return log_error_errno(r, "Failed to create %s: %m", dir);
                r = asprintf_safe(&tmp, "%s/.tmp-%d", dir, (int) getpid());
                if (r < 0)
                        return r;
                (void) rm_rf(tmp);
                char *argv[] = { "unsquashfs", "-n", "-no-xattrs", "-d", tmp, (char *) rootfs,
                                 "kernel/image", "kernel/addons.squashfs", "kernel/metadata", NULL };
                r = run_program(argv, false);
                if (r < 0) {
                        (void) rm_rf(tmp);
                        return log_error_errno(r, "%s is not an OCI kernel image (no /kernel/image, addons.squashfs, metadata).", rootfs);
                }
                _cleanup_free_ char *src = path_join(tmp, "kernel");
                if (!src || rename(src, kdir) < 0) {
                        r = src ? negative_errno() : -ENOMEM;
                        (void) rm_rf(tmp);
                        /* lost a race with another extractor: theirs is as good */
                        if (r != -ENOTEMPTY && r != -EEXIST)
                                return log_error_errno(r, "Failed to store the kernel in %s: %m", kdir);
                }
                (void) rm_rf(tmp);
        }
        return kernel_source_from_dir(kdir, ret);
}

static int extract(const char *addons, const char *dest, char *const *files) {
        _cleanup_strv_free_ char **argv = NULL;
        const char *base[] = { "unsquashfs", "-n", "-no-xattrs", "-f", "-d", dest, addons };

        for (size_t i = 0; i < ELEMENTSOF(base); i++)
                if (strv_extend(&argv, base[i]) < 0)
                        return -ENOMEM;
        STRV_FOREACH(f, files)
                if (strv_extend(&argv, *f) < 0)
                        return -ENOMEM;
        return run_program(argv, false);
}

static int add_parents(Cpio *c, char ***seen, const char *path) {
        _cleanup_free_ char *p = strdup(path);
        int r;

        if (!p)
                return -ENOMEM;
        for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                if (!strv_contains(*seen, p)) {
                        r = cpio_add_dir(c, p, 0755);
                        if (r < 0 || (r = strv_extend(seen, p)) < 0)
                                return r;
                }
                *s = '/';
        }
        return 0;
}

static int add_file_from(Cpio *c, char ***seen, const char *name, const char *path, size_t max, mode_t mode) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_full_file(path, max, &data, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", path);
        r = add_parents(c, seen, name);
        if (r < 0)
                return r;
        return cpio_add_file(c, name, mode, data, size);
}

/* The modules of wanted (and what they need), from the addons' modules.dep,
 * extracted into workdir in load order. One that is built in needs nothing. */
static int initrd_resolve_modules(const char *addons, const char *release, char *const *wanted,
                                  const char *workdir, ModulesDep **ret_dep, char ***ret_order) {
        _cleanup_strv_free_ char **order = NULL, **missing = NULL;
        _cleanup_modules_dep_ ModulesDep *dep = NULL;
        _cleanup_free_ char *dep_path = path_join(workdir, "modules.dep"),
                            *builtin_path = path_join(workdir, "modules.builtin"), *builtin = NULL;
        char *meta[] = { "modules.dep", "modules.builtin", NULL };
        size_t size;
        int r;

        if (!dep_path || !builtin_path)
                return -ENOMEM;
        r = extract(addons, workdir, meta);
        if (r < 0)
                return log_error_errno(r, "Failed to read modules.dep from %s: %m", addons);
        r = modules_dep_load(dep_path, &dep);
        if (r < 0)
                return log_error_errno(r, "%s has no usable modules.dep: %m", addons);
        (void) read_full_file(builtin_path, 16u << 20, &builtin, &size);
        r = modules_dep_resolve(dep, wanted, &order, &missing);
        if (r < 0)
                return r;
        STRV_FOREACH(m, missing)
                if (!builtin || !modules_builtin_contains(builtin, *m))
                        return log_error_errno(SYNTHETIC_ERRNO(ENOENT),
                                               "Kernel %s has module %s neither built in nor in its addons.", release, *m);
        if (strv_length(order) > 0) {
                r = extract(addons, workdir, order);
                if (r < 0)
                        return r;
        }
        *ret_dep = TAKE_PTR(dep);
        *ret_order = TAKE_PTR(order);
        return 0;
}

/* Appends "module: deps" for m to the initrd's own modules.dep. */
static int append_dep_line(char **text, const ModulesDep *dep, const char *m) {
        _cleanup_free_ char *deps = NULL;
        const ModuleEntry *e = NULL;
        char *n;

        for (size_t i = 0; i < dep->n_entries; i++)
                if (streq(dep->entries[i].path, m))
                        e = &dep->entries[i];
        deps = e ? strv_join(e->deps, " ") : strdup("");
        n = deps ? strjoin(*text, m, ":", isempty(deps) ? "" : " ", deps, "\n") : NULL;
        if (!n)
                return -ENOMEM;
        free(*text);
        *text = n;
        return 0;
}

/* The extracted modules under lib/modules/RELEASE, each checked to be built
 * for release, and a modules.dep of just them. */
static int initrd_add_modules(Cpio *c, char ***seen, const ModulesDep *dep, char *const *order,
                              const char *release, const char *workdir) {
        _cleanup_free_ char *moddir = path_join("lib/modules", release), *trimmed = strdup(""), *depname = NULL;
        int r;

        if (!moddir || !trimmed)
                return -ENOMEM;
        STRV_FOREACH(m, order) {
                _cleanup_free_ char *src = path_join(workdir, *m), *name = path_join(moddir, *m), *vm = NULL;

                if (!src || !name)
                        return -ENOMEM;
                if (endswith(*m, ".ko")) {
                        r = module_vermagic_release(src, &vm);
                        if (r < 0)
                                return log_error_errno(r, "Module %s has no vermagic: %m", *m);
                        if (!streq(vm, release))
                                return log_error_errno(SYNTHETIC_ERRNO(EMEDIUMTYPE),
                                                       "The addons' modules are for kernel %s, the kernel is %s.", vm, release);
                }
                r = add_file_from(c, seen, name, src, MODULE_MAX, 0644);
                if (r >= 0)
                        r = append_dep_line(&trimmed, dep, *m);
                if (r < 0)
                        return r;
        }
        depname = path_join(moddir, "modules.dep");
        if (!depname)
                return -ENOMEM;
        r = add_parents(c, seen, depname);
        if (r < 0)
                return r;
        log_debug("Initrd for %s: %zu modules.", release, strv_length((char **) order));
        return cpio_add_file(c, depname, 0644, trimmed, strlen(trimmed));
}

/* Builds the initrd for release from the addons into path. */
static int build_initrd(const char *path, const char *init, const char *addons, const char *release,
                        char *const *wanted, const char *workdir) {
        _cleanup_strv_free_ char **order = NULL, **seen = NULL;
        _cleanup_modules_dep_ ModulesDep *dep = NULL;
        _cleanup_(cpio_done) Cpio c = {};
        int r;

        r = cpio_add_dir(&c, "dev", 0755);
        if (r >= 0)
                r = cpio_add_device(&c, "dev/console", S_IFCHR | 0600, 5, 1);
        if (r >= 0)
                r = strv_extend(&seen, "dev");
        if (r >= 0)
                r = add_file_from(&c, &seen, "init", init, INIT_MAX, 0755);
        if (r < 0)
                return r;
        if (addons) {
                r = initrd_resolve_modules(addons, release, wanted, workdir, &dep, &order);
                if (r >= 0)
                        r = initrd_add_modules(&c, &seen, dep, order, release, workdir);
                if (r < 0)
                        return r;
        } else
                log_notice("Kernel %s has no addons: the initrd carries no modules (all must be built in).", release);

        r = cpio_finish(&c);
        if (r < 0)
                return r;
        r = write_file_atomic(path, c.data, c.size, 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", path);
        return 0;
}

/* Initrds built for an older krata-init are dead weight once a new one
 * exists (a domain build that already opened one keeps its copy). */
static void remove_stale_initrds(const char *dir, const char *keep) {
        DIR *d = opendir(dir);
        struct dirent *de;
        const char *base = strrchr(keep, '/');

        if (!d)
                return;
        while ((de = readdir(d)))
                if (startswith(de->d_name, "initrd-") && endswith(de->d_name, ".cpio") &&
                    !streq(de->d_name, base ? base + 1 : keep))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
}

/* The kernel to boot: $cache/DIGEST/vmlinux, inflated from the bzImage the
 * first time (the domain builder would otherwise inflate it at every launch:
 * ~7 s under QEMU TCG for Debian's xz payload). Anything that keeps it from
 * being inflated here leaves the image to the domain builder, as before. */
static int prepare_inflated(const char *dir, const char *image, char **ret) {
        _cleanup_free_ char *path = path_join(dir, "vmlinux");
        KernelCompression c = _KERNEL_COMPRESSION_INVALID;
        int r;

        if (!path)
                return -ENOMEM;
        if (access(path, R_OK) < 0) {
                r = kernel_inflate_file(image, path, &c);
                if (r == -ENOMEM)
                        return r;
                if (r == -EOPNOTSUPP)
                        log_debug("Kernel %s is no bzImage or its payload (%s) is not inflated here; booting it as is.",
                                  image, strempty(kernel_compression_to_string(c)));
                else if (r < 0)
                        log_warning_errno(r, "Cannot inflate kernel %s (%s payload), booting it as is: %m", image,
                                          strempty(kernel_compression_to_string(c)));
                else
                        log_info("Kernel %s inflated (%s) into %s.", image, kernel_compression_to_string(c), path);
                if (r < 0) {
                        *ret = strdup(image);
                        return *ret ? 0 : -ENOMEM;
                }
        }
        *ret = TAKE_PTR(path);
        return 0;
}

static bool arch_matches(const char *meta, const char *host) {
        if (streq(meta, host))
                return true;
        /* Debian and OCI spell them differently */
        return (streq(meta, "amd64") && streq(host, "x86_64")) || (streq(meta, "arm64") && streq(host, "aarch64"));
}

/* The kernel's release, checked against its metadata (arch, version). */
static int prepare_release(const KernelSource *src, char **ret) {
        _cleanup_(kernel_metadata_done) KernelMetadata meta = {};
        _cleanup_free_ char *release = NULL;
        int r;

        if (src->metadata) {
                r = kernel_metadata_load(src->metadata, &meta);
                if (r < 0)
                        return r;
                if (!arch_matches(meta.arch, kernel_host_arch()))
                        return log_error_errno(SYNTHETIC_ERRNO(EMEDIUMTYPE), "Kernel is for %s, this host is %s.",
                                               meta.arch, kernel_host_arch());
        }
        r = kernel_image_release(src->image, &release);
        if (r == -EMEDIUMTYPE && meta.version) {
                /* not an x86 bzImage (e.g. arm64 Image): trust the metadata */
                release = strdup(meta.version);
                r = release ? 0 : -ENOMEM;
        }
        if (r < 0)
                return log_error_errno(r, "Cannot tell the release of kernel %s: %m", src->image);
        if (meta.version && !streq(meta.version, release))
                return log_error_errno(SYNTHETIC_ERRNO(EMEDIUMTYPE), "Kernel metadata says %s, the image is %s.",
                                       meta.version, release);
        *ret = TAKE_PTR(release);
        return 0;
}

/* DIR/initrd-<init digest>.cpio, built once: keyed by krata-init too, so a
 * new krata-init never boots from an old initrd. */
static int prepare_initrd(const KernelSource *src, const KernelPrepareOptions *opts, const char *init,
                          const char *dir, const char *release, char **ret) {
        _cleanup_free_ char *initrd = NULL, *workdir = NULL;
        char idigest[65];
        int r;

        r = sha256_file(init, idigest);
        if (r < 0)
                return log_error_errno(r, "krata-init is not at %s (set KRATA_INIT): %m", init);
        r = asprintf_safe(&initrd, "%s/initrd-%.16s.cpio", dir, idigest);
        if (r < 0)
                return r;
        if (access(initrd, R_OK) < 0) {
                r = mkdir_p(dir, 0755);
                if (r < 0)
                        return log_error_errno(r, "Failed to create %s: %m", dir);
                r = asprintf_safe(&workdir, "%s/.work-%d", dir, (int) getpid());
                if (r < 0)
                        return r;
                (void) rm_rf(workdir);
                r = build_initrd(initrd, init, src->addons, release, opts->modules ?: kernel_initrd_modules, workdir);
                (void) rm_rf(workdir);
                if (r < 0)
                        return r;
                remove_stale_initrds(dir, initrd);
        }
        *ret = TAKE_PTR(initrd);
        return 0;
}

int kernel_prepare(const KernelSource *src, const KernelPrepareOptions *opts, KernelPrepared *ret) {
        static const KernelPrepareOptions no_opts = {};
        _cleanup_free_ char *init_default = NULL, *root = NULL, *dir = NULL;
        _cleanup_(kernel_prepared_done) KernelPrepared p = {};
        char kdigest[65];
        const char *init;
        int r;

        assert(src);
        assert(ret);

        if (!opts)
                opts = &no_opts;
        init = opts->init_path ?: getenv("KRATA_INIT");
        if (!init)
                init = init_default = path_join(LIBEXECDIR, "krata-init");
        if (!init)
                return -ENOMEM;

        r = prepare_release(src, &p.release);
        if (r < 0)
                return r;
        r = sha256_file(src->image, kdigest);
        if (r < 0)
                return log_error_errno(r, "Failed to hash %s: %m", src->image);
        r = cache_root(opts->cache_dir, &root);
        if (r < 0)
                return r;
        dir = path_join(root, kdigest);
        if (!dir)
                return -ENOMEM;
        r = prepare_initrd(src, opts, init, dir, p.release, &p.initrd);
        if (r < 0)
                return r;
        r = prepare_inflated(dir, src->image, &p.kernel);
        if (r < 0)
                return r;
        p.image = strdup(src->image);
        p.addons = src->addons ? strdup(src->addons) : NULL;
        p.digest = strdup(kdigest);
        if (!p.image || !p.digest || (src->addons && !p.addons))
                return -ENOMEM;
        *ret = p;
        p = (KernelPrepared) {};
        return 0;
}
