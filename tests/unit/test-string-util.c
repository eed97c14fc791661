/* SPDX-License-Identifier: Apache-2.0 */
/* Strings, numbers, sizes, booleans and string vectors (shared/string-util.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "string-util.h"

static void test_parse(void **state) {
        uint64_t u;
        unsigned v;
        int i;

        assert_int_equal(parse_size("512", &u), 0);
        assert_int_equal(u, 512);
        assert_int_equal(parse_size("64M", &u), 0);
        assert_int_equal(u, 64ULL << 20);
        assert_int_equal(parse_size("2G", &u), 0);
        assert_int_equal(u, 2ULL << 30);
        assert_int_equal(parse_size("1GiB", &u), 0);
        assert_int_equal(u, 1ULL << 30);
        assert_int_equal(parse_size("1k", &u), 0);
        assert_int_equal(u, 1024);
        assert_true(parse_size("", &u) < 0);
        assert_true(parse_size("M", &u) < 0);
        assert_true(parse_size("-1M", &u) < 0);
        assert_true(parse_size("99999999999999999999", &u) < 0);
        assert_true(parse_size("17179869184T", &u) < 0);
        assert_int_equal(safe_atou("42", &v), 0);
        assert_int_equal(v, 42);
        assert_true(safe_atou("4294967296", &v) < 0);
        assert_true(safe_atou(" 1", &v) < 0);
        assert_true(safe_atou("1x", &v) < 0);
        assert_int_equal(safe_atoi("-7", &i), 0);
        assert_int_equal(i, -7);
        assert_int_equal(parse_boolean("yes"), 1);
        assert_int_equal(parse_boolean("Off"), 0);
        assert_true(parse_boolean("maybe") < 0);
}

static void test_strings(void **state) {
        _cleanup_free_ char *a = path_join("/var/lib/", "/krata", "images/");
        _cleanup_free_ char *b = strjoin("a", "b", "c");
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *j = NULL;

        assert_string_equal(a, "/var/lib/krata/images/");
        assert_string_equal(b, "abc");
        assert_string_equal(startswith("foobar", "foo"), "bar");
        assert_null(startswith("foobar", "bar"));
        assert_non_null(endswith("foobar", "bar"));
        assert_true(filename_is_valid("web"));
        assert_false(filename_is_valid(".."));
        assert_false(filename_is_valid("a/b"));
        assert_false(filename_is_valid(""));
        assert_true(string_is_printable("abc", 10));
        assert_false(string_is_printable("a\nb", 10));
        assert_false(string_is_printable("abcdef", 3));
        assert_int_equal(strv_extend(&l, "x"), 0);
        assert_int_equal(strv_extend(&l, "y"), 0);
        assert_int_equal(strv_length(l), 2);
        assert_true(strv_contains(l, "y"));
        j = strv_join(l, ",");
        assert_string_equal(j, "x,y");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_strings),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
