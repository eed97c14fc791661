/* SPDX-License-Identifier: Apache-2.0 */
/* Written from key/value tables, as libxl's libxl__device_generic_add(). */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "guest-protocol.h"
#include "log.h"
#include "xs-tree.h"

/* The guest owns what it writes (libxl's rwperm): xenstored charges a new
 * node to the owner of its parent, so under a dom0-owned directory all the
 * guest created was dom0's, outside any quota (zone-hostile.sh: 21,000
 * nodes and counting, oxenstored at 100% CPU). Owned by the guest, they
 * count against its own quota (1000 entries in Debian's oxenstored.conf);
 * dom0 reads anyway. Other nodes: dom0 owns, the guest reads. */
typedef enum Owner { OWNER_DOM0, OWNER_GUEST } Owner;

static bool put(XsTree *x, xs_transaction_t t, Owner owner, const char *path, const char *value) {
        struct xs_permissions perms[2] = {
                { .id = owner == OWNER_GUEST ? x->domid : 0, .perms = XS_PERM_NONE },
                { .id = owner == OWNER_GUEST ? 0 : x->domid, .perms = XS_PERM_READ },
        };

        return xs_write(x->xsh, t, path, value, strlen(value)) && xs_set_permissions(x->xsh, t, path, perms, 2);
}

static bool put_entries(XsTree *x, xs_transaction_t t, Owner owner, const char *dir, const XsEntry *e) {
        char path[256];

        for (; e && e->key; e++) {
                snprintf(path, sizeof path, "%s/%s", dir, e->key);
                if (!put(x, t, owner, path, e->value))
                        return false;
        }
        return true;
}

static bool put_dir(XsTree *x, xs_transaction_t t, Owner owner, const char *dir, const XsEntry *e) {
        return put(x, t, owner, dir, "") && put_entries(x, t, owner, dir, e);
}

/* Runs fill() in a transaction, retrying when xenstored says EAGAIN. */
static int in_transaction(XsTree *x, const char *what, bool (*fill)(XsTree *, xs_transaction_t, const void *),
                          const void *arg) {
        x->written = true; /* partial writes are removed too */
        for (unsigned attempt = 0; attempt < 16; attempt++) {
                xs_transaction_t t = xs_transaction_start(x->xsh);
                if (t == XBT_NULL)
                        return log_error_errno(errno ?: EIO, "xenstore: cannot start a transaction for %s: %m", what);
                if (!fill(x, t, arg)) {
                        int e = errno ?: EIO;
                        xs_transaction_end(x->xsh, t, true);
                        return log_error_errno(e, "xenstore: writing %s for domain %u failed: %m", what, x->domid);
                }
                if (xs_transaction_end(x->xsh, t, false))
                        return 0;
                if (errno != EAGAIN)
                        return log_error_errno(errno ?: EIO, "xenstore: committing %s failed: %m", what);
        }
        return log_error_errno(SYNTHETIC_ERRNO(EAGAIN), "xenstore: %s kept conflicting; giving up.", what);
}

int xs_tree_open(XsTree *x) {
        assert(x);

        if (x->xsh)
                return 0;
        x->xsh = xs_open(0);
        if (!x->xsh)
                return log_error_errno(errno ?: EIO, "Cannot connect to xenstore: %m");
        return 0;
}

static bool fill_domain(XsTree *x, xs_transaction_t t, const void *arg) {
        static const char *const guest_dirs[] = { "data", "drivers", "feature", "attr", "error", "device",
                                                  "control/shutdown", "control/feature-poweroff",
                                                  "control/feature-reboot", "control/feature-suspend",
                                                  "control/sysrq", "device/suspend/event-channel",
                                                  KRATA_XS_DIR };
        const Domain *d = arg;
        char dom[64], vm[96], domid[16], kb[24], store_port[16], store_mfn[24], console_port[16], console_mfn[24];
        const XsEntry vm_entries[] = { { "uuid", x->uuid }, { "name", x->name }, {} };
        const XsEntry dom_entries[] = {
                { "vm", vm }, { "name", x->name }, { "uuid", x->uuid }, { "domid", domid }, { "type", "PV" },
                { "memory/static-max", kb }, { "memory/target", kb }, { "memory/videoram", "0" },
                { "store/port", store_port }, { "store/ring-ref", store_mfn },
                { "console/port", console_port }, { "console/ring-ref", console_mfn },
                { "console/limit", "1048576" },
                /* krata-consoled serves this console, not xenconsoled. */
                { "console/type", "krata" }, { "console/output", "pty" },
                {}
        };

        snprintf(dom, sizeof dom, "/local/domain/%u", x->domid);
        snprintf(vm, sizeof vm, "/vm/%s", x->uuid);
        snprintf(domid, sizeof domid, "%u", x->domid);
        snprintf(kb, sizeof kb, "%" PRIu64, d->memory >> 10);
        snprintf(store_port, sizeof store_port, "%u", d->store_port);
        snprintf(store_mfn, sizeof store_mfn, "%lu", d->store_mfn);
        snprintf(console_port, sizeof console_port, "%u", d->console_port);
        snprintf(console_mfn, sizeof console_mfn, "%lu", d->console_mfn);
        if (!put_dir(x, t, OWNER_DOM0, vm, vm_entries) || !put_dir(x, t, OWNER_DOM0, dom, dom_entries))
                return false;
        for (unsigned i = 0; i < d->vcpus; i++) {
                char key[48];
                snprintf(key, sizeof key, "cpu/%u/availability", i);
                if (!put_entries(x, t, OWNER_DOM0, dom, (const XsEntry[]) { { key, "online" }, {} }))
                        return false;
        }
        for (size_t i = 0; i < ELEMENTSOF(guest_dirs); i++)
                if (!put_entries(x, t, OWNER_GUEST, dom, (const XsEntry[]) { { guest_dirs[i], "" }, {} }))
                        return false;
        return true;
}

