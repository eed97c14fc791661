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
#include "bus-dict.h"
#include "zoned.h"


static int reply_find_error(sd_bus_message *m, int r, const char *id) {
        if (r == -ENOTUNIQ)
                return bus_reply_errnof(m, r, KRATA_ERROR_NO_SUCH_ZONE,
                                        "'%s' matches more than one zone's UUID; give more of it.", id);
        if (r == -ENXIO)
                return bus_reply_errnof(m, r, KRATA_ERROR_NO_SUCH_ZONE, "No zone '%s'.", id);
        return r;
}

static int read_ports(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error) {
        ZoneSpec *spec = dest;
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ ZonePort *ports = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_message_read_strv(m, &l);
        if (r < 0)
                return r;
        ports = calloc(strv_length(l) + 1, sizeof(ZonePort));
        if (!ports)
                return -ENOMEM;
        STRV_FOREACH(p, l) {
                if (zone_port_parse(*p, &ports[n]) < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Port '%s' is not HOST:ZONE[/tcp|/udp].", *p);
                n++;
        }
        free(spec->ports);
        spec->ports = TAKE_PTR(ports);
        spec->n_ports = n;
        return 0;
}

/* CreateZone(name, image, options): the spec and whether to start it. */
typedef struct CreateArgs {
        ZoneSpec spec;
        bool start;
} CreateArgs;

static void create_args_done(CreateArgs *a) {
        zone_spec_done(&a->spec);
}

#define SPEC(f) offsetof(CreateArgs, spec.f)
static const BusDictField create_options[] = {
        { ZONE_OPT_MEMORY, "t", bus_dict_read_uint64, SPEC(memory) },
        { ZONE_OPT_VCPUS, "u", bus_dict_read_uint32, SPEC(vcpus) },
        { ZONE_OPT_KERNEL, "s", bus_dict_read_string, SPEC(kernel) },
        { ZONE_OPT_WORKING_DIRECTORY, "s", bus_dict_read_string, SPEC(working_directory) },
        { ZONE_OPT_USER, "s", bus_dict_read_string, SPEC(user) },
        { ZONE_OPT_COMMAND, "as", bus_dict_read_strv, SPEC(command) },
        { ZONE_OPT_ENVIRONMENT, "as", bus_dict_read_strv, SPEC(environment) },
        { ZONE_OPT_PORTS, "as", read_ports, offsetof(CreateArgs, spec) },
        { ZONE_OPT_TTY, "b", bus_dict_read_bool, SPEC(tty) },
        { ZONE_OPT_AUTO_REMOVE, "b", bus_dict_read_bool, SPEC(auto_remove) },
        { ZONE_OPT_START, "b", bus_dict_read_bool, offsetof(CreateArgs, start) },
        {}
};
#undef SPEC

static int generate_name(char *buf, size_t size) {
        sd_id128_t id;
        int r;

        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        snprintf(buf, size, "zone-%02x%02x%02x%02x", id.bytes[0], id.bytes[1], id.bytes[2], id.bytes[3]);
        return 0;
}

static int method_create_zone(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_(create_args_done) CreateArgs args = { .start = true };
        const char *name, *image;
        char genname[32];
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
                r = generate_name(genname, sizeof genname);
                if (r < 0)
                        return r;
                name = genname;
        }
        if (!zone_name_is_valid(name))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid zone name '%s': use [a-z0-9][a-z0-9-]{0,62}.", name);
        if (isempty(image))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "An image is required.");
        r = zone_spec_init(&args.spec, name);
        if (r < 0)
                return r;
        args.spec.image = strdup(image);
        if (!args.spec.image)
                return -ENOMEM;
        r = bus_dict_read(msg, create_options, true, &args, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        r = manager_create_zone(m, &args.spec, args.start, &z, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        return sd_bus_reply_method_return(msg, "o", z->object_path);
}

static int zone_compare(const void *a, const void *b) {
        return strcmp((*(Zone *const *) a)->spec.name, (*(Zone *const *) b)->spec.name);
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
                r = sd_bus_message_append(reply, "(ssssuo)", z->spec.name, strempty(z->uuid),
                                          zone_state_to_string(z->state), z->spec.image, z->domid,
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
        r = manager_resolve_zone(m, id, &z);
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
        r = manager_resolve_zone(m, id, &z);
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
        r = manager_resolve_zone(m, id, &z);
        if (r < 0)
                return reply_find_error(msg, r, id);
        if (streq(member, "StopZone"))
                r = zone_stop(z, false, msg, error);
        else if (streq(member, "KillZone"))
                r = zone_stop(z, true, msg, error);
        else
                r = zone_destroy(z, msg, error); /* z may be freed now */
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        return r > 0 ? 1 : sd_bus_reply_method_return(msg, NULL);
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
        if (asprintf_safe(&want, "krata-zone@%s.service", z->spec.name) < 0)
                return -ENOMEM;
        if (z->manager->use_systemd && sd_bus_creds_get_unit(creds, &unit) >= 0 && streq(unit, want))
                return 0;
        if (pid > 0 && z->supervisor_pid == pid)
                return 0;
        if (registering && z->supervisor_pid <= 0 && pid > 0)
                return 0;
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "PID %d is not the supervisor of zone %s.",
                                 (int) pid, z->spec.name);
}

static int method_register_supervisor(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        ZoneEvent e = { .type = ZONE_EVENT_REGISTERED, .facts = ZONE_FACTS_NONE };
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
        /* The sender's PID is what counts; the argument is only a cross-check. */
        if (pid != 0 && (pid_t) pid != sender_pid)
                log_notice("Zone %s: supervisor claims PID %u but is PID %d.", name, pid, (int) sender_pid);
        e.facts.uuid = uuid;
        e.pid = sender_pid;
        r = zone_handle_event(z, &e, NULL, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        log_debug("Zone %s: supervisor PID %d registered.", name, (int) sender_pid);
        return sd_bus_reply_method_return(msg, NULL);
}

static int read_report_state(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error) {
        const char *v;
        int r;

        r = sd_bus_message_read_basic(m, 's', &v);
        if (r < 0)
                return r;
        *(ZoneState *) dest = zone_state_from_string(v);
        if (*(ZoneState *) dest < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown state '%s'.", v);
        return 0;
}

static int read_report_domid(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error) {
        uint32_t u;
        int r;

        r = sd_bus_message_read_basic(m, 'u', &u);
        if (r < 0)
                return r;
        *(int64_t *) dest = u;
        return 0;
}

/* Borrowed from the message: printable, bounded. */
static int read_report_string(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error) {
        const char *v;
        int r;

        r = sd_bus_message_read_basic(m, 's', &v);
        if (r < 0)
                return r;
        if (!string_is_printable(v, 4096))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Bad value for '%s'.", key);
        *(const char **) dest = v;
        return 0;
}

#define FACT(f) offsetof(ZoneFacts, f)
static const BusDictField report_keys[] = {
        { REPORT_STATE, "s", read_report_state, FACT(state) },
        { REPORT_DOMID, "u", read_report_domid, FACT(domid) },
        { REPORT_EXIT_STATUS, "i", bus_dict_read_int32, FACT(exit_status) },
        { REPORT_ERROR, "s", read_report_string, FACT(error) },
        { REPORT_RESULT, "s", read_report_string, FACT(result) },
        { REPORT_STATUS, "s", read_report_string, FACT(status) },
        { REPORT_IMAGE_DIGEST, "s", read_report_string, FACT(image_digest) },
        { REPORT_KERNEL, "s", read_report_string, FACT(kernel) },
        { REPORT_ADDRESSES, "as", bus_dict_read_strv, FACT(addresses) },
        {}
};
#undef FACT

/* The running supervisor's word: authoritative (see zone-transition.h). */
static int method_report_state(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        ZoneEvent e = { .type = ZONE_EVENT_REPORTED, .facts = ZONE_FACTS_NONE };
        _cleanup_strv_free_ char **addresses = NULL;
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
        /* newer supervisors may say more: unknown keys are skipped */
        r = bus_dict_read(msg, report_keys, false, &e.facts, error);
        addresses = e.facts.addresses;
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        r = zone_handle_event(z, &e, NULL, error);
        if (r < 0 || sd_bus_error_is_set(error))
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
        SD_BUS_METHOD_WITH_ARGS("InstallDefaultKernel",
                                SD_BUS_ARGS("h", image, "h", addons, "a{sv}", options),
                                SD_BUS_RESULT("a{sv}", kernel), bus_method_install_default_kernel,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PrepareKernel", SD_BUS_ARGS("a{sv}", source), SD_BUS_RESULT("a{sv}", kernel),
                                bus_method_prepare_kernel, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("ZoneNew", SD_BUS_ARGS("s", name, "o", zone), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ZoneRemoved", SD_BUS_ARGS("s", name, "o", zone), 0),
        SD_BUS_VTABLE_END
};
