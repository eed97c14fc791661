/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

/* Interfaces coming and going, from a NETLINK_ROUTE socket subscribed to
 * RTMGRP_LINK (sd-netlink is not public API). On a lost message (ENOBUFS) the
 * callback runs with ifname NULL: the receiver rescans what it waits for. */
typedef void (*link_watch_cb)(const char *ifname, int ifindex, bool present, void *userdata);

typedef struct LinkWatch LinkWatch;

int link_watch_new(sd_event *e, link_watch_cb cb, void *userdata, LinkWatch **ret);
LinkWatch *link_watch_free(LinkWatch *w);
