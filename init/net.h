/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "launch-spec.h"

/* Brings lo up; when the spec has a network, waits up to timeout_ms for
 * ifname (netfront probes asynchronously), brings it up, adds the static
 * IPv4/IPv6 addresses and default routes via the gateways. rtnetlink
 * directly: libmnl has no static library on Debian. */
int net_setup(const LaunchSpec *s, const char *ifname, unsigned timeout_ms);

/* /etc/hostname, /etc/hosts and /etc/resolv.conf in the current root. */
int net_write_files(const LaunchSpec *s);
