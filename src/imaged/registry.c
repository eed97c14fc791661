/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "time-util.h"
#include "json-util.h"
#include "log.h"
#include "manifest.h"
#include "registry.h"
#include "sha256.h"
#include "string-util.h"

#define TOKEN_RESPONSE_MAX (1024u * 1024u)
#define ERROR_BODY_MAX (64u * 1024u)

static int sha256_digest(const void *data, size_t size, char **ret) {
        char hex[SHA256_HEX_SIZE];
        int r;

        r = sha256_buffer(data, size, hex);
        if (r < 0)
                return r;
        *ret = strjoin("sha256:", hex);
        return *ret ? 0 : -ENOMEM;
}

/* Authorization headers that worked, per registry and repository, shared by
 * the transfers of this process: a re-pull then starts authenticated and
 * costs one manifest request even on registries that want tokens. Tokens
 * expire (expires_in, 60 s when unsaid); a stale one just gets a 401 and a
 * fresh challenge. */
typedef struct AuthCacheEntry {
        char *key; /* "registry/repository" */
        char *authorization;
        uint64_t expires_usec; /* CLOCK_MONOTONIC */
} AuthCacheEntry;

#define AUTH_CACHE_MAX 64
static AuthCacheEntry auth_cache[AUTH_CACHE_MAX];
static pthread_mutex_t auth_cache_lock = PTHREAD_MUTEX_INITIALIZER;


static char *auth_cache_key(const Registry *r) {
        return strjoin(r->registry, "/", r->repository);
}

static void auth_cache_lookup(Registry *r) {
        _cleanup_free_ char *key = auth_cache_key(r);
        uint64_t t = now(CLOCK_MONOTONIC);

        if (!key)
                return;
        pthread_mutex_lock(&auth_cache_lock);
        for (size_t i = 0; i < AUTH_CACHE_MAX; i++)
                if (auth_cache[i].key && streq(auth_cache[i].key, key) && auth_cache[i].expires_usec > t) {
                        r->authorization = strdup(auth_cache[i].authorization);
                        break;
                }
        pthread_mutex_unlock(&auth_cache_lock);
}

static void auth_cache_store(const Registry *r, const char *authorization, uint64_t lifetime_sec) {
        _cleanup_free_ char *key = auth_cache_key(r), *value = strdup(authorization);
        size_t slot = 0;

        if (!key || !value)
                return;
        pthread_mutex_lock(&auth_cache_lock);
        /* the same key, else an empty slot, else the entry that expires first */
        for (size_t i = 0; i < AUTH_CACHE_MAX; i++) {
                if (auth_cache[i].key && streq(auth_cache[i].key, key)) {
                        slot = i;
                        break;
                }
                if (!auth_cache[i].key || auth_cache[i].expires_usec < auth_cache[slot].expires_usec)
                        slot = i;
        }
        free(auth_cache[slot].key);
        if (auth_cache[slot].authorization)
                explicit_bzero(auth_cache[slot].authorization, strlen(auth_cache[slot].authorization));
        free(auth_cache[slot].authorization);
        auth_cache[slot] = (AuthCacheEntry) {
                .key = TAKE_PTR(key),
                .authorization = TAKE_PTR(value),
                /* a little before the server's own expiry */
                .expires_usec = now(CLOCK_MONOTONIC) + (lifetime_sec > 10 ? lifetime_sec - 5 : lifetime_sec) * 1000000,
        };
        pthread_mutex_unlock(&auth_cache_lock);
}

int registry_error(Registry *r, int err, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        assert(r);
        assert(fmt);

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        free(r->error);
        r->error = s;
        log_debug("%s", strempty(s));
        return err;
}

int registry_new(const OciRef *ref, const ImagedConfig *config, const atomic_bool *cancel, Registry **ret) {
        _cleanup_(registry_freep) Registry *r = calloc(1, sizeof *r);
        int k;

        assert(ref);
        assert(config);
        assert(cancel);
        assert(ret);

        if (!r)
                return -ENOMEM;
        r->config = config;
        r->cancel = cancel;
        r->insecure = imaged_config_registry_is_insecure(config, ref->registry);
        r->registry = strdup(ref->registry);
        r->repository = strdup(ref->repository);
        r->base_url = strjoin(r->insecure ? "http://" : "https://", oci_ref_api_host(ref));
        if (!r->registry || !r->repository || !r->base_url)
                return -ENOMEM;
        k = auth_config_load(config->auth_file, ref->registry, &r->creds);
        if (k < 0)
                return registry_error(r, k, "cannot read the registry credentials in %s", config->auth_file);
        r->have_creds = k > 0;
        auth_cache_lookup(r);
        *ret = TAKE_PTR(r);
        return 0;
}

