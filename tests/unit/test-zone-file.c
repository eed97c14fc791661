/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fs-util.h"
#include "macro.h"
#include "string-util.h"
#include "zone-file.h"

static ZoneSpec *parse_ok(const char *path, const char *text) {
        ZoneSpec *s = NULL;
        _cleanup_free_ char *err = NULL;

        if (zone_spec_parse(path, text, strlen(text), &s, &err) < 0)
                fail_msg("rejected: %s", err);
        return s;
}

static void parse_bad(const char *path, const char *text, const char *expect) {
        _cleanup_zone_spec_ ZoneSpec *s = NULL;
        _cleanup_free_ char *err = NULL;

        assert_int_equal(zone_spec_parse(path, text, strlen(text), &s, &err), -EBADMSG);
        assert_null(s);
        assert_non_null(err);
        if (!strstr(err, expect))
                fail_msg("error '%s' lacks '%s'", err, expect);
}

static void test_parse_full(void **state) {
        _cleanup_zone_spec_ ZoneSpec *s = parse_ok("/etc/krata/zones/web.zone",
                "# a comment\n"
                "; another\n"
                "[Zone]\n"
                "Image=busybox\n"
                "Kernel=ghcr.io/edera-dev/kernels:latest\n"
                "Memory=512M\n"
                "Vcpus = 2\n"
                "Environment=FOO=bar baz\n"
                "Environment=\"PAD=  x  \"\n"
                "Port=8080:80\n"
                "Port=53:53/udp\n"
                "WorkingDirectory=/srv\n"
                "User=1000:1000\n"
                "Command=/bin/sh -c \"echo \\\"hi there\\\"\" ''\n"
                "TTY=yes\n"
                "AutoRemove=true\n"
                "Uuid=0123abcd-0000-4000-8000-00000000abcd\n");

        assert_string_equal(s->name, "web");
        assert_string_equal(s->image, "busybox");
        assert_string_equal(s->kernel, "ghcr.io/edera-dev/kernels:latest");
        assert_int_equal(s->memory, 512ULL << 20);
        assert_int_equal(s->vcpus, 2);
        assert_int_equal(strv_length(s->environment), 2);
        assert_string_equal(s->environment[0], "FOO=bar baz");
        assert_string_equal(s->environment[1], "PAD=  x  ");
        assert_int_equal(s->n_ports, 2);
        assert_int_equal(s->ports[0].host_port, 8080);
        assert_int_equal(s->ports[0].zone_port, 80);
        assert_int_equal(s->ports[0].proto, ZONE_PORT_TCP);
        assert_int_equal(s->ports[1].proto, ZONE_PORT_UDP);
        assert_string_equal(s->working_directory, "/srv");
        assert_string_equal(s->user, "1000:1000");
        assert_int_equal(strv_length(s->command), 4);
        assert_string_equal(s->command[0], "/bin/sh");
        assert_string_equal(s->command[2], "echo \"hi there\"");
        assert_string_equal(s->command[3], "");
        assert_true(s->tty);
        assert_true(s->auto_remove);
        assert_string_equal(s->uuid, "0123abcd-0000-4000-8000-00000000abcd");
}

static void test_defaults(void **state) {
        _cleanup_zone_spec_ ZoneSpec *s = parse_ok("a.zone", "[Zone]\nImage=alpine:3\n");

        assert_int_equal(s->memory, ZONE_MEMORY_DEFAULT);
        assert_int_equal(s->vcpus, 1);
        assert_null(s->command);
        assert_null(s->kernel);
        assert_false(s->tty);
        assert_false(s->auto_remove);
}

