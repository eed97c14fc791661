/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf-parser.h"
#include "fs-util.h"
#include "paths.h"
#include "string-util.h"
#include "zone-file.h"

int zone_spec_init(ZoneSpec *s, const char *name) {
        assert(s);
        assert(name);

        *s = (ZoneSpec) {
                .name = strdup(name),
                .memory = ZONE_MEMORY_DEFAULT,
                .vcpus = 1,
                .restart = _ZONE_RESTART_UNSET,
                .restart_usec = ZONE_RESTART_SEC_UNSET,
        };
        return s->name ? 0 : -ENOMEM;
}

ZoneSpec *zone_spec_new(const char *name) {
        ZoneSpec *s = malloc(sizeof *s);

        assert(name);

        if (!s)
                return NULL;
        if (zone_spec_init(s, name) < 0)
                return mfree(s);
        return s;
}

void zone_spec_done(ZoneSpec *s) {
        if (!s)
                return;
        free(s->name);
        free(s->uuid);
        free(s->image);
        free(s->kernel);
        strv_free(s->environment);
        free(s->ports);
        free(s->working_directory);
        free(s->user);
        strv_free(s->command);
        strv_free(s->wanted_by);
        strv_free(s->required_by);
        *s = (ZoneSpec) {};
}

ZoneSpec *zone_spec_free(ZoneSpec *s) {
        zone_spec_done(s);
        return mfree(s);
}

bool zone_name_is_valid(const char *name) {
        size_t n;

        /* ASCII by hand, not islower(): the rule must not depend on the locale. */
        if (isempty(name) || name[0] == '-')
                return false;
        n = strlen(name);
        if (n > ZONE_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
                        return false;
        return true;
}

bool zone_install_unit_is_valid(const char *unit) {
        static const char *const suffixes[] = { ".target", ".service", ".socket", ".timer", ".path", ".slice" };
        const char *at, *dot;
        size_t n;

        /* systemd's unit name rules, limited to units that can want another. */
        if (isempty(unit) || unit[0] == '.' || unit[0] == '-' || (n = strlen(unit)) > 255)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((unit[i] >= 'a' && unit[i] <= 'z') || (unit[i] >= 'A' && unit[i] <= 'Z') ||
                      (unit[i] >= '0' && unit[i] <= '9') || strchr(":_.\\-@", unit[i])))
                        return false;
        dot = strrchr(unit, '.');
        at = strchr(unit, '@');
        if (dot == unit || (at && (at + 1 == dot || at > dot || strchr(at + 1, '@'))))
                return false; /* no name, a template without instance, two '@' */
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                if (streq(dot, suffixes[i]))
                        return true;
        return false;
}

static const char *const restart_names[_ZONE_RESTART_MAX] = {
        [ZONE_RESTART_NO] = "no",
        [ZONE_RESTART_ON_FAILURE] = "on-failure",
        [ZONE_RESTART_ALWAYS] = "always",
};

const char *zone_restart_to_string(ZoneRestart r) {
        return r >= 0 && r < _ZONE_RESTART_MAX ? restart_names[r] : NULL;
}

ZoneRestart zone_restart_from_string(const char *s) {
        for (int i = 0; i < _ZONE_RESTART_MAX; i++)
                if (streq_ptr(s, restart_names[i]))
                        return (ZoneRestart) i;
        return _ZONE_RESTART_UNSET;
}

const char *zone_restart_sec_format(uint64_t usec, char *buf, size_t len) {
        if (usec % 1000000 == 0)
                snprintf(buf, len, "%" PRIu64 "s", usec / 1000000);
        else if (usec % 1000 == 0)
                snprintf(buf, len, "%" PRIu64 "ms", usec / 1000);
        else
                snprintf(buf, len, "%" PRIu64 "us", usec);
        return buf;
}

bool zone_uuid_is_valid(const char *uuid) {
        if (!uuid || strlen(uuid) != 36)
                return false;
        for (size_t i = 0; i < 36; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (uuid[i] != '-')
                                return false;
                } else if (!isxdigit((unsigned char) uuid[i]) || isupper((unsigned char) uuid[i]))
                        return false;
        }
        return true;
}

