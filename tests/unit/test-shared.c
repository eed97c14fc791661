/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "fs-util.h"
#include "json-util.h"
#include "log.h"
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
        assert_int_equal(log_level_from_string("debug"), LOG_DEBUG);
        assert_int_equal(log_level_from_string("3"), LOG_ERR);
        assert_true(log_level_from_string("loud") < 0);
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

static void test_files(void **state) {
        char dir[] = "/tmp/krata-test-XXXXXX";
        _cleanup_free_ char *p = NULL, *deep = NULL, *content = NULL;
        size_t size;
        struct stat st;

        assert_non_null(mkdtemp(dir));
        p = path_join(dir, "file");
        deep = path_join(dir, "a/b/c");
        assert_int_equal(write_string_file_atomic(p, "hello\n", 0640), 0);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(read_full_file(p, 100, &content, &size), 0);
        assert_string_equal(content, "hello\n");
        assert_int_equal(size, 6);
        content = mfree(content);
        assert_int_equal(read_full_file(p, 3, &content, &size), -EFBIG);
        assert_int_equal(mkdir_p(deep, 0755), 0);
        assert_int_equal(mkdir_p(deep, 0755), 0);
        assert_int_equal(rm_rf(dir), 0);
        assert_int_equal(stat(dir, &st), -1);
        assert_int_equal(rm_rf(dir), 0);
}

typedef struct Thing {
        char *name;
        uint64_t size;
        char **list;
        bool flag;
} Thing;

static void test_json(void **state) {
        static const JsonDispatch table[] = {
                { "name", json_type_string, json_dispatch_string, offsetof(Thing, name), JSON_MANDATORY },
                { "size", json_type_int, json_dispatch_uint64, offsetof(Thing, size), 0 },
                { "list", json_type_array, json_dispatch_strv, offsetof(Thing, list), 0 },
                { "flag", json_type_boolean, json_dispatch_bool, offsetof(Thing, flag), 0 },
                {}
        };
        const char *good = "{\"name\":\"x\",\"size\":12345678901,\"list\":[\"a\",\"b\"],\"flag\":true,\"extra\":1}";
        json_object *o = NULL;
        Thing t = {};

        log_set_max_level(LOG_EMERG); /* the failures below log on purpose */
        assert_int_equal(json_parse_bounded(good, strlen(good), 4096, true, &o), 0);
        assert_int_equal(json_dispatch(o, table, "thing", &t), 0);
        assert_string_equal(t.name, "x");
        assert_int_equal(t.size, 12345678901ULL);
        assert_int_equal(strv_length(t.list), 2);
        assert_true(t.flag);
        json_object_put(o);
        free(t.name);
        strv_free(t.list);

        assert_int_equal(json_parse_bounded(good, strlen(good), 10, true, &o), -EFBIG);
        assert_int_equal(json_parse_bounded("{\"a\":1} x", 9, 100, true, &o), -EBADMSG);
        assert_int_equal(json_parse_bounded("{\"a\":", 5, 100, true, &o), -EBADMSG);
        assert_int_equal(json_parse_bounded("[1]", 3, 100, true, &o), -EBADMSG);
        assert_int_equal(json_parse_bounded("[1]", 3, 100, false, &o), 0);
        json_object_put(o);

        char deep[200];
        memset(deep, '[', 100);
        memset(deep + 100, ']', 100);
        assert_int_equal(json_parse_bounded(deep, 200, 1000, false, &o), -EBADMSG);

        memset(&t, 0, sizeof t);
        assert_int_equal(json_parse_bounded("{\"size\":1}", 10, 100, true, &o), 0);
        assert_int_equal(json_dispatch(o, table, "thing", &t), -EBADMSG); /* name missing */
        json_object_put(o);
        assert_int_equal(json_parse_bounded("{\"name\":5}", 10, 100, true, &o), 0);
        assert_int_equal(json_dispatch(o, table, "thing", &t), -EBADMSG);
        json_object_put(o);
        assert_int_equal(json_parse_bounded("{\"name\":\"a\",\"size\":-1}", 22, 100, true, &o), 0);
        assert_int_equal(json_dispatch(o, table, "thing", &t), -EBADMSG);
        json_object_put(o);
        free(t.name);
}

static void test_log_journal_prefix(void **state) {
        char path[] = "/tmp/krata-log-XXXXXX";
        _cleanup_free_ char *content = NULL;
        char env[64];
        struct stat st;
        int fd, saved;

        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        saved = dup(STDERR_FILENO);
        assert_true(dup2(fd, STDERR_FILENO) >= 0);

        /* stderr is the journal stream: "<N>" prefixes */
        snprintf(env, sizeof env, "%llu:%llu", (unsigned long long) st.st_dev,
                 (unsigned long long) st.st_ino);
        setenv("JOURNAL_STREAM", env, 1);
        log_setup("test");
        log_set_max_level(LOG_INFO);
        log_warning("to the journal");
        assert_int_equal(log_error_errno(EIO, "failed: %m"), -EIO);
        log_debug("not shown");

        /* a different stream: plain lines */
        setenv("JOURNAL_STREAM", "1:2", 1);
        log_setup("test");
        log_info("plain");
        assert_int_equal(log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "synthetic"), -EBADMSG);
        unsetenv("JOURNAL_STREAM");

        fflush(stderr);
        assert_true(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        close(fd);
        assert_int_equal(read_full_file(path, 4096, &content, NULL), 0);
        unlink(path);
        assert_string_equal(content, "<4>to the journal\n<3>failed: Input/output error\n"
                                     "test: plain\ntest: synthetic\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_strings),
                cmocka_unit_test(test_files),
                cmocka_unit_test(test_json),
                cmocka_unit_test(test_log_journal_prefix),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
