/* SPDX-License-Identifier: Apache-2.0 */
/* org.krata.Zone1 at /org/krata/zone/NAME: one object per zone. */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "string-util.h"
#include "zoned.h"

int zone_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                     void **found, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *name = NULL;
        Zone *z;
        int r;

        assert(path);
        assert(m);
        assert(found);

        r = sd_bus_path_decode(path, ZONE_PATH_PREFIX, &name);
        if (r <= 0)
                return r;
        z = manager_get_zone(m, name);
        if (!z)
                return 0;
        *found = z;
        return 1;
}

int zone_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                         sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **l = NULL;
        int r;

        assert(m);
        assert(nodes);

        for (Zone *z = m->zones; z; z = z->next) {
                r = strv_extend(&l, z->object_path);
                if (r < 0)
                        return r;
        }
        if (!l && !(l = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *nodes = TAKE_PTR(l);
        return 1;
}

/* Generic getters by type, on the field at the property's offset (the stock
 * sd-bus getters cover s, u, t, i and as; bool is one byte here, not four). */
static int property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "b", *(bool *) userdata);
}

static int property_get_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", zone_state_to_string(*(ZoneState *) userdata));
}

static int property_get_source(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", zone_source_to_string(*(ZoneSource *) userdata));
}

static int property_get_ports(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const ZoneSpec *spec = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "s");
        if (r < 0)
                return r;
        for (size_t i = 0; i < spec->n_ports; i++) {
                char buf[32];
                r = sd_bus_message_append(reply, "s", zone_port_format(&spec->ports[i], buf, sizeof buf));
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

/* What the supervisor booted, else what the spec asks for. */
static int property_get_kernel(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Zone *z = userdata;
        return sd_bus_message_append(reply, "s", strempty(z->kernel ?: z->spec.kernel));
}

static int method_zone(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Zone *z = userdata;
        const char *member = sd_bus_message_get_member(msg);
        int r;

        r = bus_verify_polkit_async(msg, POLKIT_ACTION_ZONE_MANAGE, &z->manager->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (streq(member, "Stop"))
                r = zone_stop(z, false, msg, error);
        else if (streq(member, "Kill"))
                r = zone_stop(z, true, msg, error);
        else if (streq(member, "Start"))
                r = zone_start(z, error);
        else
                r = zone_destroy(z, msg, error); /* z may be freed now */
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        return r > 0 ? 1 : sd_bus_reply_method_return(msg, NULL);
}

/* The stock getters read these widths. */
_Static_assert(sizeof(pid_t) == sizeof(uint32_t), "SupervisorPID is read as u");
_Static_assert(sizeof(((ZoneSpec *) NULL)->vcpus) == sizeof(uint32_t), "Vcpus is read as u");
_Static_assert(sizeof(((Zone *) NULL)->exit_status) == sizeof(int32_t), "ExitStatus is read as i");

#define CHANGE SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
#define CONST SD_BUS_VTABLE_PROPERTY_CONST
#define ZONE(f) offsetof(Zone, f)
const sd_bus_vtable zone_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", NULL, ZONE(spec.name), CONST),
        SD_BUS_PROPERTY("Uuid", "s", NULL, ZONE(uuid), CHANGE),
        SD_BUS_PROPERTY("State", "s", property_get_state, ZONE(state), CHANGE),
        SD_BUS_PROPERTY("DomainId", "u", NULL, ZONE(domid), CHANGE),
        SD_BUS_PROPERTY("Image", "s", NULL, ZONE(spec.image), CONST),
        SD_BUS_PROPERTY("ImageDigest", "s", NULL, ZONE(image_digest), CHANGE),
        SD_BUS_PROPERTY("Kernel", "s", property_get_kernel, 0, CHANGE),
        SD_BUS_PROPERTY("Memory", "t", NULL, ZONE(spec.memory), CONST),
        SD_BUS_PROPERTY("Vcpus", "u", NULL, ZONE(spec.vcpus), CONST),
        SD_BUS_PROPERTY("Addresses", "as", NULL, ZONE(addresses), CHANGE),
        SD_BUS_PROPERTY("ExitStatus", "i", NULL, ZONE(exit_status), CHANGE),
        SD_BUS_PROPERTY("Created", "t", NULL, ZONE(spec.created), CONST),
        SD_BUS_PROPERTY("Result", "s", NULL, ZONE(result), CHANGE),
        SD_BUS_PROPERTY("Error", "s", NULL, ZONE(error), CHANGE),
        SD_BUS_PROPERTY("Status", "s", NULL, ZONE(status), CHANGE),
        SD_BUS_PROPERTY("Source", "s", property_get_source, ZONE(source), CONST),
        SD_BUS_PROPERTY("SpecPath", "s", NULL, ZONE(spec_path), CONST),
        SD_BUS_PROPERTY("Command", "as", NULL, ZONE(spec.command), CONST),
        SD_BUS_PROPERTY("Environment", "as", NULL, ZONE(spec.environment), CONST),
        SD_BUS_PROPERTY("Ports", "as", property_get_ports, ZONE(spec), CONST),
        SD_BUS_PROPERTY("WorkingDirectory", "s", NULL, ZONE(spec.working_directory), CONST),
        SD_BUS_PROPERTY("User", "s", NULL, ZONE(spec.user), CONST),
        SD_BUS_PROPERTY("TTY", "b", property_get_bool, ZONE(spec.tty), CONST),
        SD_BUS_PROPERTY("AutoRemove", "b", property_get_bool, ZONE(spec.auto_remove), CONST),
        /* pid_t as u: never negative (0: none) */
        SD_BUS_PROPERTY("SupervisorPID", "u", NULL, ZONE(supervisor_pid), SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_METHOD("Start", NULL, NULL, method_zone, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Stop", NULL, NULL, method_zone, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Kill", NULL, NULL, method_zone, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Destroy", NULL, NULL, method_zone, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
