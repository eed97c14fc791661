/* SPDX-License-Identifier: Apache-2.0 */
/* Atomic writes, bounded reads, mkdir -p, rm -rf (shared/fs-util.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "fs-util.h"
#include "string-util.h"

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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_files),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
