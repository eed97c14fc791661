/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "conf-parser.h"
#include "imaged-config.h"
#include "log.h"
#include "oci-ref.h"
#include "paths.h"
#include "string-util.h"

const char *host_oci_architecture(void) {
#if defined(__x86_64__)
        return "amd64";
#elif defined(__aarch64__)
        return "arm64";
#elif defined(__i386__)
        return "386";
#elif defined(__arm__)
        return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
        return "riscv64";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        return "ppc64le";
#elif defined(__s390x__)
        return "s390x";
#else
        return "unknown";
#endif
}

void imaged_config_init(ImagedConfig *c) {
        assert(c);

        *c = (ImagedConfig) {
                .parallel_downloads = 4,
                .retries = 3,
                .connect_timeout_sec = 30,
                .stall_timeout_sec = 30,
                /* zstd 3: ~20x less CPU than mksquashfs's 15 for ~12% larger images */
                .compression_level = 3,
                .squash_workers = 0, /* 0: one per CPU */
                .idle_exit_sec = 30,
        };
}

void imaged_config_done(ImagedConfig *c) {
        strv_free(c->insecure_registries);
        free(c->auth_file);
        free(c->architecture);
        free(c->variant);
        *c = (ImagedConfig) {};
}

/* imaged.conf has no sections that mean anything: headers are decoration, so
 * every key is known in every section. Unknown keys are warnings (a newer
 * file on an older daemon still starts), bad values errors. */
#define ITEM(key, parser, field, lo, hi) \
        { NULL, key, config_parse_##parser, offsetof(ImagedConfig, field), lo, hi }
static const ConfigTableItem imaged_config_items[] = {
        ITEM("InsecureRegistries", strv, insecure_registries, 0, 0),
        ITEM("AuthFile", path, auth_file, 0, 0),
        ITEM("Architecture", string, architecture, 0, 0),
        ITEM("Variant", string, variant, 0, 0),
        ITEM("ParallelDownloads", unsigned, parallel_downloads, 1, 32),
        ITEM("Retries", unsigned, retries, 0, 20),
        ITEM("SquashWorkers", unsigned, squash_workers, 0, 256),
        ITEM("CompressionLevel", int, compression_level, 1, 22),
        ITEM("ConnectTimeoutSec", uint64, connect_timeout_sec, 1, 3600),
        ITEM("StallTimeoutSec", uint64, stall_timeout_sec, 1, 3600),
        ITEM("IdleExitSec", uint64, idle_exit_sec, 1, 3600),
        {}
};
#undef ITEM

static const ConfigFormat imaged_config_format = {
        .items = imaged_config_items,
        .flags = CONFIG_UNKNOWN_KEY_WARN,
};

int imaged_config_parse(ImagedConfig *c, const char *text, const char *origin) {
        assert(c);
        assert(text);
        assert(origin);

        return config_parse_logged(&imaged_config_format, origin, text, c);
}

int imaged_config_load(ImagedConfig *c) {
        _cleanup_free_ char *path = krata_config_path("imaged.conf");
        int r;

        assert(c);

        if (!path)
                return log_oom();
        r = config_load_logged(&imaged_config_format, path, c);
        if (r < 0)
                return r;
        if (!c->auth_file) {
                /* Under systemd the unit hands the file over as a credential (see the unit). */
                const char *creds = getenv("CREDENTIALS_DIRECTORY");
                c->auth_file = creds ? path_join(creds, "registry-auth") : krata_config_path("auth.json");
                if (!c->auth_file)
                        return log_oom();
        }
        return 0;
}

bool imaged_config_registry_is_insecure(const ImagedConfig *c, const char *registry) {
        return oci_registry_is_loopback(registry) || strv_contains(c->insecure_registries, registry);
}
