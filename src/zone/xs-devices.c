/* SPDX-License-Identifier: Apache-2.0 */
/* The xenstore trees of a zone: its domain directory (the guest gets write
 * access only where it must answer), and the vbd, vif and console devices,
 * after XEN-NOTES.md steps 14-16. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <xenstore.h>

#include "log.h"
#include "string-util.h"
#include "zone.h"

#define EXIT_CODE_MAX 16 /* bytes we read from krata/exit-code */
#define STATUS_MAX 64    /* "failed:" and the longest reason, with room */

enum { PERM_RO, PERM_GUEST_OWNED, PERM_BACKEND };

static bool xs_put(struct xs_handle *h, xs_transaction_t t, uint32_t domid, int mode, const char *path,
                   const char *value) {
        struct xs_permissions perms[2];

        if (!xs_write(h, t, path, value, strlen(value)))
                return false;
        switch (mode) {
        case PERM_GUEST_OWNED: /* what the guest writes: data, control/..., krata, frontend dirs */
                /* The guest owns them (libxl's rwperm): xenstored charges a
                 * new node to the owner its parent gives it, so under a
                 * dom0-owned directory everything the guest created was
                 * dom0's, outside any quota (zone-hostile.sh: 21,000 nodes
                 * and counting, oxenstored at 100% CPU). Owned by the guest,
                 * they count against its own quota (1000 entries in Debian's
                 * oxenstored.conf). dom0 is privileged; it reads anyway. */
                perms[0] = (struct xs_permissions) { .id = domid, .perms = XS_PERM_NONE };
                perms[1] = (struct xs_permissions) { .id = 0, .perms = XS_PERM_READ };
                break;
        default: /* PERM_RO and backend dirs: dom0 owns, the guest (frontend) reads */
                perms[0] = (struct xs_permissions) { .id = 0, .perms = XS_PERM_NONE };
                perms[1] = (struct xs_permissions) { .id = domid, .perms = XS_PERM_READ };
                break;
        }
        return xs_set_permissions(h, t, path, perms, 2);
}

/* Writes "base/key" = printf(fmt); false on failure. */
static bool put(Supervisor *s, xs_transaction_t t, int mode, const char *base, const char *key,
                const char *fmt, ...) _printf_(6, 7);
static bool put(Supervisor *s, xs_transaction_t t, int mode, const char *base, const char *key,
                const char *fmt, ...) {
        char path[256], value[512];
        va_list ap;

        snprintf(path, sizeof path, "%s%s%s", base, key ? "/" : "", strempty(key));
        va_start(ap, fmt);
        vsnprintf(value, sizeof value, fmt, ap);
        va_end(ap);
        return xs_put(s->xsh, t, s->domid, mode, path, value);
}

/* Runs fill() in a transaction, retrying when xenstored says EAGAIN. */
static int in_transaction(Supervisor *s, const char *what, bool (*fill)(Supervisor *, xs_transaction_t, const void *),
                          const void *arg) {
        for (unsigned attempt = 0; attempt < 16; attempt++) {
                xs_transaction_t t = xs_transaction_start(s->xsh);
                if (t == XBT_NULL)
                        return log_error_errno(errno ?: EIO, "xenstore: cannot start a transaction for %s: %m", what);
                if (!fill(s, t, arg)) {
                        int e = errno ?: EIO;
                        xs_transaction_end(s->xsh, t, true);
                        return log_error_errno(e, "xenstore: writing %s for domain %u failed: %m", what, s->domid);
                }
                if (xs_transaction_end(s->xsh, t, false))
                        return 0;
                if (errno != EAGAIN)
                        return log_error_errno(errno ?: EIO, "xenstore: committing %s failed: %m", what);
        }
        return log_error_errno(SYNTHETIC_ERRNO(EAGAIN), "xenstore: %s kept conflicting; giving up.", what);
}

