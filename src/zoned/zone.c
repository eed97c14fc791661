/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-id128.h>

#include "log.h"
#include "string-util.h"
#include "zoned.h"

int zone_bus_path(const char *name, char **ret) {
        return sd_bus_path_encode(ZONE_PATH_PREFIX, name, ret);
}

int zone_new(Manager *m, ZoneSpec *spec, ZoneSource source, const char *spec_path, Zone **ret) {
        Zone *z = calloc(1, sizeof *z);
        int r;

        if (!z)
                return -ENOMEM;
        z->manager = m;
        z->source = source;
        z->state = ZONE_CREATED;
        z->exit_status = -1;
        z->spec_path = strdup(spec_path);
        z->result = strdup("");
        if (!z->spec_path || !z->result) {
                free(z->spec_path);
                free(z->result);
                free(z);
                return -ENOMEM;
        }
        r = zone_bus_path(spec->name, &z->object_path);
        if (r < 0) {
                free(z->spec_path);
                free(z->result);
                free(z);
                return r;
        }
        if (spec->uuid)
                z->uuid = strdup(spec->uuid);
        z->spec = spec; /* owned from here on */
        z->next = m->zones;
        m->zones = z;
        m->n_zones++;
        *ret = z;
        return 0;
}

void zone_free(Zone *z) {
        Manager *m;

        if (!z)
                return;
        m = z->manager;
        for (Zone **p = &m->zones; *p; p = &(*p)->next)
                if (*p == z) {
                        *p = z->next;
                        m->n_zones--;
                        break;
                }
        sd_event_source_disable_unref(z->child_source);
        sd_event_source_disable_unref(z->pidfd_source);
        sd_bus_slot_unref(z->unit_slot);
        zone_spec_free(z->spec);
        free(z->spec_path);
        free(z->object_path);
        free(z->uuid);
        free(z->result);
        free(z->error);
        free(z->status);
        free(z->image_digest);
        free(z->kernel);
        strv_free(z->addresses);
        free(z);
}

Zone *manager_get_zone(Manager *m, const char *name) {
        for (Zone *z = m->zones; z; z = z->next)
                if (streq(z->spec->name, name))
                        return z;
        return NULL;
}

Zone *manager_get_zone_by_uuid(Manager *m, const char *uuid) {
        for (Zone *z = m->zones; z; z = z->next)
                if (streq_ptr(z->uuid, uuid))
                        return z;
        return NULL;
}

int manager_find_zone(Manager *m, const char *id, Zone **ret) {
        Zone *found = NULL;
        size_t n = strlen(id);

        found = manager_get_zone(m, id);
        if (found) {
                *ret = found;
                return 0;
        }
        if (n == 0)
                return -ENXIO;
        for (Zone *z = m->zones; z; z = z->next) {
                if (!z->uuid || strncmp(z->uuid, id, n) != 0)
                        continue;
                if (found)
                        return -ENOTUNIQ;
                found = z;
        }
        if (!found)
                return -ENXIO;
        *ret = found;
        return 0;
}

void zone_emit_changed(Zone *z, const char *first, ...) {
        const char *names[16];
        size_t n = 0;
        va_list ap;

        if (!z->manager->bus)
                return;
        va_start(ap, first);
        for (const char *s = first; s && n < ELEMENTSOF(names) - 1; s = va_arg(ap, const char *))
                names[n++] = s;
        va_end(ap);
        names[n] = NULL;
        (void) sd_bus_emit_properties_changed_strv(z->manager->bus, z->object_path, ZONE_INTERFACE,
                                                   (char **) names);
}

int zone_set_state(Zone *z, ZoneState state) {
        ZoneState old = z->state;
        int r = zone_state_apply(&z->state, state);

        if (r < 0) {
                log_warning("Zone %s: ignoring transition %s -> %s.", z->spec->name,
                            zone_state_to_string(old), zone_state_to_string(state));
                return r;
        }
        if (r > 0) {
                log_info("Zone %s: %s -> %s.", z->spec->name, zone_state_to_string(old),
                         zone_state_to_string(state));
                zone_emit_changed(z, "State", NULL);
        }
        return r;
}

static int replace_string(char **dest, const char *v) {
        char *n;

        if (streq_ptr(*dest, v))
                return 0;
        n = v ? strdup(v) : NULL;
        if (v && !n)
                return -ENOMEM;
        free(*dest);
        *dest = n;
        return 1;
}

int zone_set_error(Zone *z, const char *result, const char *error) {
        int a = replace_string(&z->result, result ?: "");
        int b = replace_string(&z->error, error);

        if (a < 0 || b < 0)
                return -ENOMEM;
        if (a > 0 || b > 0)
                zone_emit_changed(z, "Result", "Error", NULL);
        return 0;
}

