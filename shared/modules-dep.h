/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* A parsed modules.dep ("kernel/fs/overlayfs/overlay.ko: dep.ko ..."), shared
 * by the host (which modules go into a zone's initrd) and krata-init (in what
 * order to load them). No libkmod: it has no static library on Debian and
 * this is all either side needs. */

typedef struct ModuleEntry {
        char *path;  /* relative to /lib/modules/VERSION, as in modules.dep */
        char *name;  /* "xen_blkfront": file name without .ko*, '-' → '_' */
        char **deps; /* paths, as listed */
} ModuleEntry;

typedef struct ModulesDep {
        ModuleEntry *entries;
        size_t n_entries;
} ModulesDep;

ModulesDep *modules_dep_free(ModulesDep *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(ModulesDep *, modules_dep_free);
#define _cleanup_modules_dep_ _cleanup_(modules_dep_freep)

/* Parses modules.dep text (bounded by the caller). Rejects absolute paths,
 * ".." components and lines without ':' with -EBADMSG. */
int modules_dep_parse(const char *text, size_t size, ModulesDep **ret);
int modules_dep_load(const char *path, ModulesDep **ret);

/* Normalises "xen-blkfront", "xen_blkfront.ko" or a path into "xen_blkfront". */
char *module_name_normalize(const char *s);
const ModuleEntry *modules_dep_find(const ModulesDep *d, const char *name);

/* The closure of the named modules with their dependencies, as paths in a
 * valid load order (dependencies first, each once). Names that are not in
 * modules.dep go to *ret_missing (built-in or absent: the caller decides);
 * ret_missing may be NULL, then a missing name is -ENOENT. A dependency
 * named in a line but without its own line is -EBADMSG; cycles -ELOOP. */
int modules_dep_resolve(const ModulesDep *d, char *const *names, char ***ret_order, char ***ret_missing);

/* True when name ("squashfs") is listed in modules.builtin text. */
bool modules_builtin_contains(const char *text, const char *name);
