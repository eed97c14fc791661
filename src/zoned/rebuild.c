/* SPDX-License-Identifier: Apache-2.0 */
/* Rebuilding zoned's view after a (re)start: stored specs, the supervisors'
 * records, systemd's unit states and the hypervisor's domain list. Nothing
 * running is lost and nothing unknown is silently kept. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs-util.h"
#include "log.h"
#include "string-util.h"
#include "zoned.h"

static bool pid_is_supervisor(pid_t pid, const char *name) {
        char path[64];
        _cleanup_free_ char *cmdline = NULL;
        size_t size;

        if (pid <= 0 || (kill(pid, 0) < 0 && errno != EPERM))
                return false;
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int) pid);
        if (read_full_file(path, 4096, &cmdline, &size) < 0 || size == 0)
                return false;
        /* argv[0] ends in krata-zone and argv[1] is the zone's name */
        const char *arg0 = cmdline, *arg1 = memchr(cmdline, 0, size);
        if (!arg1 || (size_t) (arg1 + 1 - cmdline) >= size)
                return false;
        arg1++;
        return (endswith(arg0, "/krata-zone") || streq(arg0, "krata-zone")) && streq(arg1, name);
}

static bool unit_state_is_alive(const char *s) {
        return s && (streq(s, "active") || streq(s, "activating") || streq(s, "deactivating") ||
                     streq(s, "reloading"));
}

/* What became of a zone whose spec we just loaded. */
static void zone_recover(Zone *z) {
        _cleanup_zone_record_ ZoneRecord *rec = NULL;
        _cleanup_free_ char *unit_state = NULL;
        bool alive = false;
        int r;

        r = zone_record_load(z->spec->name, &rec);
        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "Zone %s: ignoring unreadable supervisor record: %m", z->spec->name);
        if (z->manager->use_systemd) {
                (void) supervisor_unit_state(z, &unit_state);
                alive = unit_state_is_alive(unit_state);
                if (alive)
                        (void) supervisor_watch_unit(z);
        } else if (rec && pid_is_supervisor(rec->pid, z->spec->name)) {
                alive = supervisor_watch_pid(z, rec->pid) >= 0;
        }
        if (rec) {
                /* Initial load, not a transition: take the recorded state as it is. */
                if (rec->uuid && !z->uuid)
                        z->uuid = strdup(rec->uuid);
                z->state = rec->state;
                z->domid = rec->domid > 0 ? (uint32_t) rec->domid : 0;
                z->exit_status = rec->exit_status;
                z->error = rec->error ? strdup(rec->error) : NULL;
                z->image_digest = rec->image_digest ? strdup(rec->image_digest) : NULL;
                z->kernel = rec->kernel ? strdup(rec->kernel) : NULL;
                z->addresses = strv_copy(rec->addresses);
        }
        if (alive && !zone_state_is_active(z->state))
                z->state = ZONE_STARTING; /* started, has not written its record yet */
        if (!alive && zone_state_is_active(z->state) && z->state != ZONE_ORPHANED) {
                /* Decided by the domain scan: orphaned if its domain exists, failed if not. */
                z->state = z->domid > 0 ? ZONE_ORPHANED : ZONE_FAILED;
                free(z->result);
                z->result = strdup("supervisor");
                if (!z->error)
                        z->error = strdup("The supervisor ended without recording how the zone ended.");
        }
        log_debug("Zone %s recovered: %s%s.", z->spec->name, zone_state_to_string(z->state),
                  alive ? ", supervisor running" : "");
}

