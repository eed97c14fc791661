/* SPDX-License-Identifier: Apache-2.0 */
/* krata-zone-generator: a systemd generator (systemd.generator(7)) that turns
 * the [Service] and [Install] sections of declared zones
 * ($KRATA_CONFIG_DIR/zones/NAME.zone) into krata-zone@NAME.service drop-ins
 * and wants/requires symlinks. See krata-zone-generator(8). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "paths.h"
#include "string-util.h"
#include "zone-file.h"
#include "zone-units.h"

static int generate_one(const char *dir, const char *path) {
        _cleanup_zone_spec_ ZoneSpec *s = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        r = zone_spec_load(path, &s, &error);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                /* One bad file must not keep the other zones from booting. */
                return log_error_errno(r, "%s, skipped.", error ?: path);
        return zone_units_write(s, path, dir, UNITDIR "/krata-zone@.service");
}

int main(int argc, char *argv[]) {
        _cleanup_free_ char *zones = NULL;
        struct dirent **names = NULL;
        int n, r = 0;

        log_setup("krata-zone-generator");
        /* systemd passes three directories (normal, early, late); our units go
         * into the normal one, like units in /run/systemd/system. */
        if (argc != 2 && argc != 4) {
                log_error("Usage: %s NORMAL-DIR [EARLY-DIR LATE-DIR]", argv[0]);
                return EXIT_FAILURE;
        }
        zones = krata_config_path("zones");
        if (!zones)
                return log_oom(), EXIT_FAILURE;
        n = scandir(zones, &names, NULL, alphasort);
        if (n < 0) {
                if (errno == ENOENT)
                        return EXIT_SUCCESS;
                log_error_errno(errno, "Cannot read %s: %m", zones);
                return EXIT_FAILURE;
        }
        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                _cleanup_free_ char *path = NULL;

                if (name[0] != '.' && endswith(name, ".zone") &&
                    (names[i]->d_type == DT_REG || names[i]->d_type == DT_UNKNOWN || names[i]->d_type == DT_LNK)) {
                        path = path_join(zones, name);
                        if (!path)
                                r = log_oom();
                        else if (generate_one(argv[1], path) < 0)
                                r = -EINVAL;
                }
                free(names[i]);
        }
        free(names);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