static int parse_port_number(const char *s, size_t len, uint16_t *ret) {
        char buf[8];
        unsigned v;

        if (len == 0 || len >= sizeof buf)
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = 0;
        for (size_t i = 0; i < len; i++)
                if (!isdigit((unsigned char) buf[i]))
                        return -EINVAL;
        if (safe_atou(buf, &v) < 0 || v == 0 || v > 65535)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

int zone_port_parse(const char *s, ZonePort *ret) {
        const char *colon, *slash, *end;
        ZonePort p = { .proto = ZONE_PORT_TCP };

        assert(s);
        assert(ret);

        if (isempty(s))
                return -EINVAL;
        colon = strchr(s, ':');
        if (!colon)
                return -EINVAL;
        slash = strchr(colon, '/');
        end = slash ?: colon + strlen(colon);
        if (parse_port_number(s, (size_t) (colon - s), &p.host_port) < 0 ||
            parse_port_number(colon + 1, (size_t) (end - colon - 1), &p.zone_port) < 0)
                return -EINVAL;
        if (slash) {
                if (streq(slash + 1, "udp"))
                        p.proto = ZONE_PORT_UDP;
                else if (!streq(slash + 1, "tcp"))
                        return -EINVAL;
        }
        *ret = p;
        return 0;
}

const char *zone_port_format(const ZonePort *p, char *buf, size_t len) {
        assert(p);
        assert(buf);

        snprintf(buf, len, "%u:%u/%s", p->host_port, p->zone_port,
                 p->proto == ZONE_PORT_UDP ? "udp" : "tcp");
        return buf;
}

bool zone_env_is_valid(const char *a) {
        const char *eq;

        if (!a || !string_is_printable(a, ZONE_VALUE_MAX))
                return false;
        eq = strchr(a, '=');
        if (!eq || eq == a)
                return false;
        for (const char *p = a; p < eq; p++)
                if (!isalnum((unsigned char) *p) && *p != '_' && *p != '.' && *p != '-')
                        return false;
        return !isdigit((unsigned char) a[0]);
}

int zone_split_words(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n = strlen(s);
        _cleanup_free_ char *w = malloc(n + 1);
        const char *p = s;
        int r;

        assert(s);
        assert(ret);

        if (!w)
                return -ENOMEM;
        for (;;) {
                size_t k = 0;
                char quote = 0;
                bool have = false;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                for (; *p; p++) {
                        if (!quote && (*p == ' ' || *p == '\t'))
                                break;
                        if (!quote && (*p == '"' || *p == '\'')) {
                                quote = *p;
                                have = true;
                                continue;
                        }
                        if (quote && *p == quote) {
                                quote = 0;
                                continue;
                        }
                        if (*p == '\\' && quote != '\'') {
                                p++;
                                switch (*p) {
                                case '\\': case '"': case '\'': case ' ':
                                        w[k++] = *p;
                                        break;
                                case 'n':
                                        w[k++] = '\n';
                                        break;
                                case 't':
                                        w[k++] = '\t';
                                        break;
                                default:
                                        return -EINVAL; /* includes a trailing backslash */
                                }
                                have = true;
                                continue;
                        }
                        w[k++] = *p;
                        have = true;
                }
                if (quote)
                        return -EINVAL;
                if (!have)
                        break;
                w[k] = 0;
                r = strv_extend(&l, w);
                if (r < 0)
                        return r;
        }
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static bool word_needs_quotes(const char *w) {
        if (!*w)
                return true;
        for (const char *p = w; *p; p++)
                if (strchr(" \t\"'\\\n", *p))
                        return true;
        return false;
}

char *zone_join_words(char *const *words) {
        size_t len = 1;
        char *buf, *o;

        STRV_FOREACH(w, words)
                len += strlen(*w) * 2 + 3;
        buf = o = malloc(len);
        if (!buf)
                return NULL;
        STRV_FOREACH(w, words) {
                bool q = word_needs_quotes(*w);

                if (o != buf)
                        *o++ = ' ';
                if (q)
                        *o++ = '"';
                for (const char *p = *w; *p; p++) {
                        if (*p == '"' || *p == '\\') {
                                *o++ = '\\';
                                *o++ = *p;
                        } else if (*p == '\n') {
                                *o++ = '\\';
                                *o++ = 'n';
                        } else if (*p == '\t') {
                                *o++ = '\\';
                                *o++ = 't';
                        } else
                                *o++ = *p;
                }
                if (q)
                        *o++ = '"';
        }
        *o = 0;
        return buf;
}

/* ---- parsing ---- */

/* A value that is one word may be written in double quotes (to keep leading
 * or trailing blanks); unquote it then. */
static int unquote_single(const char *v, char **ret) {
        _cleanup_strv_free_ char **w = NULL;
        int r;

        if (v[0] != '"') {
                *ret = strdup(v);
                return *ret ? 0 : -ENOMEM;
        }
        r = zone_split_words(v, &w);
        if (r < 0)
                return r;
        if (strv_length(w) != 1)
                return -EINVAL;
        *ret = TAKE_PTR(w[0]);
        return 0;
}

static int unquote_value(ConfigContext *c, const char *v, char **ret) {
        int r = unquote_single(v, ret);

        if (r < 0 && r != -ENOMEM)
                return config_error(c, "bad quoting");
        return r;
}

static int set_string(ConfigContext *c, const char *v, char **dest) {
        char *s = NULL;
        int r = unquote_value(c, v, &s);

        if (r < 0)
                return r;
        free(*dest);
        *dest = s;
        return 0;
}

static int parse_image(ConfigContext *c, const ConfigTableItem *item, const char *v, void *data) {
        if (isempty(v) || !string_is_printable(v, 512) || strchr(v, ' '))
                return config_error(c, "expected an OCI image reference");
        return set_string(c, v, data);
}

static int parse_kernel(ConfigContext *c, const ConfigTableItem *item, const char *v, void *data) {
        char **kernel = data;

        if (!string_is_printable(v, 512) || strchr(v, ' '))
                return config_error(c, "expected an OCI kernel image reference");
        if (isempty(v)) {
                *kernel = mfree(*kernel);
                return 0;
        }
        return set_string(c, v, kernel);
}

static int parse_uuid(ConfigContext *c, const ConfigTableItem *item, const char *v, void *data) {
        if (!zone_uuid_is_valid(v))
                return config_error(c, "'%s' is not a lower-case UUID", v);
        return set_string(c, v, data);
}

static int parse_environment(ConfigContext *c, const ConfigTableItem *item, const char *v, void *data) {
        char ***environment = data;
        _cleanup_free_ char *a = NULL;
        int r = unquote_value(c, v, &a);

        if (r < 0)
                return r;
        if (!zone_env_is_valid(a))
                return config_error(c, "expected KEY=VALUE, got '%s'", a);
        if (strv_length(*environment) >= ZONE_ENV_MAX)
                return config_error(c, "too many assignments (max %u)", ZONE_ENV_MAX);
        return strv_consume(environment, TAKE_PTR(a));
}

static int parse_port(ConfigContext *c, const ConfigTableItem *item, const char *v, void *data) {
        ZoneSpec *s = data;
        ZonePort p, *np;

        if (zone_port_parse(v, &p) < 0)
                return config_error(c, "'%s' is not HOST:ZONE[/tcp|/udp] with ports 1..65535", v);
        if (s->n_ports >= ZONE_PORTS_MAX)
                return config_error(c, "too many ports (max %u)", ZONE_PORTS_MAX);
        for (size_t i = 0; i < s->n_ports; i++)
                if (s->ports[i].host_port == p.host_port && s->ports[i].proto == p.proto)
                        return config_error(c, "host port %u is forwarded twice", p.host_port);
        np = realloc(s->ports, (s->n_ports + 1) * sizeof *np);
        if (!np)
                return -ENOMEM;
        s->ports = np;
        s->ports[s->n_ports++] = p;
        return 0;
}

static int parse_working_directory(ConfigContext *c, const ConfigTableItem *item, const char *v, void *data) {
        char **wd = data;
        _cleanup_free_ char *d = NULL;
        int r = unquote_value(c, v, &d);

        if (r < 0)
                return r;
        if (isempty(d)) {
                *wd = mfree(*wd);
                return 0;
        }
        if (d[0] != '/' || !string_is_printable(d, ZONE_VALUE_MAX))
                return config_error(c, "'%s' is not an absolute path", d);
        free(*wd);
        *wd = TAKE_PTR(d);
        return 0;
}

static int parse_user(ConfigContext *c, const ConfigTableItem *item, const char *v, void *data) {
        char **user = data;

        if (isempty(v)) {
                *user = mfree(*user);
                return 0;
        }
        if (!string_is_printable(v, 256) || strpbrk(v, " \t\"'"))
                return config_error(c, "'%s' is not a user name or UID[:GID]", v);
        return set_string(c, v, user);
}

static int parse_command(ConfigContext *c, const ConfigTableItem *item, const char *v, void *data) {
        char ***command = data, **w = NULL;
        int r;

        if (isempty(v)) {
                *command = (strv_free(*command), NULL);
                return 0;
        }
        r = zone_split_words(v, &w);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return config_error(c, "bad quoting in '%s'", v);
        if (strv_length(w) == 0) {
                strv_free(w);
                return config_error(c, "empty command");
        }
        strv_free(*command);
        *command = w;
        return 0;
}

static int parse_restart(ConfigContext *c, const ConfigTableItem *item, const char *v, void *data) {
        ZoneRestart r = zone_restart_from_string(v);

        if (r < 0)
                return config_error(c, "'%s' is not no, on-failure or always", v);
        *(ZoneRestart *) data = r;
        return 0;
}

/* systemd's time spans, as far as a restart delay needs them: "5", "5s",
 * "500ms", "2min", "1h" (a number and at most one unit; plain means seconds). */
static int parse_restart_sec(ConfigContext *c, const ConfigTableItem *item, const char *v, void *data) {
        static const struct { const char *unit; uint64_t usec; } units[] = {
                { "", 1000000 }, { "s", 1000000 }, { "sec", 1000000 }, { "ms", 1000 },
                { "us", 1 }, { "min", 60 * 1000000ULL }, { "h", 3600 * 1000000ULL },
        };
        const char *u = v;
        char digits[16];
        uint64_t n;

        while (*u >= '0' && *u <= '9')
                u++;
        if (u == v || (size_t) (u - v) >= sizeof digits)
                return config_error(c, "'%s' is not a time span (5, 5s, 500ms, 2min, 1h)", v);
        memcpy(digits, v, (size_t) (u - v));
        digits[u - v] = 0;
        if (safe_atou64(digits, &n) < 0)
                return config_error(c, "'%s' is not a time span (5, 5s, 500ms, 2min, 1h)", v);
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                if (!streq(u, units[i].unit))
                        continue;
                if (n > ZONE_RESTART_SEC_MAX / units[i].usec)
                        return config_error(c, "'%s' is longer than a day", v);
                *(uint64_t *) data = n * units[i].usec;
                return 0;
        }
        return config_error(c, "'%s' is not a time span (5, 5s, 500ms, 2min, 1h)", v);
}

static int parse_install_units(ConfigContext *c, const ConfigTableItem *item, const char *v, void *data) {
        char ***units = data;
        _cleanup_strv_free_ char **words = NULL;
        int r;

        r = config_parse_strv(c, item, v, &words);
        if (r < 0)
                return r;
        STRV_FOREACH(w, words) {
                if (!zone_install_unit_is_valid(*w))
                        return config_error(c, "'%s' is not a unit name (multi-user.target, NAME.service)", *w);
                if (strv_length(*units) >= ZONE_INSTALL_MAX)
                        return config_error(c, "too many units (max %u)", ZONE_INSTALL_MAX);
                if (strv_contains(*units, *w))
                        continue;
                r = strv_extend(units, *w);
                if (r < 0)
                        return r;
        }
        return 0;
}

#define ZONE_ITEM(key, parser, field, ...) \
        { "Zone", key, parser, offsetof(ZoneSpec, field), __VA_ARGS__ }
static const ConfigTableItem zone_items[] = {
        ZONE_ITEM("Image", parse_image, image),
        ZONE_ITEM("Kernel", parse_kernel, kernel),
        ZONE_ITEM("Uuid", parse_uuid, uuid),
        ZONE_ITEM("Memory", config_parse_size, memory, ZONE_MEMORY_MIN, ZONE_MEMORY_MAX),
        ZONE_ITEM("Vcpus", config_parse_unsigned, vcpus, 1, ZONE_VCPUS_MAX),
        ZONE_ITEM("Environment", parse_environment, environment),
        { "Zone", "Port", parse_port, 0 }, /* the whole spec: ports and their count */
        ZONE_ITEM("WorkingDirectory", parse_working_directory, working_directory),
        ZONE_ITEM("User", parse_user, user),
        ZONE_ITEM("Command", parse_command, command),
        ZONE_ITEM("TTY", config_parse_bool, tty),
        ZONE_ITEM("AutoRemove", config_parse_bool, auto_remove),
        ZONE_ITEM("Created", config_parse_uint64, created),
        { "Service", "Restart", parse_restart, offsetof(ZoneSpec, restart) },
        { "Service", "RestartSec", parse_restart_sec, offsetof(ZoneSpec, restart_usec) },
        { "Install", "WantedBy", parse_install_units, offsetof(ZoneSpec, wanted_by) },
        { "Install", "RequiredBy", parse_install_units, offsetof(ZoneSpec, required_by) },
        {}
};
#undef ZONE_ITEM

/* Stricter than the daemons' configuration: each section once ([Zone], and
 * [Service] and [Install] for the unit), nothing before the first, no unknown
 * keys, printable ASCII only (a spec also arrives over D-Bus and is checked by
 * formatting and parsing it again). */
static const ConfigFormat zone_format = {
        .items = zone_items,
        .flags = CONFIG_SECTION_ONCE | CONFIG_PRINTABLE,
};

_Static_assert(CONFIG_LINE_MAX >= ZONE_VALUE_MAX + 64, "a zone setting must fit in a line");
_Static_assert(CONFIG_FILE_MAX == ZONE_FILE_MAX, "zone files are configuration files");

static int name_from_path(const char *path, char **ret) {
        const char *base = strrchr(path, '/');
        const char *end;

        base = base ? base + 1 : path;
        end = endswith(base, ".zone");
        if (!end)
                return -EINVAL;
        *ret = strndup(base, (size_t) (end - base));
        return *ret ? 0 : -ENOMEM;
}

int zone_spec_parse(const char *path, const char *data, size_t size, ZoneSpec **ret, char **ret_error) {
        _cleanup_zone_spec_ ZoneSpec *s = NULL;
        _cleanup_free_ char *name = NULL;
        ConfigContext c = { .path = path };
        int r;

        assert(path);
        assert(data || size == 0);
        assert(ret);

        if (ret_error)
                *ret_error = NULL;
        r = name_from_path(path, &name);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !zone_name_is_valid(name)) {
                r = config_error(&c, "file name must be NAME.zone with NAME matching [a-z0-9][a-z0-9-]{0,62}");
                goto fail;
        }
        s = zone_spec_new(name);
        if (!s)
                return -ENOMEM;
        r = config_parse(&zone_format, path, data, size, s, ret_error);
        if (r < 0)
                return r;
        if (!s->image) {
                c.key = "Image";
                r = config_error(&c, "missing (every zone needs an image)");
                goto fail;
        }
        *ret = TAKE_PTR(s);
        return 0;
fail:
        if (ret_error)
                *ret_error = TAKE_PTR(c.error);
        free(c.error);
        return r;
}