static int load_dir(Manager *m, ZoneSource source) {
        _cleanup_free_ char *dir = zone_source_dir(source);
        DIR *d;
        struct dirent *de;

        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : log_warning_errno(errno, "Cannot read %s: %m", dir);
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL, *err = NULL, *name = NULL;
                ZoneSpec *spec = NULL;
                const char *suffix = endswith(de->d_name, ".zone");
                Zone *z, *existing;
                int r;

                if (!suffix || de->d_name[0] == '.')
                        continue;
                name = strndup(de->d_name, (size_t) (suffix - de->d_name));
                path = path_join(dir, de->d_name);
                if (!name || !path)
                        break;
                existing = manager_get_zone(m, name);
                if (existing) {
                        if (!streq(existing->spec_path, path))
                                log_warning("Zone %s: %s is shadowed by %s.", name, path, existing->spec_path);
                        continue;
                }
                r = zone_spec_load(path, &spec, &err);
                if (r < 0) {
                        log_error("Ignoring zone file: %s", err ?: strerror(-r));
                        continue;
                }
                r = zone_new(m, spec, source, path, &z);
                if (r < 0) {
                        zone_spec_free(spec);
                        break;
                }
                zone_recover(z);
                if (m->bus)
                        (void) sd_bus_emit_signal(m->bus, ZONES_PATH, ZONES_INTERFACE, "ZoneNew", "so", name,
                                                  z->object_path);
        }
        closedir(d);
        return 0;
}

int manager_load_zones(Manager *m) {
        /* Declared zones win over stored ones of the same name. */
        (void) load_dir(m, ZONE_SOURCE_DECLARED);
        (void) load_dir(m, ZONE_SOURCE_TRANSIENT);
        (void) load_dir(m, ZONE_SOURCE_PERSISTENT);
        return 0;
}

void manager_clear_orphans(Manager *m) {
        for (size_t i = 0; i < m->n_orphans; i++)
                free(m->orphans[i].reason);
        m->orphans = mfree(m->orphans);
        m->n_orphans = 0;
}

int manager_scan_domains(Manager *m) {
        _cleanup_free_ XenDomainInfo *doms = NULL;
        size_t n = 0;
        int r;

        r = xen_list_domains(&doms, &n);
        if (r == -ENOMEDIUM) {
                /* No hypervisor: no domain can exist; active zones without a supervisor failed. */
                for (Zone *z = m->zones; z; z = z->next)
                        if (z->state == ZONE_ORPHANED && !supervisor_running(z)) {
                                z->state = ZONE_FAILED;
                                z->domid = 0;
                        }
                return 0;
        }
        if (r < 0)
                return r;
        manager_clear_orphans(m);
        m->orphans = calloc(n + 1, sizeof *m->orphans);
        if (!m->orphans)
                return -ENOMEM;
        for (Zone *z = m->zones; z; z = z->next) {
                bool found = false;
                for (size_t i = 0; i < n; i++)
                        if (streq_ptr(z->uuid, doms[i].uuid)) {
                                found = true;
                                if (z->domid != doms[i].domid) {
                                        z->domid = doms[i].domid;
                                        zone_emit_changed(z, "DomainId", NULL);
                                }
                        }
                if (found && !supervisor_running(z) && z->state != ZONE_ORPHANED) {
                        log_warning("Zone %s: domain %u runs without a supervisor; reported as orphaned.",
                                    z->spec->name, z->domid);
                        z->state = ZONE_ORPHANED;
                        zone_emit_changed(z, "State", NULL);
                } else if (!found && z->state == ZONE_ORPHANED) {
                        z->state = ZONE_FAILED;
                        z->domid = 0;
                        zone_emit_changed(z, "State", "DomainId", NULL);
                }
        }
        for (size_t i = 0; i < n; i++) {
                if (manager_get_zone_by_uuid(m, doms[i].uuid))
                        continue;
                OrphanDomain *o = &m->orphans[m->n_orphans++];
                o->domid = doms[i].domid;
                memcpy(o->uuid, doms[i].uuid, sizeof o->uuid);
                o->reason = strdup(doms[i].dying ? "dying domain of no known zone"
                                                 : "domain of no known zone (not krata's, or its spec is gone)");
                log_warning("Domain %u (handle %s) belongs to no known zone; reported, not adopted.",
                            o->domid, o->uuid);
        }
        return 0;
}
