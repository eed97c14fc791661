/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "link-watch.h"
#include "log.h"

struct LinkWatch {
        int fd;
        sd_event_source *source;
        link_watch_cb cb;
        void *userdata;
};

static void handle_link(LinkWatch *w, const struct nlmsghdr *h) {
        const struct ifinfomsg *ifi = NLMSG_DATA(h);
        char name[IFNAMSIZ] = {};
        int len;

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof *ifi))
                return;
        len = (int) (h->nlmsg_len - NLMSG_LENGTH(sizeof *ifi));
        for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
                if (a->rta_type == IFLA_IFNAME) {
                        size_t l = RTA_PAYLOAD(a);
                        memcpy(name, RTA_DATA(a), MIN(l, sizeof name - 1));
                }
        if (!name[0])
                return;
        w->cb(name, ifi->ifi_index, h->nlmsg_type == RTM_NEWLINK, w->userdata);
}

static int on_netlink(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        LinkWatch *w = userdata;
        uint8_t buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));

        for (;;) {
                ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        if (errno == ENOBUFS) {
                                log_debug("Netlink overrun, rescanning interfaces.");
                                w->cb(NULL, 0, false, w->userdata);
                                continue;
                        }
                        return log_error_errno(errno, "Failed to read netlink: %m");
                }
                int len = (int) n;
                for (const struct nlmsghdr *h = (const void *) buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
                        if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK)
                                handle_link(w, h);
        }
}

int link_watch_new(sd_event *e, link_watch_cb cb, void *userdata, LinkWatch **ret) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
        LinkWatch *w;
        int r;

        assert(e);
        assert(ret);

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->fd = -EBADF;
        w->cb = cb;
        w->userdata = userdata;
        w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (w->fd < 0) {
                r = -errno;
                goto fail;
        }
        if (bind(w->fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(e, &w->source, w->fd, EPOLLIN, on_netlink, w);
        if (r < 0)
                goto fail;
        *ret = w;
        return 0;
fail:
        link_watch_free(w);
        return r;
}

LinkWatch *link_watch_free(LinkWatch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->source);
        safe_close(w->fd);
        free(w);
        return NULL;
}