Registry *registry_free(Registry *r) {
        if (!r)
                return NULL;
        free(r->registry);
        free(r->base_url);
        free(r->repository);
        auth_credentials_done(&r->creds);
        if (r->authorization)
                explicit_bzero(r->authorization, strlen(r->authorization));
        free(r->authorization);
        free(r->error);
        return mfree(r);
}

bool curl_code_is_transient(CURLcode c) {
        switch (c) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return true;
        default:
                return false;
        }
}

static int xferinfo(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
        const atomic_bool *cancel = userdata;
        return cancel && atomic_load(cancel) ? 1 : 0;
}

int registry_setup_easy(Registry *r, CURL *c, const char *url, bool bounded_total) {
        const char *protos = r->insecure ? "http,https" : "https";
        const ImagedConfig *cfg = r->config;

        assert(r);
        assert(c);
        assert(url);

        if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protos) != CURLE_OK ||
            /* blobs are often redirected to object storage; never downgrade to http */
            curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protos) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_USERAGENT, "krata-imaged/" PACKAGE_VERSION) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long) cfg->connect_timeout_sec) != CURLE_OK ||
            /* a registry that stops sending (or never starts) fails the attempt */
            curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long) cfg->stall_timeout_sec) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xferinfo) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *) r->cancel) != CURLE_OK)
                return -EIO;
        if (bounded_total &&
            curl_easy_setopt(c, CURLOPT_TIMEOUT, (long) (cfg->connect_timeout_sec + 2 * cfg->stall_timeout_sec)) != CURLE_OK)
                return -EIO;
        return 0;
}

struct curl_slist *registry_headers(Registry *r, const char *accept, const char *range) {
        struct curl_slist *l = NULL, *n;
        _cleanup_free_ char *a = accept ? strjoin("Accept: ", accept) : NULL;
        _cleanup_free_ char *z = r->authorization ? strjoin("Authorization: ", r->authorization) : NULL;
        _cleanup_free_ char *g = range ? strjoin("Range: ", range) : NULL;

        assert(r);

        if ((accept && !a) || (r->authorization && !z) || (range && !g))
                return NULL;
        /* An empty list would mean "no headers"; always carry one. */
        l = curl_slist_append(NULL, "Docker-Distribution-API-Version: registry/2.0");
        if (!l)
                return NULL;
        if (a && !(n = curl_slist_append(l, a)))
                goto oom;
        if (z && !(n = curl_slist_append(l, z)))
                goto oom;
        if (g && !(n = curl_slist_append(l, g)))
                goto oom;
        if (z)
                explicit_bzero(z, strlen(z));
        return l;
oom:
        curl_slist_free_all(l);
        return NULL;
}

/* A response held in memory, bounded. */
typedef struct Response {
        char *body;
        size_t size;
        size_t max;
        bool too_big;
        char *content_type;
        char *digest;
        char *www_authenticate;
} Response;

static void response_done(Response *p) {
        free(p->body);
        free(p->content_type);
        free(p->digest);
        free(p->www_authenticate);
        *p = (Response) { .max = p->max };
}

static size_t response_write(char *data, size_t size, size_t nmemb, void *userdata) {
        Response *p = userdata;
        size_t n = size * nmemb;
        char *b;

        if (n > p->max - p->size) {
                p->too_big = true;
                return 0;
        }
        b = realloc(p->body, p->size + n + 1);
        if (!b)
                return 0;
        memcpy(b + p->size, data, n);
        p->size += n;
        b[p->size] = 0;
        p->body = b;
        return n;
}