static bool fill_domain(Supervisor *s, xs_transaction_t t, const void *arg) {
        char dom[64], vm[96];
        static const char *const rw_dirs[] = { "data", "drivers", "feature", "attr", "error", "device",
                                               "control/shutdown", "control/feature-poweroff",
                                               "control/feature-reboot", "control/feature-suspend",
                                               "control/sysrq", "device/suspend/event-channel" };
        uint64_t kb = s->spec->memory >> 10;

        snprintf(dom, sizeof dom, "/local/domain/%u", s->domid);
        snprintf(vm, sizeof vm, "/vm/%s", s->uuid);
        if (!put(s, t, PERM_RO, vm, NULL, "%s", "") || !put(s, t, PERM_RO, vm, "uuid", "%s", s->uuid) ||
            !put(s, t, PERM_RO, vm, "name", "%s", s->spec->name))
                return false;
        if (!put(s, t, PERM_RO, dom, NULL, "%s", "") || !put(s, t, PERM_RO, dom, "vm", "%s", vm) ||
            !put(s, t, PERM_RO, dom, "name", "%s", s->spec->name) || !put(s, t, PERM_RO, dom, "uuid", "%s", s->uuid) ||
            !put(s, t, PERM_RO, dom, "domid", "%u", s->domid) || !put(s, t, PERM_RO, dom, "type", "%s", "PV") ||
            !put(s, t, PERM_RO, dom, "memory/static-max", "%" PRIu64, kb) ||
            !put(s, t, PERM_RO, dom, "memory/target", "%" PRIu64, kb) ||
            !put(s, t, PERM_RO, dom, "memory/videoram", "%s", "0") ||
            !put(s, t, PERM_RO, dom, "store/port", "%u", s->store_port) ||
            !put(s, t, PERM_RO, dom, "store/ring-ref", "%lu", s->store_mfn) ||
            !put(s, t, PERM_RO, dom, "console/port", "%u", s->console_port) ||
            !put(s, t, PERM_RO, dom, "console/ring-ref", "%lu", s->console_mfn) ||
            !put(s, t, PERM_RO, dom, "console/limit", "%s", "1048576") ||
            /* krata-consoled serves this console, not xenconsoled. */
            !put(s, t, PERM_RO, dom, "console/type", "%s", "krata") ||
            !put(s, t, PERM_RO, dom, "console/output", "%s", "pty"))
                return false;
        for (unsigned i = 0; i < s->spec->vcpus; i++) {
                char key[48];
                snprintf(key, sizeof key, "cpu/%u/availability", i);
                if (!put(s, t, PERM_RO, dom, key, "%s", "online"))
                        return false;
        }
        for (size_t i = 0; i < ELEMENTSOF(rw_dirs); i++)
                if (!put(s, t, PERM_GUEST_OWNED, dom, rw_dirs[i], "%s", ""))
                        return false;
        /* krata/: init writes exit-code and status here. */
        return put(s, t, PERM_GUEST_OWNED, dom, "krata", "%s", "");
}

int xs_write_domain(Supervisor *s) {
        int r;

        if (!s->xsh) {
                s->xsh = xs_open(0);
                if (!s->xsh)
                        return log_error_errno(errno ?: EIO, "Cannot connect to xenstore: %m");
        }
        s->xs_domain_written = true; /* partial writes are removed too */
        r = in_transaction(s, "the domain tree", fill_domain, NULL);
        return r;
}

int xs_introduce(Supervisor *s) {
        if (!xs_introduce_domain(s->xsh, s->domid, s->store_mfn, s->store_port))
                return log_error_errno(errno ?: EIO, "xenstore: introducing domain %u failed: %m", s->domid);
        s->introduced = true;
        return 0;
}

