/* SPDX-License-Identifier: Apache-2.0 */
/* Zone objects, and the one place where a zone's state changes:
 * zone_handle_event() asks zone_transition() and applies its decision. */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-id128.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "string-util.h"
#include "time-util.h"
#include "zoned.h"

int zone_bus_path(const char *name, char **ret) {
        assert(name);
        assert(ret);
        return sd_bus_path_encode(ZONE_PATH_PREFIX, name, ret);
}

int zone_new(Manager *m, ZoneSpec *spec, ZoneSource source, const char *spec_path, Zone **ret) {
        _cleanup_free_ Zone *z = NULL;
        _cleanup_free_ char *path = NULL, *object_path = NULL, *result = NULL, *uuid = NULL;
        int r;

        assert(m);
        assert(spec);
        assert(spec_path);
        assert(ret);

        z = calloc(1, sizeof *z);
        path = strdup(spec_path);
        result = strdup("");
        if (!z || !path || !result || (spec->uuid && !(uuid = strdup(spec->uuid))))
                return -ENOMEM;
        r = zone_bus_path(spec->name, &object_path);
        if (r < 0)
                return r;
        *z = (Zone) {
                .manager = m,
                .spec = *spec,
                .source = source,
                .spec_path = TAKE_PTR(path),
                .object_path = TAKE_PTR(object_path),
                .state = ZONE_CREATED,
                .uuid = TAKE_PTR(uuid),
                .exit_status = -1,
                .result = TAKE_PTR(result),
                .next = m->zones,
        };
        *spec = (ZoneSpec) {}; /* its contents are the zone's now */
        m->zones = z;
        m->n_zones++;
        *ret = TAKE_PTR(z);
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
        sd_event_source_disable_unref(z->cleanup_source);
        sd_bus_message_unref(z->cleanup_request);
        sd_bus_slot_unref(z->unit_slot);
        zone_spec_done(&z->spec);
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
        assert(m);
        assert(name);

        for (Zone *z = m->zones; z; z = z->next)
                if (streq(z->spec.name, name))
                        return z;
        return NULL;
}

Zone *manager_get_zone_by_uuid(Manager *m, const char *uuid) {
        assert(m);

        for (Zone *z = m->zones; z; z = z->next)
                if (streq_ptr(z->uuid, uuid))
                        return z;
        return NULL;
}

