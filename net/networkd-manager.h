/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "address-pool.h"
#include "bus-polkit.h"
#include "attachment.h"
#include "link-watch.h"
#include "networkd-config.h"

/* The bus thread's state. Each running attachment's data path is on a
 * thread of its own (zone-loop.h); nothing here is shared with those. The
 * event loop and the bus are the Service's (service.h), borrowed. */
struct Manager {
        sd_event *event;
        sd_bus *bus;
        PolkitRegistry *polkit;
        NetworkConfig config;
        AddressPool pool;
        LinkWatch *link_watch;
        Attachment *attachments;
        char *state_path;
};

int manager_new(sd_event *event, sd_bus *bus, Manager **ret);
Manager *manager_free(Manager *m);
int manager_startup(Manager *m);

Attachment *manager_find(Manager *m, const char *zone);
Attachment *manager_find_forward(Manager *m, ForwardProtocol proto, uint16_t host_port);
int manager_attach(Manager *m, const char *zone, const char *ifname, const AttachOptions *opts,
                   const PortForward *forwards, size_t n_forwards, Attachment **ret);
int manager_detach(Manager *m, const char *zone);
int manager_save_state(Manager *m);
bool manager_is_idle(Manager *m);

bool ifname_is_valid(const char *s);
