/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "address-pool.h"
#include "bus-polkit.h"
#include "attachment.h"
#include "link-watch.h"
#include "networkd-config.h"
#include "packet-socket.h"

/* One slirp socket watched on the event loop. fds are unique in the
 * process, so the table is indexed by fd and shared by all attachments. */
typedef struct PollEntry {
        Attachment *attachment;
        int fd;
        sd_event_source *source;
        int revents; /* SLIRP_POLL_* seen since the last slirp_pollfds_poll */
        uint64_t generation;
} PollEntry;

struct Manager {
        sd_event *event;
        sd_bus *bus;
        PolkitRegistry *polkit;
        NetworkConfig config;
        AddressPool pool;
        LinkWatch *link_watch;
        Attachment *attachments;
        char *state_path;
        PollEntry **fd_table;
        size_t fd_table_size;
        PacketBatch *rx; /* receive buffers, shared: one thread */
};

int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
int manager_startup(Manager *m);

Attachment *manager_find(Manager *m, const char *zone);
Attachment *manager_find_forward(Manager *m, ForwardProtocol proto, uint16_t host_port);
int manager_attach(Manager *m, const char *zone, const char *ifname, const AttachOptions *opts,
                   const PortForward *forwards, size_t n_forwards, Attachment **ret);
int manager_detach(Manager *m, const char *zone);
int manager_save_state(Manager *m);
bool manager_is_idle(Manager *m);

/* The poll-entry table used by attachment.c. */
PollEntry *manager_poll_entry(Manager *m, int fd);
int manager_poll_entry_ensure(Manager *m, Attachment *a, int fd, PollEntry **ret);
void manager_poll_entry_free(Manager *m, int fd);

bool zone_name_is_valid(const char *s);
bool ifname_is_valid(const char *s);
