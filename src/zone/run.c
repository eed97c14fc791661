/* SPDX-License-Identifier: Apache-2.0 */
/* A zone's setup, step by step in the order below, and teardown(), which
 * undoes what the steps recorded, on every path (also for --cleanup). */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>

#include "fs-util.h"
#include "guest-protocol.h"
#include "log.h"
#include "run.h"
#include "string-util.h"
#include "time-util.h"

int supervisor_load(Supervisor *s, const char *name) {
        _cleanup_free_ char *path = NULL, *err = NULL;
        sd_id128_t id;
        char buf[SD_ID128_UUID_STRING_MAX];
        int r;

        assert(s);
        assert(name);

        if (!zone_name_is_valid(name))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid zone name '%s'.", name);
        r = zone_spec_find(name, NULL, &path);
        if (r == -ENOENT)
                return log_error_errno(r, "No zone %s: no %s.zone in the config, runtime or state directory.", name, name);
        if (r < 0)
                return log_error_errno(r, "Cannot look up zone %s: %m", name);
        r = zone_spec_load(path, &s->spec, &err);
        if (r < 0)
                return log_error_errno(r, "%s", err ?: "Cannot load the zone spec.");
        if (s->spec->uuid)
                r = sd_id128_from_string(s->spec->uuid, &id);
        else
                r = sd_id128_randomize(&id); /* a declared zone without Uuid=: new each start */
        if (r < 0)
                return log_error_errno(r, "Cannot get a UUID for zone %s: %m", name);
        s->uuid = strdup(sd_id128_to_uuid_string(id, buf));
        s->record = zone_record_new(name);
        if (!s->uuid || !s->record || !(s->record->uuid = strdup(s->uuid)))
                return log_oom();
        s->record->pid = getpid();
        s->record->started = now(CLOCK_REALTIME);
        s->exit_status = -1;
        s->peers.zone = s->spec->name;
        s->xs.name = s->spec->name;
        s->xs.uuid = s->uuid;
        memcpy(s->domain.handle, id.bytes, sizeof s->domain.handle);
        s->domain.vcpus = s->spec->vcpus;
        s->domain.memory = s->spec->memory;
        return 0;
}

void supervisor_record(Supervisor *s, ZoneState state, const char *error) {
        ZoneRecord *rec;
        int r;

        assert(s);

        rec = s->record;
        if (zone_state_apply(&rec->state, state) < 0)
                log_debug("Zone %s: record stays %s (not %s).", s->spec->name, zone_state_to_string(rec->state),
                          zone_state_to_string(state));
        if (error && !streq_ptr(rec->error, error)) {
                free(rec->error);
                rec->error = strdup(error);
        }
        if (s->domain.created)
                rec->domid = (int) s->domain.domid;
        strv_free(rec->loop_devices);
        rec->loop_devices = NULL;
        (void) disks_paths(&s->disks, &rec->loop_devices);
        r = zone_record_save(rec);
        if (r < 0)
                log_warning_errno(r, "Cannot write the zone record: %m");
        (void) peers_report(&s->peers, rec, s->result, NULL); /* an error goes to Error, not to Status */
}

static void fail(Supervisor *s, const char *result, int r, const char *what) {
        char msg[512];

        if (r == 0) /* the message says it all */
                snprintf(msg, sizeof msg, "%s", what);
        else if (s->reason) /* the failing step said why */
                snprintf(msg, sizeof msg, "%s: %s", what, s->reason);
        else
                snprintf(msg, sizeof msg, "%s: %s", what, strerror(ERRNO_VALUE(r)));
        free(s->result);
        s->result = strdup(result);
        log_error("Zone %s failed: %s", s->spec->name, msg);
        (void) sd_notifyf(false, "STATUS=Failed: %s", msg);
        teardown(s);
        supervisor_record(s, ZONE_FAILED, msg);
}

static int on_pull_progress(const char *text, void *userdata) {
        Supervisor *s = userdata;

        if (text) {
                (void) sd_notifyf(false, "STATUS=%s", text);
                (void) peers_report(&s->peers, s->record, s->result, text);
        }
        (void) sd_notifyf(false, "EXTEND_TIMEOUT_USEC=%llu", START_EXTEND_USEC);
        return stop_pending() ? -ECANCELED : 0;
}

static int pull(Supervisor *s, const char *ref, ImageInfo *ret) {
        (void) sd_notifyf(false, "STATUS=Pulling image %s\nEXTEND_TIMEOUT_USEC=%llu", ref, START_EXTEND_USEC);
        return image_ensure(s->peers.bus, ref, on_pull_progress, s, ret, &s->reason);
}

