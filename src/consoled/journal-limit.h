/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* A token bucket: RATE tokens a second, at most BURST held. Tokens are kept
 * in millionths so that refills at microsecond steps lose nothing. */
typedef struct TokenBucket {
        uint64_t rate, burst;
        uint64_t micro_tokens;
        uint64_t last_usec;
} TokenBucket;

void token_bucket_init(TokenBucket *b, uint64_t rate, uint64_t burst, uint64_t now_usec);
/* Refills up to NOW and says whether N tokens are there (takes nothing). */
bool token_bucket_has(TokenBucket *b, uint64_t n, uint64_t now_usec);
void token_bucket_take(TokenBucket *b, uint64_t n);

/* The journal copy of consoles: journald is shared by the whole host and
 * its own limit (10000 messages per 30 s per unit by default) would drop
 * every zone's lines and the daemon's warnings once one zone floods. Lines
 * and bytes are limited per zone and for the daemon as a whole; the
 * scrollback keeps everything. Under QEMU TCG journald took a whole dom0
 * CPU at 2000 lines a second of one zone (zone-hostile.sh). */
#define JOURNAL_ZONE_LINES_PER_SEC 100
#define JOURNAL_ZONE_LINES_BURST 2000
#define JOURNAL_ZONE_BYTES_PER_SEC (16 * 1024)
#define JOURNAL_ZONE_BYTES_BURST (256 * 1024)
/* 4000 + 30 × 200 = journald's 10000 per 30 s, whatever the zones do */
#define JOURNAL_ALL_LINES_PER_SEC 200
#define JOURNAL_ALL_LINES_BURST 4000
#define JOURNAL_ALL_BYTES_PER_SEC (48 * 1024)
#define JOURNAL_ALL_BYTES_BURST (768 * 1024)
/* How often a zone's suppressed count is reported, at most. */
#define JOURNAL_REPORT_USEC (10ULL * 1000000ULL)

typedef struct JournalLimit {
        TokenBucket lines, bytes;
} JournalLimit;

void journal_limit_init(JournalLimit *l, bool whole_daemon, uint64_t now_usec);
/* Whether a line of SIZE bytes may go to the journal under both limits;
 * takes from both only when it may. */
bool journal_limit_take(JournalLimit *zone, JournalLimit *all, uint64_t size, uint64_t now_usec);
