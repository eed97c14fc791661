/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "time-util.h"
#include "blob-fetch.h"
#include "fs-util.h"
#include "json-util.h"
#include "log.h"
#include "manifest.h"
#include "pull.h"
#include "registry.h"
#include "squash.h"
#include "string-util.h"

const char *transfer_phase_to_string(TransferPhase p) {
        static const char *const table[_PHASE_MAX] = {
                [PHASE_RESOLVING] = "resolving",
                [PHASE_DOWNLOADING] = "downloading",
                [PHASE_CONVERTING] = "converting",
                [PHASE_DONE] = "done",
                [PHASE_FAILED] = "failed",
                [PHASE_CANCELED] = "canceled",
        };
        return p < _PHASE_MAX ? table[p] : "unknown";
}

void pull_request_done(PullRequest *req) {
        oci_ref_free(req->ref);
        free(req->reference);
        free(req->os);
        free(req->architecture);
        free(req->variant);
        free(req->platform);
        req->ref = NULL;
        req->reference = req->os = req->architecture = req->variant = req->platform = NULL;
}

void pull_outcome_done(PullOutcome *o) {
        image_record_free(o->record);
        if (o->tmp_dir)
                (void) rm_rf(o->tmp_dir);
        free(o->tmp_dir);
        *o = (PullOutcome) {};
}



/* One pull's whole state, as systemd's pull-oci.c: each step below reads
 * and fills it, and pull_done() releases whatever a failed step left. */
typedef struct Pull {
        PullRequest *req;
        const PullReporter *rep;
        char **error;             /* the caller's *ret_error */
        Registry *reg;
        char *body, *ctype;       /* the manifest (or index) document */
        size_t size;
        char *resolved;           /* what the reference resolved to */
        char *digest;             /* the image manifest's digest */
        Manifest *manifest;
        BlobFetch *fetch;
        size_t n_fetch;
        uint64_t bytes_total, bytes_done;
        uint64_t download_usec, convert_usec;
        char *tmp_dir;            /* the converted image, until the record takes it */
        ImageRecord *cached;      /* a cached image that satisfies the pull */
} Pull;

static void pull_done(Pull *p) {
        registry_free(p->reg);
        free(p->body);
        free(p->ctype);
        free(p->resolved);
        free(p->digest);
        manifest_free(p->manifest);
        for (size_t i = 0; i < p->n_fetch; i++)
                blob_fetch_done(&p->fetch[i]);
        free(p->fetch);
        if (p->tmp_dir)
                (void) rm_rf(p->tmp_dir);
        free(p->tmp_dir);
        image_record_free(p->cached);
}

/* The registry's reason, or the errno's. */
static int take_error(Pull *p, int r) {
        if (!*p->error)
                *p->error = p->reg && p->reg->error ? strdup(p->reg->error) : strdup(strerror(ERRNO_VALUE(r)));
        return r;
}

