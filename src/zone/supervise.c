/* SPDX-License-Identifier: Apache-2.0 */
/* Waiting for the zone to end, stopping it on request, and tearing down
 * exactly what was set up. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenctrl.h>
#include <xenstore.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>

#include "fs-util.h"
#include "log.h"
#include "paths.h"
#include "peers.h"
#include "string-util.h"
#include "zone.h"

#define STOP_TIMEOUT_USEC_DEFAULT (10ULL * 1000000ULL)
#define POLL_USEC (2ULL * 1000000ULL)

void supervisor_record(Supervisor *s, ZoneState state, const char *error) {
        ZoneRecord *rec = s->record;
        int r;

        if (zone_state_apply(&rec->state, state) < 0)
                log_debug("Zone %s: record stays %s (not %s).", s->spec->name, zone_state_to_string(rec->state),
                          zone_state_to_string(state));
        if (error && !streq_ptr(rec->error, error)) {
                free(rec->error);
                rec->error = strdup(error);
        }
        rec->domid = s->domain_created ? (int) s->domid : rec->domid;
        strv_free(rec->loop_devices);
        rec->loop_devices = NULL;
        for (size_t i = 0; i < s->n_disks; i++)
                if (s->disks[i].path)
                        (void) strv_extend(&rec->loop_devices, s->disks[i].path);
        r = zone_record_save(rec);
        if (r < 0)
                log_warning_errno(r, "Cannot write the zone record: %m");
        (void) peers_report(s, NULL); /* an error goes to Error, not to Status */
}

