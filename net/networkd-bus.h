/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "networkd-manager.h"

#define NETWORK_BUS_NAME "org.krata.Network1"
#define NETWORK_BUS_PATH "/org/krata/network1"
#define NETWORK_BUS_INTERFACE "org.krata.Network1"

int manager_bus_register(Manager *m);
