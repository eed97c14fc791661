/* SPDX-License-Identifier: Apache-2.0 */
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



static int take_error(Registry *reg, int r, char **ret_error) {
        if (!*ret_error)
                *ret_error = reg && reg->error ? strdup(reg->error) : strdup(strerror(ERRNO_VALUE(r)));
        return r;
}

static int fail(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;
        free(*ret_error);
        *ret_error = NULL;
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return r;
}

/* A cached image satisfies the pull: hand it back for re-tagging. */
static int found_cached(ImageRecord *rec, Registry *reg, PullOutcome *ret) {
        *ret = (PullOutcome) { .record = rec, .n_requests = reg ? reg->n_requests : 0 };
        log_debug("Image %s is cached (%u registry requests).", rec->digest, ret->n_requests);
        return 0;
}

static bool blob_is_cached(const char *path, uint64_t size) {
        struct stat st;
        return stat(path, &st) >= 0 && S_ISREG(st.st_mode) && (uint64_t) st.st_size == size;
}

typedef struct Progress {
        const PullReporter *rep;
        uint64_t done, total;
        PullRequest *req;
} Progress;

static void on_blob_bytes(int64_t delta, void *userdata) {
        Progress *p = userdata;
        p->done = (uint64_t) ((int64_t) p->done + delta);
        p->rep->bytes(p->done, p->total, p->rep->userdata);
}

static int on_squash_progress(uint64_t done, uint64_t total, void *userdata) {
        Progress *p = userdata;
        if (atomic_load(&p->req->cancel))
                return -ECANCELED;
        p->rep->bytes(done, total, p->rep->userdata);
        return 0;
}

static int convert(PullRequest *req, const PullReporter *rep, const Manifest *m, const char *config_path,
                   const char *tmp_dir, char **ret_error) {
        _cleanup_free_ SquashLayer *layers = calloc(m->n_layers, sizeof(SquashLayer));
        _cleanup_free_ char *out = path_join(tmp_dir, "rootfs.squashfs");
        _cleanup_free_ char *cfg_out = path_join(tmp_dir, "config.json");
        _cleanup_free_ char *text = NULL, *squash_error = NULL;
        char **paths = NULL;
        Progress p = { .rep = rep, .req = req };
        SquashOptions opts = {
                .compression_level = req->config->compression_level,
                .workers = req->config->squash_workers ?: (unsigned) MAX(sysconf(_SC_NPROCESSORS_ONLN), 1L),
                .progress = on_squash_progress,
                .userdata = &p,
        };
        size_t size;
        int r;

        if (!layers || !out || !cfg_out)
                return -ENOMEM;
        r = read_full_file(config_path, CONFIG_SIZE_MAX, &text, &size);
        if (r < 0)
                return fail(ret_error, r, "cannot read the image config: %s", strerror(-r));
        r = write_file_atomic(cfg_out, text, size, 0644);
        if (r < 0)
                return fail(ret_error, r, "cannot write %s: %s", cfg_out, strerror(-r));

        paths = calloc(m->n_layers + 1, sizeof(char *));
        if (!paths)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_layers; i++) {
                paths[i] = store_blob_path(m->layers[i].digest);
                if (!paths[i]) {
                        strv_free(paths);
                        return -ENOMEM;
                }
                layers[i] = (SquashLayer) { paths[i], layer_media_type_canonical(m->layers[i].media_type),
                                            m->layers[i].size };
        }
        rep->phase(PHASE_CONVERTING, rep->userdata);
        r = squash_layers(layers, m->n_layers, out, &opts, &squash_error);
        strv_free(paths);
        if (r < 0) {
                if (atomic_load(&req->cancel))
                        return fail(ret_error, -ECANCELED, "canceled");
                return fail(ret_error, r, "converting the layers to squashfs failed: %s",
                            squash_error ?: strerror(ERRNO_VALUE(r)));
        }
        return 0;
}