static int fail(Pull *p, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(Pull *p, int r, const char *fmt, ...) {
        va_list ap;

        free(*p->error);
        *p->error = NULL;
        va_start(ap, fmt);
        if (vasprintf(p->error, fmt, ap) < 0)
                *p->error = NULL;
        va_end(ap);
        return r;
}

/* A cached image satisfies the pull: 1, and pull_run() hands it back for re-tagging. */
static int found_cached(Pull *p, ImageRecord *rec) {
        p->cached = rec;
        log_debug("Image %s is cached (%u registry requests).", rec->digest, p->reg ? p->reg->n_requests : 0);
        return 1;
}

static bool force(const Pull *p) {
        return p->req->flags & IMAGES_PULL_FORCE;
}

/* Follows an index to the manifest for the requested platform. */
static int pull_select_platform(Pull *p) {
        _cleanup_(image_index_freep) ImageIndex *idx = NULL;
        _cleanup_free_ char *got = NULL;
        const Descriptor *d = NULL;
        MediaKind kind;
        uint64_t want_size;
        int r;

        r = image_index_parse(p->body, p->size, &idx, p->error);
        if (r < 0)
                return r;
        r = image_index_select(idx, p->req->os, p->req->architecture, p->req->variant, &d, p->error);
        if (r < 0)
                return r;
        p->digest = strdup(d->digest);
        if (!p->digest)
                return -ENOMEM;
        want_size = d->size;
        p->body = mfree(p->body);
        p->ctype = mfree(p->ctype);
        r = registry_get_manifest(p->reg, p->digest, &p->body, &p->size, &p->ctype, &got);
        if (r < 0)
                return take_error(p, r);
        if (!streq(got, p->digest) || p->size != want_size)
                return fail(p, -EBADMSG, "manifest %s from the index does not match its descriptor (digest %s, %zu bytes)",
                            p->digest, got, p->size);
        r = manifest_document_kind(p->body, p->size, p->ctype, &kind, p->error);
        if (r < 0)
                return r;
        if (kind != MEDIA_MANIFEST)
                return fail(p, -EMEDIUMTYPE, "index entry %s is not an image manifest", p->digest);
        return 0;
}

/* Resolves the reference to an image manifest, stopping (1) at the first
 * sign that the image is cached: a pinned digest costs no request, an
 * unchanged tag one. */
static int pull_resolve(Pull *p) {
        PullRequest *req = p->req;
        ImageRecord *rec = NULL;
        MediaKind kind;
        int r;

        if (req->ref->digest && !force(p) && store_find_by_resolved(req->ref->digest, req->platform, &rec) >= 0)
                return found_cached(p, rec);

        r = registry_new(req->ref, req->config, &req->cancel, &p->reg);
        if (r < 0)
                return take_error(p, r);
        r = registry_get_manifest(p->reg, req->ref->digest ?: req->ref->tag ?: OCI_DEFAULT_TAG, &p->body, &p->size,
                                  &p->ctype, &p->resolved);
        if (r < 0)
                return take_error(p, r);
        if (req->ref->digest && !streq(req->ref->digest, p->resolved))
                return fail(p, -EBADMSG, "manifest digest mismatch: asked for %s, got %s", req->ref->digest,
                            p->resolved);
        if (!force(p) && store_find_by_resolved(p->resolved, req->platform, &rec) >= 0)
                return found_cached(p, rec);

        r = manifest_document_kind(p->body, p->size, p->ctype, &kind, p->error);
        if (r < 0)
                return r;
        if (kind == MEDIA_INDEX)
                r = pull_select_platform(p);
        else if (!(p->digest = strdup(p->resolved)))
                r = -ENOMEM;
        if (r < 0)
                return r;

        if (!force(p)) {
                _cleanup_free_ char *dir = store_image_dir(p->digest);
                if (dir && store_load_image(dir, &rec) >= 0)
                        return found_cached(p, rec);
        }
        return manifest_parse(p->body, p->size, &p->manifest, p->error);
}

static bool blob_is_cached(const char *path, uint64_t size) {
        struct stat st;
        return stat(path, &st) >= 0 && S_ISREG(st.st_mode) && (uint64_t) st.st_size == size;
}

/* The config and each distinct layer not already in the cache. */
static int pull_plan_downloads(Pull *p) {
        const Manifest *m = p->manifest;

        p->fetch = calloc(m->n_layers + 1, sizeof(BlobFetch));
        if (!p->fetch)
                return -ENOMEM;
        for (size_t i = 0; i <= m->n_layers; i++) {
                const Descriptor *d = i == 0 ? &m->config : &m->layers[i - 1];
                _cleanup_free_ char *path = store_blob_path(d->digest);
                bool dup = false;

                if (!path)
                        return -ENOMEM;
                for (size_t j = 0; j < p->n_fetch; j++)
                        dup = dup || streq(p->fetch[j].desc->digest, d->digest);
                if (dup || (!force(p) && blob_is_cached(path, d->size)))
                        continue;
                p->fetch[p->n_fetch++] = (BlobFetch) { .desc = d, .path = TAKE_PTR(path), .fd = -EBADF };
                p->bytes_total += d->size;
        }
        return 0;
}

static void on_blob_bytes(int64_t delta, void *userdata) {
        Pull *p = userdata;

        p->bytes_done = (uint64_t) ((int64_t) p->bytes_done + delta);
        p->rep->bytes(p->bytes_done, p->bytes_total, p->rep->userdata);
}

static int pull_download(Pull *p) {
        uint64_t start;
        int r;

        r = pull_plan_downloads(p);
        if (r < 0)
                return r;
        p->rep->phase(PHASE_DOWNLOADING, p->rep->userdata);
        p->rep->bytes(0, p->bytes_total, p->rep->userdata);
        start = now(CLOCK_MONOTONIC);
        r = blob_fetch_all(p->reg, p->fetch, p->n_fetch, on_blob_bytes, p);
        p->download_usec = now(CLOCK_MONOTONIC) - start;
        if (r < 0)
                return take_error(p, r);
        if (p->n_fetch > 0)
                log_info("%s: downloaded %zu blobs, %" PRIu64 " bytes, in %" PRIu64 " ms.", p->req->reference,
                         p->n_fetch, p->bytes_total, p->download_usec / 1000);
        return 0;
}

/* The config must at least be a JSON object; krata-zone reads the rest. */
static int pull_check_config(Pull *p, const char *config_path) {
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ json_object *cfg = NULL;
        size_t n;
        int r;

        r = read_full_file(config_path, CONFIG_SIZE_MAX, &text, &n);
        if (r < 0)
                return fail(p, r, "cannot read image config %s: %s", p->manifest->config.digest, strerror(-r));
        if (json_parse_bounded(text, n, CONFIG_SIZE_MAX, true, &cfg) < 0)
                return fail(p, -EBADMSG, "image config %s is not a well-formed JSON object", p->manifest->config.digest);
        return 0;
}

static int on_squash_progress(uint64_t done, uint64_t total, void *userdata) {
        Pull *p = userdata;

        if (atomic_load(&p->req->cancel))
                return -ECANCELED;
        p->rep->bytes(done, total, p->rep->userdata);
        return 0;
}

/* The layers as squash_layers() takes them; *ret_paths owns their names. */
static int squash_layer_list(const Manifest *m, SquashLayer **ret, char ***ret_paths) {
        _cleanup_free_ SquashLayer *layers = calloc(m->n_layers, sizeof(SquashLayer));
        _cleanup_strv_free_ char **paths = calloc(m->n_layers + 1, sizeof(char *));

        if (!layers || !paths)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_layers; i++) {
                paths[i] = store_blob_path(m->layers[i].digest);
                if (!paths[i])
                        return -ENOMEM;
                layers[i] = (SquashLayer) { paths[i], layer_media_type_canonical(m->layers[i].media_type),
                                            m->layers[i].size };
        }
        *ret = TAKE_PTR(layers);
        *ret_paths = TAKE_PTR(paths);
        return 0;
}

