/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "macro.h"

#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

static inline const char *strempty(const char *s) {
        return s ?: "";
}

static inline bool isempty(const char *s) {
        return !s || !*s;
}

/* Returns the rest of s after prefix, or NULL. */
const char *startswith(const char *s, const char *prefix);
const char *endswith(const char *s, const char *suffix);

int safe_atou(const char *s, unsigned *ret);
int safe_atou64(const char *s, uint64_t *ret);
int safe_atoi(const char *s, int *ret);
/* "512", "512K", "64M", "2G" (1024-based) to bytes. */
int parse_size(const char *s, uint64_t *ret);
/* "yes/no/true/false/1/0/on/off" */
int parse_boolean(const char *s);

/* NULL-terminated list of strings joined; returns NULL on OOM. */
char *strjoin_real(const char *first, ...);
#define strjoin(...) strjoin_real(__VA_ARGS__, NULL)
char *path_join_real(const char *first, ...);
#define path_join(...) path_join_real(__VA_ARGS__, NULL)

/* Trims leading and trailing white space in place; returns the start. */
char *strstrip(char *s);

/* A file name component: non-empty, no '/', not "." or "..", bounded length. */
bool filename_is_valid(const char *s);
/* True when every byte is printable ASCII (no control characters). */
bool string_is_printable(const char *s, size_t max_len);

/* Heap-allocated NULL-terminated string vectors. */
typedef char **strv_t;
void strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)
size_t strv_length(char *const *l);
int strv_extend(char ***l, const char *value);  /* copies value */
int strv_consume(char ***l, char *value);       /* takes value */
char **strv_copy(char *const *l);
bool strv_contains(char *const *l, const char *s);
char *strv_join(char *const *l, const char *sep);
#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)

int asprintf_safe(char **ret, const char *fmt, ...) _printf_(2, 3);