/* ---- the steps ---- */

static int step_hypervisor(Supervisor *s) {
        return domain_open(&s->domain);
}

static int step_image(Supervisor *s) {
        int r = pull(s, s->spec->image, &s->image);

        if (r >= 0 && s->image.digest && !(s->record->image_digest = strdup(s->image.digest)))
                return -ENOMEM;
        return r;
}

static int step_stop_pending(Supervisor *s) {
        return stop_pending() ? -ECANCELED : 0;
}

static int step_kernel(Supervisor *s) {
        _cleanup_(image_info_done) ImageInfo image = {};
        int r;

        (void) sd_notifyf(false, "STATUS=Preparing the kernel\nEXTEND_TIMEOUT_USEC=%llu", START_EXTEND_USEC);
        if (s->spec->kernel) {
                r = pull(s, s->spec->kernel, &image);
                if (r < 0)
                        return r;
        }
        r = boot_kernel_prepare(&s->boot, s->spec->kernel, s->spec->kernel ? &image : NULL, &s->reason);
        if (r < 0)
                return r;
        s->record->kernel = strdup(s->boot.release ?: s->boot.kernel);
        return s->record->kernel ? 0 : -ENOMEM;
}

static int step_domain(Supervisor *s) {
        int r;

        (void) sd_notifyf(false, "STATUS=Building the domain\nEXTEND_TIMEOUT_USEC=%llu", START_EXTEND_USEC);
        r = domain_build(&s->domain, s->boot.kernel, s->boot.initrd, s->boot.cmdline);
        if (r < 0)
                return r;
        supervisor_record(s, ZONE_STARTING, NULL); /* the record now names the domain */
        return 0;
}

static int step_xenstore(Supervisor *s) {
        int r;

        r = xs_tree_write_domain(&s->xs, &s->domain);
        if (r >= 0)
                r = xs_tree_introduce(&s->xs, &s->domain);
        if (r >= 0)
                r = xs_tree_add_vif(&s->xs, &s->domain);
        return r;
}

/* The vif exists now (netback makes vif<domid>.0); its addresses go into the launch spec. */
static int step_network(Supervisor *s) {
        return peers_network_attach(&s->peers, s->domain.domid, s->spec, &s->network, &s->record->addresses);
}

static int step_config_disk(Supervisor *s) {
        return boot_config_disk_write(&s->boot, s->spec, s->image.config_json, &s->network, &s->reason);
}

static int step_disks(Supervisor *s) {
        int r;

        r = disks_add(&s->disks, &s->xs, s->image.squashfs_path, KRATA_VDEV_IMAGE);
        if (r >= 0)
                r = disks_add(&s->disks, &s->xs, s->boot.config_disk, KRATA_VDEV_CONFIG);
        if (r >= 0 && s->boot.addons)
                r = disks_add(&s->disks, &s->xs, s->boot.addons, KRATA_VDEV_ADDONS);
        return r;
}

static int step_console(Supervisor *s) {
        return peers_console_register(&s->peers, s->domain.domid);
}

static int step_unpause(Supervisor *s) {
        return domain_unpause(&s->domain);
}

static const struct {
        int (*run)(Supervisor *s);
        const char *result; /* the zone's Result= when the step fails; NULL: it may fail */
        const char *what;   /* the sentence; the step's reason or errno follows unless complete */
        bool complete;
} steps[] = {
        /* Cheapest refusal first: without Xen nothing else is worth doing. */
        { step_hypervisor, "no-hypervisor", "No Xen hypervisor: /dev/xen/privcmd is missing (not a Xen dom0, or "
                                            "xen-privcmd is not loaded).", true },
        { step_image, "image", "Cannot get the image", false },
        { step_stop_pending, "canceled", "Stopped before the zone started.", true },
        { step_kernel, "kernel", "Cannot get the kernel", false },
        { step_domain, "domain", "Building the domain failed", false },
        { step_xenstore, "devices", "Setting up the zone's xenstore entries failed", false },
        { step_network, NULL, NULL, false },
        { step_config_disk, "resources", "Cannot write the launch spec", false },
        { step_disks, "devices", "Attaching the zone's disks failed", false },
        { step_console, NULL, NULL, false },
        { step_stop_pending, "canceled", "Stopped before the zone started.", true },
        { step_unpause, "domain", "Starting the domain failed", false },
};