int header_value(const char *line, size_t len, const char *name, char **ret) {
        size_t n = strlen(name), e;
        const char *v;

        assert(line || len == 0);
        assert(name);

        if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
                return 0;
        v = line + n + 1;
        len -= n + 1;
        while (len > 0 && (*v == ' ' || *v == '\t'))
                v++, len--;
        for (e = len; e > 0 && strchr(" \t\r\n", v[e - 1]); e--)
                ;
        free(*ret);
        *ret = strndup(v, e);
        return *ret ? 1 : -ENOMEM;
}

static size_t response_header(char *data, size_t size, size_t nmemb, void *userdata) {
        Response *p = userdata;
        size_t n = size * nmemb;

        /* A new status line (after a redirect or 100) starts a new header block. */
        if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
                p->content_type = mfree(p->content_type);
                p->digest = mfree(p->digest);
                p->www_authenticate = mfree(p->www_authenticate);
                return n;
        }
        if (header_value(data, n, "content-type", &p->content_type) < 0 ||
            header_value(data, n, "docker-content-digest", &p->digest) < 0)
                return 0;
        /* Several challenges may come in several headers: keep the one we speak. */
        if (!p->www_authenticate || !startswith(p->www_authenticate, "Bearer"))
                if (header_value(data, n, "www-authenticate", &p->www_authenticate) < 0)
                        return 0;
        return n;
}

static const char *describe_curl_error(Registry *r, CURLcode c, char *buf, size_t len) {
        if (c == CURLE_OPERATION_TIMEDOUT)
                snprintf(buf, len, "no answer within %" PRIu64 " s (timeout)", r->config->stall_timeout_sec);
        else if (c == CURLE_SSL_CONNECT_ERROR && !r->insecure)
                snprintf(buf, len, "TLS handshake failed (%s); a plain-HTTP registry must be listed in "
                         "InsecureRegistries=", curl_easy_strerror(c));
        else if (c == CURLE_PEER_FAILED_VERIFICATION)
                snprintf(buf, len, "its TLS certificate does not verify (%s)", curl_easy_strerror(c));
        else
                snprintf(buf, len, "%s", curl_easy_strerror(c));
        return buf;
}

/* One GET of url into p (headers may be NULL); *ret_code is curl's verdict. */
static int perform_get(Registry *r, const char *url, struct curl_slist *headers, Response *p, CURLcode *ret_code,
                       long *ret_status) {
        CURL *c = curl_easy_init();
        int k;

        if (!c)
                return -ENOMEM;
        k = registry_setup_easy(r, c, url, true);
        if (k < 0 ||
            curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, response_write) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEDATA, p) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, response_header) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_HEADERDATA, p) != CURLE_OK) {
                curl_easy_cleanup(c);
                return -ENOMEM;
        }
        r->n_requests++;
        *ret_code = curl_easy_perform(c);
        *ret_status = 0;
        (void) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
        curl_easy_cleanup(c);
        return 0;
}

/* One GET into memory with auth and retries. what names the object in errors. */
static int registry_get(Registry *r, const char *url, const char *accept, size_t max, const char *what,
                        Response *ret, long *ret_status) {
        _cleanup_(response_done) Response p = { .max = max };
        unsigned auth_attempts = 0, attempt = 0;
        char buf[256];
        int k;

        for (;;) {
                struct curl_slist *h;
                CURLcode code;
                long status;

                response_done(&p);
                h = registry_headers(r, accept, NULL);
                if (!h)
                        return -ENOMEM;
                k = perform_get(r, url, h, &p, &code, &status);
                curl_slist_free_all(h);
                if (k < 0)
                        return k;

                if (code == CURLE_ABORTED_BY_CALLBACK && r->cancel && atomic_load(r->cancel))
                        return registry_error(r, -ECANCELED, "canceled");
                if (p.too_big)
                        return registry_error(r, -EFBIG, "%s from %s is larger than %zu bytes", what, r->registry, max);
                if (code != CURLE_OK) {
                        if (curl_code_is_transient(code) && attempt++ < r->config->retries)
                                continue;
                        return registry_error(r, code == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EREMOTEIO,
                                              "%s from %s: %s", what, r->registry,
                                              describe_curl_error(r, code, buf, sizeof buf));
                }
                if (status == 401 && auth_attempts++ == 0 && p.www_authenticate) {
                        _cleanup_free_ char *challenge = TAKE_PTR(p.www_authenticate);
                        k = registry_authenticate(r, challenge);
                        if (k < 0)
                                return k;
                        continue;
                }
                if ((status == 429 || status >= 500) && attempt++ < r->config->retries) {
                        usleep(200000 * attempt);
                        continue;
                }
                *ret_status = status;
                *ret = p;
                p = (Response) {};
                return 0;
        }
}

