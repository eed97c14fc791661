/* SPDX-License-Identifier: Apache-2.0 */
/* kratactl kernel. install-default and prepare are clients of krata-zoned
 * (Zones1.InstallDefaultKernel, PrepareKernel), the one writer of the
 * default kernel and the kernel cache; they pass the files the user names
 * as open descriptors, so krata-zoned reads nothing the user could not.
 * check and package only read files the user gives and write only the
 * layout the user names: they touch no krata state and stay local. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bus-util.h"
#include "fs-util.h"
#include "json-util.h"
#include "kernel-config.h"
#include "kernel-package.h"
#include "kratactl.h"
#include "log.h"
#include "paths.h"
#include "string-util.h"
#include "table.h"

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

typedef struct CheckCounts {
        size_t modules, recommended;
} CheckCounts;

static json_object *check_row(const OptionResult *res) {
        const KernelOption *o = res->option;
        _cleanup_free_ char *name = strjoin("CONFIG_", o->name);
        json_object *row = json_object_new_object();

        if (!row || !name) {
                json_object_put(row);
                return NULL;
        }
        json_object_object_add(row, "option", json_object_new_string(name));
        json_object_object_add(row, "want", json_object_new_string(o->value));
        json_object_object_add(row, "have", res->have ? json_object_new_string(res->have) : NULL);
        json_object_object_add(row, "state", json_object_new_string(option_state_to_string(res->state)));
        json_object_object_add(row, "level",
                               json_object_new_string(o->level == OPTION_REQUIRED ? "required" : "recommended"));
        json_object_object_add(row, "note",
                               o->why ? json_object_new_string(o->why)
                               : res->state == OPTION_MODULE ? json_object_new_string("a module, not built in")
                                                             : NULL);
        return row;
}

/* The table shows what needs attention (everything with --all); JSON every row. */
static int check_print(const OptionResult *res, size_t n, bool all, CheckCounts *counts) {
        static const TableColumn columns[] = {
                { "option", "OPTION", COLUMN_STRING }, { "want", "WANT", COLUMN_STRING },
                { "have", "HAVE", COLUMN_STRING },     { "state", "STATE", COLUMN_STRING },
                { "level", "LEVEL", COLUMN_STRING },   { "note", "NOTE", COLUMN_STRING },
        };
        _cleanup_table_ Table *t = table_new(columns, ELEMENTSOF(columns));

        if (!t)
                return log_oom();
        for (size_t i = 0; i < n; i++) {
                json_object *row;

                if (res[i].state == OPTION_MODULE)
                        counts->modules++;
                if (res[i].state != OPTION_OK && res[i].option->level == OPTION_RECOMMENDED)
                        counts->recommended++;
                if (arg_output == OUTPUT_TABLE && !all && res[i].state == OPTION_OK)
                        continue;
                row = check_row(&res[i]);
                if (!row)
                        return log_oom();
                (void) table_add_row(t, row);
        }
        return table_print(t, arg_output);
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
        _cleanup_(kernel_config_freep) KernelConfig *kc = NULL;
        _cleanup_free_ char *path = NULL;
        OptionResult *res = NULL;
        CheckCounts counts = {};
        bool host = false, all = false;
        size_t n = 0;
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
        r = check_print(res, n, all, &counts);
        option_results_free(res, n);
        if (r < 0)
                return exit_code_from_errno(r);
        if (arg_output == OUTPUT_TABLE)
                fprintf(stderr, "%s: %s kernel check: %d required option%s missing, %zu only a module, %zu recommended not set.\n",
                        path, host ? "dom0" : "zone", missing, missing == 1 ? "" : "s", counts.modules,
                        counts.recommended);
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

/* ---- clients of krata-zoned ---- */

/* Long enough for a kernel to be copied, inflated and its initrd built on a
 * busy machine (krata-zoned gives a job 10 minutes). */
#define KERNEL_CALL_USEC (11ULL * 60ULL * 1000000ULL)

typedef struct Prepared {
        const char *kernel, *image, *initrd, *addons, *release, *digest, *cmdline;
} Prepared;

/* The reply's a{sv} of strings; pointers into the message. */
static int read_prepared(sd_bus_message *reply, Prepared *ret) {
        static const struct {
                const char *key;
                size_t offset;
        } keys[] = {
                { KERNEL_PREPARED_KERNEL, offsetof(Prepared, kernel) },
                { KERNEL_PREPARED_IMAGE, offsetof(Prepared, image) },
                { KERNEL_PREPARED_INITRD, offsetof(Prepared, initrd) },
                { KERNEL_PREPARED_ADDONS, offsetof(Prepared, addons) },
                { KERNEL_PREPARED_RELEASE, offsetof(Prepared, release) },
                { KERNEL_PREPARED_DIGEST, offsetof(Prepared, digest) },
                { KERNEL_PREPARED_CMDLINE, offsetof(Prepared, cmdline) },
        };
        const char *key;
        int r;

        *ret = (Prepared) {};
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char **dest = NULL;

                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        if (streq(key, keys[i].key))
                                dest = (const char **) ((uint8_t *) ret + keys[i].offset);
                r = dest ? sd_bus_message_read(reply, "v", "s", dest) : sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

/* Sends m (its a{sv} still open) and reads the prepared kernel. */
static int call_kernel(sd_bus *bus, sd_bus_message *m, const char *what, sd_bus_message **ret_reply,
                       Prepared *ret) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_set_allow_interactive_authorization(m, arg_ask_password);
        if (r < 0)
                return exit_code_from_errno(log_error_errno(r, "Cannot build the call: %m"));
        r = sd_bus_call(bus, m, KERNEL_CALL_USEC, &error, ret_reply);
        if (r < 0)
                return call_failed(what, &error, r);
        r = read_prepared(*ret_reply, ret);
        if (r < 0)
                return exit_code_from_errno(log_error_errno(r, "Cannot read krata-zoned's answer: %m"));
        return EXIT_OK;
}

static int new_kernel_call(sd_bus **bus, const char *method, sd_bus_message **ret) {
        int r;

        r = connect_bus(bus);
        if (r != EXIT_OK)
                return r;
        r = sd_bus_message_new_method_call(*bus, ret, ZONES_BUS_NAME, ZONES_PATH, ZONES_INTERFACE, method);
        if (r < 0)
                return exit_code_from_errno(log_error_errno(r, "Cannot build the call: %m"));
        return EXIT_OK;
}

/* O_NONBLOCK: a FIFO must not hang us; krata-zoned refuses what is not a
 * regular file. */
static int open_input(const char *path, bool optional) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

        if (fd < 0 && !(optional && errno == ENOENT))
                return log_error_errno(errno, "%s: %m", path);
        return fd < 0 ? -EBADF : fd;
}