int zone_spec_load(const char *path, ZoneSpec **ret, char **ret_error) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        assert(path);
        assert(ret);

        r = config_read_file(path, &data, &size, ret_error);
        if (r == -ENOENT && ret_error)
                (void) asprintf_safe(ret_error, "%s: %s", path, strerror(-r));
        if (r < 0)
                return r;
        return zone_spec_parse(path, data, size, ret, ret_error);
}

int zone_spec_validate(const ZoneSpec *s, char **ret_error) {
        _cleanup_free_ char *text = NULL, *path = NULL;
        _cleanup_zone_spec_ ZoneSpec *back = NULL;
        int r;

        assert(s);

        /* One set of rules: format, then parse what we formatted. */
        if (!zone_name_is_valid(s->name)) {
                if (ret_error)
                        (void) asprintf_safe(ret_error, "Invalid zone name '%s': must match [a-z0-9][a-z0-9-]{0,62}.",
                                             strempty(s->name));
                return -EINVAL;
        }
        STRV_FOREACH(w, s->command)
                for (const char *p = *w; *p; p++)
                        if ((unsigned char) *p < 0x20 && *p != '\n' && *p != '\t') {
                                if (ret_error)
                                        (void) asprintf_safe(ret_error, "Command= contains control characters.");
                                return -EINVAL;
                        }
        STRV_FOREACH(e, s->environment)
                if (strchr(*e, '\n')) {
                        if (ret_error)
                                (void) asprintf_safe(ret_error, "Environment= contains a newline.");
                        return -EINVAL;
                }
        r = zone_spec_format(s, &text);
        if (r < 0)
                return r;
        if (asprintf_safe(&path, "%s.zone", s->name) < 0)
                return -ENOMEM;
        r = zone_spec_parse(path, text, strlen(text), &back, ret_error);
        return r == -EBADMSG ? -EINVAL : r;
}

