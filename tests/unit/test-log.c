/* SPDX-License-Identifier: Apache-2.0 */
/* Log levels and journal-stream prefixes (shared/log.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fs-util.h"
#include "log.h"

static void test_levels(void **state) {
        assert_int_equal(log_level_from_string("debug"), LOG_DEBUG);
        assert_int_equal(log_level_from_string("3"), LOG_ERR);
        assert_true(log_level_from_string("loud") < 0);
}

static void test_log_journal_prefix(void **state) {
        char path[] = "/tmp/krata-log-XXXXXX";
        _cleanup_free_ char *content = NULL;
        char env[64];
        struct stat st;
        int fd, saved;

        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        saved = dup(STDERR_FILENO);
        assert_true(dup2(fd, STDERR_FILENO) >= 0);

        /* stderr is the journal stream: "<N>" prefixes */
        snprintf(env, sizeof env, "%llu:%llu", (unsigned long long) st.st_dev,
                 (unsigned long long) st.st_ino);
        setenv("JOURNAL_STREAM", env, 1);
        log_setup("test");
        log_set_max_level(LOG_INFO);
        log_warning("to the journal");
        assert_int_equal(log_error_errno(EIO, "failed: %m"), -EIO);
        log_debug("not shown");

        /* a different stream: plain lines */
        setenv("JOURNAL_STREAM", "1:2", 1);
        log_setup("test");
        log_info("plain");
        assert_int_equal(log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "synthetic"), -EBADMSG);
        unsetenv("JOURNAL_STREAM");

        fflush(stderr);
        assert_true(dup2(saved, STDERR_FILENO) >= 0);
        close(saved);
        close(fd);
        assert_int_equal(read_full_file(path, 4096, &content, NULL), 0);
        unlink(path);
        assert_string_equal(content, "<4>to the journal\n<3>failed: Input/output error\n"
                                     "test: plain\ntest: synthetic\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_levels),
                cmocka_unit_test(test_log_journal_prefix),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
