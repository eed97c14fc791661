/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xen/grant_table.h>

#include "backend.h"
#include "guest-protocol.h"
#include "log.h"
#include "string-util.h"

/* The real thing: xenstore for the ring's address and port and for domain
 * death, gntdev (or privcmd foreign mapping) for the page, evtchn for the
 * doorbell. One xenstore, gnttab and foreignmemory handle for the daemon,
 * one evtchn handle per zone so each zone has its own fd in the event loop. */

#define RELEASE_TOKEN "krata-consoled-release"
#define XS_VALUE_MAX 32 /* ring-ref and port are decimal numbers */

typedef struct XenBackend {
        struct xs_handle *xs;
        xengnttab_handle *xgt;
        xenforeignmemory_handle *xfm;
} XenBackend;

typedef struct XenChannel {
        uint32_t domid;
        xenevtchn_handle *xce;
        evtchn_port_t local_port;
        bool grant_mapped; /* else foreign-mapped */
} XenChannel;

static void xen_close(Backend *b) {
        XenBackend *x = b->data;

        if (!x)
                return;
        if (x->xs) {
                (void) xs_unwatch(x->xs, "@releaseDomain", RELEASE_TOKEN);
                xs_close(x->xs);
        }
        if (x->xgt)
                xengnttab_close(x->xgt);
        if (x->xfm)
                xenforeignmemory_close(x->xfm);
        b->data = mfree(x);
        b->watch_fd = -EBADF;
}

static int xen_open(Backend *b, int *ret_watch_fd) {
        XenBackend *x = calloc(1, sizeof *x);

        if (!x)
                return -ENOMEM;
        b->data = x;
        x->xs = xs_open(0);
        if (!x->xs) {
                int r = negative_errno();
                xen_close(b);
                return backend_fail(b, r, "Failed to open xenstore (is this a Xen dom0 with xenstored running?): %m");
        }
        /* Either mapping path may be missing (no gntdev module, or a
         * deprivileged domain without privcmd); attach says which it needed. */
        x->xgt = xengnttab_open(NULL, 0);
        if (!x->xgt)
                log_debug_errno(errno, "Cannot open /dev/xen/gntdev, grant mapping unavailable: %m");
        x->xfm = xenforeignmemory_open(NULL, 0);
        if (!x->xfm)
                log_debug_errno(errno, "Cannot open /dev/xen/privcmd, foreign mapping unavailable: %m");
        if (!x->xgt && !x->xfm) {
                xen_close(b);
                return backend_fail(b, SYNTHETIC_ERRNO(ENODEV),
                                       "Neither /dev/xen/gntdev nor /dev/xen/privcmd can be opened: cannot map console rings.");
        }
        /* @releaseDomain fires whenever a domain is destroyed; which one is
         * found by asking xenstored about each zone's domain. */
        if (!xs_watch(x->xs, "@releaseDomain", RELEASE_TOKEN)) {
                int r = negative_errno();
                xen_close(b);
                return backend_fail(b, r, "Failed to watch @releaseDomain: %m");
        }
        *ret_watch_fd = xs_fileno(x->xs);
        return 0;
}

static int xen_watch_process(Backend *b) {
        XenBackend *x = b->data;
        char **w;

        /* Drain every queued watch event; the caller re-checks all zones. */
        while ((w = xs_check_watch(x->xs)))
                free(w);
        if (errno != EAGAIN)
                return backend_fail(b, errno, "Reading xenstore watch events failed: %m");
        return 0;
}

static int read_console_key(Backend *b, XenBackend *x, uint32_t domid, const char *key, uint64_t max, uint64_t *ret) {
        _cleanup_free_ char *path = NULL, *v = NULL;
        unsigned int len = 0;
        int r;

        if (asprintf_safe(&path, "/local/domain/%" PRIu32 "/console/%s", domid, key) < 0)
                return -ENOMEM;
        v = xs_read(x->xs, XBT_NULL, path, &len);
        if (!v)
                return backend_fail(b, errno, "Failed to read %s for domain %" PRIu32 ": %m "
                                              "(the zone supervisor writes it before handing the zone over)", path, domid);
        if (len == 0 || len > XS_VALUE_MAX || strlen(v) != len)
                return backend_fail(b, SYNTHETIC_ERRNO(EBADMSG), "%s of domain %" PRIu32 " is malformed (%u bytes).",
                                       path, domid, len);
        r = safe_atou64(v, ret);
        if (r < 0 || *ret > max)
                return backend_fail(b, SYNTHETIC_ERRNO(EBADMSG), "%s of domain %" PRIu32 " is not a valid number: %s",
                                       path, domid, string_is_printable(v, XS_VALUE_MAX) ? v : "(unprintable)");
        return 0;
}

static void xen_detach(Backend *b, Channel *c) {
        XenBackend *x = b->data;
        XenChannel *xc;

        if (!c)
                return;
        xc = c->data;
        if (xc) {
                if (xc->xce) {
                        if (xc->local_port)
                                (void) xenevtchn_unbind(xc->xce, xc->local_port);
                        xenevtchn_close(xc->xce);
                }
                if (c->page) {
                        if (xc->grant_mapped)
                                (void) xengnttab_unmap(x->xgt, c->page, 1);
                        else
                                (void) xenforeignmemory_unmap(x->xfm, c->page, 1);
                }
                free(xc);
        }
        free(c);
}

