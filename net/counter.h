/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Statistics counters written by one zone thread and read by the bus thread
 * (ListAttachments). Relaxed atomics: a reader never sees a torn value, and
 * with a single writer a load and a store suffice, so counting a frame
 * costs no locked instruction. */
#define COUNTER_ADD(c, n) __atomic_store_n(&(c), __atomic_load_n(&(c), __ATOMIC_RELAXED) + (n), __ATOMIC_RELAXED)
#define COUNTER_INC(c) COUNTER_ADD(c, 1)
#define COUNTER_GET(c) __atomic_load_n(&(c), __ATOMIC_RELAXED)

#include <stdint.h>

/* A zone's frames through its interface. */
typedef struct FrameCounters {
        uint64_t rx_frames, rx_bytes; /* from the zone */
        uint64_t tx_frames, tx_bytes; /* to the zone */
        uint64_t dropped;
} FrameCounters;