static int status_error(Registry *r, long status, const char *what) {
        switch (status) {
        case 401:
                if (!r->have_creds)
                        return registry_error(r, -EACCES, "%s: %s requires credentials (HTTP 401) and the auth file %s has none for it",
                                              what, r->registry, strempty(r->config->auth_file));
                return registry_error(r, -EACCES, "%s: %s refused our credentials (HTTP 401)", what, r->registry);
        case 403:
                return registry_error(r, -EACCES, "%s: access denied by %s (HTTP 403)", what, r->registry);
        case 404:
                return registry_error(r, -ENOENT, "%s: not found on %s (HTTP 404)", what, r->registry);
        case 429:
                return registry_error(r, -EBUSY, "%s: %s is rate-limiting us (HTTP 429)", what, r->registry);
        default:
                return registry_error(r, -EREMOTEIO, "%s: %s answered HTTP %ld", what, r->registry, status);
        }
}

/* REALM?scope=...&service=... as the challenge asks, our repository's pull scope by default. */
static int token_url(const Registry *r, const AuthChallenge *ch, char **ret) {
        _cleanup_free_ char *scope_default = strjoin("repository:", r->repository, ":pull");
        char *service, *scope;

        if (!scope_default)
                return -ENOMEM;
        service = ch->service ? curl_easy_escape(NULL, ch->service, 0) : NULL;
        scope = curl_easy_escape(NULL, ch->scope ?: scope_default, 0);
        *ret = strjoin(ch->realm, strchr(ch->realm, '?') ? "&" : "?", "scope=", strempty(scope),
                       service ? "&service=" : "", strempty(service));
        curl_free(service);
        curl_free(scope);
        return *ret ? 0 : -ENOMEM;
}

/* Our Basic credentials for the token server; no header without any. */
static int token_headers(Registry *r, struct curl_slist **ret) {
        _cleanup_free_ char *basic = NULL, *line = NULL;
        int k;

        *ret = NULL;
        if (!r->have_creds)
                return 0;
        k = auth_basic_header(&r->creds, &basic);
        if (k < 0)
                return k;
        line = strjoin("Authorization: ", basic);
        *ret = line ? curl_slist_append(NULL, line) : NULL;
        if (line)
                explicit_bzero(line, strlen(line));
        explicit_bzero(basic, strlen(basic));
        return *ret ? 0 : -ENOMEM;
}

/* The token server's JSON: "token" (or "access_token") and "expires_in". */
static int token_store(Registry *r, const AuthChallenge *ch, const Response *p) {
        _cleanup_json_ json_object *o = NULL;
        json_object *t = NULL, *e = NULL;
        int64_t lifetime = 60;

        if (json_parse_bounded(p->body ?: "", p->size, TOKEN_RESPONSE_MAX, true, &o) < 0)
                return registry_error(r, -EBADMSG, "token server %.200s sent malformed JSON", ch->realm);
        if ((!json_object_object_get_ex(o, "token", &t) || !json_object_is_type(t, json_type_string)) &&
            (!json_object_object_get_ex(o, "access_token", &t) || !json_object_is_type(t, json_type_string)))
                return registry_error(r, -EBADMSG, "token server %.200s sent no token", ch->realm);
        if (!string_is_printable(json_object_get_string(t), TOKEN_RESPONSE_MAX) ||
            strpbrk(json_object_get_string(t), " \t"))
                return registry_error(r, -EBADMSG, "token server %.200s sent a malformed token", ch->realm);
        if (json_object_object_get_ex(o, "expires_in", &e) && json_object_is_type(e, json_type_int))
                lifetime = json_object_get_int64(e);
        free(r->authorization);
        r->authorization = strjoin("Bearer ", json_object_get_string(t));
        if (!r->authorization)
                return -ENOMEM;
        if (lifetime > 0)
                auth_cache_store(r, r->authorization, (uint64_t) MIN(lifetime, 3600));
        return 0;
}

