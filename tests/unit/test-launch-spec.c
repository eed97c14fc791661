/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "launch-spec.h"
#include "log.h"
#include "string-util.h"

static const char good[] =
        "{\"version\":\"1.0\",\"hostname\":\"web-1\",\"argv\":[\"/bin/sh\",\"-c\",\"echo hi\"],"
        "\"env\":[\"PATH=/bin\",\"A=b=c\"],\"cwd\":\"/srv\",\"user\":\"app:staff\",\"umask\":18,\"tty\":true,"
        "\"network\":{\"ipv4\":{\"address\":\"10.75.0.2\",\"prefix\":16,\"gateway\":\"10.75.0.1\"},"
        "\"ipv6\":{\"address\":\"fdd4::2\",\"prefix\":64,\"gateway\":\"fdd4::1\"},\"dns\":[\"10.75.0.1\"]}}";

static int parse(const char *s, LaunchSpec **ret) {
        return launch_spec_parse(s, strlen(s), ret);
}

static void test_parse_good(void **state) {
        _cleanup_launch_spec_ LaunchSpec *s = NULL;

        assert_int_equal(parse(good, &s), 0);
        assert_string_equal(s->hostname, "web-1");
        assert_int_equal(strv_length(s->argv), 3);
        assert_string_equal(s->argv[2], "echo hi");
        assert_string_equal(s->env[1], "A=b=c");
        assert_string_equal(s->cwd, "/srv");
        assert_string_equal(s->user, "app:staff");
        assert_int_equal(s->umask, 022);
        assert_true(s->tty);
        assert_true(s->has_network);
        assert_string_equal(s->network.ipv4.address, "10.75.0.2");
        assert_int_equal(s->network.ipv4.prefix, 16);
        assert_string_equal(s->network.ipv6.gateway, "fdd4::1");
        assert_string_equal(s->network.dns[0], "10.75.0.1");
}

static void test_roundtrip(void **state) {
        _cleanup_launch_spec_ LaunchSpec *a = NULL, *b = NULL;
        _cleanup_free_ char *t1 = NULL, *t2 = NULL;

        assert_int_equal(parse(good, &a), 0);
        assert_int_equal(launch_spec_serialize(a, &t1), 0);
        assert_int_equal(parse(t1, &b), 0);
        assert_int_equal(launch_spec_serialize(b, &t2), 0);
        assert_string_equal(t1, t2);
        assert_non_null(strstr(t1, "\"version\":\"1.0\""));
}

static void test_minimal_and_minor(void **state) {
        _cleanup_launch_spec_ LaunchSpec *s = NULL;

        /* a newer minor version with a field this reader does not know */
        assert_int_equal(parse("{\"version\":\"1.7\",\"argv\":[\"/x\"],\"future\":{\"a\":1}}", &s), 0);
        assert_false(s->has_network);
        assert_null(s->cwd);
        assert_int_equal(s->umask, 022);
}

static void test_versions(void **state) {
        LaunchSpec *s = NULL;

        assert_int_equal(parse("{\"version\":\"2.0\",\"argv\":[\"/x\"]}", &s), -EPROTONOSUPPORT);
        /* an unknown major is reported as such even if the rest changed shape */
        assert_int_equal(parse("{\"version\":\"3.1\",\"argv\":\"/x\"}", &s), -EPROTONOSUPPORT);
        assert_int_equal(parse("{\"version\":\"0.9\",\"argv\":[\"/x\"]}", &s), -EPROTONOSUPPORT);
        assert_true(parse("{\"argv\":[\"/x\"]}", &s) < 0);
        assert_true(parse("{\"version\":1,\"argv\":[\"/x\"]}", &s) < 0);
        assert_true(parse("{\"version\":\"1\",\"argv\":[\"/x\"]}", &s) < 0);
        assert_true(parse("{\"version\":\"1.0x\",\"argv\":[\"/x\"]}", &s) < 0);
        assert_null(s);
}

