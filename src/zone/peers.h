/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "launch-spec.h"
#include "zone-file.h"
#include "zone-state.h"

/* The supervisor's daemons on the bus; each is optional (no bus, or a daemon
 * absent: logged, not fatal):
 *  - krata-zoned (org.krata.Zones1): RegisterSupervisor, ReportState;
 *  - krata-consoled (org.krata.Console1): RegisterZone/UnregisterZone;
 *  - krata-networkd (org.krata.Network1): AttachZone/DetachZone.
 * The image comes from krata-imaged through image.h. */
typedef struct Peers {
        sd_bus *bus;             /* NULL: no bus */
        const char *zone;        /* the zone's name, borrowed */
        bool console_registered; /* undone on teardown */
        bool network_attached;   /* undone on teardown */
} Peers;

int peers_register_supervisor(Peers *p, const char *uuid);
/* Sends the record, the result and a progress line (may be NULL) to krata-zoned. */
int peers_report(Peers *p, const ZoneRecord *rec, const char *result, const char *status_text);
int peers_console_register(Peers *p, uint32_t domid);
void peers_console_unregister(Peers *p);
/* Has krata-networkd take vif<domid>.0 (with the zone's port forwards) and
 * returns the addresses it handed out (and adds them to *addresses). */
int peers_network_attach(Peers *p, uint32_t domid, const ZoneSpec *zone, LaunchNetwork *ret, char ***addresses);
void peers_network_detach(Peers *p);
