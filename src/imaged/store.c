/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "json-util.h"
#include "log.h"
#include "manifest.h"
#include "paths.h"
#include "store.h"
#include "string-util.h"

#define IMAGE_RECORD_MAX (1024u * 1024u)

ImageRecord *image_record_free(ImageRecord *r) {
        if (!r)
                return NULL;
        free(r->digest);
        free(r->resolved_digest);
        free(r->platform);
        strv_free(r->references);
        free(r->config_digest);
        strv_free(r->layers);
        free(r->dir);
        return mfree(r);
}

void image_record_list_free(ImageRecord **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                image_record_free(l[i]);
        free(l);
}

char *store_images_dir(void) {
        return krata_state_path("images");
}

char *store_blob_path(const char *digest) {
        const char *hex = startswith(digest, "sha256:");
        _cleanup_free_ char *rel = hex ? strjoin("blobs/sha256/", hex) : NULL;

        assert(digest);

        return rel ? krata_state_path(rel) : NULL;
}

char *store_image_dir(const char *digest) {
        const char *hex = startswith(digest, "sha256:");
        _cleanup_free_ char *rel = hex ? strjoin("images/", hex) : NULL;

        assert(digest);

        return rel ? krata_state_path(rel) : NULL;
}

char *store_squashfs_path(const ImageRecord *r) {
        assert(r);

        return path_join(r->dir, "rootfs.squashfs");
}

