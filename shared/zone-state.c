/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs-util.h"
#include "json-util.h"
#include "paths.h"
#include "string-util.h"
#include "zone-file.h"
#include "zone-state.h"

static const char *const state_names[_ZONE_STATE_MAX] = {
        [ZONE_CREATED] = "created",
        [ZONE_STARTING] = "starting",
        [ZONE_RUNNING] = "running",
        [ZONE_STOPPING] = "stopping",
        [ZONE_EXITED] = "exited",
        [ZONE_FAILED] = "failed",
        [ZONE_ORPHANED] = "orphaned",
};

const char *zone_state_to_string(ZoneState s) {
        return s >= 0 && s < _ZONE_STATE_MAX ? state_names[s] : NULL;
}

ZoneState zone_state_from_string(const char *s) {
        for (int i = 0; i < _ZONE_STATE_MAX; i++)
                if (streq_ptr(s, state_names[i]))
                        return (ZoneState) i;
        return _ZONE_STATE_INVALID;
}

#define B(s) (1U << (s))
static const unsigned allowed[_ZONE_STATE_MAX] = {
        [ZONE_CREATED] = B(ZONE_STARTING) | B(ZONE_FAILED),
        [ZONE_STARTING] = B(ZONE_RUNNING) | B(ZONE_STOPPING) | B(ZONE_EXITED) | B(ZONE_FAILED) | B(ZONE_ORPHANED),
        [ZONE_RUNNING] = B(ZONE_STOPPING) | B(ZONE_EXITED) | B(ZONE_FAILED) | B(ZONE_ORPHANED),
        [ZONE_STOPPING] = B(ZONE_EXITED) | B(ZONE_FAILED) | B(ZONE_ORPHANED),
        [ZONE_EXITED] = B(ZONE_STARTING),
        [ZONE_FAILED] = B(ZONE_STARTING),
        [ZONE_ORPHANED] = B(ZONE_EXITED) | B(ZONE_FAILED) | B(ZONE_STOPPING),
};
#undef B

bool zone_state_transition_valid(ZoneState from, ZoneState to) {
        if (from < 0 || from >= _ZONE_STATE_MAX || to < 0 || to >= _ZONE_STATE_MAX)
                return false;
        return from == to || (allowed[from] & (1U << to));
}

bool zone_state_is_active(ZoneState s) {
        return s == ZONE_STARTING || s == ZONE_RUNNING || s == ZONE_STOPPING || s == ZONE_ORPHANED;
}

int zone_state_apply(ZoneState *state, ZoneState to) {
        assert(state);

        if (!zone_state_transition_valid(*state, to))
                return -EINVAL;
        if (*state == to)
                return 0;
        *state = to;
        return 1;
}

ZoneRecord *zone_record_new(const char *name) {
        ZoneRecord *r = calloc(1, sizeof *r);

        assert(name);

        if (!r)
                return NULL;
        r->name = strdup(name);
        if (!r->name)
                return mfree(r);
        r->state = ZONE_STARTING;
        r->domid = -1;
        r->exit_status = -1;
        return r;
}

ZoneRecord *zone_record_free(ZoneRecord *r) {
        if (!r)
                return NULL;
        free(r->name);
        free(r->uuid);
        free(r->error);
        free(r->image_digest);
        free(r->kernel);
        strv_free(r->addresses);
        strv_free(r->loop_devices);
        return mfree(r);
}

char *zone_record_path(const char *name) {
        _cleanup_free_ char *rel = NULL;

        assert(name);

        if (asprintf_safe(&rel, "supervisors/%s.json", name) < 0)
                return NULL;
        return krata_runtime_path(rel);
}

static int add_string(json_object *o, const char *key, const char *v) {
        if (!v)
                return 0;
        json_object *s = json_object_new_string(v);
        if (!s || json_object_object_add(o, key, s) < 0)
                return -ENOMEM;
        return 0;
}

static int add_strv(json_object *o, const char *key, char *const *l) {
        json_object *a = json_object_new_array();

        if (!a)
                return -ENOMEM;
        STRV_FOREACH(s, l)
                if (json_object_array_add(a, json_object_new_string(*s)) < 0) {
                        json_object_put(a);
                        return -ENOMEM;
                }
        return json_object_object_add(o, key, a) < 0 ? -ENOMEM : 0;
}

