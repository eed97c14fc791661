/* SPDX-License-Identifier: Apache-2.0 */
/* The WWW-Authenticate challenge, docker config.json credentials, Basic headers (src/imaged/auth.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "auth.h"
#include "log.h"
#include "string-util.h"

static void test_challenge(void **state) {
        _cleanup_(auth_challenge_done) AuthChallenge c = {};

        assert_int_equal(auth_challenge_parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                                              "scope=\"repository:library/busybox:pull\"", &c), 0);
        assert_int_equal(c.scheme, AUTH_SCHEME_BEARER);
        assert_string_equal(c.realm, "https://auth.docker.io/token");
        assert_string_equal(c.service, "registry.docker.io");
        assert_string_equal(c.scope, "repository:library/busybox:pull");
        auth_challenge_done(&c);

        /* case-insensitive scheme and keys, spaces, escapes, unknown params, token values */
        assert_int_equal(auth_challenge_parse("bearer  REALM = \"https://x/t?a=\\\"b\\\"\" , error=\"insufficient_scope\","
                                              " service=svc", &c), 0);
        assert_string_equal(c.realm, "https://x/t?a=\"b\"");
        assert_string_equal(c.service, "svc");
        assert_null(c.scope);
        auth_challenge_done(&c);

        assert_int_equal(auth_challenge_parse("Basic realm=\"Registry Realm\"", &c), 0);
        assert_int_equal(c.scheme, AUTH_SCHEME_BASIC);
        assert_string_equal(c.realm, "Registry Realm");
        auth_challenge_done(&c);

        assert_int_equal(auth_challenge_parse("Negotiate abc", &c), -EOPNOTSUPP);
        assert_int_equal(auth_challenge_parse("", &c), -EBADMSG);
        assert_int_equal(auth_challenge_parse("Bearer service=\"x\"", &c), -EBADMSG);        /* no realm */
        assert_int_equal(auth_challenge_parse("Bearer realm=\"https://x", &c), -EBADMSG);    /* unterminated */
        assert_int_equal(auth_challenge_parse("Bearer realm=\"a\",realm=\"b\"", &c), -EBADMSG); /* repeated */
        assert_int_equal(auth_challenge_parse("Bearer realm", &c), -EBADMSG);
        assert_int_equal(auth_challenge_parse("Bearerx realm=\"a\"", &c), -EOPNOTSUPP);
}

static void test_auth_config(void **state) {
        _cleanup_(auth_credentials_done) AuthCredentials c = {};
        /* "krata:s3:cret" */
        const char *s = "{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"a3JhdGE6czM6Y3JldA==\"},"
                        "\"https://index.docker.io/v1/\":{\"username\":\"hub\",\"password\":\"pw\"},"
                        "\"tok.example\":{\"identitytoken\":\"T0K\"}}}";

        assert_int_equal(auth_config_parse(s, strlen(s), "127.0.0.1:5000", &c), 1);
        assert_string_equal(c.username, "krata");
        assert_string_equal(c.password, "s3:cret");
        auth_credentials_done(&c);
        assert_int_equal(auth_config_parse(s, strlen(s), "docker.io", &c), 1);
        assert_string_equal(c.username, "hub");
        auth_credentials_done(&c);
        assert_int_equal(auth_config_parse(s, strlen(s), "tok.example", &c), 1);
        assert_string_equal(c.password, "T0K");
        auth_credentials_done(&c);
        assert_int_equal(auth_config_parse(s, strlen(s), "127.0.0.1:5001", &c), 0);
        assert_int_equal(auth_config_parse(s, strlen(s), "127.0.0.1", &c), 0);
        assert_int_equal(auth_config_parse("{}", 2, "x", &c), 0);

        const char *bad = "{\"auths\":{\"x\":{\"auth\":\"bm9jb2xvbg==\"}}}"; /* "nocolon" */
        assert_true(auth_config_parse(bad, strlen(bad), "x", &c) < 0);
        const char *bad2 = "{\"auths\":{\"x\":{\"auth\":\"!!!\"}}}";
        assert_true(auth_config_parse(bad2, strlen(bad2), "x", &c) < 0);
        assert_true(auth_config_parse("[]", 2, "x", &c) < 0);
        const char *bad3 = "{\"auths\":[]}";
        assert_true(auth_config_parse(bad3, strlen(bad3), "x", &c) < 0);
}

static void test_basic_header(void **state) {
        AuthCredentials c = { .username = (char *) "Aladdin", .password = (char *) "open sesame" };
        _cleanup_free_ char *h = NULL;
        assert_int_equal(auth_basic_header(&c, &h), 0);
        assert_string_equal(h, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_challenge),
                cmocka_unit_test(test_auth_config),
                cmocka_unit_test(test_basic_header),
        };
        log_set_max_level(LOG_CRIT); /* the refusals log; keep the output readable */
        return cmocka_run_group_tests(tests, NULL, NULL);
}