int pull_run(PullRequest *req, const PullReporter *rep, PullOutcome *ret, char **ret_error) {
        _cleanup_(registry_freep) Registry *reg = NULL;
        _cleanup_free_ char *body = NULL, *ctype = NULL, *resolved = NULL, *digest = NULL;
        _cleanup_free_ char *config_path = NULL, *images = NULL, *tmp_dir = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        _cleanup_free_ BlobFetch *fetch = NULL;
        const bool force = req->flags & PULL_FORCE;
        const char *reference = req->ref->digest ?: req->ref->tag ?: OCI_DEFAULT_TAG;
        size_t size, n_fetch = 0;
        MediaKind kind;
        Progress progress = { .rep = rep, .req = req };
        int r;

        *ret_error = NULL;
        rep->phase(PHASE_RESOLVING, rep->userdata);

        /* Pinned by digest and already here: no request at all. */
        if (req->ref->digest && !force && store_find_by_resolved(req->ref->digest, req->platform, &rec) >= 0)
                return found_cached(TAKE_PTR(rec), NULL, ret);

        r = registry_new(req->ref, req->config, &req->cancel, &reg);
        if (r < 0)
                return take_error(reg, r, ret_error);

        r = registry_get_manifest(reg, reference, &body, &size, &ctype, &resolved);
        if (r < 0)
                return take_error(reg, r, ret_error);
        if (req->ref->digest && !streq(req->ref->digest, resolved))
                return fail(ret_error, -EBADMSG, "manifest digest mismatch: asked for %s, got %s", req->ref->digest,
                            resolved);
        /* An unchanged tag costs this one request. */
        if (!force && store_find_by_resolved(resolved, req->platform, &rec) >= 0)
                return found_cached(TAKE_PTR(rec), reg, ret);

        r = manifest_document_kind(body, size, ctype, &kind, ret_error);
        if (r < 0)
                return r;
        if (kind == MEDIA_INDEX) {
                _cleanup_(image_index_freep) ImageIndex *idx = NULL;
                const Descriptor *d = NULL;

                r = image_index_parse(body, size, &idx, ret_error);
                if (r < 0)
                        return r;
                r = image_index_select(idx, req->os, req->architecture, req->variant, &d, ret_error);
                if (r < 0)
                        return r;
                digest = strdup(d->digest);
                if (!digest)
                        return -ENOMEM;
                uint64_t want_size = d->size;
                body = mfree(body);
                ctype = mfree(ctype);
                _cleanup_free_ char *got = NULL;
                r = registry_get_manifest(reg, digest, &body, &size, &ctype, &got);
                if (r < 0)
                        return take_error(reg, r, ret_error);
                if (!streq(got, digest) || size != want_size)
                        return fail(ret_error, -EBADMSG,
                                    "manifest %s from the index does not match its descriptor (digest %s, %zu bytes)",
                                    digest, got, size);
                r = manifest_document_kind(body, size, ctype, &kind, ret_error);
                if (r < 0)
                        return r;
                if (kind != MEDIA_MANIFEST)
                        return fail(ret_error, -EMEDIUMTYPE, "index entry %s is not an image manifest", digest);
        } else
                digest = strdup(resolved);
        if (!digest)
                return -ENOMEM;

        if (!force) {
                _cleanup_free_ char *dir = store_image_dir(digest);
                if (dir && store_load_image(dir, &rec) >= 0)
                        return found_cached(TAKE_PTR(rec), reg, ret);
        }

        r = manifest_parse(body, size, &m, ret_error);
        if (r < 0)
                return r;

        /* The config and each distinct layer not already in the cache. */
        fetch = calloc(m->n_layers + 1, sizeof(BlobFetch));
        if (!fetch)
                return -ENOMEM;
        for (size_t i = 0; i <= m->n_layers; i++) {
                const Descriptor *d = i == 0 ? &m->config : &m->layers[i - 1];
                _cleanup_free_ char *path = store_blob_path(d->digest);
                bool dup = false;

                if (!path)
                        goto oom;
                for (size_t j = 0; j < n_fetch; j++)
                        dup = dup || streq(fetch[j].desc->digest, d->digest);
                if (dup || (!force && blob_is_cached(path, d->size)))
                        continue;
                fetch[n_fetch++] = (BlobFetch) { .desc = d, .path = TAKE_PTR(path), .fd = -EBADF };
                progress.total += d->size;
        }
        rep->phase(PHASE_DOWNLOADING, rep->userdata);
        rep->bytes(0, progress.total, rep->userdata);
        uint64_t t_download = now(CLOCK_MONOTONIC);
        r = blob_fetch_all(reg, fetch, n_fetch, on_blob_bytes, &progress);
        t_download = now(CLOCK_MONOTONIC) - t_download;
        if (r >= 0 && n_fetch > 0)
                log_info("%s: downloaded %zu blobs, %" PRIu64 " bytes, in %" PRIu64 " ms.", req->reference, n_fetch,
                         progress.total, t_download / 1000);
        for (size_t i = 0; i < n_fetch; i++)
                blob_fetch_done(&fetch[i]);
        if (r < 0)
                return take_error(reg, r, ret_error);

        /* The config must at least be a JSON object; zoned reads the rest. */
        config_path = store_blob_path(m->config.digest);
        images = store_images_dir();
        if (!config_path || !images)
                goto oom;
        {
                _cleanup_free_ char *text = NULL;
                _cleanup_json_ json_object *cfg = NULL;
                size_t n;
                r = read_full_file(config_path, CONFIG_SIZE_MAX, &text, &n);
                if (r < 0)
                        return fail(ret_error, r, "cannot read image config %s: %s", m->config.digest, strerror(-r));
                if (json_parse_bounded(text, n, CONFIG_SIZE_MAX, true, &cfg) < 0)
                        return fail(ret_error, -EBADMSG, "image config %s is not a well-formed JSON object",
                                    m->config.digest);
        }

        tmp_dir = path_join(images, ".tmp-pull-XXXXXX");
        if (!tmp_dir)
                goto oom;
        if (!mkdtemp(tmp_dir)) {
                r = -errno;
                tmp_dir = mfree(tmp_dir);
                return fail(ret_error, r, "cannot create a temporary directory in %s: %s", images, strerror(-r));
        }
        (void) chmod(tmp_dir, 0755);
        uint64_t t_convert = now(CLOCK_MONOTONIC);
        r = convert(req, rep, m, config_path, tmp_dir, ret_error);
        t_convert = now(CLOCK_MONOTONIC) - t_convert;
        if (r < 0) {
                (void) rm_rf(tmp_dir);
                return r;
        }

        rec = calloc(1, sizeof *rec);
        if (!rec)
                goto oom;
        rec->digest = TAKE_PTR(digest);
        rec->resolved_digest = TAKE_PTR(resolved);
        rec->platform = strdup(req->platform);
        rec->config_digest = strdup(m->config.digest);
        rec->created_usec = now(CLOCK_REALTIME);
        rec->dir = strdup(tmp_dir);
        if (!rec->platform || !rec->config_digest || !rec->dir)
                goto oom_tmp;
        for (size_t i = 0; i < m->n_layers; i++)
                if (strv_extend(&rec->layers, m->layers[i].digest) < 0)
                        goto oom_tmp;
        {
                _cleanup_free_ char *sq = path_join(tmp_dir, "rootfs.squashfs");
                struct stat st;
                if (!sq)
                        goto oom_tmp;
                if (stat(sq, &st) < 0) {
                        r = -errno;
                        (void) rm_rf(tmp_dir);
                        return fail(ret_error, r, "the converter left no %s", sq);
                }
                rec->size = (uint64_t) st.st_size;
        }
        *ret = (PullOutcome) {
                .record = TAKE_PTR(rec),
                .tmp_dir = TAKE_PTR(tmp_dir),
                .n_requests = reg->n_requests,
                .bytes_downloaded = progress.total,
                .download_usec = t_download,
                .convert_usec = t_convert,
        };
        return 0;

oom_tmp:
        (void) rm_rf(tmp_dir);
oom:
        return fail(ret_error, -ENOMEM, "out of memory");
}
