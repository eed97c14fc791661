/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "oci-ref.h"
#include "string-util.h"

#define D64 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void check(const char *in, const char *registry, const char *repo, const char *tag,
                  const char *digest, const char *normalized) {
        _cleanup_oci_ref_ OciRef *r = NULL;
        _cleanup_free_ char *s = NULL;
        const char *why = NULL;

        if (oci_ref_parse(in, &r, &why) < 0)
                fail_msg("'%s' rejected: %s", in, why);
        assert_string_equal(r->registry, registry);
        assert_string_equal(r->repository, repo);
        if (tag)
                assert_string_equal(r->tag, tag);
        else
                assert_null(r->tag);
        if (digest)
                assert_string_equal(r->digest, digest);
        else
                assert_null(r->digest);
        s = oci_ref_to_string(r);
        assert_string_equal(s, normalized);
}

static void test_valid(void **state) {
        check("busybox", "docker.io", "library/busybox", "latest", NULL,
              "docker.io/library/busybox:latest");
        check("busybox:1.36", "docker.io", "library/busybox", "1.36", NULL,
              "docker.io/library/busybox:1.36");
        check("library/alpine", "docker.io", "library/alpine", "latest", NULL,
              "docker.io/library/alpine:latest");
        check("edera/krata-zone", "docker.io", "edera/krata-zone", "latest", NULL,
              "docker.io/edera/krata-zone:latest");
        check("docker.io/busybox", "docker.io", "library/busybox", "latest", NULL,
              "docker.io/library/busybox:latest");
        check("index.docker.io/library/busybox:x", "docker.io", "library/busybox", "x", NULL,
              "docker.io/library/busybox:x");
        check("ghcr.io/edera-dev/krata/zone:v0.0.21", "ghcr.io", "edera-dev/krata/zone", "v0.0.21",
              NULL, "ghcr.io/edera-dev/krata/zone:v0.0.21");
        check("127.0.0.1:5000/busybox:t", "127.0.0.1:5000", "busybox", "t", NULL,
              "127.0.0.1:5000/busybox:t");
        check("localhost/foo", "localhost", "foo", "latest", NULL, "localhost/foo:latest");
        check("localhost:5000/a/b/c", "localhost:5000", "a/b/c", "latest", NULL,
              "localhost:5000/a/b/c:latest");
        check("[::1]:5000/img", "[::1]:5000", "img", "latest", NULL, "[::1]:5000/img:latest");
        check("[fe80::1]/img:t", "[fe80::1]", "img", "t", NULL, "[fe80::1]/img:t");
        check("busybox@" D64, "docker.io", "library/busybox", NULL, D64,
              "docker.io/library/busybox@" D64);
        check("busybox:1@" D64, "docker.io", "library/busybox", "1", D64,
              "docker.io/library/busybox:1@" D64);
        check("reg.example.com:443/a_b/c__d/e-f/g.h:T_a.g-1", "reg.example.com:443",
              "a_b/c__d/e-f/g.h", "T_a.g-1", NULL, "reg.example.com:443/a_b/c__d/e-f/g.h:T_a.g-1");
        check("a---b", "docker.io", "library/a---b", "latest", NULL,
              "docker.io/library/a---b:latest");
        check("Registry.Example/foo", "Registry.Example", "foo", "latest", NULL,
              "Registry.Example/foo:latest");
        check("UPPER/foo", "UPPER", "foo", "latest", NULL, "UPPER/foo:latest");
        check("foo:_tag", "docker.io", "library/foo", "_tag", NULL, "docker.io/library/foo:_tag");
        check("x@sha512:0123456789abcdef0123456789abcdef", "docker.io", "library/x", NULL,
              "sha512:0123456789abcdef0123456789abcdef", "docker.io/library/x@sha512:0123456789abcdef0123456789abcdef");
        check("x@multihash+base58:0123456789ABCDEF0123456789abcdef", "docker.io", "library/x", NULL,
              "multihash+base58:0123456789ABCDEF0123456789abcdef",
              "docker.io/library/x@multihash+base58:0123456789ABCDEF0123456789abcdef");
}

static void reject(const char *in, const char *reason) {
        _cleanup_oci_ref_ OciRef *r = NULL;
        const char *why = NULL;

        if (oci_ref_parse(in, &r, &why) >= 0)
                fail_msg("'%s' accepted", in);
        assert_null(r);
        assert_non_null(why);
        if (reason && !strstr(why, reason))
                fail_msg("'%s' rejected for '%s', expected '%s'", in, why, reason);
}

static void test_invalid(void **state) {
        char longname[300];

        reject("", "empty");
        reject(":tag", "empty");
        reject("Busybox", "lowercase");
        reject("foo/Bar", "lowercase");
        reject("foo:", "tag");
        reject("foo:-tag", "tag");
        reject("foo:.tag", "tag");
        reject("foo:a/b", "registry");            /* "foo:a" is read as host:port */
        reject("foo@sha256:abc", "digest");
        reject("foo@sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "digest");
        reject("foo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", "digest");
        reject("foo@:0123456789abcdef0123456789abcdef", "digest");
        reject("foo@1sha:0123456789abcdef0123456789abcdef", "digest");
        reject("foo@sha256", "digest");
        reject("foo/", "repository");
        reject("/foo", "repository");
        reject("foo//bar", "repository");
        reject("foo/bar/", "repository");
        reject("-foo", "repository");
        reject("foo-", "repository");
        reject("foo..bar", "repository");
        reject("foo___bar", "repository");
        reject("foo_.bar", "repository");
        reject("fo o", "repository");
        reject("127.0.0.1:99999/foo", "registry");
        reject("127.0.0.1:/foo", "registry");
        reject("-bad.com/foo", "registry");
        reject("bad-.com/foo", "registry");
        reject("bad..com/foo", "registry");
        reject("[]/foo", "registry");
        reject("[::1/foo", "registry");
        reject("[::1]x/foo", "registry");
        reject("[zz::1]/foo", "registry");
        reject("reg.io/../etc", "repository");
        reject("foo:tag@", "digest");

        memset(longname, 'a', sizeof longname - 1);
        longname[sizeof longname - 1] = 0;
        reject(longname, "255");
        char tag[140] = "foo:";
        memset(tag + 4, 't', 129);
        tag[133] = 0;
        reject(tag, "tag");
}

static void test_loopback(void **state) {
        assert_true(oci_registry_is_loopback("127.0.0.1:5000"));
        assert_true(oci_registry_is_loopback("127.1.2.3"));
        assert_true(oci_registry_is_loopback("localhost:5000"));
        assert_true(oci_registry_is_loopback("[::1]:5000"));
        assert_false(oci_registry_is_loopback("docker.io"));
        assert_false(oci_registry_is_loopback("localhost.example.com"));
        assert_false(oci_registry_is_loopback("128.0.0.1:5000"));
        assert_false(oci_registry_is_loopback("[::2]:5000"));
}

static void test_api_host(void **state) {
        _cleanup_oci_ref_ OciRef *a = NULL, *b = NULL;
        assert_int_equal(oci_ref_parse("busybox", &a, NULL), 0);
        assert_string_equal(oci_ref_api_host(a), "registry-1.docker.io");
        assert_int_equal(oci_ref_parse("quay.io/x/y", &b, NULL), 0);
        assert_string_equal(oci_ref_api_host(b), "quay.io");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid),
                cmocka_unit_test(test_invalid),
                cmocka_unit_test(test_loopback),
                cmocka_unit_test(test_api_host),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
