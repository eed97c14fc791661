/* SPDX-License-Identifier: Apache-2.0 */
/* src/zone/boot.c, with no hypervisor: the launch spec from an OCI config
 * and the zone's overrides (docker's rules), the config disk with
 * networkd's addresses, the kernel lookup's refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot.h"
#include "fs-util.h"
#include "json-util.h"
#include "image.h"
#include "launch-spec.h"
#include "log.h"
#include "string-util.h"

static char *tmpdir;

static int setup(void **state) {
        char tmpl[] = "/tmp/test-boot.XXXXXX";
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

static ZoneSpec *zone(const char *name) {
        ZoneSpec *z = zone_spec_new(name);
        z->image = strdup("busybox");
        return z;
}

static void test_config_disk(void **state) {
        char *const cmd[] = { "/bin/echo", "hi there", NULL };
        _cleanup_zone_spec_ ZoneSpec *z = zone("web");
        _cleanup_(launch_spec_freep) LaunchSpec *ls = NULL;
        _cleanup_(boot_material_done) BootMaterial b = {};
        _cleanup_free_ char *reason = NULL;
        _cleanup_close_ int fd = -EBADF;
        LaunchNetwork net = { .ipv4 = { strdup("10.75.0.2"), 16, strdup("10.75.0.1") } };
        const char *config = "{\"config\":{\"Entrypoint\":[\"/entry\"],\"Cmd\":[\"/bin/sh\"],"
                             "\"Env\":[\"PATH=/bin\",\"A=0\"],\"WorkingDir\":\"/w\"}}";

        z->command = strv_copy(cmd);
        assert_int_equal(strv_extend(&z->environment, "A=1"), 0);
        z->working_directory = strdup("/srv");
        z->user = strdup("1000:1000");
        z->tty = true;
        assert_int_equal(strv_extend(&net.dns, "10.75.0.1"), 0);

        assert_int_equal(boot_config_disk_write(&b, z, config, &net, &reason), 0);
        assert_true(startswith(b.config_disk, tmpdir) != NULL);
        fd = open(b.config_disk, O_RDONLY | O_CLOEXEC);
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
        assert_null(net.ipv4.address);
        assert_null(net.dns);

        /* teardown's removal takes the disk and its directory */
        boot_config_disk_remove(&b);
        assert_null(b.config_disk);
        assert_int_equal(rmdir(tmpdir), -1);
        assert_int_equal(errno, ENOTEMPTY); /* zone/ is left, web/ is gone */
}

static void test_config_disk_no_command(void **state) {
        _cleanup_zone_spec_ ZoneSpec *z = zone("nocmd");
        _cleanup_(boot_material_done) BootMaterial b = {};
        _cleanup_free_ char *reason = NULL;

        assert_int_equal(boot_config_disk_write(&b, z, "{\"config\":{}}", NULL, &reason), -EINVAL);
        assert_null(b.config_disk);
        assert_non_null(strstr(reason, "has no command"));
        assert_int_equal(boot_config_disk_write(&b, z, "[1,2]", NULL, &reason), -EBADMSG);
}

static void test_no_kernel(void **state) {
        _cleanup_(boot_material_done) BootMaterial b = {};
        _cleanup_(image_info_done) ImageInfo image = {};
        _cleanup_free_ char *reason = NULL;

        assert_int_equal(boot_kernel_prepare(&b, NULL, NULL, &reason), -ENOENT);
        assert_null(b.kernel);
        /* the reason reaches the zone's Error property */
        assert_non_null(reason);
        assert_non_null(strstr(reason, "kratactl kernel install-default"));
        /* an OCI kernel image needs krata-imaged, i.e. a bus */
        assert_true(image_ensure(NULL, "kernels:latest", NULL, NULL, &image, &reason) < 0);
        assert_non_null(strstr(reason, "No system bus"));
}

static json_object *json(const char *s) {
        json_object *o = NULL;
        assert_int_equal(json_parse_bounded(s, strlen(s), 1 << 20, true, &o), 0);
        return o;
}

static void test_oci_merge(void **state) {
        _cleanup_json_ json_object *cfg = json(
                "{\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\"},\"config\":{"
                "\"Entrypoint\":[\"/entry\"],\"Cmd\":[\"arg1\",\"arg2\"],\"Env\":[\"PATH=/usr/bin\",\"A=1\"],"
                "\"WorkingDir\":\"/app\",\"User\":\"nobody\"}}");
        _cleanup_json_ json_object *bare = json("{\"Cmd\":[\"/bin/sh\"]}");
        _cleanup_json_ json_object *empty = json("{\"architecture\":\"amd64\",\"rootfs\":{}}");
        char *env[] = { "A=2", "B=3", NULL }, *cmd[] = { "x", NULL }, *ep[] = { "/other", NULL };
        LaunchSpec *s = NULL;

        assert_int_equal(launch_spec_from_oci_config(cfg, NULL, &s), 0);
        assert_int_equal(strv_length(s->argv), 3);
        assert_string_equal(s->argv[0], "/entry");
        assert_string_equal(s->argv[2], "arg2");
        assert_string_equal(s->cwd, "/app");
        assert_string_equal(s->user, "nobody");
        s = launch_spec_free(s);

        /* cmd override keeps the entrypoint; env overrides by key */
        assert_int_equal(launch_spec_from_oci_config(cfg, &(LaunchOverrides) { .cmd = cmd, .env = env, .umask = -1 }, &s), 0);
        assert_int_equal(strv_length(s->argv), 2);
        assert_string_equal(s->argv[1], "x");
        assert_true(strv_contains(s->env, "A=2"));
        assert_false(strv_contains(s->env, "A=1"));
        assert_true(strv_contains(s->env, "B=3"));
        assert_true(strv_contains(s->env, "PATH=/usr/bin"));
        s = launch_spec_free(s);

        /* entrypoint override drops the image's Cmd */
        assert_int_equal(launch_spec_from_oci_config(cfg, &(LaunchOverrides) { .entrypoint = ep, .user = "0:0", .cwd = "/",
                                                                               .hostname = "z", .tty = true, .umask = 077 }, &s), 0);
        assert_int_equal(strv_length(s->argv), 1);
        assert_string_equal(s->argv[0], "/other");
        assert_string_equal(s->user, "0:0");
        assert_string_equal(s->hostname, "z");
        assert_int_equal(s->umask, 077);
        assert_true(s->tty);
        s = launch_spec_free(s);

        /* the bare "config" object works too; PATH defaults */
        assert_int_equal(launch_spec_from_oci_config(bare, NULL, &s), 0);
        assert_true(strv_contains(s->env, LAUNCH_DEFAULT_PATH));
        s = launch_spec_free(s);

        /* nothing to run */
        assert_int_equal(launch_spec_from_oci_config(empty, NULL, &s), -EINVAL);
        assert_int_equal(launch_spec_from_oci_config(NULL, NULL, &s), -EINVAL);
        assert_null(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_config_disk, setup, teardown_dir),
                cmocka_unit_test_setup_teardown(test_config_disk_no_command, setup, teardown_dir),
                cmocka_unit_test_setup_teardown(test_no_kernel, setup, teardown_dir),
                cmocka_unit_test(test_oci_merge),
        };
        log_set_max_level(LOG_CRIT); /* the refusals are expected */
        return cmocka_run_group_tests(tests, NULL, NULL);
}
