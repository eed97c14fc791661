/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot.h"
#include "fs-util.h"
#include "json-util.h"
#include "kernel-prepare.h"
#include "log.h"
#include "paths.h"
#include "reason.h"
#include "string-util.h"

#define IMAGE_CONFIG_MAX (1U << 20)

void boot_material_done(BootMaterial *b) {
        assert(b);

        b->kernel = mfree(b->kernel);
        b->initrd = mfree(b->initrd);
        b->addons = mfree(b->addons);
        b->cmdline = mfree(b->cmdline);
        b->release = mfree(b->release);
        b->config_disk = mfree(b->config_disk);
}

static int kernel_source(const char *ref, const ImageInfo *image, KernelSource *ret, char **reason) {
        const char *key;
        int r;

        if (!image) {
                r = kernel_source_default(ret);
                if (r == -ENOENT)
                        return reason_set(reason, r, "No zone kernel in %s/zone: install one with 'kratactl kernel "
                                                     "install-default'.", krata_state_dir());
                return r;
        }
        key = image->digest ? (startswith(image->digest, "sha256:") ?: image->digest) : NULL;
        if (!key)
                return reason_set(reason, SYNTHETIC_ERRNO(EBADMSG), "Kernel image %s has no digest.", strempty(ref));
        return kernel_source_from_image_squashfs(image->squashfs_path, key, NULL, ret);
}

int boot_kernel_prepare(BootMaterial *b, const char *ref, const ImageInfo *image, char **reason) {
        _cleanup_(kernel_source_done) KernelSource src = {};
        _cleanup_(kernel_prepared_done) KernelPrepared p = {};
        int r;

        assert(b);
        assert(reason);

        r = kernel_source(ref, image, &src, reason);
        if (r < 0)
                return r;
        r = kernel_prepare(&src, NULL, &p);
        if (r < 0)
                return r;
        r = kernel_prepared_cmdline(&p, &b->cmdline);
        if (r < 0)
                return r;
        b->kernel = TAKE_PTR(p.kernel);
        b->initrd = TAKE_PTR(p.initrd);
        b->addons = TAKE_PTR(p.addons);
        b->release = TAKE_PTR(p.release);
        return 0;
}

/* ---- the launch spec: an OCI image config (image-spec config.md) and the
 * zone's overrides ---- */

typedef struct ImageDefaults {
        char **entrypoint, **cmd, **env;
        char *cwd, *user;
} ImageDefaults;

static void image_defaults_done(ImageDefaults *d) {
        strv_free(d->entrypoint);
        strv_free(d->cmd);
        strv_free(d->env);
        free(d->cwd);
        free(d->user);
}

static int image_defaults_read(json_object *image_config, ImageDefaults *ret) {
        static const JsonDispatch table[] = {
                { "Entrypoint", json_type_array, json_dispatch_strv, offsetof(ImageDefaults, entrypoint), JSON_NULLABLE },
                { "Cmd", json_type_array, json_dispatch_strv, offsetof(ImageDefaults, cmd), JSON_NULLABLE },
                { "Env", json_type_array, json_dispatch_strv, offsetof(ImageDefaults, env), JSON_NULLABLE },
                { "WorkingDir", json_type_string, json_dispatch_string, offsetof(ImageDefaults, cwd), JSON_NULLABLE },
                { "User", json_type_string, json_dispatch_string, offsetof(ImageDefaults, user), JSON_NULLABLE },
                {}
        };
        json_object *cfg = NULL;

        /* The whole image config blob has the runtime part under "config"
         * (which may be absent: an image with no defaults at all). */
        if (image_config && json_object_object_get_ex(image_config, "config", &cfg)) {
                if (cfg && !json_object_is_type(cfg, json_type_object))
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "OCI config: 'config' is not an object.");
        } else if (image_config && !json_object_object_get_ex(image_config, "rootfs", NULL))
                cfg = image_config;
        return cfg ? json_dispatch(cfg, table, "OCI config", ret) : 0;
}

/* docker's rule: a cmd override replaces the image's Cmd; an entrypoint
 * override replaces its Entrypoint and drops its Cmd. */
static int merge_argv(const ImageDefaults *d, const LaunchOverrides *o, char ***ret) {
        char *const *entrypoint = d->entrypoint, *const *cmd = d->cmd;
        _cleanup_strv_free_ char **argv = calloc(1, sizeof(char *));

        if (!argv)
                return -ENOMEM;
        if (o && o->entrypoint) {
                entrypoint = o->entrypoint;
                cmd = NULL;
        }
        if (o && o->cmd)
                cmd = o->cmd;
        STRV_FOREACH(a, entrypoint)
                if (strv_extend(&argv, *a) < 0)
                        return -ENOMEM;
        STRV_FOREACH(a, cmd)
                if (strv_extend(&argv, *a) < 0)
                        return -ENOMEM;
        if (strv_length(argv) == 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "The image has no Entrypoint or Cmd and the launch gave no command.");
        *ret = TAKE_PTR(argv);
        return 0;
}

/* Sets KEY=VALUE in *env, replacing an existing KEY. */
static int env_set(char ***env, const char *entry) {
        const char *eq = strchr(entry, '=');
        size_t k;

        if (!eq || eq == entry)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Environment entry '%.64s' is not KEY=VALUE.", entry);
        k = (size_t) (eq - entry) + 1;
        for (char **e = *env; e && *e; e++)
                if (strneq(*e, entry, k)) {
                        char *n = strdup(entry);
                        if (!n)
                                return -ENOMEM;
                        free(*e);
                        *e = n;
                        return 0;
                }
        return strv_extend(env, entry);
}

