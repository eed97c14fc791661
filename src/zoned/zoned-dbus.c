/* SPDX-License-Identifier: Apache-2.0 */
/* org.krata.Zones1 at /org/krata/zones1: the registry of zones. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-id128.h>

#include "time-util.h"
#include "bus-polkit.h"
#include "log.h"
#include "string-util.h"
#include "zoned.h"


static int reply_find_error(sd_bus_message *m, int r, const char *id) {
        if (r == -ENOTUNIQ)
                return bus_reply_errnof(m, r, KRATA_ERROR_NO_SUCH_ZONE,
                                        "'%s' matches more than one zone's UUID; give more of it.", id);
        if (r == -ENXIO)
                return bus_reply_errnof(m, r, KRATA_ERROR_NO_SUCH_ZONE, "No zone '%s'.", id);
        return r;
}

static int read_strv(sd_bus_message *m, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *s;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "s");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "s", &s)) > 0)
                if (strv_extend(&l, s) < 0)
                        return -ENOMEM;
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        if (!l && !(l = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

/* Reads a{sv} into the spec. Unknown keys are refused: a typo must not be
 * silently ignored. */
static int read_options(sd_bus_message *m, ZoneSpec *s, bool *start, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;

                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
#define VARIANT(sig) do { r = sd_bus_message_enter_container(m, 'v', sig); \
                if (r < 0) return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, \
                                                    "Option '%s' must have type %s.", key, sig); } while (0)
                if (streq(key, ZONE_OPT_MEMORY)) {
                        VARIANT("t");
                        r = sd_bus_message_read(m, "t", &s->memory);
                } else if (streq(key, ZONE_OPT_VCPUS)) {
                        VARIANT("u");
                        r = sd_bus_message_read(m, "u", &s->vcpus);
                } else if (streq(key, ZONE_OPT_KERNEL) || streq(key, ZONE_OPT_WORKING_DIRECTORY) || streq(key, ZONE_OPT_USER)) {
                        const char *v;
                        char **dest = streq(key, ZONE_OPT_KERNEL) ? &s->kernel :
                                      streq(key, ZONE_OPT_USER) ? &s->user : &s->working_directory;
                        VARIANT("s");
                        r = sd_bus_message_read(m, "s", &v);
                        if (r >= 0 && !isempty(v)) {
                                free(*dest);
                                *dest = strdup(v);
                                if (!*dest)
                                        return -ENOMEM;
                        }
                } else if (streq(key, ZONE_OPT_COMMAND) || streq(key, ZONE_OPT_ENVIRONMENT)) {
                        char **l = NULL;
                        VARIANT("as");
                        r = read_strv(m, &l);
                        if (r >= 0) {
                                char ***dest = streq(key, ZONE_OPT_COMMAND) ? &s->command : &s->environment;
                                strv_free(*dest);
                                *dest = l;
                        }
                } else if (streq(key, ZONE_OPT_PORTS)) {
                        _cleanup_strv_free_ char **l = NULL;
                        VARIANT("as");
                        r = read_strv(m, &l);
                        if (r < 0)
                                return r;
                        free(s->ports);
                        s->ports = calloc(strv_length(l) + 1, sizeof(ZonePort));
                        s->n_ports = 0;
                        if (!s->ports)
                                return -ENOMEM;
                        STRV_FOREACH(p, l) {
                                if (zone_port_parse(*p, &s->ports[s->n_ports]) < 0)
                                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                                 "Port '%s' is not HOST:ZONE[/tcp|/udp].", *p);
                                s->n_ports++;
                        }
                } else if (streq(key, ZONE_OPT_TTY) || streq(key, ZONE_OPT_AUTO_REMOVE) || streq(key, ZONE_OPT_START)) {
                        int b;
                        VARIANT("b");
                        r = sd_bus_message_read(m, "b", &b);
                        if (streq(key, ZONE_OPT_TTY))
                                s->tty = b;
                        else if (streq(key, ZONE_OPT_AUTO_REMOVE))
                                s->auto_remove = b;
                        else
                                *start = b;
                } else
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown option '%s'.", key);
#undef VARIANT
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m); /* v */
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m); /* e */
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int manager_create_zone(Manager *m, ZoneSpec *spec, bool start, Zone **ret, sd_bus_error *error) {
        _cleanup_free_ char *path = NULL, *why = NULL, *existing = NULL;
        ZoneSource source = spec->auto_remove ? ZONE_SOURCE_TRANSIENT : ZONE_SOURCE_PERSISTENT;
        Zone *z;
        int r;

        if (manager_get_zone(m, spec->name) || zone_spec_find(spec->name, NULL, &existing) >= 0)
                return sd_bus_error_setf(error, KRATA_ERROR_ZONE_EXISTS, "A zone named '%s' already exists%s%s.",
                                         spec->name, existing ? " (" : "", existing ? existing : "");
        r = zone_spec_validate(spec, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s", why ?: "Invalid zone spec.");
        if (!spec->uuid) {
                sd_id128_t id;
                char buf[SD_ID128_UUID_STRING_MAX];
                r = sd_id128_randomize(&id);
                if (r < 0)
                        return r;
                spec->uuid = strdup(sd_id128_to_uuid_string(id, buf));
                if (!spec->uuid)
                        return -ENOMEM;
        }
        spec->created = now(CLOCK_REALTIME);
        path = zone_spec_path(source, spec->name);
        if (!path)
                return -ENOMEM;
        r = zone_spec_save(spec, path);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to write %s: %s", path, strerror(-r));
        r = zone_new(m, spec, source, path, &z);
        if (r < 0) {
                (void) unlink(path);
                return r;
        }
        log_info("Zone %s created (%s, image %s).", spec->name, path, spec->image);
        (void) sd_bus_emit_signal(m->bus, ZONES_PATH, ZONES_INTERFACE, "ZoneNew", "so", spec->name, z->object_path);
        if (start) {
                r = supervisor_start(z);
                if (r < 0)
                        log_warning_errno(r, "Zone %s: supervisor did not start: %m", spec->name);
        }
        *ret = z;
        return 0;
}

static int method_create_zone(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_zone_spec_ ZoneSpec *spec = NULL;
        const char *name, *image;
        char genname[32];
        bool start = true;
        Zone *z;
        int r;

        /* Authorize first: a re-dispatched call must find its arguments unread. */
        r = bus_verify_polkit_async(msg, POLKIT_ACTION_ZONE_MANAGE, &m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = sd_bus_message_read(msg, "ss", &name, &image);
        if (r < 0)
                return r;
        if (isempty(name)) {
                sd_id128_t id;
                r = sd_id128_randomize(&id);
                if (r < 0)
                        return r;
                snprintf(genname, sizeof genname, "zone-%02x%02x%02x%02x", id.bytes[0], id.bytes[1], id.bytes[2], id.bytes[3]);
                name = genname;
        }
        if (!zone_name_is_valid(name))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid zone name '%s': use [a-z0-9][a-z0-9-]{0,62}.", name);
        if (isempty(image))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "An image is required.");
        spec = zone_spec_new(name);
        if (!spec || !(spec->image = strdup(image)))
                return -ENOMEM;
        r = read_options(msg, spec, &start, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        r = manager_create_zone(m, spec, start, &z, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        TAKE_PTR(spec);
        return sd_bus_reply_method_return(msg, "o", z->object_path);
}

static int zone_compare(const void *a, const void *b) {
        return strcmp((*(Zone *const *) a)->spec->name, (*(Zone *const *) b)->spec->name);
}

static int method_list_zones(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssssuo)");
        if (r < 0)
                return r;
        _cleanup_free_ Zone **sorted = calloc(m->n_zones + 1, sizeof(Zone *));
        size_t n = 0;
        if (!sorted)
                return -ENOMEM;
        for (Zone *z = m->zones; z; z = z->next)
                sorted[n++] = z;
        qsort(sorted, n, sizeof(Zone *), zone_compare);
        for (size_t i = 0; i < n; i++) {
                Zone *z = sorted[i];
                r = sd_bus_message_append(reply, "(ssssuo)", z->spec->name, strempty(z->uuid),
                                          zone_state_to_string(z->state), z->spec->image, z->domid,
                                          z->object_path);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_zone(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *id;
        Zone *z;
        int r;

        r = sd_bus_message_read(msg, "s", &id);
        if (r < 0)
                return r;
        r = manager_find_zone(m, id, &z);
        if (r < 0)
                return reply_find_error(msg, r, id);
        return sd_bus_reply_method_return(msg, "o", z->object_path);
}

/* StartZone also picks up declared zones written after we started. */
static int method_start_zone(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *id;
        Zone *z;
        int r;

        r = bus_verify_polkit_async(msg, POLKIT_ACTION_ZONE_MANAGE, &m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = sd_bus_message_read(msg, "s", &id);
        if (r < 0)
                return r;
        if (zone_name_is_valid(id) && !manager_get_zone(m, id))
                (void) manager_load_zones(m);
        r = manager_find_zone(m, id, &z);
        if (r < 0)
                return reply_find_error(msg, r, id);
        r = zone_start(z, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        return sd_bus_reply_method_return(msg, "o", z->object_path);
}

static int method_zone_op(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *member = sd_bus_message_get_member(msg), *id;
        Zone *z;
        int r;

        r = bus_verify_polkit_async(msg, POLKIT_ACTION_ZONE_MANAGE, &m->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = sd_bus_message_read(msg, "s", &id);
        if (r < 0)
                return r;
        r = manager_find_zone(m, id, &z);
        if (r < 0)
                return reply_find_error(msg, r, id);
        if (streq(member, "StopZone"))
                r = zone_stop(z, false, error);
        else if (streq(member, "KillZone"))
                r = zone_stop(z, true, error);
        else
                r = zone_destroy(z, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

/* Only the zone's own supervisor may speak for it: a process of its unit
 * (systemd), or the PID we started or that registered (spawn mode). A
 * supervisor nobody started (systemctl start, or run by hand) may register
 * when the zone has none. */
static int check_supervisor(sd_bus_message *msg, Zone *z, bool registering, pid_t *ret_pid, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        _cleanup_free_ char *want = NULL;
        const char *unit = NULL;
        uid_t euid;
        pid_t pid;
        int r;

        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID | SD_BUS_CREDS_UNIT |
                                                   SD_BUS_CREDS_AUGMENT, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &euid);
        if (r < 0)
                return r;
        if (euid != 0 && euid != geteuid())
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Only root may report zone state.");
        if (sd_bus_creds_get_pid(creds, &pid) < 0)
                pid = 0;
        if (ret_pid)
                *ret_pid = pid;
        if (asprintf_safe(&want, "krata-zone@%s.service", z->spec->name) < 0)
                return -ENOMEM;
        if (z->manager->use_systemd && sd_bus_creds_get_unit(creds, &unit) >= 0 && streq(unit, want))
                return 0;
        if (pid > 0 && z->supervisor_pid == pid)
                return 0;
        if (registering && z->supervisor_pid <= 0 && pid > 0)
                return 0;
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "PID %d is not the supervisor of zone %s.",
                                 (int) pid, z->spec->name);
}

static int method_register_supervisor(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name, *uuid;
        pid_t sender_pid = 0;
        uint32_t pid;
        Zone *z;
        int r;

        r = sd_bus_message_read(msg, "ssu", &name, &uuid, &pid);
        if (r < 0)
                return r;
        z = manager_get_zone(m, name);
        if (!z) {
                /* A declared zone started by systemctl without us: load it now. */
                (void) manager_load_zones(m);
                z = manager_get_zone(m, name);
        }
        if (!z)
                return bus_reply_errnof(msg, -ENXIO, KRATA_ERROR_NO_SUCH_ZONE, "No zone '%s'.", name);
        r = check_supervisor(msg, z, true, &sender_pid, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        if (!zone_uuid_is_valid(uuid))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid UUID '%s'.", uuid);
        if (!streq_ptr(z->uuid, uuid)) {
                free(z->uuid);
                z->uuid = strdup(uuid);
                if (!z->uuid)
                        return -ENOMEM;
                zone_emit_changed(z, "Uuid", NULL);
        }
        /* The sender's PID is what counts; the argument is only a cross-check. */
        if (pid != 0 && (pid_t) pid != sender_pid)
                log_notice("Zone %s: supervisor claims PID %u but is PID %d.", name, pid, (int) sender_pid);
        pid = (uint32_t) sender_pid;
        if (!z->child_source && !z->pidfd_source && pid > 0) {
                if (m->use_systemd)
                        (void) supervisor_watch_unit(z);
                else
                        (void) supervisor_watch_pid(z, (pid_t) pid);
        }
        if (!zone_state_is_active(z->state))
                (void) zone_set_state(z, ZONE_STARTING);
        log_debug("Zone %s: supervisor PID %u registered.", name, pid);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_report_state(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name;
        Zone *z;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        z = manager_get_zone(m, name);
        if (!z)
                return bus_reply_errnof(msg, -ENXIO, KRATA_ERROR_NO_SUCH_ZONE, "No zone '%s'.", name);
        r = check_supervisor(msg, z, false, NULL, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                const char *key, *s;
                uint32_t u;
                int32_t i;

                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, REPORT_STATE)) {
                        ZoneState st;
                        r = sd_bus_message_read(msg, "v", "s", &s);
                        if (r < 0)
                                return r;
                        st = zone_state_from_string(s);
                        if (st < 0)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown state '%s'.", s);
                        (void) zone_set_state(z, st);
                } else if (streq(key, REPORT_DOMID)) {
                        r = sd_bus_message_read(msg, "v", "u", &u);
                        if (r >= 0 && u != z->domid) {
                                z->domid = u;
                                zone_emit_changed(z, "DomainId", NULL);
                        }
                } else if (streq(key, REPORT_EXIT_STATUS)) {
                        r = sd_bus_message_read(msg, "v", "i", &i);
                        if (r >= 0 && i != z->exit_status) {
                                z->exit_status = i;
                                zone_emit_changed(z, "ExitStatus", NULL);
                        }
                } else if (streq(key, REPORT_ERROR) || streq(key, REPORT_RESULT) || streq(key, REPORT_STATUS) ||
                           streq(key, REPORT_IMAGE_DIGEST) || streq(key, REPORT_KERNEL)) {
                        char **dest = streq(key, REPORT_ERROR) ? &z->error :
                                      streq(key, REPORT_RESULT) ? &z->result :
                                      streq(key, REPORT_STATUS) ? &z->status :
                                      streq(key, REPORT_KERNEL) ? &z->kernel : &z->image_digest;
                        const char *prop = streq(key, REPORT_ERROR) ? "Error" :
                                           streq(key, REPORT_RESULT) ? "Result" :
                                           streq(key, REPORT_STATUS) ? "Status" :
                                           streq(key, REPORT_KERNEL) ? "Kernel" : "ImageDigest";
                        r = sd_bus_message_read(msg, "v", "s", &s);
                        if (r < 0)
                                return r;
                        if (!string_is_printable(s, 4096))
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Bad value for '%s'.", key);
                        if (!streq_ptr(*dest, s)) {
                                free(*dest);
                                *dest = strdup(s);
                                if (!*dest)
                                        return -ENOMEM;
                                zone_emit_changed(z, prop, NULL);
                        }
                } else if (streq(key, REPORT_ADDRESSES)) {
                        char **l = NULL;
                        r = sd_bus_message_enter_container(msg, 'v', "as");
                        if (r >= 0)
                                r = read_strv(msg, &l);
                        if (r >= 0) {
                                strv_free(z->addresses);
                                z->addresses = l;
                                zone_emit_changed(z, "Addresses", NULL);
                                r = sd_bus_message_exit_container(msg);
                        }
                } else
                        r = sd_bus_message_skip(msg, "v"); /* newer supervisors may say more */
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(msg);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_list_orphans(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        int r;

        (void) manager_scan_domains(m);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(uss)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_orphans; i++) {
                r = sd_bus_message_append(reply, "(uss)", m->orphans[i].domid, m->orphans[i].uuid,
                                          strempty(m->orphans[i].reason));
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("CreateZone",
                                SD_BUS_ARGS("s", name, "s", image, "a{sv}", options),
                                SD_BUS_RESULT("o", zone),
                                method_create_zone, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListZones", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(ssssuo)", zones),
                                method_list_zones, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetZone", SD_BUS_ARGS("s", name_or_uuid), SD_BUS_RESULT("o", zone),
                                method_get_zone, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartZone", SD_BUS_ARGS("s", name_or_uuid), SD_BUS_RESULT("o", zone),
                                method_start_zone, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StopZone", SD_BUS_ARGS("s", name_or_uuid), SD_BUS_NO_RESULT,
                                method_zone_op, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("KillZone", SD_BUS_ARGS("s", name_or_uuid), SD_BUS_NO_RESULT,
                                method_zone_op, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DestroyZone", SD_BUS_ARGS("s", name_or_uuid), SD_BUS_NO_RESULT,
                                method_zone_op, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListOrphans", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(uss)", domains),
                                method_list_orphans, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RegisterSupervisor", SD_BUS_ARGS("s", name, "s", uuid, "u", pid),
                                SD_BUS_NO_RESULT, method_register_supervisor, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ReportState", SD_BUS_ARGS("s", name, "a{sv}", properties),
                                SD_BUS_NO_RESULT, method_report_state, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("ZoneNew", SD_BUS_ARGS("s", name, "o", zone), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ZoneRemoved", SD_BUS_ARGS("s", name, "o", zone), 0),
        SD_BUS_VTABLE_END
};
