/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "string-util.h"
#include "zone-transition.h"

static const char *const event_names[_ZONE_EVENT_MAX] = {
        [ZONE_EVENT_REPORTED] = "reported",
        [ZONE_EVENT_RECORD_READ] = "record-read",
        [ZONE_EVENT_UNIT_CHANGED] = "unit-changed",
        [ZONE_EVENT_PROCESS_EXITED] = "process-exited",
        [ZONE_EVENT_DOMAINS_SCANNED] = "domains-scanned",
        [ZONE_EVENT_REGISTERED] = "registered",
        [ZONE_EVENT_START_ASKED] = "start-asked",
        [ZONE_EVENT_START_FAILED] = "start-failed",
        [ZONE_EVENT_STOP_ASKED] = "stop-asked",
        [ZONE_EVENT_KILL_ASKED] = "kill-asked",
        [ZONE_EVENT_DESTROY_ASKED] = "destroy-asked",
        [ZONE_EVENT_CLEANUP_EXITED] = "cleanup-exited",
};

const char *zone_event_type_to_string(ZoneEventType t) {
        return t >= 0 && t < _ZONE_EVENT_MAX ? event_names[t] : NULL;
}

void zone_facts_from_record(const ZoneRecord *r, ZoneFacts *ret) {
        assert(r);
        assert(ret);

        *ret = ZONE_FACTS_NONE;
        ret->state = r->state;
        ret->domid = r->domid;
        ret->exit_status = r->exit_status;
        ret->uuid = r->uuid;
        ret->error = r->error;
        ret->image_digest = r->image_digest;
        ret->kernel = r->kernel;
        ret->addresses = r->addresses;
}

bool zone_unit_state_is_alive(const char *s) {
        return s && (streq(s, "active") || streq(s, "activating") || streq(s, "deactivating") ||
                     streq(s, "reloading"));
}

static void fail_with(ZoneTransition *t, const char *reason) {
        t->facts.result = "supervisor";
        t->facts.error = reason;
}

/* Facts from the supervisor (its report, or its record when it is gone): the
 * state moves only along the state machine; everything else is taken. */
static void take_reported(const ZoneView *z, const ZoneFacts *f, ZoneTransition *t) {
        t->facts = *f;
        if (f->state < 0 || f->state == z->state)
                return;
        if (zone_state_transition_valid(z->state, f->state))
                t->state = f->state;
        else
                t->ignored = f->state;
}

/* zoned (re)started. The record is what the supervisor last wrote and the
 * process (or unit) says whether it still runs: an initial load, taken as it
 * is, not a transition. */
static void on_record_read(const ZoneView *z, const ZoneEvent *e, ZoneTransition *t) {
        ZoneState s = e->facts.state >= 0 ? e->facts.state : z->state;
        uint32_t domid = e->facts.domid > 0 ? (uint32_t) e->facts.domid : z->domid;

        t->facts = e->facts;
        if (z->supervisor_running && !zone_state_is_active(s))
                s = ZONE_STARTING; /* started, has not written its record yet */
        if (!z->supervisor_running && zone_state_is_active(s) && s != ZONE_ORPHANED) {
                /* The domain scan confirms or corrects this. */
                s = domid > 0 ? ZONE_ORPHANED : ZONE_FAILED;
                fail_with(t, e->facts.error ?: "The supervisor ended without recording how the zone ended.");
        }
        t->state = s;
}

/* The supervisor is gone (its process exited or its unit is inactive): its
 * record holds what it last knew; a zone it left active failed, or is
 * orphaned when a domain may be left behind. */
static void on_supervisor_gone(const ZoneView *z, const ZoneEvent *e, ZoneTransition *t) {
        uint32_t domid;
        const char *result;

        t->supervisor_gone = true;
        take_reported(z, &e->facts, t);
        domid = t->facts.domid >= 0 ? (uint32_t) t->facts.domid : z->domid;
        result = t->facts.result ?: z->result;
        if (zone_state_is_active(t->state)) {
                if (e->code == CLD_EXITED)
                        snprintf(t->reason, sizeof t->reason,
                                 "The supervisor exited with status %d before the zone ended.", e->status);
                else
                        snprintf(t->reason, sizeof t->reason, "The supervisor was killed by signal %s.",
                                 strsignal(e->status));
                t->warn = true;
                if (domid > 0) {
                        /* Kept for Destroy to clean up, even when it was to be removed. */
                        fail_with(t, t->reason);
                        t->state = ZONE_ORPHANED;
                        return;
                }
                if (isempty(result))
                        fail_with(t, t->reason);
                t->state = ZONE_FAILED;
        }
        if (t->remove_when_gone || z->auto_remove)
                t->remove = true;
}

static void on_unit_changed(const ZoneView *z, const ZoneEvent *e, ZoneTransition *t) {
        /* activating, active, deactivating: it still runs (teardown included) */
        if (!streq_ptr(e->unit_state, "inactive") && !streq_ptr(e->unit_state, "failed"))
                return;
        on_supervisor_gone(z, e, t);
}

