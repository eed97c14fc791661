/* SPDX-License-Identifier: Apache-2.0 */
/* Talking to krata-imaged, krata-consoled, krata-networkd and krata-zoned,
 * and the boot-chain pieces not merged yet (see peers.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "time-util.h"
#include "bus-util.h"
#include "fs-util.h"
#include "json-util.h"
#include "kernel-prepare.h"
#include "launch-spec.h"
#include "log.h"
#include "paths.h"
#include "peers.h"
#include "string-util.h"

#define IMAGE_INSPECT_MAX (1U << 20)
#define PULL_TIMEOUT_USEC (30ULL * 60 * 1000000)
#define CONFIG_DISK_MAGIC "KRATACFG"
#define CONFIG_DISK_MAX (1U << 20)

/* Logs the failure and keeps its sentence for the zone's Error property, so
 * kratactl shows why (a 404, a missing kernel), not just an errno. glibc's
 * printf knows %m; errno is set from r for it. */
static int fail_reason(Supervisor *s, int r, const char *fmt, ...) _printf_(3, 4);
static int fail_reason(Supervisor *s, int r, const char *fmt, ...) {
        char buf[1024];
        va_list ap;

        errno = ERRNO_VALUE(r);
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        free(s->reason);
        s->reason = strdup(buf);
        return log_error_errno(r, "%s", buf);
}

static bool error_is_absent_service(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                      "org.freedesktop.DBus.Error.Spawn.ChildExited",
                                      "org.freedesktop.DBus.Error.Spawn.ExecFailed");
}

void image_info_done(ImageInfo *i) {
        i->squashfs_path = mfree(i->squashfs_path);
        i->digest = mfree(i->digest);
        i->config_json = mfree(i->config_json);
}


/* InspectImage's JSON (krata-imaged(8)): "path" (the squashfs), "digest",
 * "config" (the OCI image config object). */
static int parse_inspect(const char *json, ImageInfo *ret) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *images = krata_state_path("images/");
        json_object *v;
        const char *path = NULL;

        if (!images)
                return -ENOMEM;
        if (json_parse_bounded(json, strlen(json), IMAGE_INSPECT_MAX, true, &o) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "krata-imaged's InspectImage answer is not a JSON object.");
        if (json_object_object_get_ex(o, "squashfs", &v) || json_object_object_get_ex(o, "path", &v))
                path = json_object_get_string(v);
        if (isempty(path) || path[0] != '/' || strstr(path, "/../"))
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "krata-imaged gave no usable squashfs path.");
        if (!startswith(path, images))
                log_warning("Image path %s is outside %s.", path, images);
        ret->squashfs_path = strdup(path);
        if (json_object_object_get_ex(o, "digest", &v) && json_object_is_type(v, json_type_string))
                ret->digest = strdup(json_object_get_string(v));
        if (json_object_object_get_ex(o, "config", &v) && json_object_is_type(v, json_type_object))
                ret->config_json = strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        else if (json_object_object_get_ex(o, "configPath", &v) && json_object_is_type(v, json_type_string)) {
                size_t size;
                if (read_full_file(json_object_get_string(v), IMAGE_INSPECT_MAX, &ret->config_json, &size) < 0)
                        ret->config_json = NULL;
        }
        if (!ret->squashfs_path)
                return -ENOMEM;
        return 0;
}

static int inspect(Supervisor *s, const char *ref, char **ret_json, sd_bus_error *error) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        const char *json;
        int r;

        r = sd_bus_call_method(s->bus, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE,
                               "InspectImage", error, &reply, "s", ref);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "s", &json);
        if (r < 0)
                return r;
        *ret_json = strdup(json);
        return *ret_json ? 0 : -ENOMEM;
}

/* A failed transfer's Error arrives in its last PropertiesChanged, possibly
 * before Pull's reply has told us its path and certainly before we could ask:
 * keep the errors of all transfers, "PATH\tERROR", matched up afterwards. */
