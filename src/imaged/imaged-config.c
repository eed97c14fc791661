/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs-util.h"
#include "imaged-config.h"
#include "log.h"
#include "oci-ref.h"
#include "paths.h"
#include "string-util.h"

#define CONFIG_MAX (64u * 1024u)

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

static int parse_unsigned(const char *v, unsigned min, unsigned max, unsigned *ret) {
        unsigned u;
        if (safe_atou(v, &u) < 0 || u < min || u > max)
                return -ERANGE;
        *ret = u;
        return 0;
}

static int set_string(char **dst, const char *v) {
        char *n = strdup(v);
        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

static int parse_line(ImagedConfig *c, const char *key, const char *value) {
        unsigned u;

        if (streq(key, "InsecureRegistries")) {
                _cleanup_free_ char *copy = strdup(value);
                char *save = NULL;
                if (!copy)
                        return -ENOMEM;
                for (char *w = strtok_r(copy, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save))
                        if (strv_extend(&c->insecure_registries, w) < 0)
                                return -ENOMEM;
                return 0;
        }
        if (streq(key, "AuthFile"))
                return value[0] == '/' ? set_string(&c->auth_file, value) : -EINVAL;
        if (streq(key, "Architecture"))
                return set_string(&c->architecture, value);
        if (streq(key, "Variant"))
                return set_string(&c->variant, value);
        if (streq(key, "ParallelDownloads"))
                return parse_unsigned(value, 1, 32, &c->parallel_downloads);
        if (streq(key, "Retries"))
                return parse_unsigned(value, 0, 20, &c->retries);
        if (streq(key, "SquashWorkers"))
                return parse_unsigned(value, 0, 256, &c->squash_workers);
        if (streq(key, "CompressionLevel")) {
                if (parse_unsigned(value, 1, 22, &u) < 0)
                        return -ERANGE;
                c->compression_level = (int) u;
                return 0;
        }
        if (streq(key, "ConnectTimeoutSec") || streq(key, "StallTimeoutSec") || streq(key, "IdleExitSec")) {
                if (parse_unsigned(value, 1, 3600, &u) < 0)
                        return -ERANGE;
                if (streq(key, "ConnectTimeoutSec"))
                        c->connect_timeout_sec = u;
                else if (streq(key, "StallTimeoutSec"))
                        c->stall_timeout_sec = u;
                else
                        c->idle_exit_sec = u;
                return 0;
        }
        return -ENOKEY;
}

int imaged_config_parse(ImagedConfig *c, const char *text, const char *origin) {
        _cleanup_free_ char *copy = strdup(text);
        char *save = NULL;
        unsigned line = 0;

        if (!copy)
                return log_oom();
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *eq, *key, *value;
                int r;

                line++;
                l = strstrip(l);
                if (!*l || *l == '#' || *l == ';' || *l == '[') /* [Section] headers are decoration */
                        continue;
                eq = strchr(l, '=');
                if (!eq)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s:%u: expected KEY=VALUE.", origin, line);
                *eq = 0;
                key = strstrip(l);
                value = strstrip(eq + 1);
                r = parse_line(c, key, value);
                if (r == -ENOKEY)
                        log_warning("%s:%u: unknown setting '%s', ignoring.", origin, line, key);
                else if (r == -ENOMEM)
                        return log_oom();
                else if (r < 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s:%u: invalid value for %s: '%s'.",
                                               origin, line, key, value);
        }
        return 0;
}

int imaged_config_load(ImagedConfig *c) {
        _cleanup_free_ char *path = krata_config_path("imaged.conf"), *text = NULL;
        int r;

        if (!path)
                return log_oom();
        r = read_full_file(path, CONFIG_MAX, &text, NULL);
        if (r == -ENOENT)
                r = 0;
        else if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", path);
        else {
                r = imaged_config_parse(c, text, path);
                if (r < 0)
                        return r;
        }
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