static bool fill_vbd(Supervisor *s, xs_transaction_t t, const void *arg) {
        const LoopDevice *d = arg;
        char be[128], fe[128];
        unsigned letter = (d->vdev - 51712) / 16;

        snprintf(be, sizeof be, "/local/domain/0/backend/vbd/%u/%u", s->domid, d->vdev);
        snprintf(fe, sizeof fe, "/local/domain/%u/device/vbd/%u", s->domid, d->vdev);
        return put(s, t, PERM_BACKEND, be, NULL, "%s", "") && put(s, t, PERM_BACKEND, be, "frontend", "%s", fe) &&
               put(s, t, PERM_BACKEND, be, "frontend-id", "%u", s->domid) &&
               put(s, t, PERM_BACKEND, be, "online", "1") && put(s, t, PERM_BACKEND, be, "removable", "0") &&
               put(s, t, PERM_BACKEND, be, "bootable", "1") && put(s, t, PERM_BACKEND, be, "state", "1") &&
               put(s, t, PERM_BACKEND, be, "dev", "xvd%c", 'a' + letter) &&
               put(s, t, PERM_BACKEND, be, "type", "phy") && put(s, t, PERM_BACKEND, be, "mode", "r") &&
               put(s, t, PERM_BACKEND, be, "device-type", "disk") &&
               put(s, t, PERM_BACKEND, be, "discard-enable", "0") &&
               put(s, t, PERM_BACKEND, be, "specification", "xen") &&
               put(s, t, PERM_BACKEND, be, "physical-device-path", "%s", d->path) &&
               /* written directly: no hotplug script runs for krata's vbds */
               put(s, t, PERM_BACKEND, be, "physical-device", "%x:%x", major(d->devnum), minor(d->devnum)) &&
               put(s, t, PERM_GUEST_OWNED, fe, NULL, "%s", "") &&
               put(s, t, PERM_GUEST_OWNED, fe, "backend", "%s", be) &&
               put(s, t, PERM_GUEST_OWNED, fe, "backend-id", "0") &&
               put(s, t, PERM_GUEST_OWNED, fe, "virtual-device", "%u", d->vdev) &&
               put(s, t, PERM_GUEST_OWNED, fe, "device-type", "disk") &&
               put(s, t, PERM_GUEST_OWNED, fe, "trusted", "1") &&
               put(s, t, PERM_GUEST_OWNED, fe, "protocol", "x86_64-abi") &&
               put(s, t, PERM_GUEST_OWNED, fe, "state", "1");
}

int xs_add_vbd(Supervisor *s, const LoopDevice *d) {
        return in_transaction(s, d->role, fill_vbd, d);
}

static bool fill_vif(Supervisor *s, xs_transaction_t t, const void *arg) {
        char be[128], fe[128];

        snprintf(be, sizeof be, "/local/domain/0/backend/vif/%u/0", s->domid);
        snprintf(fe, sizeof fe, "/local/domain/%u/device/vif/0", s->domid);
        return put(s, t, PERM_BACKEND, be, NULL, "%s", "") && put(s, t, PERM_BACKEND, be, "frontend", "%s", fe) &&
               put(s, t, PERM_BACKEND, be, "frontend-id", "%u", s->domid) &&
               put(s, t, PERM_BACKEND, be, "online", "1") && put(s, t, PERM_BACKEND, be, "state", "1") &&
               put(s, t, PERM_BACKEND, be, "mac", "%s", s->mac) && put(s, t, PERM_BACKEND, be, "mtu", "1500") &&
               put(s, t, PERM_BACKEND, be, "type", "vif") && put(s, t, PERM_BACKEND, be, "handle", "0") &&
               /* no bridge script: krata-networkd takes vif<domid>.0 itself */
               put(s, t, PERM_BACKEND, be, "script", "%s", "") &&
               put(s, t, PERM_BACKEND, be, "hotplug-status", "connected") &&
               put(s, t, PERM_GUEST_OWNED, fe, NULL, "%s", "") &&
               put(s, t, PERM_GUEST_OWNED, fe, "backend", "%s", be) &&
               put(s, t, PERM_GUEST_OWNED, fe, "backend-id", "0") &&
               put(s, t, PERM_GUEST_OWNED, fe, "handle", "0") &&
               put(s, t, PERM_GUEST_OWNED, fe, "mac", "%s", s->mac) &&
               put(s, t, PERM_GUEST_OWNED, fe, "mtu", "1500") &&
               put(s, t, PERM_GUEST_OWNED, fe, "trusted", "1") &&
               put(s, t, PERM_GUEST_OWNED, fe, "state", "1");
}

int xs_add_vif(Supervisor *s) {
        /* Xen's OUI and three bytes of the zone's uuid. */
        snprintf(s->mac, sizeof s->mac, "00:16:3e:%02x:%02x:%02x", s->handle[13] & 0x7f, s->handle[14],
                 s->handle[15]);
        s->vif_written = true;
        return in_transaction(s, "the vif", fill_vif, NULL);
}

int xs_request_shutdown(Supervisor *s, const char *how) {
        char path[64];

        if (!s->xsh || !s->xs_domain_written)
                return -ENOTCONN;
        snprintf(path, sizeof path, "/local/domain/%u/control/shutdown", s->domid);
        if (!xs_write(s->xsh, XBT_NULL, path, how, strlen(how)))
                return log_warning_errno(errno ?: EIO, "xenstore: writing %s failed: %m", path);
        return 0;
}