/* mksquashfs of the modules directory, as the user, into a private file that
 * is gone once it is open. */
static int build_addons(const char *modules, const char *config, int *ret_fd) {
        _cleanup_(kernel_config_freep) KernelConfig *kc = NULL;
        _cleanup_free_ char *dir = NULL, *out = NULL;
        int r;

        if (config && kernel_config_load(config, &kc) < 0)
                return -EINVAL;
        r = asprintf_safe(&dir, "%s/kratactl-addons.XXXXXX", getenv("TMPDIR") ?: "/tmp");
        if (r < 0)
                return r;
        if (!mkdtemp(dir))
                return log_error_errno(errno, "Failed to create %s: %m", dir);
        out = path_join(dir, "addons.squashfs");
        r = out ? kernel_build_addons(modules, kernel_addons_compressor(kc), 0, out) : -ENOMEM;
        if (r >= 0) {
                *ret_fd = open(out, O_RDONLY | O_CLOEXEC);
                if (*ret_fd < 0)
                        r = log_error_errno(errno, "%s: %m", out);
        }
        (void) rm_rf(dir);
        return r;
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
        _cleanup_bus_message_ sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_close_ int image_fd = -EBADF, addons_fd = -EBADF;
        _cleanup_bus_ sd_bus *bus = NULL;
        const char *image = NULL, *modules = NULL, *config = NULL;
        Prepared p;
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
        image_fd = open_input(image, false);
        if (image_fd < 0)
                return exit_code_from_errno(image_fd);
        r = build_addons(modules, config, &addons_fd);
        if (r < 0)
                return exit_code_from_errno(r);
        r = new_kernel_call(&bus, "InstallDefaultKernel", &m);
        if (r != EXIT_OK)
                return r;
        r = sd_bus_message_append(m, "hh", image_fd, addons_fd);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return exit_code_from_errno(log_error_errno(r, "Cannot build the call: %m"));
        r = call_kernel(bus, m, "Cannot install the default kernel", &reply, &p);
        if (r != EXIT_OK)
                return r;
        printf("%s\n%s\n", strempty(p.image), strempty(p.addons));
        return EXIT_OK;
}

