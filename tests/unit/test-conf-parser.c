/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf-parser.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"

typedef struct Settings {
        char *name;
        char *path;
        char **list;
        bool flag;
        unsigned count;
        int level;
        uint64_t big;
        uint64_t size;
        unsigned custom_calls;
} Settings;

static void settings_done(Settings *s) {
        free(s->name);
        free(s->path);
        strv_free(s->list);
        *s = (Settings) {};
}

/* Refuses "bad" without a message of its own, and "oom" as out of memory. */
static int parse_custom(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data) {
        Settings *s = data;

        if (streq(value, "bad"))
                return -EINVAL;
        if (streq(value, "oom"))
                return -ENOMEM;
        s->custom_calls++;
        return 0;
}

#define ITEM(section, key, parser, field, lo, hi) \
        { section, key, config_parse_##parser, offsetof(Settings, field), lo, hi }
static const ConfigTableItem items[] = {
        ITEM("Main", "Name", string, name, 0, 0),
        ITEM("Main", "Path", path, path, 0, 0),
        ITEM("Main", "List", strv, list, 0, 0),
        ITEM("Main", "Flag", bool, flag, 0, 0),
        ITEM("Main", "Count", unsigned, count, 1, 10),
        ITEM("Main", "Level", int, level, 0, 22),
        ITEM("Main", "Big", uint64, big, 0, 0),
        ITEM("Main", "Size", size, size, 32ULL << 20, 1ULL << 40),
        { "Other", "Custom", parse_custom, 0 },
        {}
};

static const ConfigFormat strict = { .items = items, .flags = CONFIG_SECTION_ONCE | CONFIG_PRINTABLE };
static const ConfigFormat lenient = {
        .items = items,
        .default_section = "Main",
        .flags = CONFIG_UNKNOWN_KEY_WARN | CONFIG_UNKNOWN_SECTION_WARN,
};

static const ConfigTableItem wildcard_items[] = {
        { NULL, "Name", config_parse_string, offsetof(Settings, name) },
        {}
};
static const ConfigFormat wildcard = { .items = wildcard_items };

static int parse_n(const ConfigFormat *f, const char *text, size_t n, Settings *s, char **err) {
        free(*err);
        *err = NULL;
        return config_parse(f, "t.conf", text, n, s, err);
}

static int parse(const ConfigFormat *f, const char *text, Settings *s, char **err) {
        return parse_n(f, text, strlen(text), s, err);
}

static void expect_error(const ConfigFormat *f, const char *text, const char *expect) {
        _cleanup_free_ char *err = NULL;
        Settings s = {};

        assert_int_equal(parse(f, text, &s, &err), -EBADMSG);
        assert_non_null(err);
        if (!strstr(err, expect))
                fail_msg("error '%s' lacks '%s'", err, expect);
        settings_done(&s);
}

static void test_typed(void **state) {
        _cleanup_free_ char *err = NULL;
        Settings s = {};

        assert_int_equal(parse(&strict,
                "# comment\n"
                "; comment\n"
                "\n"
                "[Main]\n"
                "Name =  two words  \n"
                "Path=/etc/x.json\r\n"
                "List=a, b c\n"
                "List=,d,\n"
                "List=\n"
                "Flag=yes\n"
                "Count=10\n"
                "Level=0\n"
                "Big=18446744073709551615\n"
                "Size=64M\n"
                "[Other]\n"
                "Custom=x", /* no trailing newline */
                &s, &err), 0);
        assert_null(err);
        assert_string_equal(s.name, "two words");
        assert_string_equal(s.path, "/etc/x.json");
        assert_int_equal(strv_length(s.list), 4);
        assert_string_equal(s.list[0], "a");
        assert_string_equal(s.list[3], "d");
        assert_true(s.flag);
        assert_int_equal(s.count, 10);
        assert_int_equal(s.level, 0);
        assert_true(s.big == UINT64_MAX);
        assert_true(s.size == 64ULL << 20);
        assert_int_equal(s.custom_calls, 1);
        settings_done(&s);

        expect_error(&strict, "[Main]\nCount=11\n", "t.conf:2: Count=: '11' is out of range (1..10)");
        expect_error(&strict, "[Main]\nCount=0\n", "out of range");
        expect_error(&strict, "[Main]\nCount=-1\n", "t.conf:2: Count=: '-1' is not a number");
        expect_error(&strict, "[Main]\nCount=1x\n", "not a number");
        expect_error(&strict, "[Main]\nCount=99999999999999999999999\n", "out of range");
        expect_error(&strict, "[Main]\nLevel=+3\n", "not a number");
        expect_error(&strict, "[Main]\nLevel=23\n", "out of range (0..22)");
        expect_error(&strict, "[Main]\nBig=\n", "Big=: '' is not a number");
        expect_error(&strict, "[Main]\nFlag=maybe\n", "Flag=: 'maybe' is not a boolean");
        expect_error(&strict, "[Main]\nPath=relative\n", "Path=: 'relative' is not an absolute path");
        expect_error(&strict, "[Main]\nSize=lots\n", "Size=: 'lots' is not a size");
        expect_error(&strict, "[Main]\nSize=1M\n", "Size=: 1M is out of range (32M..1T)");
        expect_error(&strict, "[Main]\nSize=2T\n", "out of range");
        /* A callback that says nothing gets a generic message; ENOMEM passes through. */
        expect_error(&strict, "[Other]\nCustom=bad\n", "t.conf:2: Custom=: invalid value 'bad'");
        assert_int_equal(parse(&strict, "[Other]\nCustom=oom\n", &s, &err), -ENOMEM);
        assert_null(err);
}

static void test_duplicates(void **state) {
        _cleanup_free_ char *err = NULL;
        Settings s = {};

        /* The last value of a scalar wins; lists append. */
        assert_int_equal(parse(&strict, "[Main]\nCount=1\nName=a\nCount=2\nName=b\nList=x\nList=x\n", &s, &err), 0);
        assert_int_equal(s.count, 2);
        assert_string_equal(s.name, "b");
        assert_int_equal(strv_length(s.list), 2);
        settings_done(&s);

        expect_error(&strict, "[Main]\nCount=1\n[Main]\nCount=2\n", "t.conf:3: duplicate [Main] section");
        /* Without CONFIG_SECTION_ONCE a section may come back. */
        assert_int_equal(parse(&lenient, "[Main]\nCount=1\n[Other]\n[Main]\nCount=2\n", &s, &err), 0);
        assert_int_equal(s.count, 2);
        settings_done(&s);
}

static void test_sections(void **state) {
        _cleanup_free_ char *err = NULL;
        Settings s = {};

        expect_error(&strict, "Count=1\n", "t.conf:1: Count=: assignment before any [Section] header");
        expect_error(&strict, "[Main]\nCustom=1\n", "t.conf:2: Custom=: unknown key");
        expect_error(&strict, "[Main]\nFrobnicate=1\n", "unknown key");
        expect_error(&strict, "[Nope]\nCount=1\n", "t.conf:1: unknown section [Nope]");
        expect_error(&strict, "[Main\nCount=1\n", "t.conf:1: expected [Section]");
        expect_error(&strict, "[]\n", "expected [Section]");
        expect_error(&strict, "[ Main ]\n", "unknown section [ Main ]");

        /* Lenient: keys before a header belong to the default section, unknown
         * keys and sections are skipped, even malformed lines inside the latter. */
        assert_int_equal(parse(&lenient,
                "Count=3\nUnknown=1\n[Nope]\nno equals sign\nCount=9\n[Main]\nFlag=on\n", &s, &err), 0);
        assert_int_equal(s.count, 3);
        assert_true(s.flag);
        settings_done(&s);
        expect_error(&lenient, "[Main]\nno equals sign\n", "t.conf:2: expected Key=Value");

        /* Wildcard items: any header is decoration. */
        assert_int_equal(parse(&wildcard, "Name=a\n[Anything]\nName=b\n[More]\n", &s, &err), 0);
        assert_string_equal(s.name, "b");
        settings_done(&s);
        expect_error(&wildcard, "Other=1\n", "t.conf:1: Other=: unknown key");

        /* The only section is named. */
        {
                static const ConfigTableItem one[] = {
                        { "Zone", "Image", config_parse_string, offsetof(Settings, name) },
                        {}
                };
                static const ConfigFormat f = { .items = one };
                expect_error(&f, "Image=x\n", "t.conf:1: Image=: assignment outside the [Zone] section");
                expect_error(&f, "[Network]\n", "unknown section [Network] (only [Zone] is known)");
        }
}

static void test_hostile(void **state) {
        _cleanup_free_ char *err = NULL, *big = NULL;
        Settings s = {};
        size_t n;

        expect_error(&strict, "[Main]\nCount 1\n", "t.conf:2: expected Key=Value");
        expect_error(&strict, "[Main]\n = 1\n", "t.conf:2: missing key before '='");
        expect_error(&strict, "[Main]\n=\n", "missing key");
        expect_error(&strict, "[Main]\nName=a\tb\n", "t.conf:2: line contains control characters");
        expect_error(&strict, "[Main]\nName=\xc3\xa9\n", "non-ASCII");
        expect_error(&strict, "[Main]\nName=a\x1b[2J\n", "control characters");
        /* What a message quotes from the file carries no control byte. */
        expect_error(&lenient, "Count=\x1b[2J\r\n", "t.conf:1: Count=: '?[2J' is not a number");
        /* Only CONFIG_PRINTABLE refuses tabs inside a value. */
        assert_int_equal(parse(&lenient, "Name=a\tb\n", &s, &err), 0);
        assert_string_equal(s.name, "a\tb");
        settings_done(&s);

        /* NUL bytes: refused, naming the line they are on. */
        assert_int_equal(parse_n(&strict, "[Main]\nName=a\0b\n", 16, &s, &err), -EBADMSG);
        assert_string_equal(err, "t.conf:2: contains a NUL byte");
        assert_int_equal(parse_n(&lenient, "\0", 1, &s, &err), -EBADMSG);
        assert_int_equal(parse_n(&lenient, "", 0, &s, &err), 0);
        settings_done(&s);

        /* Line length: a setting up to CONFIG_LINE_MAX bytes is fine; one more is not. */
        big = malloc(CONFIG_FILE_MAX + 2);
        assert_non_null(big);
        n = (size_t) sprintf(big, "Name=");
        memset(big + n, 'x', CONFIG_LINE_MAX - n);
        big[CONFIG_LINE_MAX] = '\n';
        assert_int_equal(parse_n(&lenient, big, CONFIG_LINE_MAX + 1, &s, &err), 0);
        assert_int_equal(strlen(s.name), CONFIG_LINE_MAX - n);
        settings_done(&s);
        big[CONFIG_LINE_MAX] = 'x';
        assert_int_equal(parse_n(&lenient, big, CONFIG_LINE_MAX + 1, &s, &err), -EBADMSG);
        assert_string_equal(err, "t.conf:1: line longer than 4160 bytes");
        /* Blanks around a setting do not count; a long comment is fine. */
        memset(big, ' ', CONFIG_LINE_MAX * 2);
        memcpy(big + CONFIG_LINE_MAX, "Name=y", 6);
        assert_int_equal(parse_n(&lenient, big, CONFIG_LINE_MAX * 2, &s, &err), 0);
        assert_string_equal(s.name, "y");
        settings_done(&s);
        memset(big, '#', CONFIG_FILE_MAX);
        assert_int_equal(parse_n(&strict, big, CONFIG_FILE_MAX, &s, &err), 0);

        /* File size. */
        assert_int_equal(parse_n(&strict, big, CONFIG_FILE_MAX + 1, &s, &err), -EBADMSG);
        assert_string_equal(err, "t.conf: file larger than 65536 bytes");

        /* No error string asked for: still refused, nothing leaks. */
        assert_int_equal(config_parse(&strict, "t.conf", "garbage", 7, &s, NULL), -EBADMSG);
}

/* Random bytes and random mixes of the format's own tokens: every answer is 0
 * or -EBADMSG with a message, and nothing is read out of bounds (ASan build). */
static void test_garbage(void **state) {
        static const char *const tokens[] = {
                "[Main]", "[Other]", "[", "]", "=", "\n", "\r\n", "#", ";", " ", "\t", "\0", "Name", "Count",
                "List", "Custom", "Size", "1", "64M", "yes", ",", "\"", "\\", "\x7f", "\xff",
        };
        char buf[512];
        int level = log_get_max_level();

        log_set_max_level(LOG_ERR); /* no warning per unknown random key */
        srand(42);
        for (unsigned round = 0; round < 20000; round++) {
                _cleanup_free_ char *err = NULL;
                Settings s = {};
                size_t n = 0;
                int r;

                if (round % 2) {
                        n = (size_t) rand() % sizeof buf;
                        for (size_t i = 0; i < n; i++)
                                buf[i] = (char) rand();
                } else
                        while (n < sizeof buf - 16) {
                                const char *t = tokens[(size_t) rand() % ELEMENTSOF(tokens)];
                                size_t l = *t ? strlen(t) : 1;
                                memcpy(buf + n, t, l);
                                n += l;
                                if (rand() % 64 == 0)
                                        break;
                        }
                r = config_parse(round % 4 < 2 ? &strict : &lenient, "t.conf", buf, n, &s, &err);
                if (r != 0 && r != -EBADMSG)
                        fail_msg("round %u: %d", round, r);
                if ((r == 0) != (err == NULL))
                        fail_msg("round %u: r=%d err=%s", round, r, strempty(err));
                if (err)
                        for (const char *p = err; *p; p++)
                                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                                        fail_msg("round %u: control byte in '%s'", round, err);
                settings_done(&s);
        }
        log_set_max_level(level);
}

static void test_file(void **state) {
        char dir[] = "/tmp/test-conf-parser.XXXXXX";
        _cleanup_free_ char *path = NULL, *err = NULL, *big = NULL;
        Settings s = {};

        assert_non_null(mkdtemp(dir));
        path = path_join(dir, "x.conf");
        assert_int_equal(config_parse_file(&strict, path, &s, &err), -ENOENT);
        assert_null(err);
        assert_int_equal(write_string_file_atomic(path, "[Main]\nCount=4\n", 0644), 0);
        assert_int_equal(config_parse_file(&strict, path, &s, &err), 0);
        assert_int_equal(s.count, 4);
        assert_int_equal(write_string_file_atomic(path, "[Main]\nCount=40\n", 0644), 0);
        assert_int_equal(config_parse_file(&strict, path, &s, &err), -EBADMSG);
        assert_true(startswith(err, path));
        assert_non_null(strstr(err, ":2: Count=: '40' is out of range"));
        free(err);
        err = NULL;
        big = malloc(CONFIG_FILE_MAX + 2);
        memset(big, '#', CONFIG_FILE_MAX + 1);
        big[CONFIG_FILE_MAX + 1] = 0;
        assert_int_equal(write_string_file_atomic(path, big, 0644), 0);
        assert_int_equal(config_parse_file(&strict, path, &s, &err), -EFBIG);
        assert_non_null(strstr(err, "file larger than 64 KiB"));
        assert_int_equal(rm_rf(dir), 0);
        settings_done(&s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_typed),
                cmocka_unit_test(test_duplicates),
                cmocka_unit_test(test_sections),
                cmocka_unit_test(test_hostile),
                cmocka_unit_test(test_garbage),
                cmocka_unit_test(test_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
