/* SPDX-License-Identifier: Apache-2.0 */
#include <archive.h>
#include <archive_entry.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "json-util.h"
#include "kernel-config.h"
#include "kernel-image.h"
#include "kernel-package.h"
#include "log.h"
#include "string-util.h"
#include "util.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_KCONFIG "application/vnd.krata.kernel.config.v1+text"
#define LAYOUT_JSON_MAX (4u * 1024u * 1024u)

const char *kernel_addons_compressor(const KernelConfig *kc) {
        /* the addons must be readable by this very kernel */
        if (!kc || streq_ptr(kernel_config_get(kc, "SQUASHFS_ZSTD"), "y"))
                return "zstd";
        if (streq_ptr(kernel_config_get(kc, "SQUASHFS_XZ"), "y"))
                return "xz";
        return "gzip";
}

int kernel_build_addons(const char *modules_dir, const char *compressor, int level, const char *out) {
        _cleanup_free_ char *depfile = path_join(modules_dir, "modules.dep"), *lvl = NULL;

        assert(modules_dir);
        assert(compressor);
        assert(out);

        if (!depfile)
                return -ENOMEM;
        if (access(depfile, R_OK) < 0)
                return log_error_errno(errno, "%s: not a modules directory (no modules.dep; run depmod): %m", modules_dir);
        if (asprintf_safe(&lvl, "%d", level > 0 ? level : 3) < 0)
                return -ENOMEM;
        /* zstd level 3: level 15 (the default) costs ~20x the CPU for ~12% */
        char *argv[] = { "mksquashfs", (char *) modules_dir, (char *) out, "-noappend", "-no-progress", "-quiet",
                         "-all-root", "-no-xattrs", "-comp", (char *) compressor,
                         /* the level only for zstd: NULL ends argv early otherwise */
                         streq(compressor, "zstd") ? "-Xcompression-level" : NULL, lvl, NULL };
        return run_program(argv, false);
}

static int add_file_entry(struct archive *a, const char *name, const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct archive_entry *e;
        char buf[1 << 16];
        struct stat st;
        ssize_t n;

        if (fd < 0 || fstat(fd, &st) < 0)
                return log_error_errno(errno, "Failed to open %s: %m", path);
        e = archive_entry_new();
        if (!e)
                return -ENOMEM;
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, st.st_size);
        archive_entry_set_mtime(e, 0, 0); /* reproducible layers */
        if (archive_write_header(a, e) != ARCHIVE_OK) {
                archive_entry_free(e);
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "tar: %s", archive_error_string(a));
        }
        archive_entry_free(e);
        while ((n = read(fd, buf, sizeof buf)) > 0)
                if (archive_write_data(a, buf, (size_t) n) != n)
                        return log_error_errno(SYNTHETIC_ERRNO(EIO), "tar: %s", archive_error_string(a));
        return n < 0 ? negative_errno() : 0;
}

static int write_layer(const char *out, const char *image, const char *addons, const char *metadata) {
        struct archive *a = archive_write_new();
        struct archive_entry *e;
        int r = 0;

        if (!a)
                return -ENOMEM;
        archive_write_set_format_pax_restricted(a);
        if (archive_write_open_filename(a, out) != ARCHIVE_OK) {
                r = log_error_errno(SYNTHETIC_ERRNO(EIO), "tar %s: %s", out, archive_error_string(a));
                goto finish;
        }
        e = archive_entry_new();
        archive_entry_set_pathname(e, "kernel/");
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        archive_entry_set_mtime(e, 0, 0);
        if (archive_write_header(a, e) != ARCHIVE_OK)
                r = log_error_errno(SYNTHETIC_ERRNO(EIO), "tar: %s", archive_error_string(a));
        archive_entry_free(e);
        if (r >= 0)
                r = add_file_entry(a, "kernel/image", image);
        if (r >= 0)
                r = add_file_entry(a, "kernel/addons.squashfs", addons);
        if (r >= 0)
                r = add_file_entry(a, "kernel/metadata", metadata);
        if (archive_write_close(a) != ARCHIVE_OK && r >= 0)
                r = log_error_errno(SYNTHETIC_ERRNO(EIO), "tar: %s", archive_error_string(a));
finish:
        archive_write_free(a);
        return r;
}