int exit_code_parse(const char *v, size_t len) {
        char buf[EXIT_CODE_MAX + 1];
        int code;

        /* The guest wrote it: bound and validate before believing it. */
        if (len == 0 || len > EXIT_CODE_MAX)
                return -EBADMSG;
        memcpy(buf, v, len);
        buf[len] = 0;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
                buf[--len] = 0;
        if (len == 0 || len > 3)
                return -EBADMSG;
        for (size_t i = 0; i < len; i++)
                if (buf[i] < '0' || buf[i] > '9')
                        return -EBADMSG;
        if (safe_atoi(buf, &code) < 0 || code > 255)
                return -EBADMSG;
        return code;
}

int xs_read_exit_code(Supervisor *s) {
        char path[64];
        unsigned len = 0;
        char *v;
        int code;

        if (!s->xsh || !s->xs_domain_written)
                return -ENODATA;
        snprintf(path, sizeof path, "/local/domain/%u/%s", s->domid, KRATA_XS_EXIT_CODE);
        v = xs_read(s->xsh, XBT_NULL, path, &len);
        if (!v)
                return -ENODATA;
        code = exit_code_parse(v, len);
        free(v);
        if (code < 0)
                return log_warning_errno(code, "Zone %s: krata/exit-code (%u bytes) is not a status 0..255; ignored.",
                                         s->spec->name, len);
        return code;
}

int init_status_parse(const char *v, size_t len, const char **ret_reason) {
        char buf[STATUS_MAX + 1];

        /* The guest wrote it: bounded, no NULs, and only words init writes. */
        if (len == 0 || len > STATUS_MAX || memchr(v, 0, len))
                return -EBADMSG;
        memcpy(buf, v, len);
        buf[len] = 0;
        *ret_reason = NULL;
        if (streq(buf, "starting") || streq(buf, "running") || streq(buf, "exited"))
                return 0;
        if (!startswith(buf, "failed:"))
                return -EBADMSG;
        *ret_reason = krata_init_failure_lookup(buf + strlen("failed:"));
        return *ret_reason ? 0 : -EBADMSG;
}

void xs_read_init_failure(Supervisor *s) {
        const char *reason = NULL;
        char path[64];
        unsigned len = 0;
        char *v;
        int r;

        if (!s->xsh || !s->xs_domain_written)
                return;
        snprintf(path, sizeof path, "/local/domain/%u/%s", s->domid, KRATA_XS_STATUS);
        v = xs_read(s->xsh, XBT_NULL, path, &len);
        if (!v)
                return;
        r = init_status_parse(v, len, &reason);
        free(v);
        if (r < 0) {
                /* Read once, when the zone ends: one warning per zone at most. */
                log_warning("Zone %s: krata/status (%u bytes) is not a krata-init state; ignored.", s->spec->name, len);
                return;
        }
        if (reason) {
                char msg[96];
                snprintf(msg, sizeof msg, "krata-init failed in the zone: %s", reason);
                free(s->record->error);
                s->record->error = strdup(msg);
        }
}

void xs_remove_for_domid(struct xs_handle *xsh, uint32_t domid, const char *uuid) {
        static const char *const types[] = { "vbd", "vif", "console" };
        char p[128];

        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                snprintf(p, sizeof p, "/local/domain/0/backend/%s/%u", types[i], domid);
                (void) xs_rm(xsh, XBT_NULL, p);
        }
        snprintf(p, sizeof p, "/local/domain/%u", domid);
        (void) xs_rm(xsh, XBT_NULL, p);
        if (uuid) {
                snprintf(p, sizeof p, "/vm/%s", uuid);
                (void) xs_rm(xsh, XBT_NULL, p);
        }
}

void xs_remove_all(Supervisor *s) {
        if (!s->xsh)
                return;
        if (s->xs_domain_written || s->vif_written || s->n_disks > 0)
                xs_remove_for_domid(s->xsh, s->domid, s->uuid);
        s->xs_domain_written = s->vif_written = false;
        if (s->introduced) {
                (void) xs_release_domain(s->xsh, s->domid);
                s->introduced = false;
        }
}
