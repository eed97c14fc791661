/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <systemd/sd-bus.h>

/* Authorization of D-Bus callers through polkit, after systemd's
 * bus_verify_polkit_async(): root is always allowed; everyone else is asked
 * about ACTION through org.freedesktop.PolicyKit1, asynchronously. The method
 * handler calls this first:
 *
 *     r = bus_verify_polkit_async(m, "org.krata.zone.manage", &d->polkit, error);
 *     if (r < 0) return r;
 *     if (r == 0) return 1;   // query in flight; the call is re-dispatched later
 *
 * When polkit's answer arrives the original message is queued again and the
 * handler runs a second time, now getting the answer. Without polkit on the
 * bus only root is allowed. */
typedef struct PolkitRegistry PolkitRegistry;

int bus_verify_polkit_async(sd_bus_message *call, const char *action, PolkitRegistry **registry,
                            sd_bus_error *error);
PolkitRegistry *polkit_registry_free(PolkitRegistry *r);
/* True while queries are pending (a daemon is not idle then). */
int polkit_registry_busy(PolkitRegistry *r);