int run(Supervisor *s) {
        int r;

        assert(s);

        supervisor_record(s, ZONE_STARTING, NULL);
        (void) peers_register_supervisor(&s->peers, s->uuid);
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                r = steps[i].run(s);
                if (r < 0 && steps[i].result) {
                        fail(s, steps[i].result, steps[i].complete ? 0 : r, steps[i].what);
                        return r;
                }
        }
        supervisor_record(s, ZONE_RUNNING, NULL);
        (void) sd_notifyf(false, "READY=1\nSTATUS=Running as domain %u", s->domain.domid);
        log_info("Zone %s runs as domain %u.", s->spec->name, s->domain.domid);

        r = zone_wait(s);
        if (r < 0 && !s->domain_gone) {
                fail(s, "supervisor", r, "Supervising the zone failed");
                return r;
        }
        return s->exit_status;
}

void teardown(Supervisor *s) {
        assert(s);

        /* Order: peers first (they hold the console ring and the vif), then the
         * domain, its xenstore entries (removing a backend directory makes
         * blkback/netback let go of the device), and last the loop devices
         * blkback was using and the config disk on one of them. */
        peers_console_unregister(&s->peers);
        peers_network_detach(&s->peers);
        if (domain_destroy(&s->domain) < 0)
                log_error("Zone %s: domain %u could not be destroyed; it is left for krata-zoned to report.",
                          s->spec->name, s->domain.domid);
        xs_tree_remove(&s->xs);
        disks_detach(&s->disks);
        boot_config_disk_remove(&s->boot);
        s->stop_timer = sd_event_source_disable_unref(s->stop_timer);
        s->poll_timer = sd_event_source_disable_unref(s->poll_timer);
        s->xs_source = sd_event_source_disable_unref(s->xs_source);
        s->torn_down = true;
}

void supervisor_done(Supervisor *s) {
        assert(s);

        if (!s->torn_down && s->spec)
                teardown(s);
        xs_tree_close(&s->xs);
        domain_close(&s->domain);
        sd_bus_flush_close_unref(s->peers.bus);
        sd_event_unref(s->event);
        image_info_done(&s->image);
        boot_material_done(&s->boot);
        launch_network_done(&s->network);
        zone_spec_free(s->spec);
        zone_record_free(s->record);
        free(s->uuid);
        free(s->result);
        free(s->reason);
}

/* A supervisor of the zone still runs: its PID is alive and is a krata-zone. */
static bool supervisor_alive(const ZoneRecord *rec) {
        _cleanup_free_ char *comm = NULL;
        char p[64];
        size_t n;

        if (rec->pid <= 0 || kill(rec->pid, 0) < 0)
                return false;
        snprintf(p, sizeof p, "/proc/%d/comm", (int) rec->pid);
        return read_full_file(p, 64, &comm, &n) >= 0 && startswith(comm, "krata-zone");
}

/* What the dead supervisor recorded, as if its own steps had set it up. The
 * domain only with its UUID (teardown() destroys it only while its handle is
 * the zone's). */
static int adopt_record(Supervisor *s, const char *name) {
        ZoneRecord *rec = s->record;
        sd_id128_t id;
        int r;

        s->spec = zone_spec_new(name);
        if (!s->spec)
                return -ENOMEM;
        s->peers.zone = s->spec->name;
        if (rec->domid > 0 && rec->uuid && sd_id128_from_string(rec->uuid, &id) >= 0 && domain_open(&s->domain) >= 0) {
                memcpy(s->domain.handle, id.bytes, sizeof s->domain.handle);
                s->domain.domid = (uint32_t) rec->domid;
                s->domain.created = true;
                s->xs = (XsTree) { .domid = s->domain.domid, .uuid = rec->uuid };
                s->xs.written = xs_tree_open(&s->xs) >= 0;
        }
        r = disks_adopt(&s->disks, rec->loop_devices);
        if (r == -ENOMEM)
                return r;
        return boot_config_disk_path(name, &s->boot.config_disk);
}

int cleanup_orphan(const char *name) {
        _cleanup_(supervisor_done) Supervisor s = {};
        int r;

        assert(name);

        r = zone_record_load(name, &s.record);
        if (r < 0)
                return log_error_errno(r, "Zone %s: no usable supervisor record: %m", name);
        if (supervisor_alive(s.record))
                return log_error_errno(SYNTHETIC_ERRNO(EBUSY), "Zone %s: its supervisor (PID %d) still runs.", name,
                                       (int) s.record->pid);
        r = adopt_record(&s, name);
        if (r < 0)
                return log_oom();
        teardown(&s);
        s.record->state = ZONE_FAILED;
        strv_free(s.record->loop_devices);
        s.record->loop_devices = NULL;
        (void) zone_record_save(s.record);
        log_info("Zone %s: orphaned resources cleaned up.", name);
        return 0;
}