int manager_resolve_zone(Manager *m, const char *id, Zone **ret) {
        Zone *found;
        size_t n;

        assert(m);
        assert(id);
        assert(ret);

        found = manager_get_zone(m, id);
        if (found) {
                *ret = found;
                return 0;
        }
        n = strlen(id);
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

        assert(z);

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

/* ---- applying a transition ---- */

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

/* The string facts and the properties they set. */
static const struct {
        size_t fact, field;
        const char *property;
} string_facts[] = {
        { offsetof(ZoneFacts, uuid), offsetof(Zone, uuid), "Uuid" },
        { offsetof(ZoneFacts, result), offsetof(Zone, result), "Result" },
        { offsetof(ZoneFacts, error), offsetof(Zone, error), "Error" },
        { offsetof(ZoneFacts, status), offsetof(Zone, status), "Status" },
        { offsetof(ZoneFacts, image_digest), offsetof(Zone, image_digest), "ImageDigest" },
        { offsetof(ZoneFacts, kernel), offsetof(Zone, kernel), "Kernel" },
};

static int zone_take_facts(Zone *z, const ZoneFacts *f) {
        int r;

        for (size_t i = 0; i < ELEMENTSOF(string_facts); i++) {
                const char *v = *(const char *const *) ((const uint8_t *) f + string_facts[i].fact);

                if (!v)
                        continue;
                r = replace_string((char **) ((uint8_t *) z + string_facts[i].field), v);
                if (r < 0)
                        return r;
                if (r > 0)
                        zone_emit_changed(z, string_facts[i].property, NULL);
        }
        if (f->domid >= 0 && (uint32_t) f->domid != z->domid) {
                z->domid = (uint32_t) f->domid;
                zone_emit_changed(z, "DomainId", NULL);
        }
        if (f->exit_status >= 0 && f->exit_status != z->exit_status) {
                z->exit_status = f->exit_status;
                zone_emit_changed(z, "ExitStatus", NULL);
        }
        if (f->addresses) {
                char **l = strv_copy(f->addresses);
                if (!l)
                        return -ENOMEM;
                strv_free(z->addresses);
                z->addresses = l;
                zone_emit_changed(z, "Addresses", NULL);
        }
        return 0;
}

static int zone_new_run(Zone *z) {
        z->exit_status = -1;
        z->domid = 0;
        if (replace_string(&z->result, "") < 0)
                return -ENOMEM;
        z->error = mfree(z->error);
        zone_emit_changed(z, "ExitStatus", "DomainId", "Result", "Error", NULL);
        return 0;
}

static void zone_move(Zone *z, ZoneState state) {
        if (state == z->state)
                return;
        log_info("Zone %s: %s -> %s.", z->spec.name, zone_state_to_string(z->state), zone_state_to_string(state));
        z->state = state;
        zone_emit_changed(z, "State", NULL);
}

/* The supervisor reads its zone's UUID from the spec: give it one, and start
 * from no record. */
static int zone_prepare_start(Zone *z) {
        sd_id128_t id;
        char buf[SD_ID128_UUID_STRING_MAX];
        int r;

        if (!z->uuid) {
                r = sd_id128_randomize(&id);
                if (r < 0)
                        return r;
                z->uuid = strdup(sd_id128_to_uuid_string(id, buf));
                if (!z->uuid)
                        return -ENOMEM;
                zone_emit_changed(z, "Uuid", NULL);
        }
        if (!z->spec.uuid) {
                z->spec.uuid = strdup(z->uuid);
                if (!z->spec.uuid)
                        return -ENOMEM;
                if (z->source != ZONE_SOURCE_DECLARED) {
                        r = zone_spec_save(&z->spec, z->spec_path);
                        if (r < 0)
                                return log_error_errno(r, "Failed to write %s: %m", z->spec_path);
                }
        }
        (void) zone_record_remove(z->spec.name);
        return 0;
}

/* Forgets a zone for good: its spec (unless declared), record, object. */
static void zone_remove(Zone *z) {
        Manager *m = z->manager;
        _cleanup_free_ char *path = strdup(z->object_path), *name = strdup(z->spec.name);

        /* Declared zones are the administrator's: never delete /etc. */
        if (z->source != ZONE_SOURCE_DECLARED && unlink(z->spec_path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Failed to remove %s: %m", z->spec_path);
        (void) zone_record_remove(z->spec.name);
        supervisor_forget_unit(z);
        zone_free(z);
        log_info("Zone %s removed.", name ?: "?");
        if (m->bus && path && name)
                (void) sd_bus_emit_signal(m->bus, ZONES_PATH, ZONES_INTERFACE, "ZoneRemoved", "so", name, path);
}

static void zone_view(Zone *z, ZoneView *ret) {
        *ret = (ZoneView) {
                .state = z->state,
                .domid = z->domid,
                .result = z->result,
                .supervisor_running = supervisor_running(z),
                .cleanup_running = !!z->cleanup_source,
                .remove_when_gone = z->remove_when_gone,
                .auto_remove = z->spec.auto_remove,
        };
}

static int refuse(Zone *z, int refused, sd_bus_error *error) {
        if (refused == -EBUSY)
                return sd_bus_error_set_errnof(error, EBUSY, "Zone %s is already %s.", z->spec.name,
                                               zone_state_to_string(z->state));
        return sd_bus_error_set_errnof(error, -refused, "Zone %s: %s", z->spec.name, strerror(-refused));
}

/* Actions that must reach the supervisor before the state says so: a stop
 * that cannot be sent changes nothing. */
static int run_action_before(Zone *z, const ZoneTransition *t, sd_bus_error *error) {
        int r;

        switch (t->action) {
        case ZONE_ACTION_STOP:
        case ZONE_ACTION_KILL:
                r = supervisor_signal(z, t->action == ZONE_ACTION_KILL ? SIGINT : SIGTERM);
                if (r < 0 && r != -ESRCH) /* ESRCH: gone meanwhile; its exit event follows */
                        return sd_bus_error_set_errnof(error, -r, "Failed to signal zone %s's supervisor: %s",
                                                       z->spec.name, strerror(-r));
                return 0;
        case ZONE_ACTION_START:
                r = zone_prepare_start(z);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, -r, "Failed to start zone %s: %s", z->spec.name,
                                                       strerror(-r));
                return 0;
        default:
                return 0;
        }
}

/* Actions on the zone in its new state. Returns 1 when request is kept. */
static int run_action_after(Zone *z, const ZoneEvent *e, const ZoneTransition *t, sd_bus_message *request,
                            sd_bus_error *error) {
        int r;

        switch (t->action) {
        case ZONE_ACTION_START:
                r = supervisor_start(z);
                if (r < 0) {
                        (void) zone_handle(z, ZONE_EVENT_START_FAILED, NULL, NULL);
                        return sd_bus_error_set_errnof(error, -r, "Failed to start zone %s: %s", z->spec.name,
                                                       strerror(-r));
                }
                return 0;
        case ZONE_ACTION_CLEANUP:
                r = supervisor_cleanup_orphan(z);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, -r, "Zone %s: cleaning up orphaned domain %u failed: %s",
                                                       z->spec.name, z->domid, strerror(-r));
                if (!request)
                        return 0;
                z->cleanup_request = sd_bus_message_ref(request);
                return 1;
        case ZONE_ACTION_FOLLOW:
                r = supervisor_follow(z, e->pid);
                if (r < 0)
                        log_warning_errno(r, "Zone %s: cannot follow supervisor PID %d: %m", z->spec.name,
                                          (int) e->pid);
                return 0;
        default:
                return 0;
        }
}

/* The Stop, Kill or Destroy that started an orphan's cleanup gets its answer. */
static void answer_cleanup(sd_bus_message *request, bool success, const char *name, uint32_t domid) {
        if (!request)
                return;
        if (success)
                (void) sd_bus_reply_method_return(request, NULL);
        else
                (void) sd_bus_reply_method_errnof(request, EIO, "Zone %s: cleaning up orphaned domain %u failed.",
                                                  name, domid);
}

int zone_handle_event(Zone *z, const ZoneEvent *e, sd_bus_message *request, sd_bus_error *error) {
        _cleanup_bus_message_ sd_bus_message *cleanup_request = NULL;
        _cleanup_free_ char *name = NULL;
        uint32_t domid = 0;
        ZoneTransition t;
        ZoneView v;
        int r;

        assert(z);
        assert(e);

        if (e->type == ZONE_EVENT_CLEANUP_EXITED) {
                /* z may be gone once applied */
                cleanup_request = TAKE_PTR(z->cleanup_request);
                z->cleanup_source = sd_event_source_disable_unref(z->cleanup_source);
                name = strdup(z->spec.name);
                domid = z->domid;
        }

        zone_view(z, &v);
        zone_transition(&v, e, &t);
        if (t.refused < 0)
                return refuse(z, t.refused, error);
        if (t.ignored >= 0)
                log_warning("Zone %s: ignoring transition %s -> %s.", z->spec.name, zone_state_to_string(z->state),
                            zone_state_to_string(t.ignored));
        if (t.warn)
                log_warning("Zone %s: %s", z->spec.name, t.reason);
        r = run_action_before(z, &t, error);
        if (r < 0 || (error && sd_bus_error_is_set(error)))
                return r;

        if (t.supervisor_gone)
                supervisor_unfollow(z);
        if (t.new_run) {
                r = zone_new_run(z);
                if (r < 0)
                        return r;
        }
        r = zone_take_facts(z, &t.facts);
        if (r < 0)
                return log_oom();
        zone_move(z, t.state);
        z->remove_when_gone = t.remove_when_gone;
        if (t.supervisor_gone)
                log_info("Zone %s: supervisor gone (%s), exit status %d.", z->spec.name,
                         zone_state_to_string(z->state), z->exit_status);

        if (t.remove)
                zone_remove(z);
        else
                r = run_action_after(z, e, &t, request, error);
        if (e->type == ZONE_EVENT_CLEANUP_EXITED)
                answer_cleanup(cleanup_request, e->success, strempty(name), domid);
        return t.remove ? 0 : r;
}

int zone_handle(Zone *z, ZoneEventType type, sd_bus_message *request, sd_bus_error *error) {
        ZoneEvent e = { .type = type, .facts = ZONE_FACTS_NONE };

        assert(z);

        return zone_handle_event(z, &e, request, error);
}

/* ---- what the Zones1 and Zone1 methods ask ---- */

int manager_create_zone(Manager *m, ZoneSpec *spec, bool start, Zone **ret, sd_bus_error *error) {
        _cleanup_free_ char *path = NULL, *why = NULL, *existing = NULL;
        ZoneSource source;
        Zone *z;
        int r;

        assert(m);
        assert(spec);
        assert(ret);

        source = spec->auto_remove ? ZONE_SOURCE_TRANSIENT : ZONE_SOURCE_PERSISTENT;
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
        log_info("Zone %s created (%s, image %s).", z->spec.name, path, z->spec.image);
        (void) sd_bus_emit_signal(m->bus, ZONES_PATH, ZONES_INTERFACE, "ZoneNew", "so", z->spec.name, z->object_path);
        if (start) {
                _cleanup_bus_error_ sd_bus_error start_error = SD_BUS_ERROR_NULL;
                r = zone_start(z, &start_error);
                if (r < 0 || sd_bus_error_is_set(&start_error))
                        log_warning("Zone %s: supervisor did not start: %s", z->spec.name,
                                    bus_error_message(&start_error, r));
        }
        *ret = z;
        return 0;
}

int zone_start(Zone *z, sd_bus_error *error) {
        assert(z);
        return zone_handle(z, ZONE_EVENT_START_ASKED, NULL, error);
}

int zone_stop(Zone *z, bool kill_now, sd_bus_message *msg, sd_bus_error *error) {
        assert(z);
        return zone_handle(z, kill_now ? ZONE_EVENT_KILL_ASKED : ZONE_EVENT_STOP_ASKED, msg, error);
}

int zone_destroy(Zone *z, sd_bus_message *msg, sd_bus_error *error) {
        assert(z);
        return zone_handle(z, ZONE_EVENT_DESTROY_ASKED, msg, error);
}