/* Moves a file into blobs/sha256/<digest>; returns the digest and size. */
static int store_blob_file(const char *layout, const char *path, char digest[static 65], uint64_t *ret_size) {
        _cleanup_free_ char *dst = NULL, *dir = path_join(layout, "blobs/sha256");
        struct stat st;
        int r;

        if (!dir)
                return -ENOMEM;
        r = sha256_file(path, digest);
        if (r < 0)
                return r;
        if (stat(path, &st) < 0)
                return negative_errno();
        dst = path_join(dir, digest);
        if (!dst)
                return -ENOMEM;
        if (rename(path, dst) < 0)
                return log_error_errno(errno, "Failed to store blob %s: %m", dst);
        *ret_size = (uint64_t) st.st_size;
        return fsync_directory_of(dst);
}

static int store_blob(const char *layout, const char *data, size_t size, char digest[static 65]) {
        _cleanup_free_ char *dst = NULL;
        char name[80];

        sha256_buffer(data, size, digest);
        snprintf(name, sizeof name, "blobs/sha256/%s", digest);
        dst = path_join(layout, name);
        if (!dst)
                return -ENOMEM;
        return write_file_atomic(dst, data, size, 0644);
}

static json_object *descriptor(const char *media_type, const char *digest, uint64_t size) {
        json_object *d = json_object_new_object();
        char buf[80];

        snprintf(buf, sizeof buf, "sha256:%s", digest);
        json_object_object_add(d, "mediaType", json_object_new_string(media_type));
        json_object_object_add(d, "digest", json_object_new_string(buf));
        json_object_object_add(d, "size", json_object_new_int64((int64_t) size));
        return d;
}

