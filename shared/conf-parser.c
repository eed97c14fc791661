/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf-parser.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"

/* Messages quote what the file says, and the file is hostile: no control
 * byte (ESC, CR) reaches a log or a terminal through them. */
static char *sanitize(char *s) {
        for (char *p = s; p && *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        return s;
}

static void config_warning(ConfigContext *ctx, const char *fmt, ...) _printf_(2, 3);
static void config_warning(ConfigContext *ctx, const char *fmt, ...) {
        char why[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        log_warning("%s:%u: %s", ctx->path, ctx->line, sanitize(why));
}

int config_error(ConfigContext *ctx, const char *fmt, ...) {
        char why[512];
        va_list ap;

        assert(fmt);

        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        ctx->error = mfree(ctx->error);
        if (ctx->line > 0)
                (void) asprintf_safe(&ctx->error, "%s:%u: %s%s%s", ctx->path, ctx->line, strempty(ctx->key),
                                     ctx->key ? "=: " : "", why);
        else
                (void) asprintf_safe(&ctx->error, "%s: %s%s%s", ctx->path, strempty(ctx->key),
                                     ctx->key ? "=: " : "", why);
        sanitize(ctx->error);
        return -EBADMSG;
}

static bool table_has_wildcard(const ConfigTableItem *items) {
        for (const ConfigTableItem *i = items; i->key; i++)
                if (!i->section)
                        return true;
        return false;
}

/* The table's one section name, or NULL when it has several or none; errors
 * name it ("only [Zone] is known"). */
static const char *table_only_section(const ConfigTableItem *items) {
        const char *only = NULL;

        for (const ConfigTableItem *i = items; i->key; i++) {
                if (!i->section)
                        return NULL;
                if (only && !streq(only, i->section))
                        return NULL;
                only = i->section;
        }
        return only;
}

static bool section_is_known(const ConfigTableItem *items, const char *section) {
        for (const ConfigTableItem *i = items; i->key; i++)
                if (!i->section || streq(i->section, section))
                        return true;
        return false;
}

static const ConfigTableItem *table_lookup(const ConfigTableItem *items, const char *section, const char *key) {
        for (const ConfigTableItem *i = items; i->key; i++)
                if ((!i->section || streq_ptr(i->section, section)) && streq(i->key, key))
                        return i;
        return NULL;
}

static int parse_header(const ConfigFormat *f, ConfigContext *ctx, char *line, char ***seen, bool *skipping) {
        size_t n = strlen(line);
        const char *only = table_only_section(f->items);
        char *name;

        if (n < 3 || line[n - 1] != ']')
                return config_error(ctx, "expected [Section], got '%s'", line);
        line[n - 1] = 0;
        name = line + 1;
        if (!section_is_known(f->items, name)) {
                if (!(f->flags & CONFIG_UNKNOWN_SECTION_WARN))
                        return only ? config_error(ctx, "unknown section [%s] (only [%s] is known)", name, only)
                                    : config_error(ctx, "unknown section [%s]", name);
                config_warning(ctx, "ignoring unknown section [%.64s].", name);
                ctx->section = NULL;
                *skipping = true;
                return 0;
        }
        if (f->flags & CONFIG_SECTION_ONCE) {
                if (strv_contains(*seen, name))
                        return config_error(ctx, "duplicate [%s] section", name);
                if (strv_extend(seen, name) < 0)
                        return -ENOMEM;
        }
        ctx->section = name;
        *skipping = false;
        return 0;
}

static int parse_assignment(const ConfigFormat *f, ConfigContext *ctx, char *line, void *userdata) {
        const ConfigTableItem *item;
        char *eq = strchr(line, '='), *key, *value;
        int r;

        if (!eq)
                return config_error(ctx, "expected Key=Value or a [Section] header");
        *eq = 0;
        key = strstrip(line);
        value = strstrip(eq + 1);
        if (!*key)
                return config_error(ctx, "missing key before '='");
        ctx->key = key;
        if (!ctx->section && !table_has_wildcard(f->items)) {
                const char *only = table_only_section(f->items);
                return only ? config_error(ctx, "assignment outside the [%s] section", only)
                            : config_error(ctx, "assignment before any [Section] header");
        }
        item = table_lookup(f->items, ctx->section, key);
        if (!item) {
                if (!(f->flags & CONFIG_UNKNOWN_KEY_WARN))
                        return config_error(ctx, "unknown key");
                config_warning(ctx, "%.64s=: unknown key, ignoring.", key);
                return 0;
        }
        r = item->parse(ctx, item, value, (uint8_t *) userdata + item->offset);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && !ctx->error)
                return config_error(ctx, "invalid value '%s'", value);
        return r < 0 ? -EBADMSG : 0;
}

static unsigned line_of(const char *data, const char *at) {
        unsigned n = 1;

        for (const char *p = data; p < at; p++)
                if (*p == '\n')
                        n++;
        return n;
}

int config_parse(const ConfigFormat *f, const char *path, const char *data, size_t size, void *userdata,
                 char **ret_error) {
        _cleanup_strv_free_ char **seen = NULL;
        _cleanup_free_ char *copy = NULL;
        ConfigContext ctx = { .path = path, .section = f->default_section };
        bool skipping = false;
        const char *nul;
        char *p, *nl;
        int r = 0;

        assert(f);
        assert(path);
        assert(data || size == 0);

        if (ret_error)
                *ret_error = NULL;
        if (size > CONFIG_FILE_MAX) {
                r = config_error(&ctx, "file larger than %u bytes", CONFIG_FILE_MAX);
                goto finish;
        }
        nul = memchr(data, 0, size);
        if (nul) {
                ctx.line = line_of(data, nul);
                r = config_error(&ctx, "contains a NUL byte");
                goto finish;
        }
        copy = malloc(size + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, data, size);
        copy[size] = 0;

        for (p = copy; p; p = nl) {
                char *line;

                nl = strchr(p, '\n');
                if (nl)
                        *nl++ = 0;
                ctx.line++;
                ctx.key = NULL;
                line = strstrip(p);
                if (!*line || *line == '#' || *line == ';')
                        continue;
                if (strlen(line) > CONFIG_LINE_MAX)
                        r = config_error(&ctx, "line longer than %u bytes", CONFIG_LINE_MAX);
                else if ((f->flags & CONFIG_PRINTABLE) && !string_is_printable(line, SIZE_MAX))
                        r = config_error(&ctx, "line contains control characters or non-ASCII bytes");
                else if (*line == '[')
                        r = parse_header(f, &ctx, line, &seen, &skipping);
                else if (!skipping)
                        r = parse_assignment(f, &ctx, line, userdata);
                if (r < 0)
                        break;
        }
finish:
        if (r == -EBADMSG && ret_error)
                *ret_error = TAKE_PTR(ctx.error);
        free(ctx.error);
        return r;
}

int config_read_file(const char *path, char **ret, size_t *ret_size, char **ret_error) {
        int r;

        assert(path);
        assert(ret);
        assert(ret_size);

        if (ret_error)
                *ret_error = NULL;
        r = read_full_file(path, CONFIG_FILE_MAX, ret, ret_size);
        if (r < 0 && r != -ENOENT && r != -ENOMEM && ret_error)
                (void) asprintf_safe(ret_error, "%s: %s", path,
                                     r == -EFBIG ? "file larger than 64 KiB" : strerror(-r));
        return r;
}

int config_parse_file(const ConfigFormat *f, const char *path, void *userdata, char **ret_error) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        assert(f);
        assert(path);

        r = config_read_file(path, &data, &size, ret_error);
        if (r < 0)
                return r;
        return config_parse(f, path, data, size, userdata, ret_error);
}

