/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "networkd-manager.h"

/* Registers org.krata.Network1 on bus (borrowed, as the manager's loop). */
int manager_add_bus_objects(Manager *m, sd_bus *bus);
