/* SPDX-License-Identifier: Apache-2.0 */
/* shared/guest-protocol.c: what krata-init and the host accept from each
 * other in krata/, including what a hostile guest writes
 * (tests/e2e/hostile-guest.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guest-protocol.h"
#include "macro.h"

static void test_exit_code(void **state) {
        assert_int_equal(guest_exit_code_parse("0", 1), 0);
        assert_int_equal(guest_exit_code_parse("42", 2), 42);
        assert_int_equal(guest_exit_code_parse("255\n", 4), 255);
        assert_int_equal(guest_exit_code_parse("7 \n", 3), 7);
        assert_int_equal(guest_exit_code_parse("256", 3), -EBADMSG);
        assert_int_equal(guest_exit_code_parse("-1", 2), -EBADMSG);
        assert_int_equal(guest_exit_code_parse("", 0), -EBADMSG);
        assert_int_equal(guest_exit_code_parse("\n", 1), -EBADMSG);
        assert_int_equal(guest_exit_code_parse("4x", 2), -EBADMSG);
        assert_int_equal(guest_exit_code_parse("0x10", 4), -EBADMSG);
        assert_int_equal(guest_exit_code_parse("0001", 4), -EBADMSG);
        assert_int_equal(guest_exit_code_parse("1\0002", 3), -EBADMSG);
        assert_int_equal(guest_exit_code_parse("11111111111111111", 17), -EBADMSG);
        /* What a hostile guest writes (tests/e2e/hostile-guest.sh) */
        assert_int_equal(guest_exit_code_parse("42abc", 5), -EBADMSG);
        assert_int_equal(guest_exit_code_parse("42\0", 3), -EBADMSG);
        assert_int_equal(guest_exit_code_parse("+7", 2), -EBADMSG);
        assert_int_equal(guest_exit_code_parse(" 7", 2), -EBADMSG);
        assert_int_equal(guest_exit_code_parse("4 2", 3), -EBADMSG);
        assert_int_equal(guest_exit_code_parse("1\n2", 3), -EBADMSG);
        assert_int_equal(guest_exit_code_parse("\xff\xfe", 2), -EBADMSG);
        assert_int_equal(guest_exit_code_parse("99999999999999999999", 20), -EBADMSG);
        assert_int_equal(guest_exit_code_parse("18446744073709551617", 20), -EBADMSG);
}

static GuestStatus status;
static GuestFailure failure;

static int parse_status(const char *v, size_t len) {
        return guest_status_parse(v, len, &status, &failure);
}

static void test_status(void **state) {
        static const char *const bad[] = {
                "", "failed:", "failed:\x1b[2Jtotally-legit", "failed:user\n", "failed:../../etc/passwd", "RUNNING",
                "\xff\xfe", "failed:USER", "running ", "failed: user",
        };
        char big[4096], buf[GUEST_STATUS_MAX + 1];

        assert_int_equal(parse_status("running", 7), 0);
        assert_int_equal(status, GUEST_RUNNING);
        assert_int_equal(parse_status("exited", 6), 0);
        assert_int_equal(status, GUEST_EXITED);
        assert_int_equal(parse_status("failed:user", 11), 0);
        assert_int_equal(status, GUEST_FAILED);
        assert_int_equal(failure, GUEST_FAILURE_USER);
        assert_int_equal(parse_status("failed:switch-root", 18), 0);
        assert_int_equal(failure, GUEST_FAILURE_SWITCH_ROOT);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (parse_status(bad[i], strlen(bad[i])) != -EBADMSG)
                        fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(parse_status("failed:user\0x", 13), -EBADMSG);
        assert_int_equal(parse_status("running\0", 8), -EBADMSG);
        memset(big, 'a', sizeof big);
        memcpy(big, "failed:", 7);
        assert_int_equal(parse_status(big, sizeof big), -EBADMSG);

        /* what krata-init writes, the host reads back */
        for (GuestFailure f = 0; f < _GUEST_FAILURE_MAX; f++) {
                guest_status_format(GUEST_FAILED, f, buf);
                assert_int_equal(parse_status(buf, strlen(buf)), 0);
                assert_int_equal(status, GUEST_FAILED);
                assert_int_equal(failure, f);
        }
        guest_status_format(GUEST_STARTING, GUEST_FAILURE_USER, buf);
        assert_string_equal(buf, "starting");
}

static void test_failure_exit_codes(void **state) {
        assert_int_equal(guest_failure_exit_code(GUEST_FAILURE_CONFIG), 241);
        assert_int_equal(guest_failure_exit_code(GUEST_FAILURE_ADDONS), 242);
        assert_int_equal(guest_failure_exit_code(GUEST_FAILURE_MODULES), 243);
        assert_int_equal(guest_failure_exit_code(GUEST_FAILURE_NETWORK_FILES), 244);
        assert_int_equal(guest_failure_exit_code(GUEST_FAILURE_USER), 245);
        assert_int_equal(guest_failure_exit_code(GUEST_FAILURE_CWD), 246);
        assert_int_equal(guest_failure_exit_code(GUEST_FAILURE_SWITCH_ROOT), 247);
        assert_int_equal(guest_failure_exit_code(GUEST_FAILURE_EXEC), 126);
        assert_int_equal(guest_failure_exit_code(GUEST_FAILURE_TTY), 240);
        assert_string_equal(guest_failure_to_string(GUEST_FAILURE_NETWORK_FILES), "network-files");
        assert_null(guest_failure_to_string(_GUEST_FAILURE_MAX));
}

static void test_winsize_parse(void **state) {
        static const char *const bad[] = {
                "", " ", "24", "24 ", " 24 80", "24 80 ", "24  80", "24\t80", "24 80\n", "+24 80", "-1 80",
                "024 80", "24 080", "0 80", "24 0", "65536 80", "24 65536", "99999 1", "24x80", "24 8O",
                "123456 1", "1 123456", "65535 65535 ", "a b",
        };
        struct winsize ws;

        assert_int_equal(guest_winsize_parse("24 80", 5, &ws), 0);
        assert_int_equal(ws.ws_row, 24);
        assert_int_equal(ws.ws_col, 80);
        assert_int_equal(ws.ws_xpixel, 0);
        assert_int_equal(guest_winsize_parse("65535 65535", 11, &ws), 0);
        assert_int_equal(ws.ws_row, 65535);
        assert_int_equal(ws.ws_col, 65535);
        assert_int_equal(guest_winsize_parse("1 1", 3, &ws), 0);
        assert_int_equal(ws.ws_row, 1);
        /* only n bytes count: what follows is not looked at */
        assert_int_equal(guest_winsize_parse("30 100garbage", 6, &ws), 0);
        assert_int_equal(ws.ws_col, 100);
        assert_int_equal(guest_winsize_parse("30 100\0", 7, &ws), -EINVAL);
        assert_int_equal(guest_winsize_parse(NULL, 0, &ws), -EINVAL);

        ws = (struct winsize) { .ws_row = 7, .ws_col = 7 };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (guest_winsize_parse(bad[i], strlen(bad[i]), &ws) >= 0)
                        fail_msg("accepted \"%s\"", bad[i]);
                /* a rejected value leaves the result alone */
                assert_int_equal(ws.ws_row, 7);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exit_code),
                cmocka_unit_test(test_status),
                cmocka_unit_test(test_failure_exit_codes),
                cmocka_unit_test(test_winsize_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
