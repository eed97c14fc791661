/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "log.h"
#include "modules-dep.h"
#include "string-util.h"

static const char dep[] =
        "kernel/fs/overlayfs/overlay.ko:\n"
        "kernel/drivers/block/xen-blkfront.ko: kernel/lib/a.ko kernel/lib/b.ko\n"
        "kernel/lib/a.ko: kernel/lib/b.ko\n"
        "kernel/lib/b.ko:\n"
        "kernel/fs/squashfs/squashfs.ko.xz: kernel/lib/zstd_dec.ko\n"
        "kernel/lib/zstd_dec.ko:\n";

static ssize_t index_of(char **l, const char *s) {
        for (size_t i = 0; l && l[i]; i++)
                if (streq(l[i], s))
                        return (ssize_t) i;
        return -1;
}

static void test_parse_resolve(void **state) {
        _cleanup_modules_dep_ ModulesDep *d = NULL;
        _cleanup_strv_free_ char **order = NULL, **missing = NULL;
        char *want[] = { "xen-blkfront", "squashfs", "overlay", "xen_netfront", "a", NULL };

        assert_int_equal(modules_dep_parse(dep, strlen(dep), &d), 0);
        assert_int_equal(d->n_entries, 6);
        assert_string_equal(d->entries[1].name, "xen_blkfront");
        assert_string_equal(d->entries[4].name, "squashfs");
        assert_non_null(modules_dep_find(d, "xen-blkfront.ko"));

        assert_int_equal(modules_dep_resolve(d, want, &order, &missing), 0);
        /* each once, dependencies first */
        assert_int_equal(strv_length(order), 6);
        assert_true(index_of(order, "kernel/lib/b.ko") < index_of(order, "kernel/lib/a.ko"));
        assert_true(index_of(order, "kernel/lib/a.ko") < index_of(order, "kernel/drivers/block/xen-blkfront.ko"));
        assert_true(index_of(order, "kernel/lib/zstd_dec.ko") < index_of(order, "kernel/fs/squashfs/squashfs.ko.xz"));
        assert_int_equal(strv_length(missing), 1);
        assert_string_equal(missing[0], "xen_netfront");

        strv_free(order);
        order = NULL;
        assert_int_equal(modules_dep_resolve(d, want, &order, NULL), -ENOENT);
}

static void test_bad(void **state) {
        static const char *const bad[] = {
                "kernel/a.ko\n",                  /* no colon */
                "/abs/a.ko:\n",                   /* absolute */
                "kernel/../../etc/x.ko:\n",       /* escapes */
                "kernel/a.ko: ../b.ko\n",         /* escaping dependency */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ModulesDep *d = NULL;
                assert_int_equal(modules_dep_parse(bad[i], strlen(bad[i]), &d), -EBADMSG);
                assert_null(d);
        }
}

static void test_cycle_and_dangling(void **state) {
        static const char cyc[] = "a.ko: b.ko\nb.ko: a.ko\n", dangling[] = "a.ko: nothere.ko\n";
        _cleanup_modules_dep_ ModulesDep *d1 = NULL, *d2 = NULL;
        char *want[] = { "a", NULL };
        char **order = NULL;

        assert_int_equal(modules_dep_parse(cyc, strlen(cyc), &d1), 0);
        assert_int_equal(modules_dep_resolve(d1, want, &order, NULL), -ELOOP);
        assert_int_equal(modules_dep_parse(dangling, strlen(dangling), &d2), 0);
        assert_int_equal(modules_dep_resolve(d2, want, &order, NULL), -EBADMSG);
        assert_null(order);
}

static void test_names(void **state) {
        static const char builtin[] = "kernel/fs/ext4/ext4.ko\nkernel/drivers/block/xen-blkfront.ko\n";
        _cleanup_free_ char *a = module_name_normalize("kernel/x/xen-netfront.ko.zst"), *b = module_name_normalize("snd-hda");

        assert_string_equal(a, "xen_netfront");
        assert_string_equal(b, "snd_hda");
        assert_true(modules_builtin_contains(builtin, "xen_blkfront"));
        assert_true(modules_builtin_contains(builtin, "ext4"));
        assert_false(modules_builtin_contains(builtin, "squashfs"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_resolve),
                cmocka_unit_test(test_bad),
                cmocka_unit_test(test_cycle_and_dangling),
                cmocka_unit_test(test_names),
        };
        log_set_max_level(LOG_CRIT);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
