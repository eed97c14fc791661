/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "kernel-config.h"
#include "kernel-image.h"
#include "log.h"
#include "string-util.h"

/* Every required zone option set as wanted, then the test spoils some. */
static char *full_config(KernelRole role) {
        size_t n;
        const KernelOption *o = kernel_options(&n);
        char *text = strdup("#\n# Automatically generated file; DO NOT EDIT.\n#\n");

        for (size_t i = 0; i < n && text; i++) {
                char *t;
                if (o[i].role == KERNEL_ROLE_HOST && role != KERNEL_ROLE_HOST)
                        continue;
                t = strjoin(text, "CONFIG_", o[i].name, "=", o[i].value, "\n");
                free(text);
                text = t;
        }
        return text;
}

static const OptionResult *find(const OptionResult *r, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(r[i].option->name, name))
                        return &r[i];
        return NULL;
}

static void test_full_passes(void **state) {
        _cleanup_free_ char *text = full_config(KERNEL_ROLE_HOST);
        _cleanup_(kernel_config_freep) KernelConfig *c = NULL;
        OptionResult *r;
        size_t n, nz;

        assert_int_equal(kernel_config_parse(text, strlen(text), &c), 0);
        assert_int_equal(kernel_config_check(c, KERNEL_ROLE_HOST, &r, &n), 0);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(r[i].state, OPTION_OK);
        option_results_free(r, n);
        assert_int_equal(kernel_config_check(c, KERNEL_ROLE_ZONE, &r, &nz), 0);
        assert_true(nz < n); /* the zone list is a subset */
        option_results_free(r, nz);
}

static void test_states(void **state) {
        static const char text[] =
                "CONFIG_XEN=y\n"
                "CONFIG_XEN_PV=y\n"
                "CONFIG_XEN_BLKDEV_FRONTEND=m\n"           /* module where y is asked */
                "CONFIG_XEN_MEMORY_HOTPLUG_LIMIT=256\n"    /* different number */
                "CONFIG_XEN_FBDEV_FRONTEND=y\n"            /* m asked, y is fine */
                "CONFIG_SQUASHFS=m\n"
                "# CONFIG_HVC_XEN is not set\n"
                "CONFIG_XEN_SCRUB_PAGES_DEFAULT=n\n"       /* explicit n: missing */
                "CONFIG_LOCALVERSION=\"-krata\"\n";
        _cleanup_(kernel_config_freep) KernelConfig *c = NULL;
        OptionResult *r;
        size_t n, total;
        int missing;

        assert_int_equal(kernel_config_parse(text, strlen(text), &c), 0);
        assert_string_equal(kernel_config_get(c, "LOCALVERSION"), "-krata");
        assert_null(kernel_config_get(c, "HVC_XEN"));
        missing = kernel_config_check(c, KERNEL_ROLE_ZONE, &r, &n);
        assert_int_equal(find(r, n, "XEN")->state, OPTION_OK);
        assert_int_equal(find(r, n, "XEN_BLKDEV_FRONTEND")->state, OPTION_MODULE);
        assert_int_equal(find(r, n, "XEN_MEMORY_HOTPLUG_LIMIT")->state, OPTION_DIFFERENT);
        assert_string_equal(find(r, n, "XEN_MEMORY_HOTPLUG_LIMIT")->have, "256");
        assert_int_equal(find(r, n, "XEN_FBDEV_FRONTEND")->state, OPTION_OK);
        assert_int_equal(find(r, n, "SQUASHFS")->state, OPTION_OK);
        assert_int_equal(find(r, n, "HVC_XEN")->state, OPTION_MISSING);
        assert_int_equal(find(r, n, "XEN_SCRUB_PAGES_DEFAULT")->state, OPTION_MISSING);
        assert_null(find(r, n, "XEN_DOM0")); /* host-only row */
        /* recommended rows never count as missing */
        assert_int_equal(find(r, n, "XEN_VIRTIO")->state, OPTION_MISSING);
        total = 0;
        for (size_t i = 0; i < n; i++)
                if (r[i].state == OPTION_MISSING && r[i].option->level == OPTION_REQUIRED)
                        total++;
        assert_int_equal((size_t) missing, total);
        assert_true(missing > 2);
        option_results_free(r, n);
}

static void test_not_a_config(void **state) {
        static const char junk[] = "\x7f" "ELF\x02\x01\x01 garbage\nmore garbage\nand more\n";
        KernelConfig *c = NULL;
        assert_int_equal(kernel_config_parse(junk, sizeof junk - 1, &c), -EBADMSG);
        assert_int_equal(kernel_config_parse("", 0, &c), -EBADMSG);
        assert_null(c);
}

static void test_gzip(void **state) {
        _cleanup_free_ char *text = full_config(KERNEL_ROLE_ZONE);
        _cleanup_(kernel_config_freep) KernelConfig *c = NULL;
        char path[] = "/tmp/test-config-gz-XXXXXX";
        int fd = mkstemp(path);
        gzFile g;

        assert_true(fd >= 0);
        g = gzdopen(fd, "wb");
        assert_non_null(g);
        assert_int_equal(gzwrite(g, text, (unsigned) strlen(text)), (int) strlen(text));
        gzclose(g);
        assert_int_equal(kernel_config_load(path, &c), 0);
        assert_string_equal(kernel_config_get(c, "XEN_PV"), "y");
        unlink(path);
}

static void test_metadata(void **state) {
        static const char good[] = "KERNEL_ARCH=x86_64\nKERNEL_VERSION=6.1.0-56-amd64\nKERNEL_FLAVOR=standard\n"
                                   "KERNEL_CONFIG=sha256:00\nKERNEL_TAGS=latest\nFUTURE_KEY=1\n";
        KernelMetadata m = {};
        _cleanup_free_ char *out = NULL;

        assert_int_equal(kernel_metadata_parse(good, strlen(good), &m), 0);
        assert_string_equal(m.version, "6.1.0-56-amd64");
        assert_string_equal(m.tags, "latest");
        assert_int_equal(kernel_metadata_format(&m, &out), 0);
        assert_non_null(strstr(out, "KERNEL_FLAVOR=standard\n"));
        kernel_metadata_done(&m);
        assert_true(kernel_metadata_parse("KERNEL_ARCH=x86_64\n", 19, &m) < 0);
        assert_true(kernel_metadata_parse("KERNEL_ARCH=x86_64\nKERNEL_VERSION=../x\n", 39, &m) < 0);
        assert_true(kernel_metadata_parse("garbage\n", 8, &m) < 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full_passes), cmocka_unit_test(test_states),
                cmocka_unit_test(test_not_a_config), cmocka_unit_test(test_gzip),
                cmocka_unit_test(test_metadata),
        };
        log_set_max_level(LOG_CRIT);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
