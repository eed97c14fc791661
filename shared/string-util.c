/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "string-util.h"

const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);

        assert(s);
        assert(prefix);

        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

const char *endswith(const char *s, const char *suffix) {
        size_t ls = strlen(s), lx = strlen(suffix);

        assert(s);
        assert(suffix);

        return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0 ? s + ls - lx : NULL;
}

int safe_atou64(const char *s, uint64_t *ret) {
        unsigned long long v;
        char *end;

        assert(ret);

        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int safe_atou(const char *s, unsigned *ret) {
        uint64_t v;
        int r = safe_atou64(s, &v);

        assert(s);
        assert(ret);

        if (r < 0)
                return r;
        if (v > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int safe_atoi(const char *s, int *ret) {
        long v;
        char *end;

        assert(ret);

        if (isempty(s))
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno == ERANGE || v < INT_MIN || v > INT_MAX)
                return -ERANGE;
        if (*end || isspace((unsigned char) s[0]))
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        static const struct { char c; unsigned shift; } units[] = {
                { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 },
        };
        _cleanup_free_ char *num = NULL;
        unsigned shift = 0;
        uint64_t v;
        size_t l;
        int r;

        assert(ret);

        if (isempty(s))
                return -EINVAL;
        num = strdup(s);
        if (!num)
                return -ENOMEM;
        l = strlen(num);
        if (l > 1 && (num[l - 1] == 'B' || num[l - 1] == 'b') && l > 2 && isalpha((unsigned char) num[l - 2]))
                num[--l] = 0;  /* "64MB", "64MiB" handled below */
        if (l > 2 && num[l - 1] == 'i')
                num[--l] = 0;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (toupper((unsigned char) num[l - 1]) == units[i].c) {
                        shift = units[i].shift;
                        num[--l] = 0;
                        break;
                }
        r = safe_atou64(num, &v);
        if (r < 0)
                return r;
        if (shift && v > (UINT64_MAX >> shift))
                return -ERANGE;
        *ret = v << shift;
        return 0;
}

int parse_boolean(const char *s) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

static char *join_va(const char *first, va_list ap, bool path) {
        size_t len = 0, n = 0;
        const char *s;
        char *ret, *p;
        va_list aq;

        va_copy(aq, ap);
        for (s = first; s; s = va_arg(aq, const char *))
                len += strlen(s) + 1;
        va_end(aq);

        ret = p = malloc(len + 1);
        if (!ret)
                return NULL;
        for (s = first; s; s = va_arg(ap, const char *), n++) {
                if (path && n > 0) {
                        if (p > ret && p[-1] != '/')
                                *p++ = '/';
                        while (*s == '/')
                                s++;
                }
                p = stpcpy(p, s);
        }
        *p = 0;
        return ret;
}

char *strjoin_real(const char *first, ...) {
        va_list ap;
        char *r;
        va_start(ap, first);
        r = join_va(first, ap, false);
        va_end(ap);
        return r;
}

char *path_join_real(const char *first, ...) {
        va_list ap;
        char *r;
        va_start(ap, first);
        r = join_va(first, ap, true);
        va_end(ap);
        return r;
}

char *strstrip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}

bool filename_is_valid(const char *s) {
        if (isempty(s) || streq(s, ".") || streq(s, ".."))
                return false;
        if (strchr(s, '/'))
                return false;
        return strlen(s) <= 255;
}

bool string_is_printable(const char *s, size_t max_len) {
        size_t i;

        assert(s);

        for (i = 0; s[i]; i++) {
                if (i >= max_len)
                        return false;
                if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] >= 0x7f)
                        return false;
        }
        return true;
}

void strv_free(char **l) {
        STRV_FOREACH(s, l)
                free(*s);
        free(l);
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        STRV_FOREACH(s, l)
                n++;
        return n;
}

int strv_consume(char ***l, char *value) {
        size_t n = strv_length(*l);
        char **c;

        if (!value)
                return -ENOMEM;
        c = realloc(*l, sizeof(char *) * (n + 2));
        if (!c) {
                free(value);
                return -ENOMEM;
        }
        c[n] = value;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *value) {
        assert(l);
        assert(value);

        return strv_consume(l, strdup(value));
}

char **strv_copy(char *const *l) {
        _cleanup_strv_free_ char **c = calloc(1, sizeof(char *));
        if (!c)
                return NULL;
        STRV_FOREACH(s, l)
                if (strv_extend(&c, *s) < 0)
                        return NULL;
        return TAKE_PTR(c);
}

bool strv_contains(char *const *l, const char *s) {
        assert(s);

        STRV_FOREACH(i, l)
                if (streq(*i, s))
                        return true;
        return false;
}

char *strv_join(char *const *l, const char *sep) {
        size_t len = 1, k = strlen(sep);
        char *r, *p;

        assert(sep);

        STRV_FOREACH(s, l)
                len += strlen(*s) + k;
        r = p = malloc(len);
        if (!r)
                return NULL;
        *p = 0;
        STRV_FOREACH(s, l) {
                if (s != l)
                        p = stpcpy(p, sep);
                p = stpcpy(p, *s);
        }
        return r;
}

int asprintf_safe(char **ret, const char *fmt, ...) {
        va_list ap;
        int r;

        assert(ret);
        assert(fmt);

        va_start(ap, fmt);
        r = vasprintf(ret, fmt, ap);
        va_end(ap);
        if (r < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}
