/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob-fetch.h"
#include "fs-util.h"
#include "log.h"
#include "sha256.h"
#include "string-util.h"

void blob_fetch_done(BlobFetch *b) {
        if (b->easy)
                curl_easy_cleanup(b->easy);
        curl_slist_free_all(b->headers);
        if (b->sha)
                EVP_MD_CTX_free(b->sha);
        safe_close(b->fd);
        if (b->tmp_path)
                (void) unlink(b->tmp_path);
        free(b->tmp_path);
        free(b->path);
        free(b->www_authenticate);
        *b = (BlobFetch) { .fd = -EBADF };
}

typedef struct FetchState {
        Registry *r;
        blob_progress_t progress;
        void *userdata;
} FetchState;

static int restart_from_zero(BlobFetch *b) {
        if (ftruncate(b->fd, 0) < 0 || lseek(b->fd, 0, SEEK_SET) < 0)
                return -errno;
        if (!EVP_DigestInit_ex(b->sha, EVP_sha256(), NULL))
                return -EIO;
        b->received = 0;
        return 0;
}

typedef struct WriteCtx {
        BlobFetch *blob;
        FetchState *state;
} WriteCtx;

static size_t blob_write(char *data, size_t size, size_t nmemb, void *userdata) {
        WriteCtx *w = userdata;
        BlobFetch *b = w->blob;
        size_t n = size * nmemb;

        if (!b->started) {
                b->started = true;
                (void) curl_easy_getinfo(b->easy, CURLINFO_RESPONSE_CODE, &b->status);
                /* A server that ignored our Range sends everything again. */
                if (b->status == 200 && b->received > 0) {
                        if (w->state->progress)
                                w->state->progress(-(int64_t) b->received, w->state->userdata);
                        if (restart_from_zero(b) < 0)
                                return 0;
                }
        }
        if (b->status != 200 && b->status != 206)
                return n; /* an error body; the status says it all */
        if (n > b->desc->size - b->received) {
                b->too_big = true;
                return 0;
        }
        if (!EVP_DigestUpdate(b->sha, data, n))
                return 0;
        for (size_t done = 0; done < n;) {
                ssize_t k = write(b->fd, data + done, n - done);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return 0;
                }
                done += (size_t) k;
        }
        b->received += n;
        if (w->state->progress)
                w->state->progress((int64_t) n, w->state->userdata);
        return n;
}

static size_t blob_header(char *data, size_t size, size_t nmemb, void *userdata) {
        BlobFetch *b = ((WriteCtx *) userdata)->blob;
        size_t n = size * nmemb;

        if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
                b->www_authenticate = mfree(b->www_authenticate);
                return n;
        }
        if (!b->www_authenticate || !startswith(b->www_authenticate, "Bearer"))
                if (header_value(data, n, "www-authenticate", &b->www_authenticate) < 0)
                        return 0;
        return n;
}

static int blob_start(FetchState *s, CURLM *multi, BlobFetch *b, WriteCtx *w) {
        _cleanup_free_ char *url = NULL;
        char range[64];
        CURL *c;
        int k;

        if (b->easy) {
                curl_easy_cleanup(b->easy);
                b->easy = NULL;
        }
        curl_slist_free_all(b->headers);
        snprintf(range, sizeof range, "bytes=%" PRIu64 "-", b->received);
        b->headers = registry_headers(s->r, NULL, b->received > 0 ? range : NULL);
        url = strjoin(s->r->base_url, "/v2/", s->r->repository, "/blobs/", b->desc->digest);
        c = curl_easy_init();
        if (!b->headers || !url || !c) {
                curl_easy_cleanup(c);
                return -ENOMEM;
        }
        b->easy = c;
        b->started = false;
        b->status = 0;
        *w = (WriteCtx) { b, s };
        k = registry_setup_easy(s->r, c, url, false);
        if (k < 0 ||
            curl_easy_setopt(c, CURLOPT_HTTPHEADER, b->headers) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, blob_write) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEDATA, w) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, blob_header) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_HEADERDATA, w) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_PRIVATE, b) != CURLE_OK)
                return -EIO;
        s->r->n_requests++;
        return curl_multi_add_handle(multi, c) == CURLM_OK ? 0 : -EIO;
}

static int blob_open(BlobFetch *b) {
        _cleanup_free_ char *dir = NULL;
        const char *slash = strrchr(b->path, '/');
        int fd;

        dir = strndup(b->path, (size_t) (slash - b->path));
        if (!dir)
                return -ENOMEM;
        b->tmp_path = strjoin(dir, "/.tmp-", slash + 1, "-XXXXXX");
        if (!b->tmp_path)
                return -ENOMEM;
        fd = mkostemp(b->tmp_path, O_CLOEXEC);
        if (fd < 0) {
                b->tmp_path = mfree(b->tmp_path);
                return -errno;
        }
        b->fd = fd;
        (void) fchmod(fd, 0644); /* blobs are public content */
        b->sha = EVP_MD_CTX_new();
        if (!b->sha || !EVP_DigestInit_ex(b->sha, EVP_sha256(), NULL))
                return -ENOMEM;
        return 0;
}

