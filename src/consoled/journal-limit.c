/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>

#include "journal-limit.h"
#include "time-util.h"

void token_bucket_init(TokenBucket *b, uint64_t rate, uint64_t burst, uint64_t now_usec) {
        assert(b);

        *b = (TokenBucket) { .rate = rate, .burst = burst, .micro_tokens = burst * USEC_PER_SEC, .last_usec = now_usec };
}

bool token_bucket_has(TokenBucket *b, uint64_t n, uint64_t now_usec) {
        uint64_t full = b->burst * USEC_PER_SEC;

        assert(b);

        if (now_usec > b->last_usec) {
                uint64_t elapsed = now_usec - b->last_usec;
                /* elapsed × rate cannot overflow once capped at a full refill */
                if (b->rate == 0 || elapsed >= full / b->rate + 1)
                        b->micro_tokens = full;
                else
                        b->micro_tokens = b->micro_tokens + elapsed * b->rate > full ? full
                                                                                     : b->micro_tokens + elapsed * b->rate;
                b->last_usec = now_usec;
        }
        return n <= b->burst && b->micro_tokens >= n * USEC_PER_SEC;
}

void token_bucket_take(TokenBucket *b, uint64_t n) {
        uint64_t m = n * USEC_PER_SEC;

        assert(b);

        b->micro_tokens = b->micro_tokens > m ? b->micro_tokens - m : 0;
}

void journal_limit_init(JournalLimit *l, bool whole_daemon, uint64_t now_usec) {
        assert(l);

        if (whole_daemon) {
                token_bucket_init(&l->lines, JOURNAL_ALL_LINES_PER_SEC, JOURNAL_ALL_LINES_BURST, now_usec);
                token_bucket_init(&l->bytes, JOURNAL_ALL_BYTES_PER_SEC, JOURNAL_ALL_BYTES_BURST, now_usec);
        } else {
                token_bucket_init(&l->lines, JOURNAL_ZONE_LINES_PER_SEC, JOURNAL_ZONE_LINES_BURST, now_usec);
                token_bucket_init(&l->bytes, JOURNAL_ZONE_BYTES_PER_SEC, JOURNAL_ZONE_BYTES_BURST, now_usec);
        }
}

bool journal_limit_take(JournalLimit *zone, JournalLimit *all, uint64_t size, uint64_t now_usec) {
        assert(zone);
        assert(all);

        /* Check all four first: a refused line must not use up any budget. */
        bool zl = token_bucket_has(&zone->lines, 1, now_usec), zb = token_bucket_has(&zone->bytes, size, now_usec),
             al = token_bucket_has(&all->lines, 1, now_usec), ab = token_bucket_has(&all->bytes, size, now_usec);

        if (!zl || !zb || !al || !ab)
                return false;
        token_bucket_take(&zone->lines, 1);
        token_bucket_take(&zone->bytes, size);
        token_bucket_take(&all->lines, 1);
        token_bucket_take(&all->bytes, size);
        return true;
}