int xs_tree_write_domain(XsTree *x, const Domain *d) {
        int r;

        assert(x);
        assert(d);
        assert(x->name);
        assert(x->uuid);

        r = xs_tree_open(x);
        if (r < 0)
                return r;
        x->domid = d->domid;
        return in_transaction(x, "the domain tree", fill_domain, d);
}

int xs_tree_introduce(XsTree *x, const Domain *d) {
        assert(x);
        assert(d);

        if (!xs_introduce_domain(x->xsh, x->domid, d->store_mfn, d->store_port))
                return log_error_errno(errno ?: EIO, "xenstore: introducing domain %u failed: %m", x->domid);
        x->introduced = true;
        return 0;
}

typedef struct Device {
        const char *kind;
        unsigned devid;
        const XsEntry *back, *front;
} Device;

static bool fill_device(XsTree *x, xs_transaction_t t, const void *arg) {
        const Device *dev = arg;
        char be[128], fe[128], domid[16];
        const XsEntry be_links[] = { { "frontend", fe }, { "frontend-id", domid }, { "online", "1" }, { "state", "1" }, {} };
        const XsEntry fe_links[] = { { "backend", be }, { "backend-id", "0" }, { "state", "1" }, {} };

        snprintf(be, sizeof be, "/local/domain/0/backend/%s/%u/%u", dev->kind, x->domid, dev->devid);
        snprintf(fe, sizeof fe, "/local/domain/%u/device/%s/%u", x->domid, dev->kind, dev->devid);
        snprintf(domid, sizeof domid, "%u", x->domid);
        return put_dir(x, t, OWNER_DOM0, be, be_links) && put_entries(x, t, OWNER_DOM0, be, dev->back) &&
               put_dir(x, t, OWNER_GUEST, fe, fe_links) && put_entries(x, t, OWNER_GUEST, fe, dev->front);
}

int xs_tree_add_device(XsTree *x, const char *kind, unsigned devid, const XsEntry *back, const XsEntry *front) {
        char what[64];

        assert(x);
        assert(kind);

        snprintf(what, sizeof what, "%s %u", kind, devid);
        return in_transaction(x, what, fill_device, &(Device) { kind, devid, back, front });
}

int xs_tree_add_vif(XsTree *x, const Domain *d) {
        char mac[18];

        assert(x);
        assert(d);

        /* Xen's OUI and three bytes of the zone's uuid. */
        snprintf(mac, sizeof mac, "00:16:3e:%02x:%02x:%02x", d->handle[13] & 0x7f, d->handle[14], d->handle[15]);
        return xs_tree_add_device(x, "vif", 0,
                                   (const XsEntry[]) {
                                           { "mac", mac }, { "mtu", "1500" }, { "type", "vif" }, { "handle", "0" },
                                           /* no bridge script: krata-networkd takes vif<domid>.0 itself */
                                           { "script", "" }, { "hotplug-status", "connected" },
                                           {} },
                                   (const XsEntry[]) {
                                           { "handle", "0" }, { "mac", mac }, { "mtu", "1500" }, { "trusted", "1" },
                                           {} });
}

int xs_tree_request_shutdown(XsTree *x, const char *how) {
        char path[64];

        assert(x);
        assert(how);

        if (!x->xsh || !x->written)
                return -ENOTCONN;
        snprintf(path, sizeof path, "/local/domain/%u/control/shutdown", x->domid);
        if (!xs_write(x->xsh, XBT_NULL, path, how, strlen(how)))
                return log_warning_errno(errno ?: EIO, "xenstore: writing %s failed: %m", path);
        return 0;
}

int xs_tree_read(XsTree *x, const char *key, char **ret, size_t *ret_size) {
        char path[128];
        unsigned len = 0;

        assert(x);
        assert(key);
        assert(ret);
        assert(ret_size);

        if (!x->xsh || !x->written)
                return -ENODATA;
        snprintf(path, sizeof path, "/local/domain/%u/%s", x->domid, key);
        *ret = xs_read(x->xsh, XBT_NULL, path, &len);
        if (!*ret)
                return -ENODATA;
        *ret_size = len;
        return 0;
}

void xs_tree_remove(XsTree *x) {
        static const char *const kinds[] = { "vbd", "vif", "console" };
        char p[128];

        assert(x);

        if (!x->xsh)
                return;
        if (x->written) {
                for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                        snprintf(p, sizeof p, "/local/domain/0/backend/%s/%u", kinds[i], x->domid);
                        (void) xs_rm(x->xsh, XBT_NULL, p);
                }
                snprintf(p, sizeof p, "/local/domain/%u", x->domid);
                (void) xs_rm(x->xsh, XBT_NULL, p);
                if (x->uuid) {
                        snprintf(p, sizeof p, "/vm/%s", x->uuid);
                        (void) xs_rm(x->xsh, XBT_NULL, p);
                }
                x->written = false;
        }
        if (x->introduced) {
                (void) xs_release_domain(x->xsh, x->domid);
                x->introduced = false;
        }
}

void xs_tree_close(XsTree *x) {
        assert(x);

        if (x->xsh)
                xs_close(x->xsh);
        x->xsh = NULL;
}