static int append(char **buf, size_t *len, const char *fmt, ...) _printf_(3, 4);
static int append(char **buf, size_t *len, const char *fmt, ...) {
        va_list ap;
        int n;
        char *nb;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        nb = realloc(*buf, *len + (size_t) n + 1);
        if (!nb)
                return -ENOMEM;
        *buf = nb;
        va_start(ap, fmt);
        vsnprintf(*buf + *len, (size_t) n + 1, fmt, ap);
        va_end(ap);
        *len += (size_t) n;
        return 0;
}

/* Quotes a single-word value when blanks at its ends or a leading quote would
 * otherwise be lost. */
static char *quote_single(const char *v) {
        size_t n = strlen(v);
        char *const w[] = { (char *) v, NULL };

        if (n > 0 && v[0] != '"' && v[0] != ' ' && v[0] != '\t' && v[n - 1] != ' ' && v[n - 1] != '\t')
                return strdup(v);
        return zone_join_words(w);
}

int zone_spec_format(const ZoneSpec *s, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        assert(s);
        assert(ret);

#define APPEND(...) do { r = append(&buf, &len, __VA_ARGS__); if (r < 0) return r; } while (0)
        APPEND("# krata zone %s (see krata-zone@.service(8))\n[Zone]\n", s->name);
        if (s->uuid)
                APPEND("Uuid=%s\n", s->uuid);
        APPEND("Image=%s\n", strempty(s->image));
        if (s->kernel)
                APPEND("Kernel=%s\n", s->kernel);
        APPEND("Memory=%" PRIu64 "\n", s->memory);
        APPEND("Vcpus=%u\n", s->vcpus);
        STRV_FOREACH(e, s->environment) {
                _cleanup_free_ char *q = quote_single(*e);
                if (!q)
                        return -ENOMEM;
                APPEND("Environment=%s\n", q);
        }
        for (size_t i = 0; i < s->n_ports; i++) {
                char b[32];
                APPEND("Port=%s\n", zone_port_format(&s->ports[i], b, sizeof b));
        }
        if (s->working_directory) {
                _cleanup_free_ char *q = quote_single(s->working_directory);
                if (!q)
                        return -ENOMEM;
                APPEND("WorkingDirectory=%s\n", q);
        }
        if (s->user)
                APPEND("User=%s\n", s->user);
        if (s->command) {
                _cleanup_free_ char *j = zone_join_words(s->command);
                if (!j)
                        return -ENOMEM;
                APPEND("Command=%s\n", j);
        }
        APPEND("TTY=%s\n", s->tty ? "yes" : "no");
        APPEND("AutoRemove=%s\n", s->auto_remove ? "yes" : "no");
        if (s->created)
                APPEND("Created=%" PRIu64 "\n", s->created);
        if (s->restart >= 0 || s->restart_usec != ZONE_RESTART_SEC_UNSET)
                APPEND("\n[Service]\n");
        if (s->restart >= 0)
                APPEND("Restart=%s\n", zone_restart_to_string(s->restart));
        if (s->restart_usec != ZONE_RESTART_SEC_UNSET) {
                char b[24];
                APPEND("RestartSec=%s\n", zone_restart_sec_format(s->restart_usec, b, sizeof b));
        }
        if (s->wanted_by || s->required_by)
                APPEND("\n[Install]\n");
        STRV_FOREACH(u, s->wanted_by)
                APPEND("WantedBy=%s\n", *u);
        STRV_FOREACH(u, s->required_by)
                APPEND("RequiredBy=%s\n", *u);
#undef APPEND
        *ret = TAKE_PTR(buf);
        return 0;
}

