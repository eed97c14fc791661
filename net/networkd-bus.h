/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "networkd-manager.h"

/* org.krata.Network1 at NETWORK_PATH, userdata the Manager. */
extern const sd_bus_vtable network_vtable[];
