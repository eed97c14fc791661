/* SPDX-License-Identifier: Apache-2.0 */
/* krata-consoled's journal budget (src/consoled/journal-limit.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "journal-limit.h"

#define SEC 1000000ULL

static void test_bucket(void **state) {
        TokenBucket b;

        token_bucket_init(&b, 10, 20, 0);
        for (int i = 0; i < 20; i++) {
                assert_true(token_bucket_has(&b, 1, 0));
                token_bucket_take(&b, 1);
        }
        assert_false(token_bucket_has(&b, 1, 0));
        /* 10 a second: one token every 100 ms, fractions kept */
        assert_false(token_bucket_has(&b, 1, 99999));
        assert_true(token_bucket_has(&b, 1, 100000));
        token_bucket_take(&b, 1);
        assert_false(token_bucket_has(&b, 1, 150000));
        assert_true(token_bucket_has(&b, 1, 200000));
        /* never more than the burst, however long it was idle; no overflow */
        assert_true(token_bucket_has(&b, 20, UINT64_MAX / 2));
        assert_false(token_bucket_has(&b, 21, UINT64_MAX / 2));
        /* time going backwards refills nothing */
        token_bucket_take(&b, 20);
        assert_false(token_bucket_has(&b, 1, 5 * SEC));
}

static void test_zone_and_daemon(void **state) {
        JournalLimit all, a, b;
        uint64_t n_a = 0, n_b = 0;

        journal_limit_init(&all, true, 0);
        journal_limit_init(&a, false, 0);
        journal_limit_init(&b, false, 0);
        /* zone a floods short lines for 30 s: its burst, then its rate */
        for (uint64_t t = 0; t < 30 * SEC; t += 1000)
                n_a += journal_limit_take(&a, &all, 10, t);
        assert_true(n_a <= JOURNAL_ZONE_LINES_BURST + 30 * JOURNAL_ZONE_LINES_PER_SEC);
        assert_true(n_a >= JOURNAL_ZONE_LINES_BURST + 29 * JOURNAL_ZONE_LINES_PER_SEC);
        /* meanwhile a line a second from zone b always goes through */
        for (uint64_t t = 30 * SEC; t < 60 * SEC; t += 1000) {
                n_a += journal_limit_take(&a, &all, 10, t);
                if (t % SEC == 0)
                        n_b += journal_limit_take(&b, &all, 10, t);
        }
        assert_int_equal(n_b, 30);
        /* long lines run out of bytes first: 2 KiB lines at 16 KiB a second */
        journal_limit_init(&all, true, 0);
        journal_limit_init(&a, false, 0);
        n_a = 0;
        for (uint64_t t = 0; t < 10 * SEC; t += 1000)
                n_a += journal_limit_take(&a, &all, 2048, t);
        assert_true(n_a <= (JOURNAL_ZONE_BYTES_BURST + 10 * JOURNAL_ZONE_BYTES_PER_SEC) / 2048);
}

static void test_daemon_total(void **state) {
        JournalLimit all, z[8];
        uint64_t n = 0;

        /* eight zones flooding at once stay within journald's 10000 per 30 s */
        journal_limit_init(&all, true, 0);
        for (int i = 0; i < 8; i++)
                journal_limit_init(&z[i], false, 0);
        for (uint64_t t = 0; t < 30 * SEC; t += 1000)
                for (int i = 0; i < 8; i++)
                        n += journal_limit_take(&z[i], &all, 10, t);
        assert_true(n <= 10000);
        /* a refused line takes nothing from the zone's own budget */
        JournalLimit fresh;
        uint64_t last = 30 * SEC - 1000;
        journal_limit_init(&fresh, false, last);
        while (journal_limit_take(&z[0], &all, 10, last))
                ;
        assert_false(journal_limit_take(&fresh, &all, 10, last));
        assert_true(token_bucket_has(&fresh.lines, JOURNAL_ZONE_LINES_BURST, last));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bucket),
                cmocka_unit_test(test_zone_and_daemon),
                cmocka_unit_test(test_daemon_total),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
