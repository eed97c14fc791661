/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "manifest.h"
#include "string-util.h"

MediaKind media_kind(const char *t) {
        static const struct {
                const char *type;
                MediaKind kind;
        } table[] = {
                { MEDIA_TYPE_OCI_MANIFEST, MEDIA_MANIFEST },
                { MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_MANIFEST },
                { MEDIA_TYPE_OCI_INDEX, MEDIA_INDEX },
                { MEDIA_TYPE_DOCKER_LIST, MEDIA_INDEX },
                { MEDIA_TYPE_OCI_CONFIG, MEDIA_CONFIG },
                { MEDIA_TYPE_DOCKER_CONFIG, MEDIA_CONFIG },
                { "application/vnd.oci.image.layer.v1.tar", MEDIA_LAYER_TAR },
                { "application/vnd.oci.image.layer.v1.tar+gzip", MEDIA_LAYER_GZIP },
                { "application/vnd.oci.image.layer.v1.tar+zstd", MEDIA_LAYER_ZSTD },
                { "application/vnd.oci.image.layer.nondistributable.v1.tar", MEDIA_LAYER_TAR },
                { "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", MEDIA_LAYER_GZIP },
                { "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", MEDIA_LAYER_ZSTD },
                { "application/vnd.docker.image.rootfs.diff.tar.gzip", MEDIA_LAYER_GZIP },
                { "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", MEDIA_LAYER_GZIP },
        };
        if (!t)
                return MEDIA_UNKNOWN;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(t, table[i].type))
                        return table[i].kind;
        return MEDIA_UNKNOWN;
}

const char *layer_media_type_canonical(const char *t) {
        assert(t);

        switch (media_kind(t)) {
        case MEDIA_LAYER_TAR:
                return "application/vnd.oci.image.layer.v1.tar";
        case MEDIA_LAYER_GZIP:
                return "application/vnd.oci.image.layer.v1.tar+gzip";
        case MEDIA_LAYER_ZSTD:
                return "application/vnd.oci.image.layer.v1.tar+zstd";
        default:
                return NULL;
        }
}

bool digest_is_sha256(const char *d) {
        const char *hex = d ? startswith(d, "sha256:") : NULL;
        if (!hex || strlen(hex) != 64)
                return false;
        for (const char *p = hex; *p; p++)
                if (!strchr("0123456789abcdef", *p))
                        return false;
        return true;
}

void descriptor_done(Descriptor *d) {
        free(d->media_type);
        free(d->digest);
        free(d->os);
        free(d->architecture);
        free(d->variant);
        *d = (Descriptor) {};
}

Manifest *manifest_free(Manifest *m) {
        if (!m)
                return NULL;
        free(m->media_type);
        descriptor_done(&m->config);
        for (size_t i = 0; i < m->n_layers; i++)
                descriptor_done(&m->layers[i]);
        free(m->layers);
        return mfree(m);
}

ImageIndex *image_index_free(ImageIndex *x) {
        if (!x)
                return NULL;
        free(x->media_type);
        for (size_t i = 0; i < x->n_manifests; i++)
                descriptor_done(&x->manifests[i]);
        free(x->manifests);
        return mfree(x);
}

static int fail(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;
        if (ret_error) {
                free(*ret_error);
                *ret_error = NULL;
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return r;
}

static int parse_document(const char *buf, size_t size, json_object **ret, char **ret_error) {
        int r;
        if (size > MANIFEST_SIZE_MAX)
                return fail(ret_error, -EFBIG, "manifest is %zu bytes, more than the %u allowed", size,
                            MANIFEST_SIZE_MAX);
        r = json_parse_bounded(buf, size, MANIFEST_SIZE_MAX, true, ret);
        if (r < 0)
                return fail(ret_error, -EBADMSG, "manifest is not a well-formed JSON object");
        return 0;
}

int manifest_document_kind(const char *buf, size_t size, const char *content_type, MediaKind *ret,
                           char **ret_error) {
        _cleanup_json_ json_object *o = NULL;
        json_object *mt = NULL;
        const char *type = NULL;
        _cleanup_free_ char *ctype = content_type ? strndup(content_type, strcspn(content_type, "; ")) : NULL;
        MediaKind k;
        int r;

        assert(buf || size == 0);
        assert(ret);

        r = parse_document(buf, size, &o, ret_error);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(o, "mediaType", &mt) && json_object_is_type(mt, json_type_string))
                type = json_object_get_string(mt);
        else
                type = ctype;
        k = media_kind(type);
        if (k != MEDIA_MANIFEST && k != MEDIA_INDEX)
                return fail(ret_error, -EMEDIUMTYPE, "unsupported manifest media type '%s'",
                            type ?: "(none)");
        *ret = k;
        return 0;
}