int zone_spec_save(const ZoneSpec *s, const char *path) {
        _cleanup_free_ char *text = NULL, *dir = NULL;
        const char *slash;
        int r;

        assert(s);
        assert(path);

        r = zone_spec_format(s, &text);
        if (r < 0)
                return r;
        slash = strrchr(path, '/');
        if (slash && slash != path) {
                dir = strndup(path, (size_t) (slash - path));
                if (!dir)
                        return -ENOMEM;
                r = mkdir_p(dir, 0755);
                if (r < 0)
                        return r;
        }
        return write_string_file_atomic(path, text, 0644);
}

static const char *const source_names[_ZONE_SOURCE_MAX] = {
        [ZONE_SOURCE_DECLARED] = "declared",
        [ZONE_SOURCE_PERSISTENT] = "persistent",
        [ZONE_SOURCE_TRANSIENT] = "transient",
};

const char *zone_source_to_string(ZoneSource s) {
        return s >= 0 && s < _ZONE_SOURCE_MAX ? source_names[s] : NULL;
}

ZoneSource zone_source_from_string(const char *s) {
        for (int i = 0; i < _ZONE_SOURCE_MAX; i++)
                if (streq_ptr(s, source_names[i]))
                        return (ZoneSource) i;
        return _ZONE_SOURCE_INVALID;
}

