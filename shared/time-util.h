/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>
#include <time.h>

#define NSEC_PER_USEC 1000ULL
#define USEC_PER_MSEC 1000ULL
#define USEC_PER_SEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL

/* The one clock helper, as systemd's now(): CLOCK_MONOTONIC for durations
 * and deadlines, CLOCK_REALTIME for timestamps people read (Created=). */
static inline uint64_t now_nsec(clockid_t clock) {
        struct timespec ts;

        (void) clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * NSEC_PER_SEC + (uint64_t) ts.tv_nsec;
}

static inline uint64_t now(clockid_t clock) {
        return now_nsec(clock) / NSEC_PER_USEC;
}
