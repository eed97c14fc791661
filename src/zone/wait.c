/* SPDX-License-Identifier: Apache-2.0 */
/* Waiting for the zone to end, stopping it on request, and what the guest
 * said about how it ended. */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <xenctrl.h>
#include <xenstore.h>
#include <systemd/sd-daemon.h>

#include "guest-protocol.h"
#include "log.h"
#include "run.h"
#include "string-util.h"

#define STOP_TIMEOUT_USEC_DEFAULT (10ULL * 1000000ULL)
#define POLL_USEC (2ULL * 1000000ULL)

bool stop_pending(void) {
        sigset_t pending;

        if (sigpending(&pending) < 0)
                return false;
        return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

/* krata/exit-code: 0..255, -ENODATA when there is none, -EBADMSG for garbage. */
static int read_exit_code(Supervisor *s) {
        _cleanup_free_ char *v = NULL;
        size_t len;
        int code;

        if (xs_tree_read(&s->xs, KRATA_XS_EXIT_CODE, &v, &len) < 0)
                return -ENODATA;
        code = guest_exit_code_parse(v, len);
        if (code < 0)
                return log_warning_errno(code, "Zone %s: krata/exit-code (%zu bytes) is not a status 0..255; ignored.",
                                         s->spec->name, len);
        return code;
}

/* krata/status "failed:<reason>" becomes the record's error, krata-init's
 * own reasons only. */
static void read_init_failure(Supervisor *s) {
        _cleanup_free_ char *v = NULL;
        GuestStatus status;
        GuestFailure failure;
        char msg[96];
        size_t len;

        if (xs_tree_read(&s->xs, KRATA_XS_STATUS, &v, &len) < 0)
                return;
        if (guest_status_parse(v, len, &status, &failure) < 0) {
                /* Read once, when the zone ends: one warning per zone at most. */
                log_warning("Zone %s: krata/status (%zu bytes) is not a krata-init state; ignored.", s->spec->name, len);
                return;
        }
        if (status != GUEST_FAILED)
                return;
        snprintf(msg, sizeof msg, "krata-init failed in the zone: %s", guest_failure_to_string(failure));
        free(s->record->error);
        s->record->error = strdup(msg);
}

static void set_result(Supervisor *s, int exit_status, const char *result) {
        s->exit_status = exit_status;
        free(s->result);
        s->result = strdup(result);
}

/* A crash is the hypervisor's word; garbage in krata/exit-code is the
 * guest's, and is said to be garbage, never believed. */
static void read_result(Supervisor *s) {
        unsigned reason = 0;
        int code;

        (void) domain_has_ended(&s->domain, &reason);
        code = read_exit_code(s);
        read_init_failure(s);
        if (code >= 0)
                set_result(s, code, code == 0 ? "success" : "exit-code");
        else if (s->kill_requested)
                set_result(s, EXIT_ZONE_KILLED, "killed");
        else
                set_result(s, EXIT_ZONE_NO_STATUS, reason == SHUTDOWN_crash ? "crash" :
                                                   code == -EBADMSG     ? "invalid-exit-code" :
                                                                          "no-exit-code");
        if (code == -EBADMSG && !s->kill_requested) {
                free(s->record->error);
                s->record->error = strdup("The zone wrote something that is not an exit status (0..255) to "
                                          "krata/exit-code; ignored.");
        }
}

static void finish(Supervisor *s) {
        if (s->domain_gone)
                return;
        s->domain_gone = true;
        read_result(s);
        log_info("Zone %s ended: %s, exit status %d.", s->spec->name, s->result, s->exit_status);
        s->record->exit_status = s->exit_status;
        (void) sd_notifyf(false, "STOPPING=1\nSTATUS=Zone ended (%s), exit status %d", s->result, s->exit_status);
        teardown(s);
        supervisor_record(s, ZONE_EXITED, NULL);
        (void) sd_event_exit(s->event, 0);
}

static void check_domain(Supervisor *s) {
        if (domain_has_ended(&s->domain, NULL) == 1)
                finish(s);
}

static int on_xs(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        Supervisor *s = userdata;
        char **w;

        while ((w = xs_check_watch(s->xs.xsh)))
                free(w);
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
        if (xs_tree_request_shutdown(&s->xs, "reboot") < 0)
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

int zone_wait(Supervisor *s) {
        int r;

        assert(s);

        if (!xs_watch(s->xs.xsh, "@releaseDomain", "release"))
                return log_error_errno(errno ?: EIO, "xenstore: cannot watch @releaseDomain: %m");
        r = sd_event_add_io(s->event, &s->xs_source, xs_fileno(s->xs.xsh), EPOLLIN, on_xs, s);
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