static void test_errors(void **state) {
        parse_bad("/x/web.zone", "[Zone]\nImage=busybox\nMemory=lots\n", "/x/web.zone:3: Memory=:");
        parse_bad("/x/web.zone", "[Zone]\nImage=busybox\nMemory=1M\n", "out of range");
        parse_bad("/x/web.zone", "[Zone]\nImage=busybox\nVcpus=0\n", "web.zone:3: Vcpus=");
        parse_bad("/x/web.zone", "[Zone]\nImage=busybox\nFrobnicate=1\n", "web.zone:3: Frobnicate=: unknown key");
        parse_bad("/x/web.zone", "[Zone]\n\nPort=80\nImage=busybox\n", "web.zone:3: Port=");
        parse_bad("/x/web.zone", "[Zone]\nPort=0:80\nImage=busybox\n", "Port=");
        parse_bad("/x/web.zone", "[Zone]\nPort=80:70000\nImage=busybox\n", "Port=");
        parse_bad("/x/web.zone", "[Zone]\nPort=80:80/sctp\nImage=busybox\n", "Port=");
        parse_bad("/x/web.zone", "[Zone]\nPort=80:80\nPort=80:81\nImage=busybox\n", "twice");
        parse_bad("/x/web.zone", "[Zone]\nEnvironment=NOEQUALS\nImage=busybox\n", "web.zone:2: Environment=");
        parse_bad("/x/web.zone", "[Zone]\nEnvironment==x\nImage=busybox\n", "Environment=");
        parse_bad("/x/web.zone", "[Zone]\nWorkingDirectory=relative\nImage=busybox\n", "WorkingDirectory=");
        parse_bad("/x/web.zone", "[Zone]\nCommand=\"unterminated\nImage=busybox\n", "web.zone:2: Command=");
        parse_bad("/x/web.zone", "[Zone]\nTTY=maybe\nImage=busybox\n", "TTY=");
        parse_bad("/x/web.zone", "[Zone]\nUuid=not-a-uuid\nImage=busybox\n", "Uuid=");
        parse_bad("/x/web.zone", "[Zone]\nMemory=64M\n", "Image=: missing");
        parse_bad("/x/web.zone", "Image=busybox\n", "assignment before any [Section] header");
        parse_bad("/x/web.zone", "[Network]\nImage=busybox\n", "unknown section");
        parse_bad("/x/web.zone", "[Zone]\nImage busybox\n", "web.zone:2: expected Key=Value");
        parse_bad("/x/web.zone", "[Zone]\nImage=a\x01\n", "control characters");
        parse_bad("/x/Web.zone", "[Zone]\nImage=busybox\n", "file name must be");
        parse_bad("/x/web.conf", "[Zone]\nImage=busybox\n", "file name must be");
        parse_bad("/x/-web.zone", "[Zone]\nImage=busybox\n", "file name must be");

        {
                _cleanup_free_ char *big = malloc(ZONE_FILE_MAX + 2);
                _cleanup_zone_spec_ ZoneSpec *s = NULL;
                _cleanup_free_ char *err = NULL;
                memset(big, '#', ZONE_FILE_MAX + 1);
                big[ZONE_FILE_MAX + 1] = 0;
                assert_int_equal(zone_spec_parse("b.zone", big, ZONE_FILE_MAX + 1, &s, &err), -EBADMSG);
                assert_non_null(strstr(err, "larger"));
        }
        {
                _cleanup_zone_spec_ ZoneSpec *s = NULL;
                _cleanup_free_ char *err = NULL;
                assert_int_equal(zone_spec_parse("n.zone", "[Zone]\0Image=x\n", 15, &s, &err), -EBADMSG);
                assert_non_null(strstr(err, "NUL"));
        }
}