/* A kernel the user has: a directory as an OCI kernel image's /kernel (image,
 * addons.squashfs, metadata), or such an image's rootfs squashfs. */
static int append_source(sd_bus_message *m, const char *arg) {
        struct stat st;
        int r;

        if (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
                _cleanup_close_ int fd = open_input(arg, false);
                if (fd < 0)
                        return fd;
                return sd_bus_message_append(m, "{sv}", KERNEL_SOURCE_SQUASHFS, "h", fd);
        }
        static const struct {
                const char *file, *key;
                bool optional;
        } files[] = {
                { "image", KERNEL_SOURCE_IMAGE, false },
                { "addons.squashfs", KERNEL_SOURCE_ADDONS, true },
                { "metadata", KERNEL_SOURCE_METADATA, false },
        };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *path = path_join(arg, files[i].file);
                _cleanup_close_ int fd = -EBADF;

                if (!path)
                        return log_oom();
                fd = open_input(path, files[i].optional);
                if (fd == -EBADF && files[i].optional)
                        continue;
                if (fd < 0)
                        return fd;
                r = sd_bus_message_append(m, "{sv}", files[i].key, "h", fd);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void print_prepared(const Prepared *p) {
        if (arg_output == OUTPUT_JSON) {
                _cleanup_json_ json_object *o = json_object_new_object();
                json_object_object_add(o, "cmdline", json_object_new_string(strempty(p->cmdline)));
                json_object_object_add(o, "kernel", json_object_new_string(strempty(p->kernel)));
                json_object_object_add(o, "image", json_object_new_string(strempty(p->image)));
                json_object_object_add(o, "initrd", json_object_new_string(strempty(p->initrd)));
                json_object_object_add(o, "addons", p->addons ? json_object_new_string(p->addons) : NULL);
                json_object_object_add(o, "release", json_object_new_string(strempty(p->release)));
                json_object_object_add(o, "digest", json_object_new_string(strempty(p->digest)));
                (void) json_print(stdout, o, true);
        } else
                printf("kernel  %s\nimage   %s\ninitrd  %s\naddons  %s\nrelease %s\ncmdline %s\n", strempty(p->kernel),
                       strempty(p->image), strempty(p->initrd), p->addons ?: "-", strempty(p->release),
                       strempty(p->cmdline));
}

/* What krata-zone does before building a domain; for checking a kernel. */
static int verb_prepare(int argc, char *argv[]) {
        _cleanup_bus_message_ sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        Prepared p;
        int r;

        r = new_kernel_call(&bus, "PrepareKernel", &m);
        if (r != EXIT_OK)
                return r;
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && argc > 1)
                r = append_source(m, argv[1]);
        if (r < 0)
                return exit_code_from_errno(r);
        r = call_kernel(bus, m, "Cannot prepare the kernel", &reply, &p);
        if (r != EXIT_OK)
                return r;
        print_prepared(&p);
        return EXIT_OK;
}

int verb_kernel(int argc, char *argv[]) {
        assert(argv);

        static const Verb verbs[] = {
                { "check", 1, -1, verb_check, "[--host] [FILE|LAYOUT[:TAG]]  check a kernel config" },
                { "package", 1, -1, verb_package, "--image --modules --config LAYOUT  make an OCI kernel image" },
                { "install-default", 1, -1, verb_install, "--image --modules  set the system default zone kernel" },
                { "prepare", 1, 2, verb_prepare, "[KERNEL-DIR|IMAGE.squashfs]  validate a kernel, build its initrd" },
                {}
        };
        return dispatch_verb("kernel", verbs, argc, argv);
}