static int log_parse_error(int r, const char *error) {
        if (r == -ENOMEM)
                return log_oom();
        log_error("%s", error ?: "Failed to parse a configuration file.");
        return r == -EBADMSG ? -EINVAL : r;
}

int config_parse_logged(const ConfigFormat *f, const char *origin, const char *text, void *userdata) {
        _cleanup_free_ char *error = NULL;
        int r = config_parse(f, origin, text, strlen(text), userdata, &error);

        assert(f);
        assert(origin);
        assert(text);

        return r < 0 ? log_parse_error(r, error) : 0;
}

int config_load_logged(const ConfigFormat *f, const char *path, void *userdata) {
        _cleanup_free_ char *error = NULL;
        int r = config_parse_file(f, path, userdata, &error);

        assert(f);
        assert(path);

        if (r == -ENOENT)
                return 0;
        return r < 0 ? log_parse_error(r, error) : 0;
}

int config_parse_string(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data) {
        char **s = data, *n = strdup(value);

        assert(ctx);
        assert(item);
        assert(value);
        assert(data);

        if (!n)
                return -ENOMEM;
        free(*s);
        *s = n;
        return 0;
}

int config_parse_path(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data) {
        assert(ctx);
        assert(item);
        assert(value);
        assert(data);

        if (value[0] != '/' || !string_is_printable(value, 4096))
                return config_error(ctx, "'%s' is not an absolute path", value);
        return config_parse_string(ctx, item, value, data);
}