static int on_transfer_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        char ***errors = userdata;
        const char *iface, *key, *v;
        int r;

        if (sd_bus_message_read(m, "s", &iface) < 0 || !streq(iface, IMAGES_TRANSFER_INTERFACE))
                return 0;
        if (sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
                return 0;
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                if (sd_bus_message_read(m, "s", &key) < 0)
                        return 0;
                if (streq(key, "Error") && sd_bus_message_read(m, "v", "s", &v) >= 0) {
                        if (!isempty(v) && string_is_printable(v, 1024) && strv_length(*errors) < 64) {
                                char *e = NULL;
                                r = asprintf_safe(&e, "%s\t%s", sd_bus_message_get_path(m), v);
                                if (r >= 0)
                                        (void) strv_consume(errors, e);
                        }
                } else if (sd_bus_message_skip(m, "v") < 0)
                        return 0;
                if (sd_bus_message_exit_container(m) < 0)
                        return 0;
        }
        return 0;
}

static const char *transfer_error(char **errors, const char *path) {
        const char *found = NULL;
        STRV_FOREACH(e, errors) {
                const char *rest = startswith(*e, path);
                if (rest && rest[0] == '\t')
                        found = rest + 1; /* the last one wins */
        }
        return found;
}

int image_acquire(Supervisor *s, const char *ref, ImageInfo *ret) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *watch = NULL;
        _cleanup_strv_free_ char **errors = NULL;
        _cleanup_free_ char *json = NULL, *transfer = NULL;
        const char *tpath;
        uint64_t deadline = now(CLOCK_MONOTONIC) + PULL_TIMEOUT_USEC;
        uint32_t id;
        int r;

        if (!s->bus)
                return fail_reason(s, SYNTHETIC_ERRNO(ENOTCONN), "No system bus: cannot ask krata-imaged for %s.", ref);
        (void) sd_notifyf(false, "STATUS=Pulling image %s\nEXTEND_TIMEOUT_USEC=%llu", ref, START_EXTEND_USEC);
        r = sd_bus_add_match(s->bus, &watch,
                             "type='signal',sender='org.krata.Images1',interface='org.freedesktop.DBus.Properties',"
                             "member='PropertiesChanged',path_namespace='/org/krata/images1'",
                             on_transfer_changed, &errors);
        if (r < 0)
                return fail_reason(s, r, "Cannot follow krata-imaged's transfers: %m");
        r = sd_bus_call_method(s->bus, IMAGES_BUS_NAME, IMAGES_PATH, IMAGES_INTERFACE, "Pull",
                               &error, &reply, "st", ref, (uint64_t) 0);
        if (r < 0) {
                if (error_is_absent_service(&error))
                        return fail_reason(s, SYNTHETIC_ERRNO(EHOSTDOWN),
                                               "krata-imaged is not available (%s); cannot get image %s.",
                                               bus_error_message(&error, r), ref);
                return fail_reason(s, r, "Pulling %s failed: %s", ref, bus_error_message(&error, r));
        }
        r = sd_bus_message_read(reply, "uo", &id, &tpath);
        if (r < 0)
                return fail_reason(s, r, "krata-imaged's Pull reply is malformed: %m");
        transfer = strdup(tpath);
        if (!transfer)
                return -ENOMEM;

        /* Wait for the transfer to finish, forwarding its progress; then inspect. */
        for (;;) {
                _cleanup_bus_error_ sd_bus_error e2 = SD_BUS_ERROR_NULL;
                _cleanup_free_ char *phase = NULL;
                double progress = -1;

                while (sd_bus_process(s->bus, NULL) > 0) /* dispatch the transfer's signals */
                        ;
                r = sd_bus_get_property_string(s->bus, IMAGES_BUS_NAME, transfer, IMAGES_TRANSFER_INTERFACE,
                                               "Phase", &e2, &phase);
                if (r < 0)
                        break; /* the transfer is gone (done and removed): the image tells */
                if (streq(phase, "done"))
                        break;
                if (streq(phase, "failed") || streq(phase, "canceled")) {
                        _cleanup_free_ char *why = NULL;
                        (void) sd_bus_get_property_string(s->bus, IMAGES_BUS_NAME, transfer,
                                                          IMAGES_TRANSFER_INTERFACE, "Error", NULL, &why);
                        return fail_reason(s, SYNTHETIC_ERRNO(ENOENT), "Pulling image %s %s: %s", ref, phase,
                                               !isempty(why) ? why :
                                               transfer_error(errors, transfer) ?: "(no reason given)");
                }
                if (sd_bus_get_property_trivial(s->bus, IMAGES_BUS_NAME, transfer, IMAGES_TRANSFER_INTERFACE,
                                                "Progress", NULL, 'd', &progress) >= 0 && progress >= 0) {
                        char text[256];
                        snprintf(text, sizeof text, "Pulling image %s: %s %.0f%%", ref, phase, progress * 100.0);
                        (void) sd_notifyf(false, "STATUS=%s", text);
                        (void) peers_report(s, text);
                }
                if (now(CLOCK_MONOTONIC) > deadline)
                        return fail_reason(s, SYNTHETIC_ERRNO(ETIMEDOUT), "Pulling image %s timed out.", ref);
                (void) sd_notifyf(false, "EXTEND_TIMEOUT_USEC=%llu", START_EXTEND_USEC);
                if (stop_pending())
                        return fail_reason(s, SYNTHETIC_ERRNO(ECANCELED), "Stopped while pulling image %s.", ref);
                (void) sd_bus_wait(s->bus, 200 * 1000);
        }
        {
                _cleanup_bus_error_ sd_bus_error e3 = SD_BUS_ERROR_NULL;
                const char *why;

                r = inspect(s, ref, &json, &e3);
                if (r < 0) {
                        while (sd_bus_process(s->bus, NULL) > 0)
                                ;
                        why = transfer_error(errors, transfer);
                        if (why)
                                return fail_reason(s, SYNTHETIC_ERRNO(ENOENT), "%s", why); /* names image and cause */
                        return fail_reason(s, r, "Image %s is not available after its pull: %s", ref,
                                               bus_error_message(&e3, r));
                }
        }
        r = parse_inspect(json, ret);
        if (r < 0)
                return r;
        if (access(ret->squashfs_path, R_OK) < 0)
                return fail_reason(s, errno, "Image %s: %s: %m", ref, ret->squashfs_path);
        return 0;
}

