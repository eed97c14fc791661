/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "address-pool.h"
#include "counter.h"
#include "networkd-config.h"
#include "zone-loop.h"

typedef struct Manager Manager;

typedef struct AttachOptions {
        bool allow_host_loopback;
        bool ipv6;
        unsigned mtu; /* 0: the interface's */
} AttachOptions;

typedef enum AttachmentState {
        ATTACHMENT_WAITING, /* the interface does not exist (yet) */
        ATTACHMENT_RUNNING,
        ATTACHMENT_FAILED,  /* the interface exists but could not be used; see the log */
} AttachmentState;

/* One zone's network: its addresses and forwards (kept while the zone is
 * attached), and while its interface exists, a zone loop (a thread with a
 * slirp instance) on it. The attachment itself belongs to the bus thread. */
typedef struct Attachment {
        Manager *manager;
        struct Attachment *next;

        char *zone;
        char *ifname;
        uint32_t slot;
        ZoneAddresses addresses;
        AttachOptions options;
        PortForward *forwards;
        size_t n_forwards;

        AttachmentState state;
        int ifindex;
        unsigned mtu;
        ZoneLoop *loop;          /* while running */
        FrameCounters counters;  /* written by the loop's thread: read with COUNTER_GET */
} Attachment;

int attachment_new(Manager *m, const char *zone, const char *ifname, uint32_t slot,
                   const AttachOptions *opts, Attachment **ret);
Attachment *attachment_free(Attachment *a);
/* Opens the interface and starts slirp when it exists; otherwise waits. */
int attachment_start(Attachment *a);
/* Stops slirp and closes the interface; the attachment keeps its addresses. */
void attachment_stop(Attachment *a);
int attachment_set_ifname(Attachment *a, const char *ifname);

int attachment_add_forward(Attachment *a, const PortForward *f);
int attachment_remove_forward(Attachment *a, ForwardProtocol proto, uint16_t host_port);

const char *attachment_state_to_string(AttachmentState s);