int config_parse_strv(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data) {
        _cleanup_free_ char *copy = strdup(value);
        char ***l = data, *save = NULL;

        assert(ctx);
        assert(item);
        assert(value);
        assert(data);

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save))
                if (strv_extend(l, w) < 0)
                        return -ENOMEM;
        return 0;
}

int config_parse_bool(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data) {
        int b = parse_boolean(value);

        assert(ctx);
        assert(item);
        assert(value);
        assert(data);

        if (b < 0)
                return config_error(ctx, "'%s' is not a boolean", value);
        *(bool *) data = b;
        return 0;
}

static int parse_bounded(ConfigContext *ctx, const ConfigTableItem *item, const char *value, uint64_t type_max,
                         uint64_t *ret) {
        uint64_t v, max = item->max ?: type_max;
        int r = safe_atou64(value, &v);

        if (r == -EINVAL)
                return config_error(ctx, "'%s' is not a number", value);
        if (r < 0 || v < item->min || v > max)
                return config_error(ctx, "'%s' is out of range (%" PRIu64 "..%" PRIu64 ")", value, item->min, max);
        *ret = v;
        return 0;
}

#define DEFINE_CONFIG_PARSE_NUMBER(function, type, type_max)                                               \
        int function(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data) {      \
                uint64_t v = 0;                                                                             \
                int r = parse_bounded(ctx, item, value, type_max, &v);                                      \
                if (r < 0)                                                                                  \
                        return r;                                                                           \
                *(type *) data = (type) v;                                                                  \
                return 0;                                                                                   \
        }

DEFINE_CONFIG_PARSE_NUMBER(config_parse_unsigned, unsigned, UINT_MAX)
DEFINE_CONFIG_PARSE_NUMBER(config_parse_int, int, INT_MAX)
DEFINE_CONFIG_PARSE_NUMBER(config_parse_uint64, uint64_t, UINT64_MAX)

/* The largest unit that divides v exactly: 33554432 is "32M". */
static const char *format_size(uint64_t v, char *buf, size_t len) {
        static const char units[] = "KMGTPE";
        size_t u = 0;

        while (u < sizeof units - 1 && v >= 1024 && v % 1024 == 0) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, len, "%" PRIu64, v);
        else
                snprintf(buf, len, "%" PRIu64 "%c", v, units[u - 1]);
        return buf;
}

int config_parse_size(ConfigContext *ctx, const ConfigTableItem *item, const char *value, void *data) {
        uint64_t v, max = item->max ?: UINT64_MAX;
        char a[32], b[32];
        int r = parse_size(value, &v);

        assert(ctx);
        assert(item);
        assert(value);
        assert(data);

        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return config_error(ctx, "'%s' is not a size (e.g. 512M, 2G)", value);
        if (v < item->min || v > max)
                return config_error(ctx, "%s is out of range (%s..%s)", value, format_size(item->min, a, sizeof a),
                                    format_size(max, b, sizeof b));
        *(uint64_t *) data = v;
        return 0;
}
