/* SPDX-License-Identifier: Apache-2.0 */
/* Talking to krata-imaged, krata-consoled, krata-networkd and krata-zoned,
 * and the boot-chain pieces not merged yet (see peers.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "bus-util.h"
#include "fs-util.h"
#include "json-util.h"
#include "log.h"
#include "paths.h"
#include "peers.h"
#include "string-util.h"

#define IMAGE_INSPECT_MAX (1U << 20)
#define PULL_TIMEOUT_USEC (30ULL * 60 * 1000000)
#define CONFIG_DISK_MAGIC "KRATACFG"
#define CONFIG_DISK_MAX (1U << 20)

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

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* InspectImage's JSON: read permissively until man/krata-imaged.8 fixes the
 * names ("path"/"squashfs", "config" object or "configPath"). */
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

        r = sd_bus_call_method(s->bus, "org.krata.Images1", "/org/krata/images1", "org.krata.Images1",
                               "InspectImage", error, &reply, "s", ref);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "s", &json);
        if (r < 0)
                return r;
        *ret_json = strdup(json);
        return *ret_json ? 0 : -ENOMEM;
}

int image_acquire(Supervisor *s, const char *ref, ImageInfo *ret) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_free_ char *json = NULL, *transfer = NULL;
        const char *tpath;
        uint64_t deadline = now_usec() + PULL_TIMEOUT_USEC;
        uint32_t id;
        int r;

        if (!s->bus)
                return log_error_errno(SYNTHETIC_ERRNO(ENOTCONN), "No system bus: cannot ask krata-imaged for %s.", ref);
        (void) sd_notifyf(false, "STATUS=Pulling image %s", ref);
        r = sd_bus_call_method(s->bus, "org.krata.Images1", "/org/krata/images1", "org.krata.Images1", "Pull",
                               &error, &reply, "st", ref, (uint64_t) 0);
        if (r < 0) {
                if (error_is_absent_service(&error))
                        return log_error_errno(SYNTHETIC_ERRNO(EHOSTDOWN),
                                               "krata-imaged is not available (%s); cannot get image %s.",
                                               bus_error_message(&error, r), ref);
                return log_error_errno(r, "Pulling %s failed: %s", ref, bus_error_message(&error, r));
        }
        r = sd_bus_message_read(reply, "uo", &id, &tpath);
        if (r < 0)
                return log_error_errno(r, "krata-imaged's Pull reply is malformed: %m");
        transfer = strdup(tpath);
        if (!transfer)
                return -ENOMEM;

        /* Wait for the image: poll InspectImage and forward the transfer's progress. */
        for (;;) {
                _cleanup_bus_error_ sd_bus_error e2 = SD_BUS_ERROR_NULL, e3 = SD_BUS_ERROR_NULL;
                double progress = -1;
                struct timespec pause = { 0, 250 * 1000 * 1000 };

                r = inspect(s, ref, &json, &e2);
                if (r >= 0)
                        break;
                if (!sd_bus_error_has_name(&e2, KRATA_ERROR_NO_SUCH_IMAGE))
                        return log_error_errno(r, "Inspecting %s failed: %s", ref, bus_error_message(&e2, r));
                r = sd_bus_get_property_trivial(s->bus, "org.krata.Images1", transfer, "org.krata.Transfer1",
                                                "Progress", &e3, 'd', &progress);
                if (r < 0 && sd_bus_error_has_names(&e3, SD_BUS_ERROR_UNKNOWN_OBJECT, SD_BUS_ERROR_UNKNOWN_METHOD)) {
                        /* Transfer gone and still no image: one last look, then fail. */
                        sd_bus_error_free(&e2);
                        r = inspect(s, ref, &json, &e2);
                        if (r >= 0)
                                break;
                        return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Pulling image %s failed: %s", ref,
                                               bus_error_message(&e2, r));
                }
                if (progress >= 0) {
                        char text[256];
                        snprintf(text, sizeof text, "Pulling image %s: %.0f%%", ref, progress * 100.0);
                        (void) sd_notifyf(false, "STATUS=%s", text);
                        (void) peers_report(s, text);
                }
                if (now_usec() > deadline)
                        return log_error_errno(SYNTHETIC_ERRNO(ETIMEDOUT), "Pulling image %s timed out.", ref);
                nanosleep(&pause, NULL);
        }
        r = parse_inspect(json, ret);
        if (r < 0)
                return r;
        if (access(ret->squashfs_path, R_OK) < 0)
                return log_error_errno(errno, "Image %s: %s: %m", ref, ret->squashfs_path);
        return 0;
}