char *zone_source_dir(ZoneSource s) {
        switch (s) {
        case ZONE_SOURCE_DECLARED:
                return krata_config_path("zones");
        case ZONE_SOURCE_PERSISTENT:
                return krata_state_path("zones");
        case ZONE_SOURCE_TRANSIENT:
                return krata_runtime_path("zones");
        default:
                return NULL;
        }
}

char *zone_spec_path(ZoneSource s, const char *name) {
        _cleanup_free_ char *dir = zone_source_dir(s);
        char *p = NULL;

        assert(name);

        if (!dir)
                return NULL;
        if (asprintf_safe(&p, "%s/%s.zone", dir, name) < 0)
                return NULL;
        return p;
}

int zone_spec_find(const char *name, ZoneSource *ret_source, char **ret_path) {
        static const ZoneSource order[] = { ZONE_SOURCE_DECLARED, ZONE_SOURCE_TRANSIENT, ZONE_SOURCE_PERSISTENT };

        if (!zone_name_is_valid(name))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                _cleanup_free_ char *p = zone_spec_path(order[i], name);
                struct stat st;

                if (!p)
                        return -ENOMEM;
                if (stat(p, &st) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return negative_errno();
                }
                if (ret_source)
                        *ret_source = order[i];
                if (ret_path)
                        *ret_path = TAKE_PTR(p);
                return 0;
        }
        return -ENOENT;
}