/* Called when an attempt ended: 1 = retry, 0 = done (verified and renamed), <0 = failed. */
static int blob_finish(FetchState *s, BlobFetch *b, CURLcode code) {
        Registry *r = s->r;
        char hex[SHA256_HEX_SIZE], buf[256];

        if (code == CURLE_ABORTED_BY_CALLBACK && r->cancel && atomic_load(r->cancel))
                return registry_error(r, -ECANCELED, "canceled");
        if (b->too_big)
                return registry_error(r, -EFBIG, "blob %s from %s is larger than the %" PRIu64 " bytes its descriptor says",
                                      b->desc->digest, r->registry, b->desc->size);
        if (code == CURLE_WRITE_ERROR)
                return registry_error(r, -EIO, "blob %s: writing %s failed", b->desc->digest, b->tmp_path);
        if (code != CURLE_OK) {
                if (curl_code_is_transient(code) && b->attempts++ < r->config->retries) {
                        log_debug("Blob %s: %s after %" PRIu64 " bytes, resuming.", b->desc->digest,
                                  curl_easy_strerror(code), b->received);
                        return 1;
                }
                if (code == CURLE_OPERATION_TIMEDOUT)
                        snprintf(buf, sizeof buf, "no data for %" PRIu64 " s (timeout)", r->config->stall_timeout_sec);
                else
                        snprintf(buf, sizeof buf, "%s", curl_easy_strerror(code));
                return registry_error(r, code == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EREMOTEIO,
                                      "blob %s from %s: %s after %" PRIu64 " of %" PRIu64 " bytes%s", b->desc->digest,
                                      r->registry, buf, b->received, b->desc->size,
                                      b->received < b->desc->size && b->received > 0 ? " (truncated)" : "");
        }
        if (b->status == 401 && b->auth_attempts++ == 0 && b->www_authenticate) {
                int k = registry_authenticate(r, b->www_authenticate);
                return k < 0 ? k : 1;
        }
        if ((b->status == 429 || b->status >= 500) && b->attempts++ < r->config->retries) {
                usleep(200000 * b->attempts);
                return 1;
        }
        if (b->status == 416 && b->received > 0 && b->attempts++ < r->config->retries) {
                int k = restart_from_zero(b);
                return k < 0 ? k : 1;
        }
        if (b->status != 200 && b->status != 206)
                return registry_error(r, b->status == 404 ? -ENOENT : b->status == 401 || b->status == 403 ? -EACCES : -EREMOTEIO,
                                      "blob %s: %s answered HTTP %ld", b->desc->digest, r->registry, b->status);
        if (b->received != b->desc->size)
                return registry_error(r, -EBADMSG, "blob %s from %s is truncated: %" PRIu64 " of %" PRIu64 " bytes",
                                      b->desc->digest, r->registry, b->received, b->desc->size);
        if (sha256_final_hex(b->sha, hex) < 0)
                return -EIO;
        if (!streq(hex, b->desc->digest + strlen("sha256:")))
                return registry_error(r, -EBADMSG, "blob %s from %s: digest mismatch, content is sha256:%s",
                                      b->desc->digest, r->registry, hex);
        if (fsync(b->fd) < 0 || rename(b->tmp_path, b->path) < 0)
                return registry_error(r, -errno, "blob %s: cannot store it as %s: %m", b->desc->digest, b->path);
        b->tmp_path = mfree(b->tmp_path);
        b->fd = safe_close(b->fd);
        return 0;
}

int blob_fetch_all(Registry *r, BlobFetch *blobs, size_t n, blob_progress_t progress, void *userdata) {
        FetchState s = { r, progress, userdata };
        _cleanup_free_ WriteCtx *ctx = calloc(n ?: 1, sizeof(WriteCtx));
        CURLM *multi = curl_multi_init();
        size_t next = 0, running = 0, finished = 0;
        int k = 0;

        assert(r);
        assert(blobs || n == 0);

        if (!ctx || !multi) {
                if (multi)
                        curl_multi_cleanup(multi);
                return -ENOMEM;
        }
        (void) curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) r->config->parallel_downloads);

        while (finished < n) {
                CURLMsg *msg;
                int still, left;

                while (next < n && running < r->config->parallel_downloads) {
                        BlobFetch *b = &blobs[next];
                        k = blob_open(b);
                        if (k < 0) {
                                registry_error(r, k, "cannot create a temporary file for blob %s: %s", b->desc->digest,
                                               strerror(-k));
                                goto finish;
                        }
                        k = blob_start(&s, multi, b, &ctx[next]);
                        if (k < 0)
                                goto finish;
                        next++;
                        running++;
                }
                if (curl_multi_perform(multi, &still) != CURLM_OK) {
                        k = registry_error(r, -EIO, "curl multi failed");
                        goto finish;
                }
                while ((msg = curl_multi_info_read(multi, &left))) {
                        BlobFetch *b = NULL;
                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        (void) curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &b);
                        CURLcode code = msg->data.result;
                        curl_multi_remove_handle(multi, msg->easy_handle);
                        k = blob_finish(&s, b, code);
                        if (k < 0)
                                goto finish;
                        if (k > 0) {
                                k = blob_start(&s, multi, b, &ctx[b - blobs]);
                                if (k < 0)
                                        goto finish;
                                continue;
                        }
                        running--;
                        finished++;
                }
                if (finished < n && curl_multi_poll(multi, NULL, 0, 200, NULL) != CURLM_OK) {
                        k = registry_error(r, -EIO, "curl multi poll failed");
                        goto finish;
                }
        }
        k = 0;
finish:
        for (size_t i = 0; i < n; i++)
                if (blobs[i].easy) {
                        curl_multi_remove_handle(multi, blobs[i].easy);
                        curl_easy_cleanup(blobs[i].easy);
                        blobs[i].easy = NULL;
                }
        curl_multi_cleanup(multi);
        return k;
}