void kernel_info_done(KernelInfo *k) {
        k->kernel_path = mfree(k->kernel_path);
        k->initrd_path = mfree(k->initrd_path);
        k->addons_path = mfree(k->addons_path);
        k->cmdline = mfree(k->cmdline);
}

/* Until the boot chain is merged: the system default kernel. */
int kernel_acquire(Supervisor *s, const char *ref, KernelInfo *ret) {
        if (ref)
                return log_error_errno(SYNTHETIC_ERRNO(EOPNOTSUPP),
                                       "Kernel images from OCI references (Kernel=%s) need the boot chain's kernel "
                                       "support, which this build does not have yet.", ref);
        ret->kernel_path = krata_state_path("zone/kernel");
        ret->initrd_path = krata_state_path("zone/initrd");
        ret->addons_path = krata_state_path("zone/addons.squashfs");
        if (!ret->kernel_path || !ret->initrd_path || !ret->addons_path)
                return -ENOMEM;
        if (access(ret->kernel_path, R_OK) < 0)
                return log_error_errno(errno, "No zone kernel at %s: %m", ret->kernel_path);
        if (access(ret->initrd_path, R_OK) < 0)
                return log_error_errno(errno, "No zone initrd at %s: %m", ret->initrd_path);
        if (access(ret->addons_path, R_OK) < 0)
                ret->addons_path = mfree(ret->addons_path);
        return asprintf_safe(&ret->cmdline, "console=hvc0 quiet krata.image=51712 krata.config=51728%s",
                             ret->addons_path ? " krata.addons=51744" : "");
}

static json_object *strv_to_json(char **l) {
        json_object *a = json_object_new_array();
        STRV_FOREACH(x, l)
                json_object_array_add(a, json_object_new_string(*x));
        return a;
}

/* Until shared/launch-spec.[ch] lands: the agreed shape (magic, length, JSON,
 * padded to 4 KiB), with a provisional magic. */
int config_disk_write(Supervisor *s, char **ret_path) {
        _cleanup_json_ json_object *o = json_object_new_object(), *proc = json_object_new_object();
        _cleanup_free_ char *dir = NULL, *path = NULL, *buf = NULL;
        json_object *oci = NULL, *ports = json_object_new_array();
        const char *text;
        size_t len, total;
        int r;

        if (!o || !proc || !ports)
                return -ENOMEM;
        if (s->image_config)
                (void) json_parse_bounded(s->image_config, strlen(s->image_config), IMAGE_INSPECT_MAX, true, &oci);
        json_object_object_add(o, "version", json_object_new_string("1.0"));
        json_object_object_add(o, "name", json_object_new_string(s->spec->name));
        json_object_object_add(o, "hostname", json_object_new_string(s->spec->name));
        json_object_object_add(o, "uuid", json_object_new_string(s->uuid));
        if (s->image_digest)
                json_object_object_add(o, "imageDigest", json_object_new_string(s->image_digest));
        json_object_object_add(o, "imageConfig", oci ?: json_object_new_object());
        if (s->spec->command)
                json_object_object_add(proc, "args", strv_to_json(s->spec->command));
        if (s->spec->environment)
                json_object_object_add(proc, "env", strv_to_json(s->spec->environment));
        if (s->spec->working_directory)
                json_object_object_add(proc, "cwd", json_object_new_string(s->spec->working_directory));
        if (s->spec->user)
                json_object_object_add(proc, "user", json_object_new_string(s->spec->user));
        json_object_object_add(proc, "tty", json_object_new_boolean(s->spec->tty));
        json_object_object_add(o, "process", json_object_get(proc));
        for (size_t i = 0; i < s->spec->n_ports; i++) {
                char b[32];
                json_object_array_add(ports, json_object_new_string(zone_port_format(&s->spec->ports[i], b, sizeof b)));
        }
        json_object_object_add(o, "ports", ports);
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        len = strlen(text);
        if (len > CONFIG_DISK_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(E2BIG), "The launch spec is larger than 1 MiB.");
        total = (16 + len + 4095) & ~(size_t) 4095;
        buf = calloc(1, total);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, CONFIG_DISK_MAGIC, 8);
        for (int i = 0; i < 4; i++)
                buf[8 + i] = (char) ((len >> (8 * i)) & 0xff); /* little-endian length */
        memcpy(buf + 16, text, len);
        r = asprintf_safe(&dir, "%s/zone/%s", krata_runtime_dir(), s->spec->name);
        if (r < 0)
                return r;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Cannot create %s: %m", dir);
        path = path_join(dir, "config.img");
        if (!path)
                return -ENOMEM;
        r = write_file_atomic(path, buf, total, 0600);
        if (r < 0)
                return log_error_errno(r, "Cannot write %s: %m", path);
        *ret_path = TAKE_PTR(path);
        return 0;
}

