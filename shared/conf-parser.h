/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* The one parser of krata's INI files (imaged.conf, networkd.conf, NAME.zone),
 * after systemd's conf-parser: a table maps [Section] Key to a parser function
 * and a place in the caller's struct.
 *
 *   # comment          ; comment too (whole lines only)
 *   [Section]
 *   Key = value        blanks around key and value are dropped
 *
 * No line continuation (none of the formats ever had one). Every outside byte
 * is hostile: the file is at most CONFIG_FILE_MAX bytes, holds no NUL, and a
 * setting or header line is at most CONFIG_LINE_MAX bytes. A key given twice
 * is assigned twice: the last value wins for scalars, list parsers append.
 *
 * Errors read "PATH:LINE: Key=: reason" (or "PATH:LINE: reason" when no key is
 * involved, "PATH: reason" for the whole file). */

#define CONFIG_FILE_MAX (64U * 1024U)
#define CONFIG_LINE_MAX (4096U + 64U)

/* Where the parser is; what callbacks get to name in their errors. */
typedef struct ConfigContext {
        const char *path;
        unsigned line;
        const char *section; /* NULL before any header */
        const char *key;
        char *error;         /* set by config_error() */
} ConfigContext;

typedef struct ConfigTableItem ConfigTableItem;

/* value is stripped and never NULL; data is userdata + item->offset. Returns 0,
 * -ENOMEM, or config_error(). Any other negative errno is reported as an
 * invalid value. */
typedef int (*ConfigParserCallback)(ConfigContext *ctx, const ConfigTableItem *item, const char *value,
                                    void *data);

struct ConfigTableItem {
        const char *section; /* NULL: the key is known in every section */
        const char *key;
        ConfigParserCallback parse;
        size_t offset;
        uint64_t min, max;   /* bounds of the number and size parsers; max 0: the type's */
};

typedef enum ConfigParseFlags {
        CONFIG_UNKNOWN_KEY_WARN     = 1 << 0, /* log and skip unknown keys (else an error) */
        CONFIG_UNKNOWN_SECTION_WARN = 1 << 1, /* log and skip an unknown section's lines (else an error) */
        CONFIG_SECTION_ONCE         = 1 << 2, /* a section header may not appear twice */
        CONFIG_PRINTABLE            = 1 << 3, /* settings are printable ASCII: no tabs, no control bytes */
} ConfigParseFlags;

typedef struct ConfigFormat {
        const ConfigTableItem *items; /* ends with an item whose key is NULL */
        const char *default_section;  /* what keys before any header belong to; NULL: only
                                       * items of section NULL are known there */
        ConfigParseFlags flags;
} ConfigFormat;

/* Returns 0; -ENOMEM; or -EBADMSG with *ret_error (malloc'd) saying why. */
int config_parse(const ConfigFormat *f, const char *path, const char *data, size_t size, void *userdata,
                 char **ret_error);
/* Reads a file of at most CONFIG_FILE_MAX bytes; -ENOENT (no message) when it
 * does not exist, any other failure with *ret_error set. */
int config_read_file(const char *path, char **ret, size_t *ret_size, char **ret_error);
/* Reads and parses a file; -ENOENT when it does not exist (no message), any
 * other read failure with *ret_error set. */
int config_parse_file(const ConfigFormat *f, const char *path, void *userdata, char **ret_error);

/* For daemons: the same, logging the error; a malformed file is -EINVAL, a
 * missing one (config_load_logged) means the defaults and returns 0. */
int config_parse_logged(const ConfigFormat *f, const char *origin, const char *text, void *userdata);
int config_load_logged(const ConfigFormat *f, const char *path, void *userdata);

/* Sets ctx->error to "PATH:LINE: Key=: why" and returns -EBADMSG. */
int config_error(ConfigContext *ctx, const char *fmt, ...) _printf_(2, 3);

/* Typed parsers. */
int config_parse_string(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data); /* char * */
int config_parse_path(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data);   /* char *, absolute, printable */
int config_parse_strv(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data);   /* char **: words split at blanks and commas, appended */
int config_parse_bool(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data);   /* bool */
int config_parse_unsigned(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data); /* unsigned in [min, max] */
int config_parse_int(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data);    /* int: decimal digits only, in [min, max] */
int config_parse_uint64(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data); /* uint64_t in [min, max] */
int config_parse_size(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data);   /* uint64_t bytes, "512M", "2G", in [min, max] */
