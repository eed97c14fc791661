/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Where krata keeps things. Each honours an environment override, so the
 * daemons run unprivileged under tools/dev-env and in tests:
 *   KRATA_STATE_DIR   (/var/lib/krata)  images, zone specs, kernels
 *   KRATA_RUNTIME_DIR (/run/krata)      transient zones, sockets
 *   KRATA_CONFIG_DIR  (/etc/krata)      declared zones, daemon settings
 *   KRATA_CACHE_DIR   (/var/cache/krata) regenerable data (initrds) */
const char *krata_state_dir(void);
const char *krata_runtime_dir(void);
const char *krata_config_dir(void);
const char *krata_cache_dir(void);
/* Joins a path below one of the above; NULL on OOM. */
char *krata_state_path(const char *rel);
char *krata_runtime_path(const char *rel);
char *krata_config_path(const char *rel);
char *krata_cache_path(const char *rel);