/* config.json and rootfs.squashfs into the pull's own temporary directory. */
static int pull_convert(Pull *p) {
        _cleanup_free_ char *config_path = store_blob_path(p->manifest->config.digest), *images = store_images_dir();
        _cleanup_free_ char *out = NULL, *cfg_out = NULL, *text = NULL, *squash_error = NULL;
        _cleanup_free_ SquashLayer *layers = NULL;
        _cleanup_strv_free_ char **paths = NULL;
        SquashOptions opts = {
                .compression_level = p->req->config->compression_level,
                .workers = p->req->config->squash_workers ?: (unsigned) MAX(sysconf(_SC_NPROCESSORS_ONLN), 1L),
                .progress = on_squash_progress,
                .userdata = p,
        };
        uint64_t start;
        size_t size;
        int r;

        if (!config_path || !images)
                return -ENOMEM;
        r = pull_check_config(p, config_path);
        if (r < 0)
                return r;
        p->tmp_dir = path_join(images, ".tmp-pull-XXXXXX");
        if (!p->tmp_dir)
                return -ENOMEM;
        if (!mkdtemp(p->tmp_dir)) {
                r = -errno;
                p->tmp_dir = mfree(p->tmp_dir);
                return fail(p, r, "cannot create a temporary directory in %s: %s", images, strerror(-r));
        }
        (void) chmod(p->tmp_dir, 0755);
        out = path_join(p->tmp_dir, "rootfs.squashfs");
        cfg_out = path_join(p->tmp_dir, "config.json");
        if (!out || !cfg_out)
                return -ENOMEM;
        r = read_full_file(config_path, CONFIG_SIZE_MAX, &text, &size);
        if (r < 0)
                return fail(p, r, "cannot read the image config: %s", strerror(-r));
        r = write_file_atomic(cfg_out, text, size, 0644);
        if (r < 0)
                return fail(p, r, "cannot write %s: %s", cfg_out, strerror(-r));
        r = squash_layer_list(p->manifest, &layers, &paths);
        if (r < 0)
                return r;

        p->rep->phase(PHASE_CONVERTING, p->rep->userdata);
        start = now(CLOCK_MONOTONIC);
        r = squash_layers(layers, p->manifest->n_layers, out, &opts, &squash_error);
        p->convert_usec = now(CLOCK_MONOTONIC) - start;
        if (r < 0 && atomic_load(&p->req->cancel))
                return fail(p, -ECANCELED, "canceled");
        if (r < 0)
                return fail(p, r, "converting the layers to squashfs failed: %s", squash_error ?: strerror(ERRNO_VALUE(r)));
        return 0;
}

