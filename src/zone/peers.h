/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <systemd/sd-bus.h>

#include "launch-spec.h"
#include "zone-file.h"
#include "zone-state.h"

/* krata-zoned, krata-consoled and krata-networkd; each optional (no bus, or
 * one absent: logged, not fatal). krata-imaged is image.h's. */
typedef struct Peers {
        sd_bus *bus;             /* NULL: no bus */
        const char *zone;        /* the zone's name, borrowed */
        bool console_registered; /* undone on teardown */
        bool network_attached;   /* undone on teardown */
} Peers;

int peers_register_supervisor(Peers *p, const char *uuid);
/* status_text: progress for people, may be NULL. */
int peers_report(Peers *p, const ZoneRecord *rec, const char *result, const char *status_text);
int peers_console_register(Peers *p, uint32_t domid);
void peers_console_unregister(Peers *p);
/* vif<domid>.0 with the zone's port forwards: the addresses networkd
 * handed out, also added to *addresses. */
int peers_network_attach(Peers *p, uint32_t domid, const ZoneSpec *zone, LaunchNetwork *ret, char ***addresses);
void peers_network_detach(Peers *p);
