/* SPDX-License-Identifier: Apache-2.0 */
/* kratactl kernel: local operations on kernels (no daemon involved). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fs-util.h"
#include "json-util.h"
#include "kernel-config.h"
#include "kernel-package.h"
#include "kernel-prepare.h"
#include "kratactl.h"
#include "log.h"
#include "paths.h"
#include "string-util.h"
#include "table.h"
#include "util.h"

static bool parse_output_opt(const char *s) {
        if (streq(s, "json"))
                arg_output = OUTPUT_JSON;
        else if (streq(s, "table"))
                arg_output = OUTPUT_TABLE;
        else
                return false;
        return true;
}

/* FILE: a .config, a gzip'd one (/proc/config.gz), or an OCI kernel image
 * layout (DIR or DIR:TAG) whose config blob is read. */
static int resolve_config(const char *arg, char **ret) {
        struct utsname u;
        struct stat st;

        if (!arg) {
                if (access("/proc/config.gz", R_OK) == 0) {
                        *ret = strdup("/proc/config.gz");
                        return *ret ? 0 : -ENOMEM;
                }
                if (uname(&u) < 0)
                        return -errno;
                return asprintf_safe(ret, "/boot/config-%s", u.release);
        }
        if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
                return kernel_layout_config_path(arg, NULL, ret);
        const char *colon = strrchr(arg, ':');
        if (colon && colon != arg) {
                _cleanup_free_ char *dir = strndup(arg, (size_t) (colon - arg));
                if (!dir)
                        return -ENOMEM;
                if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
                        return kernel_layout_config_path(dir, colon + 1, ret);
        }
        *ret = strdup(arg);
        return *ret ? 0 : -ENOMEM;
}

