/* SPDX-License-Identifier: Apache-2.0 */
/* krata-squash: the layer-to-squashfs converter as a command, for tests and
 * benchmarks (krata-imaged links the library instead). Not installed. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "layer-reader.h"
#include "log.h"
#include "squash.h"
#include "string-util.h"

static int arg_level = SQUASH_DEFAULT_LEVEL;
static unsigned arg_workers = 0;
static bool arg_quiet = false;
static bool arg_inflate_only = false;

static void help(void) {
        printf("krata-squash [OPTIONS] OUTPUT LAYER[:MEDIATYPE]...\n"
               "krata-squash --inflate-only [--inflate=ENGINE] LAYER[:MEDIATYPE]...\n\n"
               "Merge OCI image layers (bottom first, as in the manifest) into one squashfs.\n\n"
               "  -l --level=N         zstd level 1..22 (default %d)\n"
               "  -w --workers=N       compression threads (default: one per CPU)\n"
               "     --inflate=ENGINE  gzip inflate: isal (default) or zlib\n"
               "     --inflate-only    only decompress the layers (measures the inflater)\n"
               "     --log-level=LEVEL\n"
               "  -q --quiet           no summary line\n"
               "  -h --help\n\n"
               "MEDIATYPE is an OCI/Docker layer media type or tar, gzip, zstd;\n"
               "without it the compression is detected from the blob.\n",
               SQUASH_DEFAULT_LEVEL);
}

static const char *short_media_type(const char *s) {
        if (streq(s, "tar"))
                return "application/vnd.oci.image.layer.v1.tar";
        if (streq(s, "gzip") || streq(s, "gz"))
                return "application/vnd.oci.image.layer.v1.tar+gzip";
        if (streq(s, "zstd"))
                return "application/vnd.oci.image.layer.v1.tar+zstd";
        return NULL;
}

/* "PATH:MEDIATYPE" splits at the last ':' unless the whole argument names an
 * existing file; the library judges the media type. */
static void parse_layer(char *arg, SquashLayer *ret) {
        char *colon = strrchr(arg, ':');

        *ret = (SquashLayer) { .path = arg };
        if (!colon || access(arg, F_OK) >= 0)
                return;
        *colon = 0;
        ret->media_type = short_media_type(colon + 1) ?: colon + 1;
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_INFLATE = 0x100, ARG_INFLATE_ONLY, ARG_LOG_LEVEL };
        static const struct option options[] = {
                { "level", required_argument, NULL, 'l' },
                { "workers", required_argument, NULL, 'w' },
                { "inflate", required_argument, NULL, ARG_INFLATE },
                { "inflate-only", no_argument, NULL, ARG_INFLATE_ONLY },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        SquashInflate engine;
        int c, r;

        while ((c = getopt_long(argc, argv, "l:w:qh", options, NULL)) >= 0)
                switch (c) {
                case 'l':
                        if (safe_atoi(optarg, &arg_level) < 0 || arg_level < 1 || arg_level > 22)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid level '%s' (1..22).", optarg);
                        break;
                case 'w':
                        if (safe_atou(optarg, &arg_workers) < 0 || arg_workers < 1 || arg_workers > 64)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid worker count '%s' (1..64).", optarg);
                        break;
                case ARG_INFLATE:
                        if (squash_inflate_from_string(optarg, &engine) < 0)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Unknown inflate engine '%s'.", optarg);
                        squash_set_inflate(engine);
                        break;
                case ARG_INFLATE_ONLY:
                        arg_inflate_only = true;
                        break;
                case ARG_LOG_LEVEL:
                        r = log_parse_level_arg(optarg);
                        if (r < 0)
                                return r;
                        break;
                case 'q':
                        arg_quiet = true;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return -EINVAL;
                }
        if (argc - optind < 1)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Usage: krata-squash OUTPUT LAYER[:MEDIATYPE]...");
        return 1;
}

static int inflate_only(const SquashLayer *layers, size_t n, const struct timespec *t0) {
        uint64_t total = 0;
        struct timespec t1;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *error = NULL;
                uint64_t bytes = 0;
                int r = layer_reader_drain(layers[i].path, layers[i].media_type, &bytes, &error);
                if (r < 0) {
                        log_error("%s", error ?: strerror(-r));
                        return 1;
                }
                total += bytes;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (!arg_quiet)
                printf("inflated %llu bytes in %.2f s\n", (unsigned long long) total,
                       (double) (t1.tv_sec - t0->tv_sec) + (double) (t1.tv_nsec - t0->tv_nsec) / 1e9);
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_free_ SquashLayer *layers = NULL;
        _cleanup_free_ char *error = NULL;
        struct timespec t0, t1;
        const char *output;
        size_t n;
        struct stat st;
        int r;

        log_setup("krata-squash");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;

        /* with --inflate-only there is no OUTPUT */
        output = arg_inflate_only ? NULL : argv[optind++];
        n = (size_t) (argc - optind);
        layers = calloc(MAX(n, (size_t) 1), sizeof *layers);
        if (!layers)
                return log_oom(), 1;
        for (size_t i = 0; i < n; i++)
                parse_layer(argv[optind + i], &layers[i]);

        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (arg_inflate_only)
                return inflate_only(layers, n, &t0);
        r = squash_layers(layers, n, output,
                          &(SquashOptions) { .compression_level = arg_level, .workers = arg_workers }, &error);
        if (r < 0) {
                log_error("%s", error ?: strerror(-r));
                return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (!arg_quiet && stat(output, &st) >= 0)
                printf("%s: %zu layers, %lld bytes, %.2f s\n", output, n, (long long) st.st_size,
                       (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
        return 0;
}