int zone_record_save(const ZoneRecord *r) {
        _cleanup_json_ json_object *o = json_object_new_object();
        _cleanup_free_ char *path = zone_record_path(r->name), *dir = krata_runtime_path("supervisors");
        const char *text;
        int q;

        assert(r);

        if (!o || !path || !dir)
                return -ENOMEM;
        if (add_string(o, "name", r->name) < 0 || add_string(o, "uuid", r->uuid) < 0 ||
            add_string(o, "state", zone_state_to_string(r->state)) < 0 ||
            add_string(o, "error", r->error) < 0 || add_string(o, "imageDigest", r->image_digest) < 0 ||
            add_string(o, "kernel", r->kernel) < 0 || add_strv(o, "addresses", r->addresses) < 0 ||
            add_strv(o, "loopDevices", r->loop_devices) < 0)
                return -ENOMEM;
        json_object_object_add(o, "pid", json_object_new_int64(r->pid));
        json_object_object_add(o, "domid", json_object_new_int64(r->domid));
        json_object_object_add(o, "exitStatus", json_object_new_int64(r->exit_status));
        json_object_object_add(o, "started", json_object_new_uint64(r->started));
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        if (!text)
                return -ENOMEM;
        q = mkdir_p(dir, 0755);
        if (q < 0)
                return q;
        return write_string_file_atomic(path, text, 0644);
}

static int dispatch_state(const char *name _unused_, json_object *v, void *dest) {
        ZoneState s = zone_state_from_string(json_object_get_string(v));
        if (s < 0)
                return -EINVAL;
        *(ZoneState *) dest = s;
        return 0;
}

int zone_record_load(const char *name, ZoneRecord **ret) {
        assert(name);
        assert(ret);

        static const JsonDispatch table[] = {
                { "uuid", json_type_string, json_dispatch_string, offsetof(ZoneRecord, uuid), 0 },
                { "pid", json_type_int, json_dispatch_int, offsetof(ZoneRecord, pid), JSON_MANDATORY },
                { "state", json_type_string, dispatch_state, offsetof(ZoneRecord, state), JSON_MANDATORY },
                { "domid", json_type_int, json_dispatch_int, offsetof(ZoneRecord, domid), 0 },
                { "exitStatus", json_type_int, json_dispatch_int, offsetof(ZoneRecord, exit_status), 0 },
                { "error", json_type_string, json_dispatch_string, offsetof(ZoneRecord, error), 0 },
                { "imageDigest", json_type_string, json_dispatch_string, offsetof(ZoneRecord, image_digest), 0 },
                { "kernel", json_type_string, json_dispatch_string, offsetof(ZoneRecord, kernel), 0 },
                { "addresses", json_type_array, json_dispatch_strv, offsetof(ZoneRecord, addresses), 0 },
                { "loopDevices", json_type_array, json_dispatch_strv, offsetof(ZoneRecord, loop_devices), 0 },
                { "started", json_type_int, json_dispatch_uint64, offsetof(ZoneRecord, started), 0 },
                {}
        };
        _cleanup_free_ char *path = NULL, *data = NULL;
        _cleanup_zone_record_ ZoneRecord *r = NULL;
        _cleanup_json_ json_object *o = NULL;
        size_t size;
        int q;

        if (!zone_name_is_valid(name))
                return -EINVAL;
        path = zone_record_path(name);
        r = zone_record_new(name);
        if (!path || !r)
                return -ENOMEM;
        q = read_full_file(path, ZONE_RECORD_MAX, &data, &size);
        if (q < 0)
                return q;
        q = json_parse_bounded(data, size, ZONE_RECORD_MAX, true, &o);
        if (q < 0)
                return -EBADMSG;
        q = json_dispatch(o, table, path, r);
        if (q < 0)
                return q;
        if ((r->uuid && !zone_uuid_is_valid(r->uuid)) || r->pid < 0 || r->domid < -1)
                return -EBADMSG;
        STRV_FOREACH(l, r->loop_devices)
                if (!startswith(*l, "/dev/loop"))
                        return -EBADMSG;
        *ret = TAKE_PTR(r);
        return 0;
}

int zone_record_remove(const char *name) {
        _cleanup_free_ char *path = zone_record_path(name);

        assert(name);

        if (!path)
                return -ENOMEM;
        if (unlink(path) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}