static int xen_attach(Backend *b, const char *zone, uint32_t domid, Channel **ret) {
        XenBackend *x = b->data;
        uint64_t ring_ref, port;
        Channel *c;
        XenChannel *xc;
        xenevtchn_port_or_error_t lp;
        int r;

        /* Death is "no longer introduced": a domain not introduced yet would
         * look dead at once, so the supervisor must introduce it first. */
        if (!xs_is_domain_introduced(x->xs, domid))
                return backend_fail(b, SYNTHETIC_ERRNO(ESRCH), "Zone %s: domain %" PRIu32 " does not exist or is not "
                                                               "introduced to xenstore yet.", zone, domid);
        r = read_console_key(b, x, domid, "ring-ref", UINT64_MAX >> 12, &ring_ref);
        if (r < 0)
                return r;
        r = read_console_key(b, x, domid, "port", UINT32_MAX, &port);
        if (r < 0)
                return r;

        c = calloc(1, sizeof *c);
        xc = calloc(1, sizeof *xc);
        if (!c || !xc) {
                free(c);
                free(xc);
                return -ENOMEM;
        }
        c->data = xc;
        c->event_fd = -EBADF;
        xc->domid = domid;

        /* A toolstack that seeded the grant table (xc_dom_gnttab_init) grants
         * the console page to dom0 as the reserved ref 0; mapping that needs
         * only gntdev. Otherwise ring-ref is the page's frame number and
         * needs privileged foreign mapping (as xenconsoled falls back to). */
        if (x->xgt) {
                c->page = xengnttab_map_grant_ref(x->xgt, domid, GNTTAB_RESERVED_CONSOLE, PROT_READ | PROT_WRITE);
                if (c->page)
                        xc->grant_mapped = true;
                else
                        log_debug_errno(errno, "Zone %s: grant ref %d of domain %" PRIu32 " not mappable (%m), trying frame %" PRIu64 ".",
                                        zone, GNTTAB_RESERVED_CONSOLE, domid, ring_ref);
        }
        if (!c->page && x->xfm) {
                xen_pfn_t mfn = (xen_pfn_t) ring_ref;
                c->page = xenforeignmemory_map(x->xfm, domid, PROT_READ | PROT_WRITE, 1, &mfn, NULL);
        }
        if (!c->page) {
                r = negative_errno();
                xen_detach(b, c);
                return backend_fail(b, r, "Zone %s: cannot map the console ring of domain %" PRIu32
                                          " (grant ref %d, frame %" PRIu64 "): %m", zone, domid,
                                       GNTTAB_RESERVED_CONSOLE, ring_ref);
        }

        xc->xce = xenevtchn_open(NULL, 0);
        if (!xc->xce) {
                r = negative_errno();
                xen_detach(b, c);
                return backend_fail(b, r, "Zone %s: cannot open /dev/xen/evtchn: %m", zone);
        }
        lp = xenevtchn_bind_interdomain(xc->xce, domid, (evtchn_port_t) port);
        if (lp < 0) {
                r = negative_errno();
                xen_detach(b, c);
                return backend_fail(b, r, "Zone %s: cannot bind event channel %" PRIu64 " of domain %" PRIu32 ": %m",
                                       zone, port, domid);
        }
        xc->local_port = (evtchn_port_t) lp;
        c->event_fd = xenevtchn_fd(xc->xce);
        log_debug("Zone %s: console of domain %" PRIu32 " mapped by %s, event channel %" PRIu64 " bound as %u.",
                  zone, domid, xc->grant_mapped ? "grant" : "foreign frame", port, (unsigned) lp);
        *ret = c;
        return 0;
}

static int xen_ack(Backend *b, Channel *c) {
        XenChannel *xc = c->data;
        xenevtchn_port_or_error_t p = xenevtchn_pending(xc->xce);

        if (p < 0)
                return errno == EAGAIN ? 0 : negative_errno();
        return xenevtchn_unmask(xc->xce, (evtchn_port_t) p) < 0 ? negative_errno() : 0;
}

static int xen_notify(Backend *b, Channel *c) {
        XenChannel *xc = c->data;

        return xenevtchn_notify(xc->xce, xc->local_port) < 0 ? negative_errno() : 0;
}

static int xen_alive(Backend *b, Channel *c) {
        XenBackend *x = b->data;
        XenChannel *xc = c->data;

        /* xenstored forgets a domain when it is destroyed (and then fires
         * @releaseDomain), so this is the same event seen from our side. */
        return xs_is_domain_introduced(x->xs, xc->domid) ? 1 : 0;
}

static int xen_set_winsize(Backend *b, Channel *c, unsigned rows, unsigned cols) {
        XenBackend *x = b->data;
        XenChannel *xc = c->data;
        _cleanup_free_ char *path = NULL, *v = NULL;

        /* Below the guest-writable krata/ directory the supervisor creates, so
         * the node inherits permissions the guest can read and watch. */
        if (asprintf_safe(&path, "/local/domain/%" PRIu32 "/" KRATA_XS_WINSIZE, xc->domid) < 0 ||
            asprintf_safe(&v, "%u %u", rows, cols) < 0)
                return -ENOMEM;
        if (!xs_write(x->xs, XBT_NULL, path, v, strlen(v)))
                return backend_fail(b, errno, "Failed to write %s: %m", path);
        return 0;
}

const BackendOps backend_xen_ops = {
        .name = "xen",
        .open = xen_open,
        .close = xen_close,
        .watch_process = xen_watch_process,
        .attach = xen_attach,
        .detach = xen_detach,
        .ack = xen_ack,
        .notify = xen_notify,
        .alive = xen_alive,
        .set_winsize = xen_set_winsize,
};