/* The record of the converted image, still in its temporary directory. */
static int pull_make_record(Pull *p, ImageRecord **ret) {
        _cleanup_(image_record_freep) ImageRecord *rec = calloc(1, sizeof *rec);
        _cleanup_free_ char *sq = NULL;
        struct stat st;

        if (!rec)
                return -ENOMEM;
        rec->digest = TAKE_PTR(p->digest);
        rec->resolved_digest = TAKE_PTR(p->resolved);
        rec->platform = strdup(p->req->platform);
        rec->config_digest = strdup(p->manifest->config.digest);
        rec->created_usec = now(CLOCK_REALTIME);
        rec->dir = strdup(p->tmp_dir);
        sq = path_join(p->tmp_dir, "rootfs.squashfs");
        if (!rec->platform || !rec->config_digest || !rec->dir || !sq)
                return -ENOMEM;
        for (size_t i = 0; i < p->manifest->n_layers; i++)
                if (strv_extend(&rec->layers, p->manifest->layers[i].digest) < 0)
                        return -ENOMEM;
        if (stat(sq, &st) < 0)
                return fail(p, -errno, "the converter left no %s", sq);
        rec->size = (uint64_t) st.st_size;
        *ret = TAKE_PTR(rec);
        return 0;
}

int pull_run(PullRequest *req, const PullReporter *rep, PullOutcome *ret, char **ret_error) {
        _cleanup_(pull_done) Pull p = { .req = req, .rep = rep, .error = ret_error };
        ImageRecord *rec = NULL;
        int r;

        assert(req);
        assert(rep);
        assert(ret);
        assert(ret_error);

        *ret_error = NULL;
        rep->phase(PHASE_RESOLVING, rep->userdata);
        r = pull_resolve(&p);
        if (r > 0) {
                *ret = (PullOutcome) { .record = TAKE_PTR(p.cached), .n_requests = p.reg ? p.reg->n_requests : 0 };
                return 0;
        }
        if (r >= 0)
                r = pull_download(&p);
        if (r >= 0)
                r = pull_convert(&p);
        if (r >= 0)
                r = pull_make_record(&p, &rec);
        if (r == -ENOMEM)
                return fail(&p, r, "out of memory");
        if (r < 0)
                return r;
        *ret = (PullOutcome) {
                .record = rec,
                .tmp_dir = TAKE_PTR(p.tmp_dir),
                .n_requests = p.reg->n_requests,
                .bytes_downloaded = p.bytes_total,
                .download_usec = p.download_usec,
                .convert_usec = p.convert_usec,
        };
        return 0;
}
