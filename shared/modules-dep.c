/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs-util.h"
#include "log.h"
#include "modules-dep.h"
#include "string-util.h"

#define MODULES_DEP_MAX (64u * 1024u * 1024u)

ModulesDep *modules_dep_free(ModulesDep *d) {
        if (!d)
                return NULL;
        for (size_t i = 0; i < d->n_entries; i++) {
                free(d->entries[i].path);
                free(d->entries[i].name);
                strv_free(d->entries[i].deps);
        }
        free(d->entries);
        free(d);
        return NULL;
}

char *module_name_normalize(const char *s) {
        const char *base = strrchr(s, '/');
        char *n, *dot;

        assert(s);

        n = strdup(base ? base + 1 : s);
        if (!n)
                return NULL;
        dot = strstr(n, ".ko");
        if (dot && (dot[3] == 0 || dot[3] == '.'))
                *dot = 0;
        for (char *p = n; *p; p++)
                if (*p == '-')
                        *p = '_';
        return n;
}

static bool module_path_is_valid(const char *p) {
        if (isempty(p) || p[0] == '/' || strlen(p) > 1024)
                return false;
        if (streq(p, "..") || startswith(p, "../") || strstr(p, "/../") || endswith(p, "/.."))
                return false;
        return string_is_printable(p, 1024) && !strchr(p, ' ');
}

int modules_dep_parse(const char *text, size_t size, ModulesDep **ret) {
        _cleanup_modules_dep_ ModulesDep *d = calloc(1, sizeof(ModulesDep));
        size_t cap = 0;
        const char *p = text, *end = text + size;

        assert(text || size == 0);
        assert(ret);

        if (!d)
                return -ENOMEM;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);
                _cleanup_free_ char *line = strndup(p, len);
                char *colon, *tok, *save = NULL;
                ModuleEntry *e;

                p += len + 1;
                if (!line)
                        return -ENOMEM;
                if (isempty(line) || line[0] == '#')
                        continue;
                colon = strchr(line, ':');
                if (!colon)
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "modules.dep: line without ':'.");
                *colon = 0;
                if (!module_path_is_valid(line))
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "modules.dep: invalid module path '%.128s'.", line);
                if (d->n_entries == cap) {
                        size_t ncap = cap ? cap * 2 : 256;
                        ModuleEntry *n = realloc(d->entries, ncap * sizeof(ModuleEntry));
                        if (!n)
                                return -ENOMEM;
                        d->entries = n;
                        cap = ncap;
                }
                e = &d->entries[d->n_entries];
                *e = (ModuleEntry) {};
                e->path = strdup(line);
                e->name = module_name_normalize(line);
                e->deps = calloc(1, sizeof(char *));
                d->n_entries++;
                if (!e->path || !e->name || !e->deps)
                        return -ENOMEM;
                for (tok = strtok_r(colon + 1, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
                        if (!module_path_is_valid(tok))
                                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                                       "modules.dep: invalid dependency path '%.128s'.", tok);
                        if (strv_extend(&e->deps, tok) < 0)
                                return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(d);
        return 0;
}

int modules_dep_load(const char *path, ModulesDep **ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        assert(path);
        assert(ret);

        r = read_full_file(path, MODULES_DEP_MAX, &text, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", path);
        return modules_dep_parse(text, size, ret);
}

const ModuleEntry *modules_dep_find(const ModulesDep *d, const char *name) {
        _cleanup_free_ char *n = module_name_normalize(name);

        assert(d);
        assert(name);

        if (!n)
                return NULL;
        for (size_t i = 0; i < d->n_entries; i++)
                if (streq(d->entries[i].name, n))
                        return &d->entries[i];
        return NULL;
}

static const ModuleEntry *find_path(const ModulesDep *d, const char *path) {
        for (size_t i = 0; i < d->n_entries; i++)
                if (streq(d->entries[i].path, path))
                        return &d->entries[i];
        return NULL;
}

enum { UNSEEN, VISITING, DONE };

/* Depth-first: every dependency is emitted before the module needing it. */
static int visit(const ModulesDep *d, const ModuleEntry *e, unsigned char *state, unsigned depth, char ***order) {
        size_t idx = (size_t) (e - d->entries);
        int r;

        if (state[idx] == DONE)
                return 0;
        if (state[idx] == VISITING || depth > 256)
                return log_error_errno(SYNTHETIC_ERRNO(ELOOP), "modules.dep: dependency cycle through %s.", e->path);
        state[idx] = VISITING;
        STRV_FOREACH(dep, e->deps) {
                const ModuleEntry *de = find_path(d, *dep);
                if (!de)
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                               "modules.dep: %s depends on %s, which has no entry.", e->path, *dep);
                r = visit(d, de, state, depth + 1, order);
                if (r < 0)
                        return r;
        }
        state[idx] = DONE;
        return strv_extend(order, e->path);
}

int modules_dep_resolve(const ModulesDep *d, char *const *names, char ***ret_order, char ***ret_missing) {
        _cleanup_strv_free_ char **order = calloc(1, sizeof(char *)), **missing = calloc(1, sizeof(char *));
        _cleanup_free_ unsigned char *state = calloc(d->n_entries + 1, 1);
        int r;

        assert(d);
        assert(ret_order);

        if (!order || !missing || !state)
                return -ENOMEM;
        STRV_FOREACH(n, names) {
                const ModuleEntry *e = modules_dep_find(d, *n);
                if (!e) {
                        if (!ret_missing)
                                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Module %s is not in modules.dep.", *n);
                        if (strv_extend(&missing, *n) < 0)
                                return -ENOMEM;
                        continue;
                }
                r = visit(d, e, state, 0, &order);
                if (r < 0)
                        return r;
        }
        *ret_order = TAKE_PTR(order);
        if (ret_missing)
                *ret_missing = TAKE_PTR(missing);
        return 0;
}

bool modules_builtin_contains(const char *text, const char *name) {
        _cleanup_free_ char *want = module_name_normalize(name);
        const char *p = text;

        assert(text);
        assert(name);

        if (!want)
                return false;
        while (p && *p) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t) (nl - p) : strlen(p);
                _cleanup_free_ char *line = strndup(p, len), *n = NULL;

                p = nl ? nl + 1 : NULL;
                if (!line)
                        return false;
                n = module_name_normalize(line);
                if (n && streq(n, want))
                        return true;
        }
        return false;
}