static int fetch_token(Registry *r, const AuthChallenge *ch) {
        _cleanup_(response_done) Response p = { .max = TOKEN_RESPONSE_MAX };
        _cleanup_free_ char *url = NULL;
        struct curl_slist *h = NULL;
        CURLcode code = CURLE_OK;
        long status = 0;
        char buf[256];
        int k;

        if (!startswith(ch->realm, "https://") && !(r->insecure && startswith(ch->realm, "http://")))
                return registry_error(r, -EPROTO, "%s asks for a token from '%.200s', which is not an https URL",
                                      r->registry, ch->realm);
        k = token_url(r, ch, &url);
        if (k >= 0)
                k = token_headers(r, &h);
        if (k >= 0)
                k = perform_get(r, url, h, &p, &code, &status);
        curl_slist_free_all(h);
        if (k < 0)
                return k;
        if (code != CURLE_OK)
                return registry_error(r, code == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EREMOTEIO,
                                      "token server %.200s for %s: %s", ch->realm, r->registry,
                                      describe_curl_error(r, code, buf, sizeof buf));
        if (status == 401 || status == 403)
                return registry_error(r, -EACCES, "token server %.200s refused %s (HTTP %ld)", ch->realm,
                                      r->have_creds ? "our credentials" : "anonymous access", status);
        if (status != 200)
                return registry_error(r, -EREMOTEIO, "token server %.200s answered HTTP %ld", ch->realm, status);
        return token_store(r, ch, &p);
}

int registry_authenticate(Registry *r, const char *www_authenticate) {
        _cleanup_(auth_challenge_done) AuthChallenge ch = {};
        int k;

        assert(www_authenticate);

        k = auth_challenge_parse(www_authenticate, &ch);
        if (k == -EOPNOTSUPP)
                return registry_error(r, -EACCES, "%s wants an authentication scheme we do not speak: %.100s",
                                      r->registry, www_authenticate);
        if (k < 0)
                return registry_error(r, -EBADMSG, "%s sent a malformed WWW-Authenticate header", r->registry);
        if (ch.scheme == AUTH_SCHEME_BEARER)
                return fetch_token(r, &ch);

        if (!r->have_creds)
                return registry_error(r, -EACCES, "%s requires a login (Basic) and the auth file %s has none for it",
                                      r->registry, strempty(r->config->auth_file));
        if (!r->insecure && !startswith(r->base_url, "https://"))
                return -EPROTO;
        free(r->authorization);
        k = auth_basic_header(&r->creds, &r->authorization);
        if (k < 0)
                return k;
        auth_cache_store(r, r->authorization, 3600);
        return 0;
}

int registry_get_manifest(Registry *r, const char *reference, char **ret_body, size_t *ret_size,
                          char **ret_content_type, char **ret_digest) {
        _cleanup_(response_done) Response p = {};
        _cleanup_free_ char *url = NULL, *what = NULL, *digest = NULL;
        long status = 0;
        int k;

        assert(r);
        assert(reference);
        assert(ret_body);
        assert(ret_size);
        assert(ret_content_type);
        assert(ret_digest);

        url = strjoin(r->base_url, "/v2/", r->repository, "/manifests/", reference);
        what = strjoin("manifest ", r->repository, strchr(reference, ':') ? "@" : ":", reference);
        if (!url || !what)
                return -ENOMEM;
        k = registry_get(r, url, MANIFEST_ACCEPT, MANIFEST_SIZE_MAX, what, &p, &status);
        if (k < 0)
                return k;
        if (status != 200)
                return status_error(r, status, what);
        k = sha256_digest(p.body ?: "", p.size, &digest);
        if (k < 0)
                return k;
        if (p.digest && digest_is_sha256(p.digest) && !streq(p.digest, digest))
                return registry_error(r, -EBADMSG, "%s: digest mismatch: %s announced %s, content is %s", what,
                                      r->registry, p.digest, digest);
        *ret_body = TAKE_PTR(p.body);
        *ret_size = p.size;
        *ret_content_type = TAKE_PTR(p.content_type);
        *ret_digest = TAKE_PTR(digest);
        return 0;
}
