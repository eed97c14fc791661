/* SPDX-License-Identifier: Apache-2.0 */
/* org.krata.Zone1 at /org/krata/zone/NAME: one object per zone. */
#include <errno.h>
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

static int property_get_spec_string(sd_bus *bus, const char *path, const char *interface,
                                    const char *property, sd_bus_message *reply, void *userdata,
                                    sd_bus_error *error) {
        Zone *z = userdata;
        const char *v = streq(property, "Name") ? z->spec->name :
                        streq(property, "Image") ? z->spec->image :
                        streq(property, "Uuid") ? z->uuid :
                        streq(property, "ImageDigest") ? z->image_digest :
                        streq(property, "Kernel") ? (z->kernel ?: z->spec->kernel) :
                        streq(property, "Result") ? z->result :
                        streq(property, "Error") ? z->error :
                        streq(property, "Status") ? z->status :
                        streq(property, "Source") ? zone_source_to_string(z->source) :
                        streq(property, "SpecPath") ? z->spec_path :
                        streq(property, "WorkingDirectory") ? z->spec->working_directory :
                        streq(property, "User") ? z->spec->user : NULL;
        return sd_bus_message_append(reply, "s", strempty(v));
}

static int property_get_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Zone *z = userdata;
        return sd_bus_message_append(reply, "s", zone_state_to_string(z->state));
}

static int property_get_strv(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Zone *z = userdata;
        char **l = streq(property, "Addresses") ? z->addresses :
                   streq(property, "Environment") ? z->spec->environment : z->spec->command;
        static char *empty[] = { NULL };
        return sd_bus_message_append_strv(reply, l ?: empty);
}

static int property_get_ports(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Zone *z = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "s");
        if (r < 0)
                return r;
        for (size_t i = 0; i < z->spec->n_ports; i++) {
                char buf[32];
                r = sd_bus_message_append(reply, "s", zone_port_format(&z->spec->ports[i], buf, sizeof buf));
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_memory(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Zone *z = userdata;
        if (streq(property, "Memory"))
                return sd_bus_message_append(reply, "t", z->spec->memory);
        return sd_bus_message_append(reply, "t", z->spec->created);
}

static int property_get_uint(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Zone *z = userdata;
        if (streq(property, "Vcpus"))
                return sd_bus_message_append(reply, "u", z->spec->vcpus);
        if (streq(property, "SupervisorPID"))
                return sd_bus_message_append(reply, "u", (uint32_t) (z->supervisor_pid > 0 ? z->supervisor_pid : 0));
        return sd_bus_message_append(reply, "u", z->domid);
}

static int property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Zone *z = userdata;
        return sd_bus_message_append(reply, "b", streq(property, "TTY") ? z->spec->tty : z->spec->auto_remove);
}

static int property_get_exit(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Zone *z = userdata;
        return sd_bus_message_append(reply, "i", z->exit_status);
}

static int method_zone(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Zone *z = userdata;
        const char *member = sd_bus_message_get_member(msg);
        int r;

        r = bus_verify_polkit_async(msg, POLKIT_ACTION_ZONE_MANAGE, &z->manager->polkit, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (streq(member, "Stop"))
                r = zone_stop(z, false, error);
        else if (streq(member, "Kill"))
                r = zone_stop(z, true, error);
        else if (streq(member, "Start"))
                r = zone_start(z, error);
        else
                r = zone_destroy(z, error); /* z may be freed now */
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

#define CHANGE SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
#define CONST SD_BUS_VTABLE_PROPERTY_CONST
const sd_bus_vtable zone_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get_spec_string, 0, CONST),
        SD_BUS_PROPERTY("Uuid", "s", property_get_spec_string, 0, CHANGE),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, CHANGE),
        SD_BUS_PROPERTY("DomainId", "u", property_get_uint, 0, CHANGE),
        SD_BUS_PROPERTY("Image", "s", property_get_spec_string, 0, CONST),
        SD_BUS_PROPERTY("ImageDigest", "s", property_get_spec_string, 0, CHANGE),
        SD_BUS_PROPERTY("Kernel", "s", property_get_spec_string, 0, CHANGE),
        SD_BUS_PROPERTY("Memory", "t", property_get_memory, 0, CONST),
        SD_BUS_PROPERTY("Vcpus", "u", property_get_uint, 0, CONST),
        SD_BUS_PROPERTY("Addresses", "as", property_get_strv, 0, CHANGE),
        SD_BUS_PROPERTY("ExitStatus", "i", property_get_exit, 0, CHANGE),
        SD_BUS_PROPERTY("Created", "t", property_get_memory, 0, CONST),
        SD_BUS_PROPERTY("Result", "s", property_get_spec_string, 0, CHANGE),
        SD_BUS_PROPERTY("Error", "s", property_get_spec_string, 0, CHANGE),
        SD_BUS_PROPERTY("Status", "s", property_get_spec_string, 0, CHANGE),
        SD_BUS_PROPERTY("Source", "s", property_get_spec_string, 0, CONST),
        SD_BUS_PROPERTY("SpecPath", "s", property_get_spec_string, 0, CONST),
        SD_BUS_PROPERTY("Command", "as", property_get_strv, 0, CONST),
        SD_BUS_PROPERTY("Environment", "as", property_get_strv, 0, CONST),
        SD_BUS_PROPERTY("Ports", "as", property_get_ports, 0, CONST),
        SD_BUS_PROPERTY("WorkingDirectory", "s", property_get_spec_string, 0, CONST),
        SD_BUS_PROPERTY("User", "s", property_get_spec_string, 0, CONST),
        SD_BUS_PROPERTY("TTY", "b", property_get_bool, 0, CONST),
        SD_BUS_PROPERTY("AutoRemove", "b", property_get_bool, 0, CONST),
        SD_BUS_PROPERTY("SupervisorPID", "u", property_get_uint, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
        SD_BUS_METHOD("Start", NULL, NULL, method_zone, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Stop", NULL, NULL, method_zone, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Kill", NULL, NULL, method_zone, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Destroy", NULL, NULL, method_zone, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
