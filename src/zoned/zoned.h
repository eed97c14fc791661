/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bus-polkit.h"
#include "bus-util.h"
#include "zone-file.h"
#include "zone-state.h"


typedef struct Manager Manager;
typedef struct Zone Zone;

/* A domain with a krata-looking handle that no zone accounts for. */
typedef struct OrphanDomain {
        uint32_t domid;
        char uuid[37];
        char *reason;
} OrphanDomain;

struct Manager {
        sd_event *event;
        sd_bus *bus;
        Zone *zones;
        size_t n_zones;
        OrphanDomain *orphans;
        size_t n_orphans;
        bool use_systemd; /* start krata-zone@.service through systemd, else spawn */
        PolkitRegistry *polkit;
};


struct Zone {
        Manager *manager;
        Zone *next;

        ZoneSpec *spec;
        ZoneSource source;
        char *spec_path;
        char *object_path;

        ZoneState state;
        char *uuid;            /* from the spec, else assigned when started */
        uint32_t domid;        /* 0: none */
        int exit_status;       /* -1: none */
        char *result;          /* "", "success", "exit-code", "no-hypervisor", ... */
        char *error;           /* a sentence for people */
        char *status;          /* supervisor progress ("Pulling image: 40%") */
        char *image_digest;
        char *kernel;
        char **addresses;

        /* the supervisor */
        pid_t supervisor_pid;
        sd_event_source *child_source;  /* our child (spawn mode) */
        sd_event_source *pidfd_source;  /* not our child (found after a restart) */
        sd_bus_slot *unit_slot;         /* unit PropertiesChanged (systemd mode) */
        bool remove_when_gone;          /* Destroy called while it ran */
};

/* zone.c */
int zone_new(Manager *m, ZoneSpec *spec, ZoneSource source, const char *spec_path, Zone **ret);
void zone_free(Zone *z);
Zone *manager_get_zone(Manager *m, const char *name);
/* By name, else by a UUID or unique UUID prefix (-ENXIO none, -ENOTUNIQ ambiguous). */
int manager_find_zone(Manager *m, const char *name_or_uuid, Zone **ret);
Zone *manager_get_zone_by_uuid(Manager *m, const char *uuid);
/* Moves the zone's state along the state machine; emits PropertiesChanged. */
int zone_set_state(Zone *z, ZoneState state);
int zone_set_error(Zone *z, const char *result, const char *error);
/* Forgets a zone for good: its spec (unless declared), record, object. */
int zone_remove(Zone *z);
/* Applies a supervisor's record or report. */
int zone_apply_record(Zone *z, const ZoneRecord *r);
int zone_ensure_uuid(Zone *z);
void zone_emit_changed(Zone *z, const char *first, ...);

/* supervisor.c */
int supervisor_start(Zone *z);
/* SIGTERM: ask the guest to shut down; SIGINT: destroy now (Kill). */
int supervisor_signal(Zone *z, int sig);
bool supervisor_running(Zone *z);
/* Watches a supervisor that is not our child (after a zoned restart). */
int supervisor_watch_pid(Zone *z, pid_t pid);
/* Called when the supervisor is gone, however we learnt it. */
void supervisor_gone(Zone *z, int code, int status);
/* systemd: the unit's ActiveState ("active", "inactive", ...) or NULL. */
int supervisor_unit_state(Zone *z, char **ret_active_state);
int supervisor_watch_unit(Zone *z);
int supervisor_cleanup_orphan(Zone *z);
void supervisor_forget_unit(Zone *z);

/* rebuild.c */
int manager_load_zones(Manager *m);
int manager_scan_domains(Manager *m);
void manager_clear_orphans(Manager *m);

/* xen-domains.c: the hypervisor's domain list; -ENOMEDIUM without Xen. */
typedef struct XenDomainInfo {
        uint32_t domid;
        char uuid[37];
        bool dying, shutdown;
} XenDomainInfo;
int xen_list_domains(XenDomainInfo **ret, size_t *ret_n);

/* zoned-dbus.c, zone-dbus.c */
extern const sd_bus_vtable manager_vtable[];
extern const sd_bus_vtable zone_vtable[];
int zone_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                     void **found, sd_bus_error *error);
int zone_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                         sd_bus_error *error);
int zone_bus_path(const char *name, char **ret);
int manager_create_zone(Manager *m, ZoneSpec *spec, bool start, Zone **ret, sd_bus_error *error);
int zone_destroy(Zone *z, sd_bus_error *error);
int zone_start(Zone *z, sd_bus_error *error);
int zone_stop(Zone *z, bool kill_now, sd_bus_error *error);