/* The image's variables, the overrides by key, and PATH when neither has it. */
static int merge_env(char *const *image_env, char *const *overrides, char ***ret) {
        _cleanup_strv_free_ char **env = calloc(1, sizeof(char *));
        bool have_path = false;
        int r;

        if (!env)
                return -ENOMEM;
        STRV_FOREACH(e, image_env)
                if ((r = env_set(&env, *e)) < 0)
                        return r;
        STRV_FOREACH(e, overrides)
                if ((r = env_set(&env, *e)) < 0)
                        return r;
        STRV_FOREACH(e, env)
                if (startswith(*e, "PATH="))
                        have_path = true;
        if (!have_path && strv_extend(&env, LAUNCH_DEFAULT_PATH) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(env);
        return 0;
}

/* An override wins; an empty value means unset. */
static int pick(const char *override, char **image_value, char **ret) {
        if (override) {
                *ret = isempty(override) ? NULL : strdup(override);
                return *ret || isempty(override) ? 0 : -ENOMEM;
        }
        *ret = isempty(*image_value) ? NULL : TAKE_PTR(*image_value);
        return 0;
}

int launch_spec_from_oci_config(json_object *image_config, const LaunchOverrides *o, LaunchSpec **ret) {
        _cleanup_(image_defaults_done) ImageDefaults d = {};
        _cleanup_launch_spec_ LaunchSpec *s = NULL;
        int r;

        assert(ret);

        r = image_defaults_read(image_config, &d);
        if (r < 0)
                return r;
        s = launch_spec_new();
        if (!s)
                return -ENOMEM;
        if ((r = merge_argv(&d, o, &s->argv)) < 0 || (r = merge_env(d.env, o ? o->env : NULL, &s->env)) < 0 ||
            (r = pick(o ? o->cwd : NULL, &d.cwd, &s->cwd)) < 0 || (r = pick(o ? o->user : NULL, &d.user, &s->user)) < 0)
                return r;
        if (o && o->hostname && !(s->hostname = strdup(o->hostname)))
                return -ENOMEM;
        if (o) {
                s->tty = o->tty;
                if (o->umask >= 0)
                        s->umask = (uint32_t) o->umask;
        }
        r = launch_spec_validate(s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int boot_config_disk_path(const char *name, char **ret) {
        assert(name);
        assert(ret);

        return asprintf_safe(ret, "%s/zone/%s/config.img", krata_runtime_dir(), name);
}

/* The OCI config merged with the zone's overrides as docker does (Command=
 * replaces the image's Cmd), and the network. */
static int launch_spec_build(const ZoneSpec *zone, const char *image_config, LaunchNetwork *network,
                             LaunchSpec **ret, char **reason) {
        _cleanup_json_ json_object *oci = NULL;
        const LaunchOverrides o = {
                .cmd = zone->command,
                .env = zone->environment,
                .cwd = zone->working_directory,
                .user = zone->user,
                .hostname = zone->name,
                .tty = zone->tty,
                .umask = -1,
        };
        int r;

        if (image_config && json_parse_bounded(image_config, strlen(image_config), IMAGE_CONFIG_MAX, true, &oci) < 0)
                return reason_set(reason, SYNTHETIC_ERRNO(EBADMSG), "The image's OCI config is not a JSON object.");
        r = launch_spec_from_oci_config(oci, &o, ret);
        if (r == -EINVAL)
                return reason_set(reason, r, "Zone %s has no command: the image has none and Command= is not set.",
                                  zone->name);
        if (r < 0)
                return r;
        if (network && (network->ipv4.address || network->ipv6.address)) {
                (*ret)->has_network = true;
                (*ret)->network = *network;
                *network = (LaunchNetwork) {}; /* moved */
        }
        return 0;
}

int boot_config_disk_write(BootMaterial *b, const ZoneSpec *zone, const char *image_config, LaunchNetwork *network,
                           char **reason) {
        _cleanup_launch_spec_ LaunchSpec *spec = NULL;
        _cleanup_free_ char *path = NULL;
        char *slash;
        int r;

        assert(b);
        assert(zone);
        assert(reason);

        r = launch_spec_build(zone, image_config, network, &spec, reason);
        if (r < 0)
                return r;
        r = boot_config_disk_path(zone->name, &path);
        if (r < 0)
                return r;
        slash = strrchr(path, '/');
        *slash = 0;
        r = mkdir_p(path, 0700);
        if (r < 0)
                return reason_set(reason, r, "Cannot create %s: %m", path);
        *slash = '/';
        r = launch_disk_write(path, spec);
        if (r < 0)
                return reason_set(reason, r, "Cannot write the launch spec disk %s: %m", path);
        b->config_disk = TAKE_PTR(path);
        return 0;
}

void boot_config_disk_remove(BootMaterial *b) {
        char *slash;

        assert(b);

        if (!b->config_disk)
                return;
        (void) unlink(b->config_disk);
        slash = strrchr(b->config_disk, '/');
        if (slash) {
                *slash = 0;
                (void) rmdir(b->config_disk);
        }
        b->config_disk = mfree(b->config_disk);
}