static void test_roundtrip(void **state) {
        _cleanup_zone_spec_ ZoneSpec *s = zone_spec_new("rt-1"), *back = NULL;
        _cleanup_free_ char *text = NULL, *err = NULL;
        char *const cmd[] = { "/bin/echo", "a b", "quote\"d", "back\\slash", "", "new\nline", NULL };

        assert_non_null(s);
        s->image = strdup("127.0.0.1:5000/busybox:1");
        s->uuid = strdup("0123abcd-0000-4000-8000-00000000abcd");
        s->command = strv_copy(cmd);
        assert_int_equal(strv_extend(&s->environment, "A= leading"), 0);
        assert_int_equal(strv_extend(&s->environment, "B=\"quoted\""), 0);
        s->working_directory = strdup("/with space/");
        s->memory = 1ULL << 30;
        s->vcpus = 4;
        s->created = 1234567;
        s->ports = calloc(1, sizeof(ZonePort));
        s->ports[0] = (ZonePort) { 1, 2, ZONE_PORT_UDP };
        s->n_ports = 1;
        assert_int_equal(zone_spec_validate(s, &err), 0);
        assert_int_equal(zone_spec_format(s, &text), 0);
        back = parse_ok("rt-1.zone", text);
        assert_string_equal(back->image, s->image);
        assert_string_equal(back->uuid, s->uuid);
        for (size_t i = 0; cmd[i]; i++)
                assert_string_equal(back->command[i], cmd[i]);
        assert_null(back->command[6]);
        assert_string_equal(back->environment[0], "A= leading");
        assert_string_equal(back->environment[1], "B=\"quoted\"");
        assert_string_equal(back->working_directory, "/with space/");
        assert_int_equal(back->memory, 1ULL << 30);
        assert_int_equal(back->vcpus, 4);
        assert_int_equal(back->created, 1234567);
        assert_int_equal(back->n_ports, 1);
        assert_int_equal(back->ports[0].proto, ZONE_PORT_UDP);
}

static void test_validate(void **state) {
        _cleanup_zone_spec_ ZoneSpec *s = zone_spec_new("ok");
        _cleanup_free_ char *err = NULL;

        s->image = strdup("busybox");
        assert_int_equal(zone_spec_validate(s, &err), 0);
        assert_int_equal(strv_extend(&s->environment, "1BAD=x"), 0);
        assert_int_equal(zone_spec_validate(s, &err), -EINVAL);
        assert_non_null(strstr(err, "Environment="));
        free(err);
        err = NULL;
        free(s->name);
        s->name = strdup("Bad_Name");
        assert_int_equal(zone_spec_validate(s, &err), -EINVAL);
        assert_non_null(strstr(err, "Invalid zone name"));
}

static void test_names(void **state) {
        char long_name[ZONE_NAME_MAX + 2];

        assert_true(zone_name_is_valid("web"));
        assert_true(zone_name_is_valid("0"));
        assert_true(zone_name_is_valid("a-b-c9"));
        assert_false(zone_name_is_valid(""));
        assert_false(zone_name_is_valid("-a"));
        assert_false(zone_name_is_valid("A"));
        assert_false(zone_name_is_valid("a_b"));
        assert_false(zone_name_is_valid("a/b"));
        assert_false(zone_name_is_valid("a.b"));
        memset(long_name, 'a', sizeof long_name);
        long_name[ZONE_NAME_MAX] = 0;
        assert_true(zone_name_is_valid(long_name));
        long_name[ZONE_NAME_MAX] = 'a';
        long_name[ZONE_NAME_MAX + 1] = 0;
        assert_false(zone_name_is_valid(long_name));

        assert_true(zone_uuid_is_valid("0123abcd-0000-4000-8000-00000000abcd"));
        assert_false(zone_uuid_is_valid("0123ABCD-0000-4000-8000-00000000abcd"));
        assert_false(zone_uuid_is_valid("0123abcd00000-4000-8000-00000000abcd"));
        assert_false(zone_uuid_is_valid("0123abcd-0000-4000-8000-00000000abc"));
}

static void test_words(void **state) {
        _cleanup_strv_free_ char **w = NULL;
        _cleanup_free_ char *j = NULL;

        assert_int_equal(zone_split_words("  a 'b c' \"d\\\"e\" f\\ g  ", &w), 0);
        assert_int_equal(strv_length(w), 4);
        assert_string_equal(w[1], "b c");
        assert_string_equal(w[2], "d\"e");
        assert_string_equal(w[3], "f g");
        j = zone_join_words(w);
        assert_string_equal(j, "a \"b c\" \"d\\\"e\" \"f g\"");
        strv_free(w);
        w = NULL;
        assert_int_equal(zone_split_words("a\\", &w), -EINVAL);
        assert_int_equal(zone_split_words("'a", &w), -EINVAL);
        assert_int_equal(zone_split_words("a\\q", &w), -EINVAL);
}

