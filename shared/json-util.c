/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "string-util.h"

int json_parse_bounded(const char *buf, size_t size, size_t max_size, bool want_object,
                       json_object **ret) {
        json_tokener *tok;
        json_object *o;
        enum json_tokener_error err;

        assert(buf || size == 0);
        assert(ret);

        if (size > max_size)
                return -EFBIG;
        if (size > INT32_MAX)
                return -EFBIG;
        tok = json_tokener_new_ex(64);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, buf, (int) size);
        err = json_tokener_get_error(tok);
        if (err == json_tokener_continue) {
                /* Flush: a complete document needs no more input. */
                o = json_tokener_parse_ex(tok, "", 1);
                err = json_tokener_get_error(tok);
        }
        if (!o || err != json_tokener_success) {
                json_object_put(o);
                json_tokener_free(tok);
                return -EBADMSG;
        }
        /* Only whitespace may follow the document. */
        for (size_t i = json_tokener_get_parse_end(tok); i < size; i++)
                if (!strchr(" \t\r\n", buf[i]) && buf[i] != 0) {
                        json_object_put(o);
                        json_tokener_free(tok);
                        return -EBADMSG;
                }
        json_tokener_free(tok);
        if (want_object && !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

static const char *type_name(json_type t) {
        return json_type_to_name(t) ?: "unknown";
}

int json_dispatch(json_object *obj, const JsonDispatch table[], const char *what, void *base) {
        assert(table);
        assert(what);
        assert(base);

        if (!obj || !json_object_is_type(obj, json_type_object))
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s: expected a JSON object.", what);

        for (const JsonDispatch *d = table; d->name; d++) {
                json_object *v = NULL;
                int r;

                if (!json_object_object_get_ex(obj, d->name, &v) || !v) {
                        bool present = json_object_object_get_ex(obj, d->name, NULL);
                        if (present && (d->flags & JSON_NULLABLE))
                                continue;
                        if (d->flags & JSON_MANDATORY)
                                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                                       "%s: mandatory field '%s' is missing.", what, d->name);
                        continue;
                }
                if (d->type != json_type_null && !json_object_is_type(v, d->type)) {
                        /* json-c types integers as int; accept them where a double is wanted */
                        if (!(d->type == json_type_double && json_object_is_type(v, json_type_int)))
                                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                                       "%s: field '%s' should be %s, is %s.", what,
                                                       d->name, type_name(d->type),
                                                       type_name(json_object_get_type(v)));
                }
                r = d->cb(d->name, v, (uint8_t *) base + d->offset);
                if (r < 0)
                        return log_error_errno(r == -ENOMEM ? r : SYNTHETIC_ERRNO(EBADMSG),
                                               "%s: field '%s' is invalid.", what, d->name);
        }
        return 0;
}

int json_dispatch_string(const char *name _unused_, json_object *v, void *dest) {
        char **s = dest;
        char *n;

        assert(v);
        assert(dest);

        if (!json_object_is_type(v, json_type_string))
                return -EINVAL;
        n = strdup(json_object_get_string(v));
        if (!n)
                return -ENOMEM;
        free(*s);
        *s = n;
        return 0;
}

int json_dispatch_strv(const char *name _unused_, json_object *v, void *dest) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        char ***out = dest;
        size_t n;

        assert(v);
        assert(dest);

        if (!l)
                return -ENOMEM;
        if (!json_object_is_type(v, json_type_array))
                return -EINVAL;
        n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                if (!json_object_is_type(e, json_type_string))
                        return -EINVAL;
                if (strv_extend(&l, json_object_get_string(e)) < 0)
                        return -ENOMEM;
        }
        strv_free(*out);
        *out = TAKE_PTR(l);
        return 0;
}

int json_dispatch_uint64(const char *name _unused_, json_object *v, void *dest) {
        assert(v);
        assert(dest);

        if (!json_object_is_type(v, json_type_int))
                return -EINVAL;
        errno = 0;
        int64_t i = json_object_get_int64(v);
        if (i < 0) {
                /* json-c keeps values above INT64_MAX as uint64 */
                if (json_object_get_uint64(v) <= INT64_MAX)
                        return -ERANGE;
                *(uint64_t *) dest = json_object_get_uint64(v);
                return 0;
        }
        *(uint64_t *) dest = (uint64_t) i;
        return 0;
}

int json_dispatch_uint32(const char *name, json_object *v, void *dest) {
        uint64_t u;
        int r = json_dispatch_uint64(name, v, &u);

        assert(v);
        assert(dest);

        if (r < 0)
                return r;
        if (u > UINT32_MAX)
                return -ERANGE;
        *(uint32_t *) dest = (uint32_t) u;
        return 0;
}

int json_dispatch_int(const char *name _unused_, json_object *v, void *dest) {
        assert(v);
        assert(dest);

        int64_t i;
        if (!json_object_is_type(v, json_type_int))
                return -EINVAL;
        i = json_object_get_int64(v);
        if (i < INT32_MIN || i > INT32_MAX)
                return -ERANGE;
        *(int *) dest = (int) i;
        return 0;
}

int json_dispatch_bool(const char *name _unused_, json_object *v, void *dest) {
        assert(v);
        assert(dest);

        if (!json_object_is_type(v, json_type_boolean))
                return -EINVAL;
        *(bool *) dest = json_object_get_boolean(v);
        return 0;
}

int json_dispatch_object(const char *name _unused_, json_object *v, void *dest) {
        assert(v);
        assert(dest);

        json_object **o = dest;
        json_object_put(*o);
        *o = json_object_get(v);
        return 0;
}

json_object *json_strv_new(char *const *l) {
        json_object *a = json_object_new_array();
        if (!a)
                return NULL;
        STRV_FOREACH(s, l)
                if (json_object_array_add(a, json_object_new_string(*s)) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        return a;
}

int json_print(FILE *f, json_object *obj, bool pretty) {
        const char *s = json_object_to_json_string_ext(
                obj, (pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN) |
                             JSON_C_TO_STRING_NOSLASHESCAPE);

        assert(f);
        assert(obj);

        if (!s)
                return -ENOMEM;
        fputs(s, f);
        fputc('\n', f);
        return 0;
}
