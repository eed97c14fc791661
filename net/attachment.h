/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <libslirp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "address-pool.h"
#include "dns-forward.h"
#include "networkd-config.h"

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

typedef struct AttachmentCounters {
        uint64_t rx_frames, rx_bytes; /* from the zone */
        uint64_t tx_frames, tx_bytes; /* to the zone */
        uint64_t dropped;
} AttachmentCounters;

/* One zone's network: its addresses and forwards (kept while the zone is
 * attached), and while its interface exists, a slirp instance on it. */
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
        int packet_fd;
        sd_event_source *packet_source;
        sd_event_source *timeout_source; /* slirp's TCP timers, from pollfds_fill */
        sd_event_source *poll_source;    /* deferred slirp_pollfds_poll */
        Slirp *slirp;
        DnsForwarder *dns;
        struct pollfd *pollfds;          /* index (as returned to slirp) -> fd, events */
        size_t n_pollfds, n_pollfds_alloc;
        uint64_t generation;
        bool dirty;
        AttachmentCounters counters;
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