bool stop_pending(void) {
        sigset_t pending;

        if (sigpending(&pending) < 0)
                return false;
        return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

void teardown(Supervisor *s) {
        /* Order: peers first (they hold the console ring and the vif), then the
         * domain, its xenstore entries (removing a backend directory makes
         * blkback/netback let go of the device; with the frontend gone there
         * is no handshake to wait for, as with xl destroy), and last the loop
         * devices blkback was using. Each step is skipped when it did not happen. */
        console_unregister(s);
        network_detach(s);
        if (domain_destroy(s) < 0)
                log_error("Zone %s: domain %u could not be destroyed; it is left for krata-zoned to report.",
                          s->spec->name, s->domid);
        xs_remove_all(s);
        for (size_t i = 0; i < s->n_disks; i++)
                loop_detach(&s->disks[i]);
        if (s->config_disk_path) {
                (void) unlink(s->config_disk_path);
                s->config_disk_path = mfree(s->config_disk_path);
                _cleanup_free_ char *dir = NULL;
                if (asprintf_safe(&dir, "%s/zone/%s", krata_runtime_dir(), s->spec->name) >= 0)
                        (void) rmdir(dir);
        }
        s->stop_timer = sd_event_source_disable_unref(s->stop_timer);
        s->poll_timer = sd_event_source_disable_unref(s->poll_timer);
        s->xs_source = sd_event_source_disable_unref(s->xs_source);
        s->torn_down = true;
}

static void finish(Supervisor *s) {
        unsigned reason = 0;
        int code;

        if (s->domain_gone)
                return;
        s->domain_gone = true;
        (void) domain_has_ended(s, &reason);
        code = xs_read_exit_code(s);
        xs_read_init_failure(s); /* "failed:<stage>" from krata-init, into the record's error */
        if (code >= 0) {
                s->exit_status = code;
                free(s->result);
                s->result = strdup(code == 0 ? "success" : "exit-code");
        } else if (s->kill_requested) {
                s->exit_status = EXIT_ZONE_KILLED;
                free(s->result);
                s->result = strdup("killed");
        } else {
                /* A crash is the hypervisor's word; garbage in krata/exit-code
                 * is the guest's, and is said to be garbage, never believed. */
                s->exit_status = EXIT_ZONE_NO_STATUS;
                free(s->result);
                s->result = strdup(reason == SHUTDOWN_crash ? "crash" :
                                   code == -EBADMSG     ? "invalid-exit-code" :
                                                          "no-exit-code");
                if (code == -EBADMSG) {
                        free(s->record->error);
                        s->record->error = strdup("The zone wrote something that is not an exit status "
                                                  "(0..255) to krata/exit-code; ignored.");
                }
        }
        log_info("Zone %s ended: %s, exit status %d.", s->spec->name, s->result, s->exit_status);
        s->record->exit_status = s->exit_status;
        (void) sd_notifyf(false, "STOPPING=1\nSTATUS=Zone ended (%s), exit status %d", s->result, s->exit_status);
        teardown(s);
        supervisor_record(s, ZONE_EXITED, NULL);
        (void) sd_event_exit(s->event, 0);
}

static void check_domain(Supervisor *s) {
        if (domain_has_ended(s, NULL) == 1)
                finish(s);
}

static int on_xs(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        Supervisor *s = userdata;
        unsigned n;
        char **w;

        while ((w = xs_check_watch(s->xsh)))
                free(w);
        (void) n;
        check_domain(s);
        return 0;
}

static int on_poll(sd_event_source *src, uint64_t usec, void *userdata) {
        Supervisor *s = userdata;

        check_domain(s);
        if (!s->domain_gone)
                (void) sd_event_source_set_time_relative(src, POLL_USEC);
        return 0;
}

static int on_stop_timeout(sd_event_source *src, uint64_t usec, void *userdata) {
        Supervisor *s = userdata;

        log_warning("Zone %s did not power off in time; destroying it.", s->spec->name);
        s->kill_requested = true;
        finish(s);
        return 0;
}

static int on_sigterm(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        Supervisor *s = userdata;
        uint64_t timeout = STOP_TIMEOUT_USEC_DEFAULT;
        const char *e = getenv("KRATA_ZONE_STOP_TIMEOUT_SEC");
        unsigned sec;

        if (s->stop_requested)
                return 0;
        s->stop_requested = true;
        if (e && safe_atou(e, &sec) >= 0)
                timeout = (uint64_t) sec * 1000000ULL;
        log_info("Zone %s: asking the guest to power off (%llu s before it is destroyed).", s->spec->name,
                 (unsigned long long) (timeout / 1000000ULL));
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping");
        supervisor_record(s, ZONE_STOPPING, NULL);
        /* "reboot", not "poweroff": the guest kernel turns it into SIGINT for
         * PID 1, which krata-init forwards to the process; a zone has no
         * poweroff helper for "poweroff" (see krata-init(8)). */
        if (xs_request_shutdown(s, "reboot") < 0)
                timeout = 0;
        return sd_event_add_time_relative(s->event, &s->stop_timer, CLOCK_MONOTONIC, timeout, 0, on_stop_timeout, s);
}

static int on_sigint(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        Supervisor *s = userdata;

        log_info("Zone %s: killed; destroying the domain now.", s->spec->name);
        s->kill_requested = true;
        finish(s);
        return 0;
}

int supervise(Supervisor *s) {
        int r;

        if (!xs_watch(s->xsh, "@releaseDomain", "release"))
                return log_error_errno(errno ?: EIO, "xenstore: cannot watch @releaseDomain: %m");
        r = sd_event_add_io(s->event, &s->xs_source, xs_fileno(s->xsh), EPOLLIN, on_xs, s);
        if (r < 0)
                return r;
        /* belt and braces: a missed watch event must not leave us waiting forever */
        r = sd_event_add_time_relative(s->event, &s->poll_timer, CLOCK_MONOTONIC, POLL_USEC, 0, on_poll, s);
        if (r < 0)
                return r;
        (void) sd_event_add_signal(s->event, NULL, SIGTERM, on_sigterm, s);
        (void) sd_event_add_signal(s->event, NULL, SIGINT, on_sigint, s);
        check_domain(s);
        return sd_event_loop(s->event);
}

/* krata-zone --cleanup NAME: tear down what a dead supervisor left, using its
 * record. The domain is destroyed only if its handle is still the zone's. */
int cleanup_orphan(const char *name) {
        _cleanup_zone_record_ ZoneRecord *rec = NULL;
        Supervisor s = {};
        int r;

        r = zone_record_load(name, &rec);
        if (r < 0)
                return log_error_errno(r, "Zone %s: no usable supervisor record: %m", name);
        if (rec->pid > 0 && kill(rec->pid, 0) == 0) {
                _cleanup_free_ char *comm = NULL;
                char p[64];
                size_t n;
                snprintf(p, sizeof p, "/proc/%d/comm", (int) rec->pid);
                if (read_full_file(p, 64, &comm, &n) >= 0 && startswith(comm, "krata-zone"))
                        return log_error_errno(SYNTHETIC_ERRNO(EBUSY), "Zone %s: its supervisor (PID %d) still runs.",
                                               name, (int) rec->pid);
        }
        s.spec = zone_spec_new(name);
        s.uuid = rec->uuid ? strdup(rec->uuid) : NULL;
        s.record = rec;
        if (!s.spec)
                return -ENOMEM;
        if (s.uuid && sd_id128_from_string(s.uuid, (sd_id128_t *) s.handle) < 0)
                s.uuid = mfree(s.uuid);
        if (rec->domid > 0 && s.uuid && domain_open(&s) >= 0) {
                s.domid = (uint32_t) rec->domid;
                s.domain_created = true;
                (void) domain_destroy(&s);
                s.xsh = xs_open(0);
                s.xs_domain_written = s.xsh != NULL;
                if (s.xsh)
                        xs_remove_all(&s);
        }
        STRV_FOREACH(l, rec->loop_devices)
                (void) loop_clear_by_path(*l);
        /* the launch-spec disk, as teardown() would have removed it */
        {
                _cleanup_free_ char *dir = NULL, *disk = NULL;
                if (asprintf_safe(&dir, "%s/zone/%s", krata_runtime_dir(), name) >= 0 &&
                    (disk = path_join(dir, "config.img"))) {
                        (void) unlink(disk);
                        (void) rmdir(dir);
                }
        }
        if (s.xsh)
                xs_close(s.xsh);
        if (s.xch)
                xc_interface_close(s.xch);
        zone_spec_free(s.spec);
        free(s.uuid);
        rec->state = ZONE_FAILED;
        strv_free(rec->loop_devices);
        rec->loop_devices = NULL;
        (void) zone_record_save(rec);
        log_info("Zone %s: orphaned resources cleaned up.", name);
        return 0;
}