static int dispatch_descriptor_array(json_object *v, size_t max, bool with_platform, Descriptor **ret,
                                     size_t *ret_n, const char *what, char **ret_error);

static int dispatch_descriptor(json_object *v, bool with_platform, Descriptor *d, const char *what,
                               char **ret_error) {
        static const JsonDispatch table[] = {
                { "mediaType", json_type_string, json_dispatch_string, offsetof(Descriptor, media_type), JSON_MANDATORY },
                { "digest", json_type_string, json_dispatch_string, offsetof(Descriptor, digest), JSON_MANDATORY },
                { "size", json_type_int, json_dispatch_uint64, offsetof(Descriptor, size), JSON_MANDATORY },
                {}
        };
        static const JsonDispatch platform_table[] = {
                { "os", json_type_string, json_dispatch_string, offsetof(Descriptor, os), JSON_MANDATORY },
                { "architecture", json_type_string, json_dispatch_string, offsetof(Descriptor, architecture), JSON_MANDATORY },
                { "variant", json_type_string, json_dispatch_string, offsetof(Descriptor, variant), 0 },
                {}
        };
        json_object *platform = NULL;

        if (json_dispatch(v, table, what, d) < 0)
                return fail(ret_error, -EBADMSG, "%s: malformed descriptor (mediaType, digest and size are required)", what);
        if (!digest_is_sha256(d->digest))
                return fail(ret_error, -EBADMSG, "%s: digest '%.80s' is not sha256:<64 lowercase hex>", what, d->digest);
        if (with_platform && json_object_object_get_ex(v, "platform", &platform) && platform)
                if (json_dispatch(platform, platform_table, what, d) < 0)
                        return fail(ret_error, -EBADMSG, "%s: malformed platform", what);
        return 0;
}

static int dispatch_descriptor_array(json_object *v, size_t max, bool with_platform, Descriptor **ret,
                                     size_t *ret_n, const char *what, char **ret_error) {
        Descriptor *l;
        size_t n;
        int r;

        if (!v || !json_object_is_type(v, json_type_array))
                return fail(ret_error, -EBADMSG, "%s: missing or not an array", what);
        n = json_object_array_length(v);
        if (n > max)
                return fail(ret_error, -EFBIG, "%s: %zu entries, more than the %zu allowed", what, n, max);
        l = calloc(n ?: 1, sizeof(Descriptor));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = dispatch_descriptor(json_object_array_get_idx(v, i), with_platform, &l[i], what, ret_error);
                if (r < 0) {
                        for (size_t j = 0; j <= i; j++)
                                descriptor_done(&l[j]);
                        free(l);
                        return r;
                }
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

/* The opening both document kinds share: a bounded JSON object with
 * schemaVersion 2 and, when it names one, a mediaType of the expected kind. */
static int parse_versioned(const char *buf, size_t size, MediaKind want, const char *what,
                           json_object **ret, char **ret_media_type, char **ret_error) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *media_type = NULL;
        json_object *v = NULL;
        int r;

        r = parse_document(buf, size, &o, ret_error);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(o, "schemaVersion", &v) || !json_object_is_type(v, json_type_int) ||
            json_object_get_int64(v) != 2)
                return fail(ret_error, -EBADMSG, "schemaVersion is not 2");
        if (json_object_object_get_ex(o, "mediaType", &v) && json_object_is_type(v, json_type_string)) {
                media_type = strdup(json_object_get_string(v));
                if (!media_type)
                        return -ENOMEM;
                if (media_kind(media_type) != want)
                        return fail(ret_error, -EMEDIUMTYPE, "%s has media type '%s'", what, media_type);
        }
        *ret = TAKE_PTR(o);
        *ret_media_type = TAKE_PTR(media_type);
        return 0;
}