static void test_ports(void **state) {
        ZonePort p;
        char buf[32];

        assert_int_equal(zone_port_parse("8080:80", &p), 0);
        assert_string_equal(zone_port_format(&p, buf, sizeof buf), "8080:80/tcp");
        assert_int_equal(zone_port_parse("65535:1/udp", &p), 0);
        assert_string_equal(zone_port_format(&p, buf, sizeof buf), "65535:1/udp");
        assert_int_equal(zone_port_parse("80", &p), -EINVAL);
        assert_int_equal(zone_port_parse(":80", &p), -EINVAL);
        assert_int_equal(zone_port_parse("80:", &p), -EINVAL);
        assert_int_equal(zone_port_parse("+80:80", &p), -EINVAL);
        assert_int_equal(zone_port_parse("80:80/", &p), -EINVAL);
        assert_int_equal(zone_port_parse("99999999999:80", &p), -EINVAL);
}

static void test_save_find(void **state) {
        char tmpl[] = "/tmp/test-zone-file.XXXXXX";
        char *dir = mkdtemp(tmpl);
        _cleanup_free_ char *etc = NULL, *var = NULL, *run = NULL, *path = NULL, *found = NULL, *err = NULL;
        _cleanup_zone_spec_ ZoneSpec *s = zone_spec_new("db"), *back = NULL;
        ZoneSource src;

        assert_non_null(dir);
        etc = path_join(dir, "etc");
        var = path_join(dir, "var");
        run = path_join(dir, "run");
        setenv("KRATA_CONFIG_DIR", etc, 1);
        setenv("KRATA_STATE_DIR", var, 1);
        setenv("KRATA_RUNTIME_DIR", run, 1);

        assert_int_equal(zone_spec_find("db", &src, &found), -ENOENT);
        s->image = strdup("postgres:16");
        path = zone_spec_path(ZONE_SOURCE_PERSISTENT, "db");
        assert_int_equal(zone_spec_save(s, path), 0);
        assert_int_equal(zone_spec_find("db", &src, &found), 0);
        assert_int_equal(src, ZONE_SOURCE_PERSISTENT);
        assert_string_equal(found, path);
        assert_int_equal(zone_spec_load(found, &back, &err), 0);
        assert_string_equal(back->image, "postgres:16");
        free(found);
        found = NULL;
        free(path);
        path = zone_spec_path(ZONE_SOURCE_DECLARED, "db");
        assert_int_equal(zone_spec_save(s, path), 0);
        assert_int_equal(zone_spec_find("db", &src, &found), 0);
        assert_int_equal(src, ZONE_SOURCE_DECLARED);
        assert_int_equal(zone_spec_find("Bad", &src, NULL), -EINVAL);
        assert_string_equal(zone_source_to_string(ZONE_SOURCE_TRANSIENT), "transient");
        assert_int_equal(zone_source_from_string("declared"), ZONE_SOURCE_DECLARED);
        assert_int_equal(zone_source_from_string("nope"), _ZONE_SOURCE_INVALID);
        assert_int_equal(rm_rf(dir), 0);
}