int zone_ensure_uuid(Zone *z) {
        sd_id128_t id;
        char buf[SD_ID128_UUID_STRING_MAX];
        int r;

        if (z->uuid)
                return 0;
        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        z->uuid = strdup(sd_id128_to_uuid_string(id, buf));
        if (!z->uuid)
                return -ENOMEM;
        zone_emit_changed(z, "Uuid", NULL);
        return 1;
}

int zone_apply_record(Zone *z, const ZoneRecord *r) {
        if (r->uuid && !streq_ptr(z->uuid, r->uuid)) {
                if (replace_string(&z->uuid, r->uuid) < 0)
                        return -ENOMEM;
                zone_emit_changed(z, "Uuid", NULL);
        }
        if (r->domid >= 0 && (uint32_t) r->domid != z->domid) {
                z->domid = (uint32_t) r->domid;
                zone_emit_changed(z, "DomainId", NULL);
        }
        if (r->exit_status != z->exit_status && r->exit_status >= 0) {
                z->exit_status = r->exit_status;
                zone_emit_changed(z, "ExitStatus", NULL);
        }
        if (r->image_digest && replace_string(&z->image_digest, r->image_digest) > 0)
                zone_emit_changed(z, "ImageDigest", NULL);
        if (r->kernel && replace_string(&z->kernel, r->kernel) > 0)
                zone_emit_changed(z, "Kernel", NULL);
        if (r->addresses) {
                strv_free(z->addresses);
                z->addresses = strv_copy(r->addresses);
                zone_emit_changed(z, "Addresses", NULL);
        }
        if (r->error)
                (void) zone_set_error(z, z->result, r->error);
        if (r->state != z->state)
                (void) zone_set_state(z, r->state);
        return 0;
}

int zone_remove(Zone *z) {
        Manager *m = z->manager;
        _cleanup_free_ char *path = strdup(z->object_path), *name = strdup(z->spec->name);

        if (!path || !name)
                return -ENOMEM;
        /* Declared zones are the administrator's: never delete /etc. */
        if (z->source != ZONE_SOURCE_DECLARED && unlink(z->spec_path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Failed to remove %s: %m", z->spec_path);
        (void) zone_record_remove(name);
        supervisor_forget_unit(z);
        zone_free(z);
        log_info("Zone %s removed.", name);
        if (m->bus)
                (void) sd_bus_emit_signal(m->bus, ZONES_PATH, ZONES_INTERFACE, "ZoneRemoved", "so", name, path);
        return 0;
}

/* ---- operations shared by Zones1 and Zone1 ---- */

int zone_start(Zone *z, sd_bus_error *error) {
        int r;

        if (zone_state_is_active(z->state) || supervisor_running(z))
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Zone %s is already %s.", z->spec->name,
                                         zone_state_to_string(z->state));
        r = supervisor_start(z);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to start zone %s: %s", z->spec->name,
                                               strerror(-r));
        return 0;
}

int zone_stop(Zone *z, bool kill_now, sd_bus_error *error) {
        int r;

        if (z->state == ZONE_ORPHANED) {
                r = supervisor_cleanup_orphan(z);
                if (r < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED,
                                                 "Zone %s: cleaning up orphaned domain %u failed.", z->spec->name,
                                                 z->domid);
                (void) zone_set_state(z, ZONE_FAILED);
                return 0;
        }
        if (!zone_state_is_active(z->state) && !supervisor_running(z))
                return 0; /* already stopped: stopping is idempotent */
        /* SIGTERM asks the guest to power off (then destroys after a timeout);
         * SIGINT destroys the domain at once. */
        r = supervisor_signal(z, kill_now ? SIGINT : SIGTERM);
        if (r == -ESRCH)
                return 0;
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Failed to signal zone %s's supervisor: %s",
                                               z->spec->name, strerror(-r));
        if (!kill_now && z->state != ZONE_STARTING)
                (void) zone_set_state(z, ZONE_STOPPING);
        return 0;
}

int zone_destroy(Zone *z, sd_bus_error *error) {
        int r;

        if (z->state == ZONE_ORPHANED || zone_state_is_active(z->state) || supervisor_running(z)) {
                bool running = supervisor_running(z);
                r = zone_stop(z, true, error);
                if (r < 0 || sd_bus_error_is_set(error))
                        return r;
                if (running && supervisor_running(z)) {
                        /* Removed once the supervisor has torn everything down. */
                        z->remove_when_gone = true;
                        return 0;
                }
        }
        return zone_remove(z);
}
