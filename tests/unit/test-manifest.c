/* SPDX-License-Identifier: Apache-2.0 */
/* Manifests, indexes and platforms from hostile registries (src/imaged/manifest.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "log.h"
#include "manifest.h"
#include "string-util.h"

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define DA D("a")
#define DB D("b")
#define DC D("c")

#define OCI_MANIFEST(layer_type)                                                                  \
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","     \
        "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" DA \
        "\",\"size\":123},\"layers\":[{\"mediaType\":\"" layer_type "\",\"digest\":\"" DB          \
        "\",\"size\":4567}]}"

static void test_manifest_oci(void **state) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_free_ char *err = NULL;
        const char *s = OCI_MANIFEST("application/vnd.oci.image.layer.v1.tar+gzip");
        MediaKind k;

        assert_int_equal(manifest_document_kind(s, strlen(s), NULL, &k, &err), 0);
        assert_int_equal(k, MEDIA_MANIFEST);
        assert_int_equal(manifest_parse(s, strlen(s), &m, &err), 0);
        assert_string_equal(m->config.digest, DA);
        assert_int_equal(m->config.size, 123);
        assert_int_equal(m->n_layers, 1);
        assert_string_equal(m->layers[0].digest, DB);
        assert_int_equal(m->layers[0].size, 4567);
        assert_int_equal(media_kind(m->layers[0].media_type), MEDIA_LAYER_GZIP);
}

static void test_manifest_docker(void **state) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_free_ char *err = NULL;
        const char *s =
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"" DA
                "\",\"size\":1},\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
                "\"digest\":\"" DB "\",\"size\":2},{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\","
                "\"digest\":\"" DC "\",\"size\":3}]}";
        assert_int_equal(manifest_parse(s, strlen(s), &m, &err), 0);
        assert_int_equal(m->n_layers, 2);
        assert_int_equal(media_kind(m->layers[1].media_type), MEDIA_LAYER_ZSTD);
        assert_string_equal(layer_media_type_canonical(m->layers[0].media_type),
                            "application/vnd.oci.image.layer.v1.tar+gzip");
        assert_null(layer_media_type_canonical(MEDIA_TYPE_OCI_CONFIG));
}

static void expect_manifest_error(const char *s, int want, const char *fragment) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_free_ char *err = NULL;
        assert_int_equal(manifest_parse(s, strlen(s), &m, &err), want);
        assert_null(m);
        assert_non_null(err);
        if (!strstr(err, fragment))
                fail_msg("error '%s' lacks '%s'", err, fragment);
}

static void test_manifest_refusals(void **state) {
        expect_manifest_error(OCI_MANIFEST("application/vnd.example.unknown"), -EMEDIUMTYPE,
                              "unsupported media type 'application/vnd.example.unknown'");
        expect_manifest_error("{\"schemaVersion\":1}", -EBADMSG, "schemaVersion");
        expect_manifest_error("[1,2]", -EBADMSG, "not a well-formed JSON object");
        expect_manifest_error("{\"schemaVersion\":2", -EBADMSG, "not a well-formed");
        expect_manifest_error(OCI_MANIFEST("application/vnd.oci.image.layer.v1.tar") "garbage", -EBADMSG,
                              "not a well-formed");
        expect_manifest_error("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                              "\"digest\":\"sha256:abc\",\"size\":1},\"layers\":[]}",
                              -EBADMSG, "is not sha256");
        expect_manifest_error("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                              "\"digest\":\"" DA "\",\"size\":-1},\"layers\":[]}",
                              -EBADMSG, "malformed descriptor");
        expect_manifest_error("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                              "\"digest\":\"" DA "\",\"size\":1},\"layers\":[]}",
                              -EBADMSG, "no layers");
        expect_manifest_error("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                              "\"digest\":\"" DA "\",\"size\":99999999999},\"layers\":[]}",
                              -EFBIG, "image config");
        expect_manifest_error("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}",
                              -EMEDIUMTYPE, "manifest has media type");

        /* oversized: one byte over the bound, refused before parsing */
        size_t n = MANIFEST_SIZE_MAX + 1;
        _cleanup_free_ char *big = malloc(n + 1);
        assert_non_null(big);
        memset(big, ' ', n);
        big[0] = '{';
        big[n - 1] = '}';
        big[n] = 0;
        expect_manifest_error(big, -EFBIG, "more than the 4194304 allowed");

        /* deeply nested */
        _cleanup_free_ char *deep = malloc(2 * 200 + 1);
        assert_non_null(deep);
        for (int i = 0; i < 200; i++) {
                deep[i] = '[';
                deep[200 + i] = ']';
        }
        deep[400] = 0;
        deep[0] = '{';
        expect_manifest_error(deep, -EBADMSG, "well-formed");
}

