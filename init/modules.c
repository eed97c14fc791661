/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "modules-dep.h"
#include "modules.h"
#include "string-util.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

static int load_one(const char *dir, const char *rel) {
        _cleanup_free_ char *path = path_join(dir, rel);
        _cleanup_close_ int fd = -EBADF;
        int flags = 0;

        if (!path)
                return log_oom();
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open module %s: %m", path);
        /* The kernel decompresses .ko.xz/.ko.zst/.ko.gz itself (CONFIG_MODULE_DECOMPRESS). */
        if (!endswith(rel, ".ko"))
                flags |= MODULE_INIT_COMPRESSED_FILE;
        if (syscall(SYS_finit_module, fd, "", flags) < 0) {
                if (errno == EEXIST) /* already loaded or built in */
                        return 0;
                return log_error_errno(errno, "Failed to load module %s: %m", rel);
        }
        log_debug("Loaded %s.", rel);
        return 0;
}

int modules_load_all(const char *dir) {
        _cleanup_modules_dep_ ModulesDep *d = NULL;
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *)), **order = NULL;
        _cleanup_free_ char *dep = path_join(dir, "modules.dep");
        int r;

        assert(dir);

        if (!names || !dep)
                return log_oom();
        if (access(dep, F_OK) < 0) {
                log_debug("No %s: nothing to load.", dep);
                return 0;
        }
        r = modules_dep_load(dep, &d);
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->n_entries; i++)
                if (strv_extend(&names, d->entries[i].name) < 0)
                        return log_oom();
        r = modules_dep_resolve(d, names, &order, NULL);
        if (r < 0)
                return r;
        STRV_FOREACH(m, order) {
                r = load_one(dir, *m);
                if (r < 0)
                        return r;
        }
        log_debug("Loaded %zu modules from %s.", strv_length(order), dir);
        return 0;
}
