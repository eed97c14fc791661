/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* A zone's life:
 *
 *   created ──► starting ──► running ──► stopping ──► exited
 *                  │  ▲         │           │           │
 *                  ▼  └─────────┼───────────┼──── (start again, from exited/failed)
 *                failed ◄───────┴───────────┘
 *
 * orphaned: a domain exists but its supervisor is gone (found when state is
 * rebuilt); it ends in exited or failed once cleaned up. */
typedef enum ZoneState {
        ZONE_CREATED,
        ZONE_STARTING,
        ZONE_RUNNING,
        ZONE_STOPPING,
        ZONE_EXITED,
        ZONE_FAILED,
        ZONE_ORPHANED,
        _ZONE_STATE_MAX,
        _ZONE_STATE_INVALID = -1,
} ZoneState;

const char *zone_state_to_string(ZoneState s);
ZoneState zone_state_from_string(const char *s);
/* True when the move is allowed; staying in the same state always is. */
bool zone_state_transition_valid(ZoneState from, ZoneState to);
/* A supervisor or domain may exist (starting, running, stopping, orphaned). */
bool zone_state_is_active(ZoneState s);
/* Applies a transition: -EINVAL (unchanged) when it is not allowed, 0 when it
 * was already in that state, 1 when it changed. */
int zone_state_apply(ZoneState *state, ZoneState to);

/* What a running supervisor records about its zone, in
 * $KRATA_RUNTIME_DIR/supervisors/NAME.json (written atomically on each
 * change). krata-zoned rebuilds its view from it after a restart, and an
 * orphaned domain's resources can be found through it. */
typedef struct ZoneRecord {
        char *name;
        char *uuid;
        pid_t pid;
        ZoneState state;
        int domid;            /* -1: no domain */
        int exit_status;      /* -1: none yet */
        char *error;          /* why it failed, for people */
        char *image_digest;
        char *kernel;
        char **addresses;
        char **loop_devices;  /* "/dev/loopN" attached for this zone */
        uint64_t started;     /* µs since the epoch */
} ZoneRecord;

#define ZONE_RECORD_MAX (64U * 1024U)

ZoneRecord *zone_record_new(const char *name);
ZoneRecord *zone_record_free(ZoneRecord *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(ZoneRecord *, zone_record_free);
#define _cleanup_zone_record_ _cleanup_(zone_record_freep)

/* $KRATA_RUNTIME_DIR/supervisors/NAME.json; malloc'd. */
char *zone_record_path(const char *name);
int zone_record_save(const ZoneRecord *r);
/* -ENOENT when there is none, -EBADMSG when it is malformed. */
int zone_record_load(const char *name, ZoneRecord **ret);
int zone_record_remove(const char *name);
