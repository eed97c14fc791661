/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "zone-state.h"

/* Every change of a zone's state in krata-zoned is decided here, by one pure
 * function of the zone as zoned sees it and an event; zone.c applies the
 * decision (properties, signals, actions) and nothing else moves a zone.
 *
 * A zone's state reaches zoned over several channels; which one counts:
 *
 *   ReportState      authoritative. The running supervisor says what its zone
 *                    does; only reports move a zone through starting →
 *                    running → stopping → exited | failed while zoned runs.
 *   the record       recovery only. $KRATA_RUNTIME_DIR/supervisors/NAME.json,
 *                    written by the supervisor before each report. Read when
 *                    zoned starts (it may have missed reports while it was not
 *                    running) and when the supervisor is gone (its last words).
 *   the process      liveness only. Our child, a pidfd, or the systemd unit's
 *                    ActiveState: whether a supervisor is alive, how it ended.
 *   the domain list  existence only. Whether a zone's domain still exists:
 *                    a domain without a supervisor is orphaned.
 *
 * Callers' requests (start, stop, kill, destroy, a supervisor registering)
 * and the end of an orphan's cleanup are events too. */

/* Facts about a zone, each optional. Strings are borrowed from the event's
 * source for the duration of the call. */
typedef struct ZoneFacts {
        ZoneState state;        /* _ZONE_STATE_INVALID: not said */
        int64_t domid;          /* -1: not said; 0: no domain */
        int exit_status;        /* -1: not said */
        const char *uuid;       /* NULL: not said (likewise below) */
        const char *result;
        const char *error;
        const char *status;
        const char *image_digest;
        const char *kernel;
        char **addresses;
} ZoneFacts;

#define ZONE_FACTS_NONE ((ZoneFacts) { .state = _ZONE_STATE_INVALID, .domid = -1, .exit_status = -1 })

/* What a supervisor's record says, as facts (pointers into r). */
void zone_facts_from_record(const ZoneRecord *r, ZoneFacts *ret);

/* The zone as krata-zoned sees it: what the decisions depend on. */
typedef struct ZoneView {
        ZoneState state;
        uint32_t domid;
        const char *result;
        bool supervisor_running;  /* a supervisor is followed (child, pidfd or unit) */
        bool cleanup_running;     /* krata-zone --cleanup of its orphaned domain runs */
        bool remove_when_gone;    /* Destroy was asked while something ran */
        bool auto_remove;         /* AutoRemove= */
} ZoneView;

typedef enum ZoneEventType {
        ZONE_EVENT_REPORTED,           /* ReportState: facts */
        ZONE_EVENT_RECORD_READ,        /* zoned (re)started: the record's facts, or none */
        ZONE_EVENT_UNIT_CHANGED,       /* the unit's ActiveState; when it ended, code/status and the record */
        ZONE_EVENT_PROCESS_EXITED,     /* the supervisor ended: code/status and the record */
        ZONE_EVENT_DOMAINS_SCANNED,    /* the hypervisor's domain list was read */
        ZONE_EVENT_REGISTERED,         /* RegisterSupervisor: facts.uuid, pid */
        ZONE_EVENT_START_ASKED,
        ZONE_EVENT_START_FAILED,       /* the supervisor could not be started */
        ZONE_EVENT_STOP_ASKED,
        ZONE_EVENT_KILL_ASKED,
        ZONE_EVENT_DESTROY_ASKED,
        ZONE_EVENT_CLEANUP_EXITED,     /* krata-zone --cleanup ended: success */
        _ZONE_EVENT_MAX,
} ZoneEventType;

typedef struct ZoneEvent {
        ZoneEventType type;
        ZoneFacts facts;
        const char *unit_state;  /* UNIT_CHANGED */
        int code, status;        /* UNIT_CHANGED (when ended), PROCESS_EXITED: CLD_* and status or signal */
        bool success;            /* CLEANUP_EXITED */
        bool hypervisor;         /* DOMAINS_SCANNED: false when there is none */
        bool domain_found;       /* DOMAINS_SCANNED: a domain has the zone's UUID */
        uint32_t domain_id;
        pid_t pid;               /* REGISTERED: the supervisor's */
} ZoneEvent;

typedef enum ZoneAction {
        ZONE_ACTION_NONE,
        ZONE_ACTION_START,       /* start a supervisor, after the state is applied */
        ZONE_ACTION_STOP,        /* SIGTERM to the supervisor, before the state is applied */
        ZONE_ACTION_KILL,        /* SIGINT to the supervisor, before the state is applied */
        ZONE_ACTION_CLEANUP,     /* krata-zone --cleanup of the orphaned domain */
        ZONE_ACTION_FOLLOW,      /* follow the supervisor that registered */
} ZoneAction;

typedef struct ZoneTransition {
        int refused;             /* < 0: the request is refused and nothing changes */
        ZoneState state;         /* the state after the event (may be the same) */
        ZoneState ignored;       /* a reported state the state machine does not allow, or _INVALID */
        ZoneFacts facts;         /* facts to take over (facts.state unused) */
        bool new_run;            /* forget the last run: exit status, domain, result, error */
        ZoneAction action;
        bool supervisor_gone;    /* stop following the supervisor */
        bool remove_when_gone;   /* the new value */
        bool remove;             /* forget the zone once the rest is applied */
        bool warn;               /* reason is worth a warning in the log */
        char reason[160];        /* why, when decided here (facts.error may point to it): do not copy the struct */
} ZoneTransition;

/* Decides what event does to zone. Pure: no I/O, no allocation. */
void zone_transition(const ZoneView *zone, const ZoneEvent *event, ZoneTransition *ret);

/* Whether a systemd ActiveState means the supervisor's unit still runs. */
bool zone_unit_state_is_alive(const char *active_state);

const char *zone_event_type_to_string(ZoneEventType t);
