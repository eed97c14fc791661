/* SPDX-License-Identifier: Apache-2.0 */
/* krata-zone's pieces that need no hypervisor: the guest's exit code, the
 * launch-spec disk built from a zone spec, the image config and networkd's
 * addresses, and the kernel lookup's refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "fs-util.h"
#include "launch-spec.h"
#include "peers.h"
#include "string-util.h"
#include "zone.h"

static void test_exit_code(void **state) {
        assert_int_equal(exit_code_parse("0", 1), 0);
        assert_int_equal(exit_code_parse("42", 2), 42);
        assert_int_equal(exit_code_parse("255\n", 4), 255);
        assert_int_equal(exit_code_parse("7 \n", 3), 7);
        assert_int_equal(exit_code_parse("256", 3), -EBADMSG);
        assert_int_equal(exit_code_parse("-1", 2), -EBADMSG);
        assert_int_equal(exit_code_parse("", 0), -EBADMSG);
        assert_int_equal(exit_code_parse("\n", 1), -EBADMSG);
        assert_int_equal(exit_code_parse("4x", 2), -EBADMSG);
        assert_int_equal(exit_code_parse("0x10", 4), -EBADMSG);
        assert_int_equal(exit_code_parse("0001", 4), -EBADMSG);
        assert_int_equal(exit_code_parse("1\0002", 3), -EBADMSG);
        assert_int_equal(exit_code_parse("11111111111111111", 17), -EBADMSG);
        /* What a hostile guest writes (tests/e2e/hostile-guest.sh) */
        assert_int_equal(exit_code_parse("42abc", 5), -EBADMSG);
        assert_int_equal(exit_code_parse("42\0", 3), -EBADMSG);
        assert_int_equal(exit_code_parse("+7", 2), -EBADMSG);
        assert_int_equal(exit_code_parse(" 7", 2), -EBADMSG);
        assert_int_equal(exit_code_parse("4 2", 3), -EBADMSG);
        assert_int_equal(exit_code_parse("1\n2", 3), -EBADMSG);
        assert_int_equal(exit_code_parse("\xff\xfe", 2), -EBADMSG);
        assert_int_equal(exit_code_parse("99999999999999999999", 20), -EBADMSG);
        assert_int_equal(exit_code_parse("18446744073709551617", 20), -EBADMSG);
}

static void test_init_status(void **state) {
        const char *reason = (const char *) 1;

        assert_int_equal(init_status_parse("running", 7, &reason), 0);
        assert_null(reason);
        assert_int_equal(init_status_parse("exited", 6, &reason), 0);
        assert_null(reason);
        assert_int_equal(init_status_parse("failed:user", 11, &reason), 0);
        assert_string_equal(reason, "user");
        assert_int_equal(init_status_parse("failed:switch-root", 18, &reason), 0);
        assert_string_equal(reason, "switch-root");
        /* What a hostile guest writes (tests/e2e/hostile-guest.sh) */
        assert_int_equal(init_status_parse("", 0, &reason), -EBADMSG);
        assert_int_equal(init_status_parse("failed:", 7, &reason), -EBADMSG);
        assert_int_equal(init_status_parse("failed:\x1b[2Jtotally-legit", 24, &reason), -EBADMSG);
        assert_int_equal(init_status_parse("failed:user\0x", 13, &reason), -EBADMSG);
        assert_int_equal(init_status_parse("failed:user\n", 12, &reason), -EBADMSG);
        assert_int_equal(init_status_parse("failed:../../etc/passwd", 23, &reason), -EBADMSG);
        assert_int_equal(init_status_parse("running\0", 8, &reason), -EBADMSG);
        assert_int_equal(init_status_parse("RUNNING", 7, &reason), -EBADMSG);
        assert_int_equal(init_status_parse("\xff\xfe", 2, &reason), -EBADMSG);
        char big[4096];
        memset(big, 'a', sizeof big);
        memcpy(big, "failed:", 7);
        assert_int_equal(init_status_parse(big, sizeof big, &reason), -EBADMSG);
        assert_null(krata_init_failure_lookup(NULL));
        assert_null(krata_init_failure_lookup("USER"));
        assert_string_equal(krata_init_failure_lookup("exec"), "exec");
}

static char *tmpdir;

static int setup(void **state) {
        char tmpl[] = "/tmp/test-zone-supervisor.XXXXXX";
        tmpdir = strdup(mkdtemp(tmpl));
        setenv("KRATA_RUNTIME_DIR", tmpdir, 1);
        setenv("KRATA_STATE_DIR", tmpdir, 1);
        return 0;
}

static int teardown_dir(void **state) {
        rm_rf(tmpdir);
        free(tmpdir);
        return 0;
}

