/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <systemd/sd-bus.h>

#include "attachment.h"
#include "networkd-config.h"

#define ATTACH_FORWARDS_MAX 256

/* AttachZone's a{sv}:
 *   "allow-host-loopback" b  the gateway reaches the host's loopback (default: config, off)
 *   "ipv6"                b  IPv6 on the zone network (default on)
 *   "mtu"                 u  1280..65520, 0 for the interface's MTU
 *   "port-forwards"       a(sqq) (protocol, host port, zone port)
 * Unknown keys and wrong types are refused; *ret_error names the key. */
int attach_options_read(sd_bus_message *m, AttachOptions *opts, PortForward **ret_forwards,
                        size_t *ret_n, const char **ret_error);
