/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bus-util.h"
#include "imaged-config.h"

typedef struct Transfer Transfer;
typedef struct PolkitRegistry PolkitRegistry;

/* The event loop and the bus are the Service's (service.h); the manager
 * borrows them. */
typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        ImagedConfig config;
        Transfer **transfers;
        size_t n_transfers;
        uint32_t next_transfer_id;
        PolkitRegistry *polkit;
        bool curl_initialized;
} Manager;

int manager_new(sd_event *event, sd_bus *bus, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);
bool manager_is_idle(Manager *m);
void manager_update_status(Manager *m);

Transfer *manager_find_transfer(Manager *m, uint32_t id);
/* An active pull of the same reference and platform, to share. */
Transfer *manager_find_pull(Manager *m, const char *reference, const char *platform);
int manager_add_transfer(Manager *m, Transfer *t);
void manager_remove_transfer(Manager *m, Transfer *t);

/* manager-dbus.c */
extern const sd_bus_vtable manager_vtable[];
