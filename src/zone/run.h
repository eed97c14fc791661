/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <systemd/sd-event.h>

#include "boot.h"
#include "disks.h"
#include "peers.h"

/* Start-up phases that may outlast the unit's TimeoutStartSec= (a pull on a
 * slow link, a kernel inflated under emulation, a domain built under
 * emulation) push systemd's deadline out by this much while they make
 * progress (EXTEND_TIMEOUT_USEC=); the pull has its own deadline. */
#define START_EXTEND_USEC (120ULL * 1000000)

/* Exit statuses of the supervisor itself when no zone status exists. */
#define EXIT_ZONE_NO_STATUS 255 /* the guest ended without writing krata/exit-code */
#define EXIT_ZONE_KILLED 137    /* destroyed by Kill or after the stop timeout */

/* One zone's supervisor: each part records what it set up, so teardown()
 * undoes exactly that, on any path. */
typedef struct Supervisor {
        ZoneSpec *spec;
        char *uuid;
        ZoneRecord *record;
        sd_event *event;

        Peers peers;
        ImageInfo image;
        BootMaterial boot;
        LaunchNetwork network; /* from AttachZone, until the config disk takes it */
        Domain domain;
        XsTree xs;
        Disks disks;

        /* wait.c */
        sd_event_source *xs_source, *stop_timer, *poll_timer;
        bool stop_requested, kill_requested, domain_gone;

        int exit_status;
        char *result;
        char *reason; /* why the last setup step failed, for people */
        bool torn_down;
} Supervisor;

int supervisor_load(Supervisor *s, const char *name);
/* The zone's exit status once it has run; negative when setting it up failed. */
int run(Supervisor *s);
void teardown(Supervisor *s);
void supervisor_record(Supervisor *s, ZoneState state, const char *error);
void supervisor_done(Supervisor *s);
/* krata-zone --cleanup NAME: teardown() of what a dead supervisor's record lists. */
int cleanup_orphan(const char *name);

/* SIGTERM/SIGINT arrived before the zone ran (they stay blocked until
 * zone_wait() takes them): the setup steps check this and abort cleanly. */
bool stop_pending(void);
/* Until the domain has ended (stopping it on SIGTERM/SIGINT); sets the
 * exit status and result, tears down. */
int zone_wait(Supervisor *s);