static void test_unit_sections(void **state) {
        _cleanup_zone_spec_ ZoneSpec *s = parse_ok("web.zone",
                "[Zone]\n"
                "Image=busybox\n"
                "[Service]\n"
                "Restart=on-failure\n"
                "RestartSec=500ms\n"
                "[Install]\n"
                "WantedBy=multi-user.target\n"
                "WantedBy=krata.target, web@a.service multi-user.target\n"
                "RequiredBy=graphical.target\n");
        _cleanup_zone_spec_ ZoneSpec *d = parse_ok("d.zone", "[Zone]\nImage=busybox\n"), *back = NULL;
        _cleanup_free_ char *text = NULL;

        assert_int_equal(s->restart, ZONE_RESTART_ON_FAILURE);
        assert_int_equal(s->restart_usec, 500000);
        assert_int_equal(strv_length(s->wanted_by), 3); /* given twice: once */
        assert_string_equal(s->wanted_by[1], "krata.target");
        assert_string_equal(s->wanted_by[2], "web@a.service");
        assert_string_equal(s->required_by[0], "graphical.target");
        assert_int_equal(d->restart, _ZONE_RESTART_UNSET);
        assert_int_equal(d->restart_usec, ZONE_RESTART_SEC_UNSET);
        assert_null(d->wanted_by);

        assert_int_equal(zone_spec_format(s, &text), 0);
        back = parse_ok("web.zone", text);
        assert_int_equal(back->restart, ZONE_RESTART_ON_FAILURE);
        assert_int_equal(back->restart_usec, 500000);
        assert_int_equal(strv_length(back->wanted_by), 3);
        assert_string_equal(back->required_by[0], "graphical.target");

        static const struct { const char *v; uint64_t usec; } spans[] = {
                { "5", 5000000 }, { "5s", 5000000 }, { "2sec", 2000000 }, { "0", 0 },
                { "7us", 7 }, { "2min", 120000000 }, { "24h", 86400000000ULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(spans); i++) {
                _cleanup_free_ char *t = NULL;
                _cleanup_zone_spec_ ZoneSpec *z = NULL;
                assert_true(asprintf(&t, "[Zone]\nImage=x\n[Service]\nRestartSec=%s\n", spans[i].v) > 0);
                z = parse_ok("t.zone", t);
                assert_int_equal(z->restart_usec, spans[i].usec);
        }
        assert_int_equal(zone_restart_from_string("always"), ZONE_RESTART_ALWAYS);
        assert_string_equal(zone_restart_to_string(ZONE_RESTART_NO), "no");
        char b[24];
        assert_string_equal(zone_restart_sec_format(5000000, b, sizeof b), "5s");
        assert_string_equal(zone_restart_sec_format(500000, b, sizeof b), "500ms");
        assert_string_equal(zone_restart_sec_format(7, b, sizeof b), "7us");
        assert_string_equal(zone_restart_sec_format(0, b, sizeof b), "0s");

        parse_bad("r.zone", "[Zone]\nImage=x\n[Service]\nRestart=sometimes\n", "r.zone:4: Restart=: 'sometimes'");
        parse_bad("r.zone", "[Zone]\nImage=x\n[Service]\nRestartSec=5 s\n", "not a time span");
        parse_bad("r.zone", "[Zone]\nImage=x\n[Service]\nRestartSec=-1\n", "not a time span");
        parse_bad("r.zone", "[Zone]\nImage=x\n[Service]\nRestartSec=25h\n", "longer than a day");
        parse_bad("r.zone", "[Zone]\nImage=x\n[Service]\nRestartSec=99999999999999999999\n", "not a time span");
        parse_bad("r.zone", "[Zone]\nImage=x\n[Service]\nExecStart=/bin/sh\n", "ExecStart");
        parse_bad("r.zone", "[Zone]\nImage=x\n[Install]\nWantedBy=../../etc/passwd\n", "not a unit name");
        parse_bad("r.zone", "[Zone]\nImage=x\n[Install]\nWantedBy=web@.service\n", "not a unit name");
        parse_bad("r.zone", "[Zone]\nImage=x\n[Install]\nWantedBy=foo.conf\n", "not a unit name");
        parse_bad("r.zone", "[Zone]\nImage=x\n[Install]\nWantedBy=a.target\n[Install]\n", "duplicate [Install]");
        parse_bad("r.zone", "[Zone]\nImage=x\n[Unit]\nAfter=x.service\n", "unknown section [Unit]");
        parse_bad("r.zone", "[Zone]\nImage=x\n[Zone]\nMemory=1G\n", "duplicate [Zone]");

        assert_true(zone_install_unit_is_valid("multi-user.target"));
        assert_true(zone_install_unit_is_valid("a\\x2db.service"));
        assert_false(zone_install_unit_is_valid("a/b.target"));
        assert_false(zone_install_unit_is_valid(".target"));
        assert_false(zone_install_unit_is_valid("a@b@c.service"));
        assert_false(zone_install_unit_is_valid("a b.target"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_full),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_roundtrip),
                cmocka_unit_test(test_validate),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_words),
                cmocka_unit_test(test_ports),
                cmocka_unit_test(test_save_find),
                cmocka_unit_test(test_unit_sections),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
