/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <stdlib.h>

#include "paths.h"
#include "string-util.h"

static const char *dir_from_env(const char *var, const char *def) {
        const char *e = getenv(var);
        return isempty(e) ? def : e;
}

const char *krata_state_dir(void) {
        return dir_from_env("KRATA_STATE_DIR", "/var/lib/krata");
}

const char *krata_runtime_dir(void) {
        return dir_from_env("KRATA_RUNTIME_DIR", "/run/krata");
}

const char *krata_config_dir(void) {
        return dir_from_env("KRATA_CONFIG_DIR", "/etc/krata");
}

const char *krata_cache_dir(void) {
        return dir_from_env("KRATA_CACHE_DIR", "/var/cache/krata");
}

char *krata_state_path(const char *rel) {
        assert(rel);

        return path_join(krata_state_dir(), rel);
}

char *krata_runtime_path(const char *rel) {
        assert(rel);

        return path_join(krata_runtime_dir(), rel);
}

char *krata_config_path(const char *rel) {
        assert(rel);

        return path_join(krata_config_dir(), rel);
}

char *krata_cache_path(const char *rel) {
        assert(rel);

        return path_join(krata_cache_dir(), rel);
}
