/* SPDX-License-Identifier: Apache-2.0 */
/* Rebuilding zoned's view after a (re)start: stored specs, the supervisors'
 * records, systemd's unit states and the hypervisor's domain list, each
 * handed to zone_handle_event() (see zone-transition.h for which channel
 * counts). Nothing running is lost and nothing unknown is silently kept. */
#include <assert.h>
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

/* What became of a zone whose spec we just loaded: its record and whether its
 * supervisor still runs (and is followed again). */
static void zone_recover(Zone *z) {
        _cleanup_zone_record_ ZoneRecord *rec = NULL;
        _cleanup_free_ char *unit_state = NULL;
        ZoneEvent e = { .type = ZONE_EVENT_RECORD_READ, .facts = ZONE_FACTS_NONE };
        int r;

        r = zone_record_load(z->spec.name, &rec);
        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "Zone %s: ignoring unreadable supervisor record: %m", z->spec.name);
        if (rec)
                zone_facts_from_record(rec, &e.facts);
        if (z->manager->use_systemd) {
                (void) supervisor_unit_state(z, &unit_state);
                if (zone_unit_state_is_alive(unit_state))
                        (void) supervisor_follow(z, 0);
        } else if (rec && pid_is_supervisor(rec->pid, z->spec.name))
                (void) supervisor_follow(z, rec->pid);
        (void) zone_handle_event(z, &e, NULL, NULL);
        log_debug("Zone %s recovered: %s%s.", z->spec.name, zone_state_to_string(z->state),
                  supervisor_running(z) ? ", supervisor running" : "");
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
                zone_spec_free(spec);
                if (r < 0)
                        break;
                zone_recover(z);
                if (m->bus)
                        (void) sd_bus_emit_signal(m->bus, ZONES_PATH, ZONES_INTERFACE, "ZoneNew", "so", name,
                                                  z->object_path);
        }
        closedir(d);
        return 0;
}

int manager_load_zones(Manager *m) {
        assert(m);

        /* Declared zones win over stored ones of the same name. */
        (void) load_dir(m, ZONE_SOURCE_DECLARED);
        (void) load_dir(m, ZONE_SOURCE_TRANSIENT);
        (void) load_dir(m, ZONE_SOURCE_PERSISTENT);
        return 0;
}

void manager_clear_orphans(Manager *m) {
        assert(m);

        for (size_t i = 0; i < m->n_orphans; i++)
                free(m->orphans[i].reason);
        m->orphans = mfree(m->orphans);
        m->n_orphans = 0;
}

static void scan_zone(Zone *z, const XenDomainInfo *doms, size_t n, bool hypervisor) {
        ZoneEvent e = { .type = ZONE_EVENT_DOMAINS_SCANNED, .facts = ZONE_FACTS_NONE, .hypervisor = hypervisor };

        for (size_t i = 0; i < n; i++)
                if (streq_ptr(z->uuid, doms[i].uuid)) {
                        e.domain_found = true;
                        e.domain_id = doms[i].domid;
                }
        (void) zone_handle_event(z, &e, NULL, NULL);
}

int manager_scan_domains(Manager *m) {
        _cleanup_free_ XenDomainInfo *doms = NULL;
        size_t n = 0;
        int r;

        assert(m);

        r = xen_list_domains(&doms, &n);
        if (r == -ENOMEDIUM) {
                for (Zone *z = m->zones; z; z = z->next)
                        scan_zone(z, NULL, 0, false);
                return 0;
        }
        if (r < 0)
                return r;
        manager_clear_orphans(m);
        m->orphans = calloc(n + 1, sizeof *m->orphans);
        if (!m->orphans)
                return -ENOMEM;
        for (Zone *z = m->zones; z; z = z->next)
                scan_zone(z, doms, n, true);
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