int store_init(void) {
        _cleanup_free_ char *blobs = krata_state_path("blobs/sha256"), *images = store_images_dir();
        int r;

        if (!blobs || !images)
                return log_oom();
        r = mkdir_p(blobs, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", blobs);
        r = mkdir_p(images, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", images);
        return 0;
}

json_object *image_record_to_json(const ImageRecord *r) {
        _cleanup_json_ json_object *o = json_object_new_object();
        if (!o ||
            json_object_object_add(o, "digest", json_object_new_string(r->digest)) < 0 ||
            json_object_object_add(o, "resolvedDigest", json_object_new_string(r->resolved_digest ?: r->digest)) < 0 ||
            json_object_object_add(o, "platform", json_object_new_string(strempty(r->platform))) < 0 ||
            json_object_object_add(o, "references", json_strv_new(r->references)) < 0 ||
            json_object_object_add(o, "configDigest", json_object_new_string(strempty(r->config_digest))) < 0 ||
            json_object_object_add(o, "layers", json_strv_new(r->layers)) < 0 ||
            json_object_object_add(o, "size", json_object_new_uint64(r->size)) < 0 ||
            json_object_object_add(o, "created", json_object_new_uint64(r->created_usec)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

int image_record_from_json(json_object *o, ImageRecord **ret) {
        assert(o);
        assert(ret);

        static const JsonDispatch table[] = {
                { "digest", json_type_string, json_dispatch_string, offsetof(ImageRecord, digest), JSON_MANDATORY },
                { "resolvedDigest", json_type_string, json_dispatch_string, offsetof(ImageRecord, resolved_digest), 0 },
                { "platform", json_type_string, json_dispatch_string, offsetof(ImageRecord, platform), 0 },
                { "references", json_type_array, json_dispatch_strv, offsetof(ImageRecord, references), 0 },
                { "configDigest", json_type_string, json_dispatch_string, offsetof(ImageRecord, config_digest), 0 },
                { "layers", json_type_array, json_dispatch_strv, offsetof(ImageRecord, layers), 0 },
                { "size", json_type_int, json_dispatch_uint64, offsetof(ImageRecord, size), 0 },
                { "created", json_type_int, json_dispatch_uint64, offsetof(ImageRecord, created_usec), 0 },
                {}
        };
        _cleanup_(image_record_freep) ImageRecord *r = calloc(1, sizeof *r);
        int k;

        if (!r)
                return -ENOMEM;
        k = json_dispatch(o, table, "image.json", r);
        if (k < 0)
                return k;
        if (!digest_is_sha256(r->digest))
                return -EBADMSG;
        *ret = TAKE_PTR(r);
        return 0;
}

int store_write_record(const char *dir, const ImageRecord *r) {
        _cleanup_json_ json_object *o = image_record_to_json(r);
        _cleanup_free_ char *path = path_join(dir, "image.json");
        const char *s;

        assert(dir);
        assert(r);

        if (!o || !path)
                return -ENOMEM;
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        return write_string_file_atomic(path, s, 0644);
}

int store_load_image(const char *dir, ImageRecord **ret) {
        _cleanup_free_ char *path = path_join(dir, "image.json"), *text = NULL;
        _cleanup_json_ json_object *o = NULL;
        _cleanup_(image_record_freep) ImageRecord *r = NULL;
        size_t size;
        int k;

        assert(dir);
        assert(ret);

        if (!path)
                return -ENOMEM;
        k = read_full_file(path, IMAGE_RECORD_MAX, &text, &size);
        if (k < 0)
                return k;
        k = json_parse_bounded(text, size, IMAGE_RECORD_MAX, true, &o);
        if (k < 0)
                return k;
        k = image_record_from_json(o, &r);
        if (k < 0)
                return k;
        r->dir = strdup(dir);
        if (!r->dir)
                return -ENOMEM;
        *ret = TAKE_PTR(r);
        return 0;
}

static int cmp_created(const void *a, const void *b) {
        const ImageRecord *x = *(ImageRecord *const *) a, *y = *(ImageRecord *const *) b;
        return x->created_usec < y->created_usec ? -1 : x->created_usec > y->created_usec;
}

int store_list_images(ImageRecord ***ret, size_t *ret_n) {
        _cleanup_free_ char *images = store_images_dir();
        ImageRecord **l = NULL;
        size_t n = 0;
        struct dirent *de;
        DIR *d;

        assert(ret);
        assert(ret_n);

        if (!images)
                return -ENOMEM;
        d = opendir(images);
        if (!d) {
                if (errno != ENOENT)
                        return -errno;
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        while ((de = readdir(d))) {
                _cleanup_free_ char *dir = NULL;
                ImageRecord *r = NULL, **nl;

                if (de->d_name[0] == '.' || strlen(de->d_name) != 64)
                        continue;
                dir = path_join(images, de->d_name);
                if (!dir)
                        goto oom;
                if (store_load_image(dir, &r) < 0) {
                        log_warning("Ignoring damaged image record in %s.", dir);
                        continue;
                }
                nl = realloc(l, (n + 1) * sizeof *l);
                if (!nl) {
                        image_record_free(r);
                        goto oom;
                }
                l = nl;
                l[n++] = r;
        }
        closedir(d);
        if (n > 1)
                qsort(l, n, sizeof *l, cmp_created);
        *ret = l;
        *ret_n = n;
        return 0;
oom:
        closedir(d);
        image_record_list_free(l, n);
        return -ENOMEM;
}

typedef bool (*record_match_t)(const ImageRecord *r, const char *what, const char *platform);

static bool record_is(const ImageRecord *r, const char *what, const char *platform) {
        return strv_contains(r->references, what) || streq(r->digest, what);
}

/* what, or a digest prefix of at least 12 hex digits ("sha256:" optional) */
static bool record_matches(const ImageRecord *r, const char *what, const char *platform) {
        const char *hex = startswith(what, "sha256:") ?: what;
        size_t n = strlen(hex);

        if (record_is(r, what, platform))
                return true;
        if (n < 12 || n > 64 || strspn(hex, "0123456789abcdef") != n)
                return false;
        return strneq(r->digest + 7, hex, n);
}

static bool record_resolves_to(const ImageRecord *r, const char *digest, const char *platform) {
        return (streq_ptr(r->resolved_digest, digest) || streq(r->digest, digest)) && streq_ptr(r->platform, platform);
}

/* The index of the first listed image match() accepts; -ENOENT if none;
 * with unique, -ENOTUNIQ if it accepts another. */
static ssize_t find_index(ImageRecord **l, size_t n, record_match_t match, const char *what, const char *platform,
                          bool unique) {
        ssize_t found = -ENOENT;

        for (size_t i = 0; i < n; i++) {
                if (!match(l[i], what, platform))
                        continue;
                if (found >= 0)
                        return -ENOTUNIQ;
                found = (ssize_t) i;
                if (!unique)
                        break;
        }
        return found;
}

/* Hands l[i] (i >= 0) to *ret, frees the rest of the list, returns i's error otherwise. */
static int take_record(ImageRecord **l, size_t n, ssize_t i, ImageRecord **ret) {
        if (i >= 0) {
                *ret = l[i];
                l[i] = NULL;
        }
        image_record_list_free(l, n);
        return i < 0 ? (int) i : 0;
}

int store_find_image(const char *what, ImageRecord **ret) {
        ImageRecord **l = NULL;
        size_t n = 0;
        ssize_t i;
        int k;

        assert(what);
        assert(ret);

        k = store_list_images(&l, &n);
        if (k < 0)
                return k;
        /* an exact reference or digest beats a prefix */
        i = find_index(l, n, record_is, what, NULL, false);
        if (i == -ENOENT)
                i = find_index(l, n, record_matches, what, NULL, true);
        return take_record(l, n, i, ret);
}

int store_find_by_resolved(const char *digest, const char *platform, ImageRecord **ret) {
        ImageRecord **l = NULL;
        size_t n = 0;
        int k;

        assert(digest);
        assert(ret);

        k = store_list_images(&l, &n);
        if (k < 0)
                return k;
        return take_record(l, n, find_index(l, n, record_resolves_to, digest, platform, false), ret);
}

static int strv_remove(char **l, const char *s) {
        int removed = 0;
        char **w = l;
        if (!l)
                return 0;
        for (char **p = l; *p; p++)
                if (streq(*p, s)) {
                        free(*p);
                        removed = 1;
                } else
                        *w++ = *p;
        *w = NULL;
        return removed;
}

int store_tag_image(const char *digest, const char *reference) {
        ImageRecord **l = NULL;
        size_t n = 0;
        int k;

        assert(digest);

        k = store_list_images(&l, &n);
        if (k < 0)
                return k;
        for (size_t i = 0; i < n && k >= 0; i++) {
                if (streq(l[i]->digest, digest)) {
                        if (strv_contains(l[i]->references, reference))
                                continue;
                        k = strv_extend(&l[i]->references, reference);
                        if (k >= 0)
                                k = store_write_record(l[i]->dir, l[i]);
                } else if (strv_remove(l[i]->references, reference))
                        k = store_write_record(l[i]->dir, l[i]);
        }
        image_record_list_free(l, n);
        return k;
}

int store_commit_image(const char *tmp_dir, ImageRecord *rec, const char *reference) {
        _cleanup_free_ char *dir = store_image_dir(rec->digest);
        struct stat st;
        int k;

        assert(tmp_dir);
        assert(rec);
        assert(reference);

        if (!dir)
                return -ENOMEM;
        if (stat(dir, &st) >= 0) {
                /* pulled meanwhile under another name: keep the first */
                (void) rm_rf(tmp_dir);
        } else {
                k = store_write_record(tmp_dir, rec);
                if (k < 0)
                        return k;
                if (rename(tmp_dir, dir) < 0)
                        return -errno;
                (void) fsync_directory_of(dir);
        }
        return store_tag_image(rec->digest, reference);
}

int store_remove_image(const ImageRecord *r) {
        _cleanup_free_ char *images = store_images_dir(), *tmp = NULL;
        int k;

        assert(r);

        if (!images)
                return -ENOMEM;
        /* Rename first so it disappears at once, then delete at leisure. */
        tmp = strjoin(images, "/.tmp-removed-", r->digest + 7);
        if (!tmp)
                return -ENOMEM;
        if (rename(r->dir, tmp) < 0)
                return -errno;
        k = rm_rf(tmp);
        return k < 0 ? k : 0;
}

static uint64_t file_size(const char *path) {
        struct stat st;
        return stat(path, &st) < 0 ? 0 : (uint64_t) st.st_size;
}

int store_prune(uint64_t flags, unsigned *ret_images, unsigned *ret_blobs, uint64_t *ret_bytes) {
        _cleanup_free_ char *images = store_images_dir(), *blobs = krata_state_path("blobs/sha256");
        _cleanup_strv_free_ char **keep = NULL;
        ImageRecord **l = NULL;
        unsigned n_images = 0, n_blobs = 0;
        uint64_t bytes = 0;
        struct dirent *de;
        size_t n = 0;
        DIR *d;
        int k;

        assert(ret_images);
        assert(ret_blobs);
        assert(ret_bytes);

        if (!images || !blobs)
                return -ENOMEM;
        k = store_list_images(&l, &n);
        if (k < 0)
                return k;
        for (size_t i = 0; i < n; i++) {
                if (strv_length(l[i]->references) == 0) {
                        _cleanup_free_ char *sq = store_squashfs_path(l[i]);
                        uint64_t sz = sq ? file_size(sq) : 0;
                        if (store_remove_image(l[i]) >= 0) {
                                n_images++;
                                bytes += sz;
                        }
                        continue;
                }
                if (flags & IMAGES_PRUNE_ALL_BLOBS)
                        continue;
                if ((l[i]->config_digest && strv_extend(&keep, l[i]->config_digest + 7) < 0)) {
                        image_record_list_free(l, n);
                        return -ENOMEM;
                }
                STRV_FOREACH(layer, l[i]->layers)
                        if (startswith(*layer, "sha256:") && strv_extend(&keep, *layer + 7) < 0) {
                                image_record_list_free(l, n);
                                return -ENOMEM;
                        }
        }
        image_record_list_free(l, n);

        /* stale temporaries of interrupted pulls (the caller ensures none is running) */
        d = opendir(images);
        if (d) {
                while ((de = readdir(d)))
                        if (startswith(de->d_name, ".tmp-")) {
                                _cleanup_free_ char *p = path_join(images, de->d_name);
                                if (p)
                                        (void) rm_rf(p);
                        }
                closedir(d);
        }
        d = opendir(blobs);
        if (d) {
                while ((de = readdir(d))) {
                        _cleanup_free_ char *p = NULL;
                        if (de->d_name[0] == '.' && !startswith(de->d_name, ".tmp-"))
                                continue;
                        if (strv_contains(keep, de->d_name))
                                continue;
                        p = path_join(blobs, de->d_name);
                        if (!p)
                                continue;
                        uint64_t sz = file_size(p);
                        if (unlink(p) >= 0) {
                                bytes += sz;
                                if (de->d_name[0] != '.')
                                        n_blobs++;
                        }
                }
                closedir(d);
        }
        *ret_images = n_images;
        *ret_blobs = n_blobs;
        *ret_bytes = bytes;
        return 0;
}
