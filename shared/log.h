/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

/* Logging to stderr: "<N>" syslog prefixes when stderr is the journal
 * (JOURNAL_STREAM names it), plain "name: message" lines otherwise. */

void log_setup(const char *program);
void log_set_max_level(int level);
int log_get_max_level(void);
int log_level_from_string(const char *s);
int log_parse_level_arg(const char *s);
bool log_to_journal(void);

/* Extra journal-ish context ("ZONE=web") printed as a prefix on plain output
 * and as structured fields when writing to the journal through sd-journal. */
int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) _printf_(6, 7);

#define log_full_errno(level, error, ...)                                       \
        ({                                                                      \
                int _l = (level), _e = (error);                                 \
                _e = ERRNO_VALUE(_e);                                           \
                log_get_max_level() >= _l                                       \
                        ? log_internal(_l, _e, __FILE__, __LINE__, __func__, __VA_ARGS__) \
                        : -_e;                                                  \
        })
#define log_full(level, ...) (void) log_full_errno(level, 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

/* These return -abs(error), so "return log_error_errno(r, ...)" works. */
#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_notice_errno(e, ...) log_full_errno(LOG_NOTICE, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)

#define log_oom() log_error_errno(ENOMEM, "Out of memory.")

/* The last message logged at LOG_ERR or worse ("" if none), for a worker
 * process that hands the reason it failed to whoever asked. */
const char *log_last_error(void);