static void on_domains_scanned(const ZoneView *z, const ZoneEvent *e, ZoneTransition *t) {
        if (!e->hypervisor) {
                /* No hypervisor, no domain: an orphan without a supervisor failed. */
                if (z->state == ZONE_ORPHANED && !z->supervisor_running) {
                        t->state = ZONE_FAILED;
                        t->facts.domid = 0;
                }
                return;
        }
        if (e->domain_found) {
                t->facts.domid = e->domain_id;
                /* A domain without a supervisor is orphaned, whatever was recorded. */
                if (!z->supervisor_running && z->state != ZONE_ORPHANED) {
                        snprintf(t->reason, sizeof t->reason,
                                 "Domain %u runs without a supervisor; reported as orphaned.", e->domain_id);
                        t->state = ZONE_ORPHANED;
                        t->warn = true;
                }
        } else if (z->state == ZONE_ORPHANED) {
                t->state = ZONE_FAILED;
                t->facts.domid = 0;
        }
}

static void on_registered(const ZoneView *z, const ZoneEvent *e, ZoneTransition *t) {
        t->facts.uuid = e->facts.uuid;
        if (!z->supervisor_running)
                t->action = ZONE_ACTION_FOLLOW;
        if (!zone_state_is_active(z->state))
                t->state = ZONE_STARTING;
}

static void on_start_asked(const ZoneView *z, ZoneTransition *t) {
        if (zone_state_is_active(z->state) || z->supervisor_running) {
                t->refused = -EBUSY;
                return;
        }
        t->state = ZONE_STARTING;
        t->new_run = true;
        t->action = ZONE_ACTION_START;
}

static void on_stop_asked(const ZoneView *z, bool kill_now, ZoneTransition *t) {
        if (z->state == ZONE_ORPHANED) {
                if (!z->cleanup_running)
                        t->action = ZONE_ACTION_CLEANUP;
                return;
        }
        if (!zone_state_is_active(z->state) && !z->supervisor_running)
                return; /* already stopped: stopping is idempotent */
        /* SIGTERM asks the guest to power off (destroyed after a timeout);
         * SIGINT destroys the domain at once. */
        t->action = kill_now ? ZONE_ACTION_KILL : ZONE_ACTION_STOP;
        if (!kill_now && z->state != ZONE_STARTING && zone_state_transition_valid(z->state, ZONE_STOPPING))
                t->state = ZONE_STOPPING;
}

static void on_destroy_asked(const ZoneView *z, ZoneTransition *t) {
        if (z->state == ZONE_ORPHANED) {
                /* Removed once its domain is cleaned up; kept if that fails. */
                t->remove_when_gone = true;
                if (!z->cleanup_running)
                        t->action = ZONE_ACTION_CLEANUP;
                return;
        }
        if (z->supervisor_running) {
                /* Removed once the supervisor has torn everything down. */
                t->action = ZONE_ACTION_KILL;
                t->remove_when_gone = true;
                return;
        }
        t->remove = true;
}

static void on_cleanup_exited(const ZoneView *z, const ZoneEvent *e, ZoneTransition *t) {
        if (!e->success) {
                t->remove_when_gone = false; /* still orphaned: Destroy may be tried again */
                return;
        }
        if (zone_state_transition_valid(z->state, ZONE_FAILED))
                t->state = ZONE_FAILED;
        if (z->remove_when_gone)
                t->remove = true;
}

void zone_transition(const ZoneView *z, const ZoneEvent *e, ZoneTransition *t) {
        assert(z);
        assert(e);
        assert(t);

        *t = (ZoneTransition) {
                .state = z->state,
                .ignored = _ZONE_STATE_INVALID,
                .facts = ZONE_FACTS_NONE,
                .remove_when_gone = z->remove_when_gone,
        };
        switch (e->type) {
        case ZONE_EVENT_REPORTED:
                take_reported(z, &e->facts, t);
                break;
        case ZONE_EVENT_RECORD_READ:
                on_record_read(z, e, t);
                break;
        case ZONE_EVENT_UNIT_CHANGED:
                on_unit_changed(z, e, t);
                break;
        case ZONE_EVENT_PROCESS_EXITED:
                on_supervisor_gone(z, e, t);
                break;
        case ZONE_EVENT_DOMAINS_SCANNED:
                on_domains_scanned(z, e, t);
                break;
        case ZONE_EVENT_REGISTERED:
                on_registered(z, e, t);
                break;
        case ZONE_EVENT_START_ASKED:
                on_start_asked(z, t);
                break;
        case ZONE_EVENT_START_FAILED:
                if (zone_state_transition_valid(z->state, ZONE_FAILED))
                        t->state = ZONE_FAILED;
                fail_with(t, "Could not start the zone's supervisor.");
                break;
        case ZONE_EVENT_STOP_ASKED:
        case ZONE_EVENT_KILL_ASKED:
                on_stop_asked(z, e->type == ZONE_EVENT_KILL_ASKED, t);
                break;
        case ZONE_EVENT_DESTROY_ASKED:
                on_destroy_asked(z, t);
                break;
        case ZONE_EVENT_CLEANUP_EXITED:
                on_cleanup_exited(z, e, t);
                break;
        default:
                assert(!"unknown zone event");
        }
}