void kernel_info_done(KernelInfo *k) {
        k->kernel_path = mfree(k->kernel_path);
        k->initrd_path = mfree(k->initrd_path);
        k->addons_path = mfree(k->addons_path);
        k->cmdline = mfree(k->cmdline);
        k->release = mfree(k->release);
}

/* The boot chain's kernel_prepare(): the system default kernel, or an OCI
 * kernel image pulled through krata-imaged; a cached initrd either way. */
int kernel_acquire(Supervisor *s, const char *ref, KernelInfo *ret) {
        _cleanup_(kernel_source_done) KernelSource src = {};
        _cleanup_(kernel_prepared_done) KernelPrepared p = {};
        int r;

        (void) sd_notifyf(false, "STATUS=Preparing the kernel\nEXTEND_TIMEOUT_USEC=%llu", START_EXTEND_USEC);
        if (ref) {
                _cleanup_(image_info_done) ImageInfo img = {};
                const char *key;

                r = image_acquire(s, ref, &img);
                if (r < 0)
                        return r;
                key = img.digest ? (startswith(img.digest, "sha256:") ?: img.digest) : NULL;
                if (!key)
                        return fail_reason(s, SYNTHETIC_ERRNO(EBADMSG), "Kernel image %s has no digest.", ref);
                r = kernel_source_from_image_squashfs(img.squashfs_path, key, NULL, &src);
        } else {
                r = kernel_source_default(&src);
                if (r == -ENOENT)
                        return fail_reason(s, r, "No zone kernel in %s/zone: install one with 'kratactl kernel "
                                                  "install-default'.", krata_state_dir());
        }
        if (r < 0)
                return r;
        r = kernel_prepare(&src, NULL, &p);
        if (r < 0)
                return r;
        r = kernel_prepared_cmdline(&p, &ret->cmdline);
        if (r < 0)
                return r;
        ret->kernel_path = TAKE_PTR(p.kernel);
        ret->initrd_path = TAKE_PTR(p.initrd);
        ret->addons_path = TAKE_PTR(p.addons);
        ret->release = TAKE_PTR(p.release);
        return 0;
}

/* The launch spec (shared/launch-spec.h): the OCI config merged with the
 * zone's overrides as docker does (Command= replaces the image's Cmd), the
 * network networkd handed out, written as the raw config disk. */