int manifest_parse(const char *buf, size_t size, Manifest **ret, char **ret_error) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL;

        assert(buf || size == 0);
        assert(ret);

        json_object *v = NULL;
        int r;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        r = parse_versioned(buf, size, MEDIA_MANIFEST, "manifest", &o, &m->media_type, ret_error);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(o, "config", &v) || !v)
                return fail(ret_error, -EBADMSG, "manifest has no config descriptor");
        r = dispatch_descriptor(v, false, &m->config, "manifest config", ret_error);
        if (r < 0)
                return r;
        if (media_kind(m->config.media_type) != MEDIA_CONFIG)
                return fail(ret_error, -EMEDIUMTYPE, "unsupported config media type '%s'", m->config.media_type);
        if (m->config.size > CONFIG_SIZE_MAX)
                return fail(ret_error, -EFBIG, "image config of %" PRIu64 " bytes is larger than the %u allowed",
                            m->config.size, CONFIG_SIZE_MAX);

        v = NULL;
        (void) json_object_object_get_ex(o, "layers", &v);
        r = dispatch_descriptor_array(v, LAYERS_MAX, false, &m->layers, &m->n_layers, "manifest layers", ret_error);
        if (r < 0)
                return r;
        if (m->n_layers == 0)
                return fail(ret_error, -EBADMSG, "manifest has no layers");
        for (size_t i = 0; i < m->n_layers; i++) {
                MediaKind k = media_kind(m->layers[i].media_type);
                if (k != MEDIA_LAYER_TAR && k != MEDIA_LAYER_GZIP && k != MEDIA_LAYER_ZSTD)
                        return fail(ret_error, -EMEDIUMTYPE, "layer %zu (%s) has unsupported media type '%s'", i,
                                    m->layers[i].digest, m->layers[i].media_type);
                if (m->layers[i].size > LAYER_SIZE_MAX)
                        return fail(ret_error, -EFBIG, "layer %zu (%s) is larger than %" PRIu64 " bytes", i,
                                    m->layers[i].digest, LAYER_SIZE_MAX);
        }
        *ret = TAKE_PTR(m);
        return 0;
}

int image_index_parse(const char *buf, size_t size, ImageIndex **ret, char **ret_error) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_(image_index_freep) ImageIndex *x = NULL;

        assert(buf || size == 0);
        assert(ret);

        json_object *v = NULL;
        int r;

        x = calloc(1, sizeof *x);
        if (!x)
                return -ENOMEM;
        r = parse_versioned(buf, size, MEDIA_INDEX, "index", &o, &x->media_type, ret_error);
        if (r < 0)
                return r;
        v = NULL;
        (void) json_object_object_get_ex(o, "manifests", &v);
        r = dispatch_descriptor_array(v, INDEX_ENTRIES_MAX, true, &x->manifests, &x->n_manifests,
                                      "index manifests", ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(x);
        return 0;
}

int image_index_select(const ImageIndex *idx, const char *os, const char *arch, const char *variant,
                       const Descriptor **ret, char **ret_error) {
        const Descriptor *best = NULL;
        _cleanup_strv_free_ char **seen = NULL;
        _cleanup_free_ char *list = NULL;

        assert(idx);
        assert(arch);
        assert(ret);

        for (size_t i = 0; i < idx->n_manifests; i++) {
                const Descriptor *d = &idx->manifests[i];
                _cleanup_free_ char *p = NULL;

                /* Entries without a platform (attestations, ...) and non-manifests are skipped. */
                if (!d->os || !d->architecture || media_kind(d->media_type) != MEDIA_MANIFEST)
                        continue;
                p = d->variant ? strjoin(d->os, "/", d->architecture, "/", d->variant) : strjoin(d->os, "/", d->architecture);
                if (!p || strv_consume(&seen, TAKE_PTR(p)) < 0)
                        return -ENOMEM;
                if (!streq(d->os, os) || !streq(d->architecture, arch))
                        continue;
                if (variant && !streq_ptr(d->variant, variant))
                        continue;
                if (!best || (best->variant && !d->variant))
                        best = d;
        }
        if (!best) {
                list = seen ? strv_join(seen, ", ") : NULL;
                return fail(ret_error, -ENOENT, "no manifest for %s/%s%s%s in the index (it has: %s)", os, arch,
                            variant ? "/" : "", strempty(variant), list ?: "nothing usable");
        }
        *ret = best;
        return 0;
}

int platform_parse(const char *s, char **ret_os, char **ret_arch, char **ret_variant) {
        _cleanup_strv_free_ char **parts = NULL;
        _cleanup_free_ char *copy = strdup(s), *os = NULL, *arch = NULL, *variant = NULL;
        char *save = NULL;
        size_t n;

        assert(ret_os);
        assert(ret_arch);
        assert(ret_variant);

        if (!copy)
                return -ENOMEM;
        if (isempty(s) || !string_is_printable(s, 128) || strstr(s, "//") || s[0] == '/' || endswith(s, "/"))
                return -EINVAL;
        for (char *w = strtok_r(copy, "/", &save); w; w = strtok_r(NULL, "/", &save))
                if (strv_extend(&parts, w) < 0)
                        return -ENOMEM;
        n = strv_length(parts);
        if (n < 1 || n > 3)
                return -EINVAL;
        /* "arm64" alone means linux/arm64 */
        os = strdup(n == 1 ? "linux" : parts[0]);
        arch = strdup(parts[n == 1 ? 0 : 1]);
        variant = n == 3 ? strdup(parts[2]) : NULL;
        if (!os || !arch || (n == 3 && !variant))
                return -ENOMEM;
        *ret_os = TAKE_PTR(os);
        *ret_arch = TAKE_PTR(arch);
        *ret_variant = TAKE_PTR(variant);
        return 0;
}
