/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "net.h"
#include "string-util.h"

typedef struct NlMsg {
        struct nlmsghdr *h;
        char buf[1024];
} NlMsg;

static void *nl_init(NlMsg *m, uint16_t type, uint16_t flags, size_t payload) {
        memset(m->buf, 0, sizeof m->buf);
        m->h = (struct nlmsghdr *) m->buf;
        m->h->nlmsg_len = NLMSG_LENGTH(payload);
        m->h->nlmsg_type = type;
        m->h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        m->h->nlmsg_seq = 1;
        return NLMSG_DATA(m->h);
}

static int nl_attr(NlMsg *m, uint16_t type, const void *data, size_t len) {
        size_t off = NLMSG_ALIGN(m->h->nlmsg_len);
        struct rtattr *rta = (struct rtattr *) (m->buf + off);

        if (off + RTA_SPACE(len) > sizeof m->buf)
                return -ENOBUFS;
        rta->rta_type = type;
        rta->rta_len = (unsigned short) RTA_LENGTH(len);
        memcpy(RTA_DATA(rta), data, len);
        m->h->nlmsg_len = (uint32_t) (off + RTA_SPACE(len));
        return 0;
}

/* Sends one request and waits for its ACK; returns the kernel's -errno. */
static int nl_call(int fd, NlMsg *m) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        char reply[4096];
        ssize_t n;

        if (sendto(fd, m->buf, m->h->nlmsg_len, 0, (struct sockaddr *) &sa, sizeof sa) < 0)
                return negative_errno();
        for (;;) {
                n = recv(fd, reply, sizeof reply, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                for (struct nlmsghdr *h = (struct nlmsghdr *) reply; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n))
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                struct nlmsgerr *e = NLMSG_DATA(h);
                                return e->error;
                        }
        }
}

static int link_up(int fd, int ifindex) {
        NlMsg m;
        struct ifinfomsg *ifi = nl_init(&m, RTM_NEWLINK, 0, sizeof *ifi);

        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = ifindex;
        ifi->ifi_flags = IFF_UP;
        ifi->ifi_change = IFF_UP;
        return nl_call(fd, &m);
}

static int addr_add(int fd, int ifindex, int family, const void *addr, unsigned prefix) {
        size_t alen = family == AF_INET ? 4 : 16;
        NlMsg m;
        struct ifaddrmsg *ifa = nl_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof *ifa);
        uint32_t flags = IFA_F_PERMANENT;
        int r;

        ifa->ifa_family = (unsigned char) family;
        ifa->ifa_prefixlen = (unsigned char) prefix;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (unsigned) ifindex;
        /* A static address on a private link: duplicate detection only delays it. */
        if (family == AF_INET6)
                flags |= IFA_F_NODAD;
        ifa->ifa_flags = (unsigned char) flags;
        if ((r = nl_attr(&m, IFA_LOCAL, addr, alen)) < 0 || (r = nl_attr(&m, IFA_ADDRESS, addr, alen)) < 0 ||
            (r = nl_attr(&m, IFA_FLAGS, &flags, sizeof flags)) < 0)
                return r;
        return nl_call(fd, &m);
}

static int route_add_default(int fd, int ifindex, int family, const void *gw) {
        size_t alen = family == AF_INET ? 4 : 16;
        uint32_t oif = (uint32_t) ifindex;
        NlMsg m;
        struct rtmsg *rt = nl_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof *rt);
        int r;

        rt->rtm_family = (unsigned char) family;
        rt->rtm_table = RT_TABLE_MAIN;
        rt->rtm_protocol = RTPROT_STATIC;
        rt->rtm_scope = RT_SCOPE_UNIVERSE;
        rt->rtm_type = RTN_UNICAST;
        if ((r = nl_attr(&m, RTA_GATEWAY, gw, alen)) < 0 || (r = nl_attr(&m, RTA_OIF, &oif, sizeof oif)) < 0)
                return r;
        return nl_call(fd, &m);
}