static void test_malformed(void **state) {
        static const char *const bad[] = {
                "",
                "[]",
                "{\"version\":\"1.0\"",
                "{\"version\":\"1.0\",\"argv\":[\"/x\"]} trailing",
                "{\"version\":\"1.0\"}",
                "{\"version\":\"1.0\",\"argv\":[]}",
                "{\"version\":\"1.0\",\"argv\":[\"\"]}",
                "{\"version\":\"1.0\",\"argv\":[1]}",
                "{\"version\":\"1.0\",\"argv\":[\"/x\"],\"env\":[\"NOEQUALS\"]}",
                "{\"version\":\"1.0\",\"argv\":[\"/x\"],\"env\":[\"=v\"]}",
                "{\"version\":\"1.0\",\"argv\":[\"/x\"],\"cwd\":\"relative\"}",
                "{\"version\":\"1.0\",\"argv\":[\"/x\"],\"hostname\":\"-bad\"}",
                "{\"version\":\"1.0\",\"argv\":[\"/x\"],\"hostname\":\"a..b\"}",
                "{\"version\":\"1.0\",\"argv\":[\"/x\"],\"umask\":512}",
                "{\"version\":\"1.0\",\"argv\":[\"/x\"],\"umask\":-1}",
                "{\"version\":\"1.0\",\"argv\":[\"/x\"],\"tty\":\"yes\"}",
                "{\"version\":\"1.0\",\"argv\":[\"/x\"],\"user\":\"\"}",
                "{\"version\":\"1.0\",\"argv\":[\"/x\"],\"network\":{\"ipv4\":{\"address\":\"10.0.0.300\",\"prefix\":8}}}",
                "{\"version\":\"1.0\",\"argv\":[\"/x\"],\"network\":{\"ipv4\":{\"address\":\"10.0.0.2\",\"prefix\":33}}}",
                "{\"version\":\"1.0\",\"argv\":[\"/x\"],\"network\":{\"ipv4\":{\"address\":\"10.0.0.2\"}}}",
                "{\"version\":\"1.0\",\"argv\":[\"/x\"],\"network\":{\"ipv6\":{\"address\":\"10.0.0.2\",\"prefix\":64}}}",
                "{\"version\":\"1.0\",\"argv\":[\"/x\"],\"network\":{\"dns\":[\"not-an-ip\"]}}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                LaunchSpec *s = NULL;
                int r = parse(bad[i], &s);
                if (r >= 0)
                        fail_msg("accepted: %s", bad[i]);
                assert_null(s);
        }
}

static void test_oversized(void **state) {
        size_t n = LAUNCH_SPEC_JSON_MAX + 64;
        _cleanup_free_ char *buf = malloc(n + 1);
        LaunchSpec *s = NULL;

        assert_non_null(buf);
        strcpy(buf, "{\"version\":\"1.0\",\"argv\":[\"/x\"],\"pad\":\"");
        size_t l = strlen(buf);
        memset(buf + l, 'a', n - l - 2);
        memcpy(buf + n - 2, "\"}", 3);
        assert_int_equal(launch_spec_parse(buf, n, &s), -EFBIG);
}

/* The reader krata-init uses, on an image held in memory. */
static int decode(const void *img, size_t size, LaunchSpec **ret) {
        _cleanup_close_ int fd = memfd_create("config-disk", MFD_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, img, size), (ssize_t) size);
        return launch_disk_read_fd(fd, ret);
}

static void test_config_disk(void **state) {
        _cleanup_launch_spec_ LaunchSpec *a = NULL, *b = NULL, *c = NULL;
        _cleanup_free_ uint8_t *img = NULL;
        char path[] = "/tmp/test-config-disk-XXXXXX";
        size_t size;
        uint32_t len;
        int fd;

        assert_int_equal(parse(good, &a), 0);
        assert_int_equal(launch_disk_encode(a, (void **) &img, &size), 0);
        assert_int_equal(size % LAUNCH_DISK_ALIGN, 0);
        assert_memory_equal(img, LAUNCH_DISK_MAGIC, 8);
        assert_int_equal(decode(img, size, &b), 0);
        assert_string_equal(b->argv[0], "/bin/sh");

        /* bad magic, unknown format, length past the end, zero length */
        img[0] ^= 1;
        assert_int_equal(decode(img, size, &c), -EBADMSG);
        img[0] ^= 1;
        img[8] = 2;
        assert_int_equal(decode(img, size, &c), -EPROTONOSUPPORT);
        img[8] = 1;
        memcpy(&len, img + 12, 4);
        uint32_t big = (uint32_t) size;
        memcpy(img + 12, &big, 4);
        assert_int_equal(decode(img, size, &c), -EBADMSG);
        big = LAUNCH_SPEC_JSON_MAX + 1;
        memcpy(img + 12, &big, 4);
        assert_int_equal(decode(img, size, &c), -EFBIG);
        big = 0;
        memcpy(img + 12, &big, 4);
        assert_int_equal(decode(img, size, &c), -EFBIG);
        memcpy(img + 12, &len, 4);
        assert_int_equal(decode(img, 10, &c), -EIO);
        assert_null(c);

        /* written atomically, read back through an fd */
        fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(launch_disk_write(path, a), 0);
        fd = open(path, O_RDONLY);
        assert_int_equal(launch_disk_read_fd(fd, &c), 0);
        assert_string_equal(c->network.ipv6.address, "fdd4::2");
        close(fd);
        /* truncated: the header promises more than the file holds */
        assert_int_equal(truncate(path, 40), 0);
        fd = open(path, O_RDONLY);
        LaunchSpec *d = NULL;
        assert_int_equal(launch_disk_read_fd(fd, &d), -EBADMSG);
        close(fd);
        unlink(path);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_good),   cmocka_unit_test(test_roundtrip),
                cmocka_unit_test(test_minimal_and_minor), cmocka_unit_test(test_versions),
                cmocka_unit_test(test_malformed),   cmocka_unit_test(test_oversized),
                cmocka_unit_test(test_config_disk),
        };
        log_set_max_level(LOG_CRIT); /* the refusals are expected */
        return cmocka_run_group_tests(tests, NULL, NULL);
}
