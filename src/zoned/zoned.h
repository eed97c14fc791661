/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bus-polkit.h"
#include "bus-util.h"
#include "zone-file.h"
#include "zone-state.h"
#include "zone-transition.h"

typedef struct Manager Manager;
typedef struct Zone Zone;
typedef struct KernelJob KernelJob;

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
        KernelJob *kernel_jobs; /* queued; the first one runs */
};

/* The properties of org.krata.Zone1 are read from here by offset
 * (zone-dbus.c); only zone_handle_event() changes the state and its facts. */
struct Zone {
        Manager *manager;
        Zone *next;

        ZoneSpec spec;
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
        bool remove_when_gone;          /* Destroy was asked while something ran */

        /* krata-zone --cleanup of an orphaned domain */
        sd_event_source *cleanup_source;
        sd_bus_message *cleanup_request; /* Stop, Kill or Destroy: answered when it ends */
};

/* zone.c: zone objects, and the one place that applies state transitions */
/* Takes over what spec holds (leaving it empty) once it succeeds. */
int zone_new(Manager *m, ZoneSpec *spec, ZoneSource source, const char *spec_path, Zone **ret);
void zone_free(Zone *z);
Zone *manager_get_zone(Manager *m, const char *name);
Zone *manager_get_zone_by_uuid(Manager *m, const char *uuid);
/* By name, else by a UUID or unique UUID prefix (-ENXIO none, -ENOTUNIQ ambiguous). */
int manager_resolve_zone(Manager *m, const char *name_or_uuid, Zone **ret);
int zone_bus_path(const char *name, char **ret);
void zone_emit_changed(Zone *z, const char *first, ...);
/* Decides the event with zone_transition() and applies it: facts, state,
 * then the action. request: the method call that asked, if any; returns 1
 * when it keeps it to answer later (an orphan's cleanup), 0 when the caller
 * answers now. z may be freed on return. */
int zone_handle_event(Zone *z, const ZoneEvent *e, sd_bus_message *request, sd_bus_error *error);
/* The same for events with nothing but a type. */
int zone_handle(Zone *z, ZoneEventType type, sd_bus_message *request, sd_bus_error *error);

/* supervisor.c: starting, signalling and following krata-zone supervisors;
 * what they do is told to zone.c as events */
int supervisor_start(Zone *z);
/* SIGTERM: ask the guest to shut down; SIGINT: destroy now (Kill). */
int supervisor_signal(Zone *z, int sig);
bool supervisor_running(Zone *z);
/* Follows a supervisor that registered or was found running: its unit
 * (systemd mode), else its PID through a pidfd. */
int supervisor_follow(Zone *z, pid_t pid);
/* Stops following: the supervisor is gone. */
void supervisor_unfollow(Zone *z);
/* systemd: the unit's ActiveState ("active", "inactive", ...). */
int supervisor_unit_state(Zone *z, char **ret_active_state);
/* A destroyed zone leaves no failed unit behind. */
void supervisor_forget_unit(Zone *z);
/* Runs krata-zone --cleanup NAME for an orphaned domain without waiting:
 * ZONE_EVENT_CLEANUP_EXITED follows. */
int supervisor_cleanup_orphan(Zone *z);

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

/* zone.c: what Zones1 and Zone1 methods ask of a zone. Each returns
 * < 0 or sets error on failure, 1 when it keeps msg to answer later, else 0
 * (the caller answers). */
int manager_create_zone(Manager *m, ZoneSpec *spec, bool start, Zone **ret, sd_bus_error *error);
int zone_start(Zone *z, sd_bus_error *error);
int zone_stop(Zone *z, bool kill_now, sd_bus_message *msg, sd_bus_error *error);
int zone_destroy(Zone *z, sd_bus_message *msg, sd_bus_error *error);

/* zoned-dbus.c, zone-dbus.c */
extern const sd_bus_vtable manager_vtable[];
extern const sd_bus_vtable zone_vtable[];
int zone_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                     void **found, sd_bus_error *error);
int zone_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                         sd_bus_error *error);

/* kernel-dbus.c: Zones1 methods for kernels */
int bus_method_install_default_kernel(sd_bus_message *msg, void *userdata, sd_bus_error *error);
int bus_method_prepare_kernel(sd_bus_message *msg, void *userdata, sd_bus_error *error);

/* manager.c */
/* Work in flight that an idle exit would lose: our own children, a pending
 * removal, a polkit query, a kernel job. */
bool manager_is_busy(Manager *m);
void manager_free(Manager *m);
