/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "networkd-manager.h"


int manager_bus_register(Manager *m);
