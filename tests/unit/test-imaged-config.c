/* SPDX-License-Identifier: Apache-2.0 */
/* imaged.conf (src/imaged/imaged-config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "imaged-config.h"
#include "log.h"

static void test_config(void **state) {
        ImagedConfig c;
        imaged_config_init(&c);
        assert_int_equal(imaged_config_parse(&c,
                                             "# comment\n[Registries]\nInsecureRegistries = reg.lan:5000, 10.0.0.2\n"
                                             "ParallelDownloads=8\nStallTimeoutSec=5\nCompressionLevel=9\n"
                                             "Architecture=arm64\nAuthFile=/etc/x.json\nUnknownKey=1\n",
                                             "test"),
                         0);
        assert_true(imaged_config_registry_is_insecure(&c, "reg.lan:5000"));
        assert_true(imaged_config_registry_is_insecure(&c, "10.0.0.2"));
        assert_true(imaged_config_registry_is_insecure(&c, "127.0.0.1:5000"));
        assert_false(imaged_config_registry_is_insecure(&c, "reg.lan"));
        assert_false(imaged_config_registry_is_insecure(&c, "docker.io"));
        assert_int_equal(c.parallel_downloads, 8);
        assert_int_equal(c.stall_timeout_sec, 5);
        assert_int_equal(c.compression_level, 9);
        assert_string_equal(c.architecture, "arm64");
        assert_string_equal(c.auth_file, "/etc/x.json");
        assert_true(imaged_config_parse(&c, "ParallelDownloads=0\n", "test") < 0);
        assert_true(imaged_config_parse(&c, "CompressionLevel=23\n", "test") < 0);
        assert_true(imaged_config_parse(&c, "AuthFile=relative\n", "test") < 0);
        assert_true(imaged_config_parse(&c, "garbage\n", "test") < 0);
        imaged_config_done(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_config),
        };
        log_set_max_level(LOG_CRIT); /* the refusals log; keep the output readable */
        return cmocka_run_group_tests(tests, NULL, NULL);
}