static const char *json_text(json_object *o) {
        return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static const char *oci_arch(const char *machine) {
        return streq(machine, "x86_64") ? "amd64" : streq(machine, "aarch64") ? "arm64" : machine;
}

static int update_index(const char *layout, const char *tag, const char *digest, uint64_t size) {
        _cleanup_free_ char *path = path_join(layout, "index.json"), *text = NULL, *olpath = path_join(layout, "oci-layout");
        _cleanup_json_ json_object *index = NULL;
        json_object *manifests, *d, *ann;
        size_t tsize;
        int r;

        if (!path || !olpath)
                return -ENOMEM;
        r = read_full_file(path, LAYOUT_JSON_MAX, &text, &tsize);
        if (r >= 0) {
                r = json_parse_bounded(text, tsize, LAYOUT_JSON_MAX, true, &index);
                if (r < 0)
                        return log_error_errno(r, "%s is not valid JSON.", path);
        } else if (r != -ENOENT)
                return log_error_errno(r, "Failed to read %s: %m", path);
        else {
                index = json_object_new_object();
                json_object_object_add(index, "schemaVersion", json_object_new_int(2));
                json_object_object_add(index, "mediaType", json_object_new_string("application/vnd.oci.image.index.v1+json"));
        }
        if (!json_object_object_get_ex(index, "manifests", &manifests) || !json_object_is_type(manifests, json_type_array)) {
                manifests = json_object_new_array();
                json_object_object_add(index, "manifests", manifests);
        }
        /* replace the entry for this tag */
        for (size_t i = json_object_array_length(manifests); i > 0; i--) {
                json_object *m = json_object_array_get_idx(manifests, i - 1), *a, *n;
                if (json_object_object_get_ex(m, "annotations", &a) &&
                    json_object_object_get_ex(a, "org.opencontainers.image.ref.name", &n) &&
                    streq(json_object_get_string(n), tag))
                        json_object_array_del_idx(manifests, i - 1, 1);
        }
        d = descriptor(MT_MANIFEST, digest, size);
        ann = json_object_new_object();
        json_object_object_add(ann, "org.opencontainers.image.ref.name", json_object_new_string(tag));
        json_object_object_add(d, "annotations", ann);
        json_object_array_add(manifests, d);
        r = write_string_file_atomic(olpath, "{\"imageLayoutVersion\":\"1.0.0\"}", 0644);
        if (r < 0)
                return r;
        return write_string_file_atomic(path, json_text(index), 0644);
}

/* A kernel being packaged: what each step leaves for the next. */
typedef struct Package {
        const KernelPackageOptions *o;
        char *release;
        char *work;                /* LAYOUT/.krata-package-PID, removed at the end */
        char *config_ref;          /* "sha256:HEX" of the .config blob */
        char layer_digest[65];
        uint64_t layer_size;
        char config_digest[65];    /* the image config */
        size_t config_size;
        char manifest_digest[65];
        size_t manifest_size;
} Package;

static void package_done(Package *p) {
        if (p->work)
                (void) rm_rf(p->work);
        free(p->work);
        free(p->release);
        free(p->config_ref);
}

/* The release from the bzImage; for a non-x86 image, the modules
 * directory's name. */
static int package_release(Package *p) {
        const char *b;
        int r;

        r = kernel_image_release(p->o->image, &p->release);
        if (r >= 0)
                return 0;
        b = strrchr(p->o->modules_dir, '/');
        p->release = strdup(b && b[1] ? b + 1 : p->o->modules_dir);
        return p->release ? 0 : -ENOMEM;
}

static int package_workdir(Package *p) {
        _cleanup_free_ char *blobs = path_join(p->o->layout, "blobs/sha256");
        int r;

        if (!blobs)
                return -ENOMEM;
        r = mkdir_p(blobs, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", blobs);
        r = asprintf_safe(&p->work, "%s/.krata-package-%d", p->o->layout, (int) getpid());
        if (r < 0)
                return r;
        (void) rm_rf(p->work);
        r = mkdir_p(p->work, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", p->work);
        return 0;
}

/* The .config as a blob, stored as given (plain or gzip): kernel check reads either. */
static int package_kconfig(Package *p) {
        _cleanup_free_ char *text = NULL;
        char digest[65];
        size_t size = 0;
        int r;

        r = read_full_file(p->o->config, 8u << 20, &text, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", p->o->config);
        r = store_blob(p->o->layout, text, size, digest);
        if (r < 0)
                return r;
        return asprintf_safe(&p->config_ref, "sha256:%s", digest);
}

/* The one layer: /kernel/{image,addons.squashfs,metadata}. */
static int package_layer(Package *p, const char *compressor) {
        _cleanup_free_ char *addons = path_join(p->work, "addons.squashfs"), *metapath = path_join(p->work, "metadata"),
                            *layer = path_join(p->work, "layer.tar"), *metatext = NULL;
        KernelMetadata meta = {
                .arch = (char *) kernel_host_arch(),
                .version = p->release,
                .flavor = (char *) (p->o->flavor ?: "standard"),
                .config = p->config_ref,
                .tags = (char *) (p->o->tag ?: p->release),
        };
        int r;

        if (!addons || !metapath || !layer)
                return -ENOMEM;
        r = kernel_build_addons(p->o->modules_dir, compressor, p->o->compression_level, addons);
        if (r < 0)
                return r;
        r = kernel_metadata_format(&meta, &metatext);
        if (r < 0)
                return r;
        r = write_string_file_atomic(metapath, metatext, 0644);
        if (r < 0)
                return r;
        r = write_layer(layer, p->o->image, addons, metapath);
        if (r < 0)
                return r;
        return store_blob_file(p->o->layout, layer, p->layer_digest, &p->layer_size);
}

static int package_image_config(Package *p) {
        _cleanup_json_ json_object *cfg = json_object_new_object();
        json_object *rootfs = json_object_new_object(), *ids = json_object_new_array(), *labels = json_object_new_object(),
                    *c = json_object_new_object();
        const char *text;
        char diff[80];

        snprintf(diff, sizeof diff, "sha256:%s", p->layer_digest);
        json_object_object_add(cfg, "architecture", json_object_new_string(oci_arch(kernel_host_arch())));
        json_object_object_add(cfg, "os", json_object_new_string("linux"));
        json_object_array_add(ids, json_object_new_string(diff)); /* uncompressed: digest = diff_id */
        json_object_object_add(rootfs, "type", json_object_new_string("layers"));
        json_object_object_add(rootfs, "diff_ids", ids);
        json_object_object_add(cfg, "rootfs", rootfs);
        json_object_object_add(labels, "org.krata.kernel.version", json_object_new_string(p->release));
        json_object_object_add(labels, "org.krata.kernel.flavor", json_object_new_string(p->o->flavor ?: "standard"));
        json_object_object_add(c, "Labels", labels);
        json_object_object_add(cfg, "config", c);
        text = json_text(cfg);
        p->config_size = strlen(text);
        return store_blob(p->o->layout, text, p->config_size, p->config_digest);
}

static int package_manifest(Package *p) {
        _cleanup_json_ json_object *manifest = json_object_new_object();
        json_object *layers = json_object_new_array(), *ann = json_object_new_object();
        const char *text;
        int r;

        json_object_object_add(manifest, "schemaVersion", json_object_new_int(2));
        json_object_object_add(manifest, "mediaType", json_object_new_string(MT_MANIFEST));
        json_object_object_add(manifest, "config", descriptor(MT_CONFIG, p->config_digest, p->config_size));
        json_object_array_add(layers, descriptor(MT_LAYER, p->layer_digest, p->layer_size));
        json_object_object_add(manifest, "layers", layers);
        json_object_object_add(ann, "org.krata.kernel.version", json_object_new_string(p->release));
        json_object_object_add(ann, "org.krata.kernel.config", json_object_new_string(p->config_ref));
        json_object_object_add(manifest, "annotations", ann);
        text = json_text(manifest);
        p->manifest_size = strlen(text);
        r = store_blob(p->o->layout, text, p->manifest_size, p->manifest_digest);
        if (r < 0)
                return r;
        return update_index(p->o->layout, p->o->tag ?: p->release, p->manifest_digest, p->manifest_size);
}

int kernel_package(const KernelPackageOptions *o, char **ret_manifest_digest) {
        _cleanup_(kernel_config_freep) KernelConfig *kc = NULL;
        _cleanup_(package_done) Package p = { .o = o };
        int r;

        assert(o);

        r = kernel_config_load(o->config, &kc);
        if (r < 0)
                return r;
        r = package_release(&p);
        if (r >= 0)
                r = package_workdir(&p);
        if (r >= 0)
                r = package_kconfig(&p);
        if (r >= 0)
                r = package_layer(&p, kernel_addons_compressor(kc));
        if (r >= 0)
                r = package_image_config(&p);
        if (r >= 0)
                r = package_manifest(&p);
        if (r < 0)
                return r;
        if (ret_manifest_digest)
                return asprintf_safe(ret_manifest_digest, "sha256:%s", p.manifest_digest);
        return 0;
}

static int read_json(const char *path, json_object **ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r = read_full_file(path, LAYOUT_JSON_MAX, &text, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", path);
        r = json_parse_bounded(text, size, LAYOUT_JSON_MAX, true, ret);
        return r < 0 ? log_error_errno(r, "%s is not valid JSON.", path) : 0;
}

static int blob_path(const char *layout, const char *digest, char **ret) {
        const char *hex = startswith(digest, "sha256:");
        if (!hex || strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Unsupported digest '%.80s'.", digest);
        *ret = strjoin(layout, "/blobs/sha256/", hex);
        return *ret ? 0 : -ENOMEM;
}

int kernel_layout_config_path(const char *layout, const char *tag, char **ret) {
        _cleanup_free_ char *ipath = path_join(layout, "index.json"), *mpath = NULL;
        _cleanup_json_ json_object *index = NULL, *manifest = NULL;
        json_object *manifests, *chosen = NULL, *v, *ann;
        int r;

        assert(layout);
        assert(ret);

        if (!ipath)
                return -ENOMEM;
        r = read_json(ipath, &index);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(index, "manifests", &manifests) || !json_object_is_type(manifests, json_type_array))
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s has no manifests.", ipath);
        for (size_t i = 0; i < json_object_array_length(manifests); i++) {
                json_object *m = json_object_array_get_idx(manifests, i), *n;
                bool match = !tag || (json_object_object_get_ex(m, "annotations", &v) &&
                                      json_object_object_get_ex(v, "org.opencontainers.image.ref.name", &n) &&
                                      streq(json_object_get_string(n), tag));
                if (!match)
                        continue;
                if (chosen)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s holds several images: name one (LAYOUT:TAG).", layout);
                chosen = m;
        }
        if (!chosen || !json_object_object_get_ex(chosen, "digest", &v))
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "No image%s%s in %s.", tag ? " " : "", strempty(tag), layout);
        r = blob_path(layout, json_object_get_string(v), &mpath);
        if (r < 0)
                return r;
        r = read_json(mpath, &manifest);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(manifest, "annotations", &ann) ||
            !json_object_object_get_ex(ann, "org.krata.kernel.config", &v))
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT),
                                       "The kernel image in %s names no config blob (org.krata.kernel.config).", layout);
        r = blob_path(layout, json_object_get_string(v), ret);
        if (r < 0)
                return r;
        if (access(*ret, R_OK) < 0)
                return log_error_errno(errno, "Config blob %s: %m", *ret);
        return 0;
}
