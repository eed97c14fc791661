/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Parses untrusted JSON: refuses more than max_size bytes, nesting deeper than
 * 64, trailing garbage and non-object top levels when want_object is set. */
int json_parse_bounded(const char *buf, size_t size, size_t max_size, bool want_object,
                       json_object **ret);

/* Declarative parsing, after systemd's JsonDispatch: one row per field. */
typedef int (*json_dispatch_cb)(const char *name, json_object *v, void *dest);

typedef enum JsonDispatchFlags {
        JSON_MANDATORY = 1 << 0,
        JSON_NULLABLE = 1 << 1, /* null is accepted and means "unset" */
} JsonDispatchFlags;

typedef struct JsonDispatch {
        const char *name;
        json_type type;         /* json_type_null accepts any type */
        json_dispatch_cb cb;
        size_t offset;
        JsonDispatchFlags flags;
} JsonDispatch;

/* Returns -EBADMSG with a logged reason naming `what` and the field. Unknown
 * fields are ignored (OCI documents grow). */
int json_dispatch(json_object *obj, const JsonDispatch table[], const char *what, void *base);

int json_dispatch_string(const char *name, json_object *v, void *dest);   /* char ** */
int json_dispatch_strv(const char *name, json_object *v, void *dest);     /* char *** */
int json_dispatch_uint64(const char *name, json_object *v, void *dest);   /* uint64_t * */
int json_dispatch_uint32(const char *name, json_object *v, void *dest);   /* uint32_t * */
int json_dispatch_int(const char *name, json_object *v, void *dest);      /* int * */
int json_dispatch_bool(const char *name, json_object *v, void *dest);     /* bool * */
int json_dispatch_object(const char *name, json_object *v, void *dest);   /* json_object ** (ref taken) */

/* A JSON array of the strings in l; NULL on OOM. */
json_object *json_strv_new(char *const *l);

/* Prints obj to f, pretty when pretty is set, with a trailing newline. */
int json_print(FILE *f, json_object *obj, bool pretty);