int config_disk_write(Supervisor *s, char **ret_path) {
        _cleanup_(launch_spec_freep) LaunchSpec *spec = NULL;
        _cleanup_json_ json_object *oci = NULL;
        _cleanup_free_ char *dir = NULL, *path = NULL;
        LaunchOverrides o = {
                .cmd = s->spec->command,
                .env = s->spec->environment,
                .cwd = s->spec->working_directory,
                .user = s->spec->user,
                .hostname = s->spec->name,
                .tty = s->spec->tty,
                .umask = -1,
        };
        int r;

        if (s->image_config &&
            json_parse_bounded(s->image_config, strlen(s->image_config), IMAGE_INSPECT_MAX, true, &oci) < 0)
                return fail_reason(s, SYNTHETIC_ERRNO(EBADMSG), "The image's OCI config is not a JSON object.");
        if (!oci && !(oci = json_object_new_object()))
                return -ENOMEM;
        r = launch_spec_from_oci_config(oci, &o, &spec);
        if (r == -EINVAL)
                return fail_reason(s, r, "Zone %s has no command: the image has none and Command= is not set.",
                                       s->spec->name);
        if (r < 0)
                return r;
        if (s->has_network) {
                spec->has_network = true;
                spec->network = s->network;
                s->network = (LaunchNetwork) {}; /* moved */
                s->has_network = false;
        }
        r = asprintf_safe(&dir, "%s/zone/%s", krata_runtime_dir(), s->spec->name);
        if (r < 0)
                return r;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return fail_reason(s, r, "Cannot create %s: %m", dir);
        path = path_join(dir, "config.img");
        if (!path)
                return -ENOMEM;
        r = launch_disk_write(path, spec);
        if (r < 0)
                return fail_reason(s, r, "Cannot write the launch spec disk %s: %m", path);
        *ret_path = TAKE_PTR(path);
        return 0;
}

int console_register(Supervisor *s) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (!s->bus)
                return 0;
        r = sd_bus_call_method(s->bus, CONSOLE_BUS_NAME, CONSOLE_PATH, CONSOLE_INTERFACE,
                               "RegisterZone", &error, NULL, "su", s->spec->name, s->domid);
        if (r < 0) {
                log_notice("Zone %s: console not handed to krata-consoled: %s", s->spec->name,
                           bus_error_message(&error, r));
                return 0;
        }
        s->console_registered = true;
        return 0;
}

void console_unregister(Supervisor *s) {
        if (!s->console_registered || !s->bus)
                return;
        (void) sd_bus_call_method(s->bus, CONSOLE_BUS_NAME, CONSOLE_PATH, CONSOLE_INTERFACE,
                                  "UnregisterZone", NULL, NULL, "s", s->spec->name);
        s->console_registered = false;
}

static int set_address(LaunchAddress *a, const char *field, const char *v) {
        char **dest = streq(field, "address") ? &a->address : &a->gateway;
        if (!string_is_printable(v, 64))
                return -EBADMSG;
        free(*dest);
        *dest = strdup(v);
        return *dest ? 0 : -ENOMEM;
}

/* AttachZone's reply (krata-networkd(8)): ipv4-/ipv6- address, prefix-length,
 * gateway, and dns. */
static int read_network(Supervisor *s, sd_bus_message *reply) {
        int r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key, *contents, *v, *field;
                LaunchAddress *a = NULL;

                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(reply, NULL, &contents);
                if (r < 0)
                        return r;
                if ((field = startswith(key, "ipv4-")))
                        a = &s->network.ipv4;
                else if ((field = startswith(key, "ipv6-")))
                        a = &s->network.ipv6;
                if (a && streq(contents, "s") && (streq(field, "address") || streq(field, "gateway"))) {
                        r = sd_bus_message_read(reply, "v", "s", &v);
                        if (r >= 0)
                                r = set_address(a, field, v);
                        if (r >= 0 && streq(field, "address")) {
                                (void) strv_extend(&s->record->addresses, v);
                        }
                } else if (a && streq(contents, "u") && streq(field, "prefix-length")) {
                        uint32_t u;
                        r = sd_bus_message_read(reply, "v", "u", &u);
                        if (r >= 0)
                                a->prefix = u;
                } else if (streq(key, NET_REPLY_DNS) && streq(contents, "as")) {
                        r = sd_bus_message_enter_container(reply, 'v', "as");
                        if (r >= 0) {
                                strv_free(s->network.dns);
                                s->network.dns = NULL;
                                r = sd_bus_message_read_strv(reply, &s->network.dns);
                        }
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                } else
                        r = sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;
        s->has_network = s->network.ipv4.address || s->network.ipv6.address;
        return 0;
}