static void test_document_kind(void **state) {
        _cleanup_free_ char *err = NULL;
        MediaKind k;
        const char *no_type = "{\"schemaVersion\":2,\"manifests\":[]}";

        /* no mediaType field: the Content-Type decides */
        assert_int_equal(manifest_document_kind(no_type, strlen(no_type),
                                                "application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8",
                                                &k, &err), 0);
        assert_int_equal(k, MEDIA_INDEX);
        assert_int_equal(manifest_document_kind(no_type, strlen(no_type), "text/html", &k, &err), -EMEDIUMTYPE);
        assert_non_null(strstr(err, "text/html"));
}

#define ENTRY(d, arch, extra)                                                                             \
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" d "\",\"size\":10," \
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"" arch "\"" extra "}}"

static void test_index(void **state) {
        _cleanup_(image_index_freep) ImageIndex *x = NULL;
        _cleanup_free_ char *err = NULL;
        const Descriptor *d = NULL;
        const char *s = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
                        ENTRY(DA, "amd64", "") "," ENTRY(DB, "arm64", ",\"variant\":\"v8\"") ","
                        ENTRY(DC, "arm", ",\"variant\":\"v7\"") ","
                        /* an attestation: no platform */
                        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" DC "\",\"size\":1}]}";

        assert_int_equal(image_index_parse(s, strlen(s), &x, &err), 0);
        assert_int_equal(x->n_manifests, 4);
        assert_int_equal(image_index_select(x, "linux", "amd64", NULL, &d, &err), 0);
        assert_string_equal(d->digest, DA);
        assert_int_equal(image_index_select(x, "linux", "arm64", NULL, &d, &err), 0);
        assert_string_equal(d->digest, DB);
        assert_int_equal(image_index_select(x, "linux", "arm", "v7", &d, &err), 0);
        assert_string_equal(d->digest, DC);
        assert_int_equal(image_index_select(x, "linux", "arm", "v6", &d, &err), -ENOENT);
        assert_int_equal(image_index_select(x, "linux", "s390x", NULL, &d, &err), -ENOENT);
        assert_string_equal(err, "no manifest for linux/s390x in the index (it has: linux/amd64, linux/arm64/v8, linux/arm/v7)");
}

static void test_platform_parse(void **state) {
        char *os = NULL, *arch = NULL, *variant = NULL;

        assert_int_equal(platform_parse("linux/arm64/v8", &os, &arch, &variant), 0);
        assert_string_equal(os, "linux");
        assert_string_equal(arch, "arm64");
        assert_string_equal(variant, "v8");
        free(os), free(arch), free(variant);
        assert_int_equal(platform_parse("riscv64", &os, &arch, &variant), 0);
        assert_string_equal(os, "linux");
        assert_string_equal(arch, "riscv64");
        assert_null(variant);
        free(os), free(arch);
        assert_int_equal(platform_parse("/", &os, &arch, &variant), -EINVAL);
        assert_int_equal(platform_parse("a//b", &os, &arch, &variant), -EINVAL);
        assert_int_equal(platform_parse("a/b/c/d", &os, &arch, &variant), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_manifest_oci),
                cmocka_unit_test(test_manifest_docker),
                cmocka_unit_test(test_manifest_refusals),
                cmocka_unit_test(test_document_kind),
                cmocka_unit_test(test_index),
                cmocka_unit_test(test_platform_parse),
        };
        log_set_max_level(LOG_CRIT); /* the refusals log; keep the output readable */
        return cmocka_run_group_tests(tests, NULL, NULL);
}