static int configure_family(int fd, int ifindex, const char *ifname, int family, const LaunchAddress *a) {
        unsigned char addr[16], gw[16];
        const char *what = family == AF_INET ? "IPv4" : "IPv6";
        int r;

        if (!a->address)
                return 0;
        if (inet_pton(family, a->address, addr) != 1)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s address '%s' is invalid.", what, a->address);
        r = addr_add(fd, ifindex, family, addr, a->prefix);
        if (r < 0)
                return log_error_errno(r, "Failed to add %s/%u to %s: %m", a->address, a->prefix, ifname);
        if (!a->gateway)
                return 0;
        if (inet_pton(family, a->gateway, gw) != 1)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s gateway '%s' is invalid.", what, a->gateway);
        r = route_add_default(fd, ifindex, family, gw);
        if (r < 0)
                return log_error_errno(r, "Failed to add the %s default route via %s: %m", what, a->gateway);
        return 0;
}

int net_setup(const LaunchSpec *s, const char *ifname, unsigned timeout_ms) {
        _cleanup_close_ int fd = -EBADF;
        unsigned ifindex = 0;
        int r;

        assert(s);
        assert(ifname);

        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open an rtnetlink socket: %m");
        r = link_up(fd, (int) if_nametoindex("lo"));
        if (r < 0)
                return log_error_errno(r, "Failed to bring up lo: %m");
        if (!s->has_network)
                return 0;

        for (unsigned waited = 0; (ifindex = if_nametoindex(ifname)) == 0; waited += 20) {
                if (waited >= timeout_ms)
                        return log_error_errno(SYNTHETIC_ERRNO(ENODEV), "Network interface %s did not appear within %u ms.",
                                               ifname, timeout_ms);
                (void) nanosleep(&(struct timespec) { .tv_nsec = 20 * 1000 * 1000 }, NULL);
        }
        r = link_up(fd, (int) ifindex);
        if (r < 0)
                return log_error_errno(r, "Failed to bring up %s: %m", ifname);
        r = configure_family(fd, (int) ifindex, ifname, AF_INET, &s->network.ipv4);
        if (r < 0)
                return r;
        return configure_family(fd, (int) ifindex, ifname, AF_INET6, &s->network.ipv6);
}

static int replace_file(const char *path, const char *content) {
        /* The image may ship a dangling symlink (systemd-resolved's stub). */
        (void) unlink(path);
        int r = write_string_file_atomic(path, content, 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", path);
        return 0;
}

int net_write_files(const LaunchSpec *s) {
        _cleanup_free_ char *hosts = NULL, *resolv = NULL, *line = NULL;
        const char *hostname;
        int r;

        assert(s);

        hostname = s->hostname ?: "zone";
        (void) mkdir_p("/etc", 0755);
        r = asprintf_safe(&hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n",
                          s->network.ipv4.address ?: "127.0.1.1", hostname);
        if (r < 0)
                return log_oom();
        if (s->network.ipv6.address) {
                char *h = strjoin(hosts, s->network.ipv6.address, "\t", hostname, "\n");
                if (!h)
                        return log_oom();
                free(hosts);
                hosts = h;
        }
        r = replace_file("/etc/hosts", hosts);
        if (r < 0)
                return r;
        line = strjoin(hostname, "\n");
        if (!line)
                return log_oom();
        r = replace_file("/etc/hostname", line);
        if (r < 0)
                return r;
        if (!s->has_network || strv_length(s->network.dns) == 0)
                return 0;
        resolv = strdup("");
        STRV_FOREACH(d, s->network.dns) {
                char *n = resolv ? strjoin(resolv, "nameserver ", *d, "\n") : NULL;
                free(resolv);
                resolv = n;
        }
        if (!resolv)
                return log_oom();
        return replace_file("/etc/resolv.conf", resolv);
}