int network_attach(Supervisor *s) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *m = NULL, *reply = NULL;
        char ifname[32];
        int r;

        if (!s->bus)
                return 0;
        snprintf(ifname, sizeof ifname, "vif%u.0", s->domid);
        r = sd_bus_message_new_method_call(s->bus, &m, NETWORK_BUS_NAME, NETWORK_PATH,
                                           NETWORK_INTERFACE, "AttachZone");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", s->spec->name, ifname);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && s->spec->n_ports > 0) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", NET_OPT_PORT_FORWARDS);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "a(sqq)");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "(sqq)");
                for (size_t i = 0; r >= 0 && i < s->spec->n_ports; i++) {
                        const ZonePort *p = &s->spec->ports[i];
                        r = sd_bus_message_append(m, "(sqq)", p->proto == ZONE_PORT_UDP ? "udp" : "tcp",
                                                  p->host_port, p->zone_port);
                }
                for (int k = 0; r >= 0 && k < 3; k++)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_call(s->bus, m, 0, &error, &reply);
        if (r < 0) {
                log_notice("Zone %s: network not attached by krata-networkd: %s", s->spec->name,
                           bus_error_message(&error, r));
                return 0;
        }
        s->network_attached = true;
        r = read_network(s, reply);
        if (r < 0)
                log_warning_errno(r, "Zone %s: cannot read krata-networkd's addresses: %m", s->spec->name);
        return 0;
}

void network_detach(Supervisor *s) {
        if (!s->network_attached || !s->bus)
                return;
        (void) sd_bus_call_method(s->bus, NETWORK_BUS_NAME, NETWORK_PATH, NETWORK_INTERFACE,
                                  "DetachZone", NULL, NULL, "s", s->spec->name);
        s->network_attached = false;
}

int zoned_register(Supervisor *s) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (!s->bus)
                return 0;
        r = sd_bus_call_method(s->bus, ZONES_BUS_NAME, ZONES_PATH, ZONES_INTERFACE,
                               "RegisterSupervisor", &error, NULL, "ssu", s->spec->name, s->uuid, (uint32_t) getpid());
        if (r < 0)
                log_notice("Zone %s: not registered with krata-zoned: %s", s->spec->name, bus_error_message(&error, r));
        return 0;
}

int peers_report(Supervisor *s, const char *status_text) {
        _cleanup_bus_message_ sd_bus_message *m = NULL;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        const ZoneRecord *rec = s->record;
        static char *empty[] = { NULL };
        int r;

        if (!s->bus)
                return 0;
        r = sd_bus_message_new_method_call(s->bus, &m, ZONES_BUS_NAME, ZONES_PATH, ZONES_INTERFACE,
                                           "ReportState");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", s->spec->name);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}",
                                          REPORT_STATE, "s", zone_state_to_string(rec->state),
                                          REPORT_DOMID, "u", (uint32_t) (rec->domid > 0 ? rec->domid : 0),
                                          REPORT_EXIT_STATUS, "i", (int32_t) rec->exit_status,
                                          REPORT_ERROR, "s", strempty(rec->error),
                                          REPORT_RESULT, "s", strempty(s->result),
                                          REPORT_STATUS, "s", strempty(status_text),
                                          REPORT_IMAGE_DIGEST, "s", strempty(rec->image_digest),
                                          REPORT_KERNEL, "s", strempty(rec->kernel));
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", REPORT_ADDRESSES);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, rec->addresses ?: empty);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_call(s->bus, m, 5 * 1000000ULL, &error, NULL);
        if (r < 0)
                log_debug("Zone %s: krata-zoned did not take the report: %s", s->spec->name,
                          bus_error_message(&error, r));
        return 0;
}