int console_register(Supervisor *s) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (!s->bus)
                return 0;
        r = sd_bus_call_method(s->bus, "org.krata.Console1", "/org/krata/console1", "org.krata.Console1",
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
        (void) sd_bus_call_method(s->bus, "org.krata.Console1", "/org/krata/console1", "org.krata.Console1",
                                  "UnregisterZone", NULL, NULL, "s", s->spec->name);
        s->console_registered = false;
}

static int read_addresses(Supervisor *s, sd_bus_message *reply) {
        int r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key, *contents, *v;
                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(reply, NULL, &contents);
                if (r < 0)
                        return r;
                if (streq(contents, "s") && endswith(key, "address")) {
                        r = sd_bus_message_read(reply, "v", "s", &v);
                        if (r >= 0 && string_is_printable(v, 128))
                                (void) strv_extend(&s->record->addresses, v);
                } else
                        r = sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        return r < 0 ? r : sd_bus_message_exit_container(reply);
}

int network_attach(Supervisor *s) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        char ifname[32];
        int r;

        if (!s->bus)
                return 0;
        snprintf(ifname, sizeof ifname, "vif%u.0", s->domid);
        r = sd_bus_call_method(s->bus, "org.krata.Network1", "/org/krata/network1", "org.krata.Network1",
                               "AttachZone", &error, &reply, "ssa{sv}", s->spec->name, ifname, 1, "mac", "s", s->mac);
        if (r < 0) {
                log_notice("Zone %s: network not attached by krata-networkd: %s", s->spec->name,
                           bus_error_message(&error, r));
                return 0;
        }
        s->network_attached = true;
        (void) read_addresses(s, reply);
        for (size_t i = 0; i < s->spec->n_ports; i++) {
                const ZonePort *p = &s->spec->ports[i];
                sd_bus_error_free(&error);
                r = sd_bus_call_method(s->bus, "org.krata.Network1", "/org/krata/network1", "org.krata.Network1",
                                       "AddPortForward", &error, NULL, "ssqq", s->spec->name,
                                       p->proto == ZONE_PORT_UDP ? "udp" : "tcp", p->host_port, p->zone_port);
                if (r < 0)
                        log_warning("Zone %s: port %u not forwarded: %s", s->spec->name, p->host_port,
                                    bus_error_message(&error, r));
        }
        return 0;
}

void network_detach(Supervisor *s) {
        if (!s->network_attached || !s->bus)
                return;
        (void) sd_bus_call_method(s->bus, "org.krata.Network1", "/org/krata/network1", "org.krata.Network1",
                                  "DetachZone", NULL, NULL, "s", s->spec->name);
        s->network_attached = false;
}

int zoned_register(Supervisor *s) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (!s->bus)
                return 0;
        r = sd_bus_call_method(s->bus, "org.krata.Zones1", "/org/krata/zones1", "org.krata.Zones1",
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
        r = sd_bus_message_new_method_call(s->bus, &m, "org.krata.Zones1", "/org/krata/zones1", "org.krata.Zones1",
                                           "ReportState");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", s->spec->name);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}{sv}{sv}{sv}{sv}{sv}{sv}{sv}",
                                          "state", "s", zone_state_to_string(rec->state),
                                          "domid", "u", (uint32_t) (rec->domid > 0 ? rec->domid : 0),
                                          "exit-status", "i", (int32_t) rec->exit_status,
                                          "error", "s", strempty(rec->error),
                                          "result", "s", strempty(s->result),
                                          "status", "s", strempty(status_text),
                                          "image-digest", "s", strempty(rec->image_digest),
                                          "kernel", "s", strempty(rec->kernel));
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "addresses");
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