static void supervisor_init(Supervisor *s, const char *name) {
        *s = (Supervisor) {};
        s->spec = zone_spec_new(name);
        s->spec->image = strdup("busybox");
        s->uuid = strdup("0123abcd-0000-4000-8000-00000000abcd");
        s->record = zone_record_new(name);
}

static void supervisor_fini(Supervisor *s) {
        zone_spec_free(s->spec);
        zone_record_free(s->record);
        free(s->uuid);
        free(s->image_config);
        free(s->config_disk_path);
        free(s->reason);
        free(s->network.ipv4.address);
        free(s->network.ipv4.gateway);
        strv_free(s->network.dns);
}

static void test_config_disk(void **state) {
        char *const cmd[] = { "/bin/echo", "hi there", NULL };
        _cleanup_(launch_spec_freep) LaunchSpec *ls = NULL;
        _cleanup_close_ int fd = -EBADF;
        Supervisor s;

        supervisor_init(&s, "web");
        s.spec->command = strv_copy(cmd);
        assert_int_equal(strv_extend(&s.spec->environment, "A=1"), 0);
        s.spec->working_directory = strdup("/srv");
        s.spec->user = strdup("1000:1000");
        s.spec->tty = true;
        s.image_config = strdup("{\"config\":{\"Entrypoint\":[\"/entry\"],\"Cmd\":[\"/bin/sh\"],"
                                "\"Env\":[\"PATH=/bin\",\"A=0\"],\"WorkingDir\":\"/w\"}}");
        s.has_network = true;
        s.network.ipv4.address = strdup("10.75.0.2");
        s.network.ipv4.prefix = 16;
        s.network.ipv4.gateway = strdup("10.75.0.1");
        assert_int_equal(strv_extend(&s.network.dns, "10.75.0.1"), 0);

        assert_int_equal(config_disk_write(&s, &s.config_disk_path), 0);
        assert_true(startswith(s.config_disk_path, tmpdir) != NULL);
        fd = open(s.config_disk_path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(launch_disk_read_fd(fd, &ls), 0);
        /* docker's rule: CMD replaces Cmd, the Entrypoint stays */
        assert_int_equal(strv_length(ls->argv), 3);
        assert_string_equal(ls->argv[0], "/entry");
        assert_string_equal(ls->argv[2], "hi there");
        assert_true(strv_contains(ls->env, "A=1"));
        assert_false(strv_contains(ls->env, "A=0"));
        assert_true(strv_contains(ls->env, "PATH=/bin"));
        assert_string_equal(ls->cwd, "/srv");
        assert_string_equal(ls->user, "1000:1000");
        assert_string_equal(ls->hostname, "web");
        assert_true(ls->tty);
        assert_true(ls->has_network);
        assert_string_equal(ls->network.ipv4.address, "10.75.0.2");
        assert_int_equal(ls->network.ipv4.prefix, 16);
        assert_string_equal(ls->network.dns[0], "10.75.0.1");
        /* the network moved into the spec: nothing is freed twice */
        assert_false(s.has_network);
        assert_null(s.network.ipv4.address);
        supervisor_fini(&s);
}

static void test_config_disk_no_command(void **state) {
        _cleanup_free_ char *path = NULL;
        Supervisor s;

        supervisor_init(&s, "nocmd");
        s.image_config = strdup("{\"config\":{}}");
        assert_int_equal(config_disk_write(&s, &path), -EINVAL);
        assert_null(path);
        free(s.image_config);
        s.image_config = strdup("[1,2]");
        assert_int_equal(config_disk_write(&s, &path), -EBADMSG);
        supervisor_fini(&s);
}

static void test_no_kernel(void **state) {
        KernelInfo k = {};
        Supervisor s;

        supervisor_init(&s, "nokern");
        assert_int_equal(kernel_acquire(&s, NULL, &k), -ENOENT);
        assert_null(k.kernel_path);
        /* the reason reaches the zone's Error property */
        assert_non_null(s.reason);
        assert_non_null(strstr(s.reason, "kratactl kernel install-default"));
        /* an OCI kernel image needs krata-imaged, i.e. a bus */
        assert_true(kernel_acquire(&s, "kernels:latest", &k) < 0);
        kernel_info_done(&k);
        supervisor_fini(&s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exit_code),
                cmocka_unit_test(test_init_status),
                cmocka_unit_test_setup_teardown(test_config_disk, setup, teardown_dir),
                cmocka_unit_test_setup_teardown(test_config_disk_no_command, setup, teardown_dir),
                cmocka_unit_test_setup_teardown(test_no_kernel, setup, teardown_dir),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
