/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Settings of krata-imaged, from $KRATA_CONFIG_DIR/imaged.conf (KEY=VALUE
 * lines, '#' comments; see krata-imaged(8)). */
typedef struct ImagedConfig {
        char **insecure_registries; /* plain HTTP allowed (loopback always is) */
        char *auth_file;            /* docker-style config.json with credentials */
        unsigned parallel_downloads;
        unsigned retries;           /* per blob, resuming with Range */
        uint64_t connect_timeout_sec;
        uint64_t stall_timeout_sec; /* no byte for this long: the attempt fails */
        int compression_level;      /* zstd level of the squashfs */
        unsigned squash_workers;
        char *architecture;         /* default platform picked from an index */
        char *variant;
        uint64_t idle_exit_sec;
} ImagedConfig;

void imaged_config_init(ImagedConfig *c);
void imaged_config_done(ImagedConfig *c);
/* Parses one file's text; unknown keys are warnings, bad values errors. */
int imaged_config_parse(ImagedConfig *c, const char *text, const char *origin);
/* Loads $KRATA_CONFIG_DIR/imaged.conf if present. */
int imaged_config_load(ImagedConfig *c);
bool imaged_config_registry_is_insecure(const ImagedConfig *c, const char *registry);
/* The OCI architecture name of this host ("amd64", "arm64", ...). */
const char *host_oci_architecture(void);