static int verb_check(int argc, char *argv[]) {
        enum { ARG_HOST = 0x100, ARG_ALL };
        static const struct option options[] = {
                { "host", no_argument, NULL, ARG_HOST },
                { "all", no_argument, NULL, ARG_ALL },
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        static const TableColumn columns[] = {
                { "option", "OPTION", COLUMN_STRING }, { "want", "WANT", COLUMN_STRING },
                { "have", "HAVE", COLUMN_STRING },     { "state", "STATE", COLUMN_STRING },
                { "level", "LEVEL", COLUMN_STRING },   { "note", "NOTE", COLUMN_STRING },
        };
        _cleanup_(kernel_config_freep) KernelConfig *kc = NULL;
        _cleanup_table_ Table *t = NULL;
        _cleanup_free_ char *path = NULL;
        OptionResult *res = NULL;
        size_t n = 0, modules = 0, recommended = 0;
        bool host = false, all = false;
        int c, r, missing;

        optind = 0;
        while ((c = getopt_long(argc, argv, "ho:", options, NULL)) >= 0)
                switch (c) {
                case ARG_HOST:
                        host = true;
                        break;
                case ARG_ALL:
                        all = true;
                        break;
                case 'o':
                        if (!parse_output_opt(optarg)) {
                                log_error("Unknown output format '%s': use table or json.", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'h':
                        printf("kratactl kernel check [--host] [--all] [-o json] [FILE|LAYOUT[:TAG]]\n\n"
                               "Checks a kernel config against what a zone kernel (or, with --host, a dom0\n"
                               "kernel) needs. Default FILE: /proc/config.gz, else /boot/config-$(uname -r).\n");
                        return EXIT_OK;
                default:
                        return EXIT_USAGE;
                }
        if (argc - optind > 1) {
                log_error("'kernel check' takes at most one FILE.");
                return EXIT_USAGE;
        }
        r = resolve_config(optind < argc ? argv[optind] : NULL, &path);
        if (r < 0)
                return exit_code_from_errno(r);
        r = kernel_config_load(path, &kc);
        if (r < 0)
                return exit_code_from_errno(r);
        missing = kernel_config_check(kc, host ? KERNEL_ROLE_HOST : KERNEL_ROLE_ZONE, &res, &n);
        if (missing < 0)
                return exit_code_from_errno(log_oom());

        t = table_new(columns, ELEMENTSOF(columns));
        if (!t) {
                option_results_free(res, n);
                return exit_code_from_errno(log_oom());
        }
        for (size_t i = 0; i < n; i++) {
                const KernelOption *o = res[i].option;
                _cleanup_free_ char *name = strjoin("CONFIG_", o->name);
                json_object *row;

                if (res[i].state == OPTION_MODULE)
                        modules++;
                if (res[i].state != OPTION_OK && o->level == OPTION_RECOMMENDED)
                        recommended++;
                /* the table shows what needs attention; JSON every row */
                if (arg_output == OUTPUT_TABLE && !all && res[i].state == OPTION_OK)
                        continue;
                row = json_object_new_object();
                if (!row || !name)
                        break;
                json_object_object_add(row, "option", json_object_new_string(name));
                json_object_object_add(row, "want", json_object_new_string(o->value));
                json_object_object_add(row, "have", res[i].have ? json_object_new_string(res[i].have) : NULL);
                json_object_object_add(row, "state", json_object_new_string(option_state_to_string(res[i].state)));
                json_object_object_add(row, "level",
                                       json_object_new_string(o->level == OPTION_REQUIRED ? "required" : "recommended"));
                json_object_object_add(row, "note",
                                       o->why ? json_object_new_string(o->why)
                                       : res[i].state == OPTION_MODULE ? json_object_new_string("a module, not built in")
                                                                       : NULL);
                (void) table_add_row(t, row);
        }
        option_results_free(res, n);
        (void) table_print(t, arg_output);
        if (arg_output == OUTPUT_TABLE)
                fprintf(stderr, "%s: %s kernel check: %d required option%s missing, %zu only a module, %zu recommended not set.\n",
                        path, host ? "dom0" : "zone", missing, missing == 1 ? "" : "s", modules, recommended);
        return missing > 0 ? EXIT_FAILURE_GENERIC : EXIT_OK;
}

static int verb_package(int argc, char *argv[]) {
        enum { ARG_IMAGE = 0x100, ARG_MODULES, ARG_CONFIG, ARG_FLAVOR, ARG_TAG, ARG_LEVEL };
        static const struct option options[] = {
                { "image", required_argument, NULL, ARG_IMAGE },
                { "modules", required_argument, NULL, ARG_MODULES },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "flavor", required_argument, NULL, ARG_FLAVOR },
                { "tag", required_argument, NULL, ARG_TAG },
                { "compression-level", required_argument, NULL, ARG_LEVEL },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        KernelPackageOptions o = {};
        _cleanup_free_ char *digest = NULL;
        unsigned level;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_IMAGE:
                        o.image = optarg;
                        break;
                case ARG_MODULES:
                        o.modules_dir = optarg;
                        break;
                case ARG_CONFIG:
                        o.config = optarg;
                        break;
                case ARG_FLAVOR:
                        o.flavor = optarg;
                        break;
                case ARG_TAG:
                        o.tag = optarg;
                        break;
                case ARG_LEVEL:
                        if (safe_atou(optarg, &level) < 0 || level < 1 || level > 22) {
                                log_error("Invalid compression level '%s': 1-22.", optarg);
                                return EXIT_USAGE;
                        }
                        o.compression_level = (int) level;
                        break;
                case 'h':
                        printf("kratactl kernel package --image=FILE --modules=DIR --config=FILE [--flavor=F] [--tag=T] LAYOUT\n\n"
                               "Writes an OCI kernel image (one layer: /kernel/image, /kernel/addons.squashfs,\n"
                               "/kernel/metadata) into the OCI image layout LAYOUT.\n");
                        return EXIT_OK;
                default:
                        return EXIT_USAGE;
                }
        if (!o.image || !o.modules_dir || !o.config || argc - optind != 1) {
                log_error("'kernel package' needs --image, --modules, --config and one LAYOUT directory.");
                return EXIT_USAGE;
        }
        o.layout = argv[optind];
        r = kernel_package(&o, &digest);
        if (r < 0)
                return exit_code_from_errno(r);
        if (arg_output == OUTPUT_JSON)
                printf("{\"layout\":\"%s\",\"manifest\":\"%s\"}\n", o.layout, digest);
        else
                printf("%s %s\n", o.layout, digest);
        return EXIT_OK;
}

/* Installs a kernel as the system default zone kernel. */
static int verb_install(int argc, char *argv[]) {
        enum { ARG_IMAGE = 0x100, ARG_MODULES, ARG_CONFIG };
        static const struct option options[] = {
                { "image", required_argument, NULL, ARG_IMAGE },
                { "modules", required_argument, NULL, ARG_MODULES },
                { "config", required_argument, NULL, ARG_CONFIG },
                {}
        };
        _cleanup_(kernel_config_freep) KernelConfig *kc = NULL;
        _cleanup_free_ char *dir = krata_state_path("zone"), *kernel = NULL, *addons = NULL, *tmp = NULL, *data = NULL;
        const char *image = NULL, *modules = NULL, *config = NULL;
        size_t size;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_IMAGE:
                        image = optarg;
                        break;
                case ARG_MODULES:
                        modules = optarg;
                        break;
                case ARG_CONFIG:
                        config = optarg;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (!image || !modules || optind != argc) {
                log_error("'kernel install-default' needs --image and --modules (and optionally --config).");
                return EXIT_USAGE;
        }
        if (!dir)
                return exit_code_from_errno(log_oom());
        if (config && kernel_config_load(config, &kc) < 0)
                return EXIT_FAILURE_GENERIC;
        kernel = path_join(dir, "kernel");
        addons = path_join(dir, "addons.squashfs");
        tmp = path_join(dir, ".addons.squashfs.tmp");
        if (!kernel || !addons || !tmp)
                return exit_code_from_errno(log_oom());
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return exit_code_from_errno(log_error_errno(r, "Failed to create %s: %m", dir));
        r = kernel_build_addons(modules, kernel_addons_compressor(kc), 0, tmp);
        if (r >= 0 && rename(tmp, addons) < 0)
                r = log_error_errno(errno, "Failed to install %s: %m", addons);
        (void) unlink(tmp);
        if (r < 0)
                return exit_code_from_errno(r);
        r = read_full_file(image, 256u << 20, &data, &size);
        if (r >= 0)
                r = write_file_atomic(kernel, data, size, 0644);
        if (r < 0)
                return exit_code_from_errno(log_error_errno(r, "Failed to install %s: %m", kernel));
        printf("%s\n%s\n", kernel, addons);
        return EXIT_OK;
}

/* What krata-zone does before building a domain; for checking a kernel. */
static int verb_prepare(int argc, char *argv[]) {
        KernelSource src = {};
        KernelPrepared p = {};
        int r;

        struct stat st;
        if (argc > 1 && stat(argv[1], &st) == 0 && S_ISREG(st.st_mode)) {
                /* an OCI kernel image's rootfs squashfs, as krata-imaged keeps it */
                char key[65];
                r = sha256_file(argv[1], key);
                if (r < 0)
                        return exit_code_from_errno(log_error_errno(r, "Failed to read %s: %m", argv[1]));
                r = kernel_source_from_image_squashfs(argv[1], key, NULL, &src);
        } else
                r = argc > 1 ? kernel_source_from_dir(argv[1], &src) : kernel_source_default(&src);
        if (r < 0) {
                if (argc <= 1 && r == -ENOENT)
                        log_error("No system default zone kernel; see 'kratactl kernel install-default'.");
                return exit_code_from_errno(r);
        }
        r = kernel_prepare(&src, NULL, &p);
        kernel_source_done(&src);
        if (r < 0)
                return exit_code_from_errno(r);
        _cleanup_free_ char *cmdline = NULL;
        if (kernel_prepared_cmdline(&p, &cmdline) < 0) {
                kernel_prepared_done(&p);
                return exit_code_from_errno(log_oom());
        }
        if (arg_output == OUTPUT_JSON) {
                _cleanup_json_ json_object *o = json_object_new_object();
                json_object_object_add(o, "cmdline", json_object_new_string(cmdline));
                json_object_object_add(o, "kernel", json_object_new_string(p.kernel));
                json_object_object_add(o, "image", json_object_new_string(p.image));
                json_object_object_add(o, "initrd", json_object_new_string(p.initrd));
                json_object_object_add(o, "addons", p.addons ? json_object_new_string(p.addons) : NULL);
                json_object_object_add(o, "release", json_object_new_string(p.release));
                json_object_object_add(o, "digest", json_object_new_string(p.digest));
                (void) json_print(stdout, o, true);
        } else
                printf("kernel  %s\nimage   %s\ninitrd  %s\naddons  %s\nrelease %s\ncmdline %s\n", p.kernel,
                       p.image, p.initrd, p.addons ?: "-", p.release, cmdline);
        kernel_prepared_done(&p);
        return EXIT_OK;
}

int verb_kernel(int argc, char *argv[]) {
        static const Verb verbs[] = {
                { "check", 1, -1, verb_check, "[--host] [FILE|LAYOUT[:TAG]]  check a kernel config" },
                { "package", 1, -1, verb_package, "--image --modules --config LAYOUT  make an OCI kernel image" },
                { "install-default", 1, -1, verb_install, "--image --modules  set the system default zone kernel" },
                { "prepare", 1, 2, verb_prepare, "[KERNEL-DIR|IMAGE.squashfs]  validate a kernel, build its initrd" },
                {}
        };
        return dispatch_verb("kernel", verbs, argc, argv);
}
