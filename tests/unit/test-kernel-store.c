/* SPDX-License-Identifier: Apache-2.0 */
/* src/kernel/kernel-store.c: what krata-zoned accepts as a caller's file,
 * and the copy that hashes it (src/kernel/util.c). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fs-util.h"
#include "kernel-store.h"
#include "util.h"

static char dir[] = "/tmp/test-kernel-store.XXXXXX";

static int setup(void **state) {
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
        return rm_rf(dir);
}

static char *path(const char *name) {
        char *p = NULL;
        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        return p;
}

static void test_check_fd(void **state) {
        _cleanup_free_ char *file = path("file"), *fifo = path("fifo");
        _cleanup_close_ int fd = -EBADF, wfd = -EBADF, pfd = -EBADF, dfd = -EBADF, ffd = -EBADF;

        assert_int_equal(write_string_file_atomic(file, "0123456789", 0644), 0);
        fd = open(file, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(kernel_check_fd(fd, 10, "file"), 0);
        assert_int_equal(kernel_check_fd(fd, 9, "file"), -EFBIG);

        /* not readable through this descriptor */
        wfd = open(file, O_WRONLY | O_CLOEXEC);
        pfd = open(file, O_PATH | O_CLOEXEC);
        assert_true(wfd >= 0 && pfd >= 0);
        assert_int_equal(kernel_check_fd(wfd, 100, "write-only"), -EINVAL);
        assert_int_equal(kernel_check_fd(pfd, 100, "O_PATH"), -EINVAL);

        /* not a regular file: a FIFO would block the reader, a directory is no kernel */
        assert_int_equal(mkfifo(fifo, 0600), 0);
        ffd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(ffd >= 0 && dfd >= 0);
        assert_int_equal(kernel_check_fd(ffd, 100, "FIFO"), -EINVAL);
        assert_int_equal(kernel_check_fd(dfd, 100, "directory"), -EINVAL);
        assert_int_equal(kernel_check_fd(-EBADF, 100, "closed"), -EBADF);
}

static void test_copy_hash(void **state) {
        _cleanup_free_ char *src = path("src"), *dst = path("dst"), *back = NULL;
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        char a[65], b[65];
        uint64_t size = 0;
        size_t n;

        assert_int_equal(write_string_file_atomic(src, "the kernel", 0644), 0);
        in = open(src, O_RDONLY | O_CLOEXEC);
        out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(in >= 0 && out >= 0);
        /* the sender's offset is neither used nor moved */
        assert_int_equal(lseek(in, 4, SEEK_SET), 4);
        assert_int_equal(sha256_copy_fd(in, out, 100, a, &size), 0);
        assert_int_equal(size, 10);
        assert_int_equal(lseek(in, 0, SEEK_CUR), 4);
        assert_int_equal(sha256_file(src, b), 0);
        assert_string_equal(a, b);
        assert_int_equal(read_full_file(dst, 100, &back, &n), 0);
        assert_int_equal(n, 10);
        assert_memory_equal(back, "the kernel", 10);

        /* bounded: a file that grew past what was announced */
        assert_int_equal(sha256_copy_fd(in, -EBADF, 9, a, NULL), -EFBIG);
        /* hashing alone */
        assert_int_equal(sha256_copy_fd(in, -EBADF, 10, a, NULL), 0);
        assert_string_equal(a, b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_check_fd),
                cmocka_unit_test(test_copy_hash),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
