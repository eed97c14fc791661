/* SPDX-License-Identifier: Apache-2.0 */
/* The PV domain, built with libxenguest's xc_dom_* builder in libxl's order
 * (tools/libs/light/libxl_dom.c: libxl__build_dom). */
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <xenctrl.h>
#include <xenguest.h>

#include "domain.h"
#include "log.h"

/* libxl's defaults for a PV guest. */
#define MAX_GRANT_FRAMES 64
#define MAX_MAPTRACK_FRAMES 1024
#define MAX_EVTCHN_PORT 1023
#define MAXMEM_SLACK_KB 1024 /* LIBXL_MAXMEM_CONSTANT */

int domain_open(Domain *d) {
        assert(d);

        if (access("/dev/xen/privcmd", F_OK) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(ENOMEDIUM),
                                       "No Xen hypervisor here: /dev/xen/privcmd is missing. krata zones need a "
                                       "Xen dom0 with the xen-privcmd module loaded.");
        d->xch = xc_interface_open(NULL, NULL, 0);
        if (!d->xch)
                return log_error_errno(errno ?: EIO, "Cannot open the Xen control interface: %m");
        return 0;
}

/* The empty domain with its limits and the event channels of its xenstore
 * and console rings (libxl__build_pre). */
static int domain_create(Domain *d) {
        struct xen_domctl_createdomain config = {
                .ssidref = 0, /* SECINITSID_DOMU */
                .flags = 0,   /* PV */
                .max_vcpus = d->vcpus,
                .max_evtchn_port = MAX_EVTCHN_PORT,
                .max_grant_frames = MAX_GRANT_FRAMES,
                .max_maptrack_frames = MAX_MAPTRACK_FRAMES,
                .grant_opts = XEN_DOMCTL_GRANT_version(2),
        };
        unsigned long mem_kb = (unsigned long) (d->memory >> 20) * 1024;
        uint32_t domid = 0;
        int r;

        memcpy(config.handle, d->handle, sizeof config.handle);
        if (xc_domain_create(d->xch, &domid, &config) < 0)
                return log_error_errno(errno ?: EIO, "xc_domain_create failed: %m");
        d->created = true;
        d->domid = domid;
        log_info("Created domain %u.", domid);

        if (xc_domain_max_vcpus(d->xch, domid, d->vcpus) < 0)
                return log_error_errno(errno ?: EIO, "Setting %u vCPUs on domain %u failed: %m", d->vcpus, domid);
        if (xc_domain_setmaxmem(d->xch, domid, mem_kb + MAXMEM_SLACK_KB) < 0)
                return log_error_errno(errno ?: EIO, "Setting max memory on domain %u failed: %m", domid);
        /* A PV guest's e820 covers its memory. */
        if (xc_domain_set_memmap_limit(d->xch, domid, mem_kb) < 0)
                return log_error_errno(errno ?: EIO, "Setting the memory map limit on domain %u failed: %m", domid);

        r = xc_evtchn_alloc_unbound(d->xch, domid, 0);
        if (r < 0)
                return log_error_errno(errno ?: EIO, "Allocating the xenstore event channel failed: %m");
        d->store_port = (unsigned) r;
        r = xc_evtchn_alloc_unbound(d->xch, domid, 0);
        if (r < 0)
                return log_error_errno(errno ?: EIO, "Allocating the console event channel failed: %m");
        d->console_port = (unsigned) r;
        return 0;
}

/* Kernel and initrd into the domain's memory, page tables, start info, the
 * grant table seeded with the two rings. */
static int domain_load(Domain *d, struct xc_dom_image *dom, const char *kernel, const char *initrd) {
#define STEP(call, what)                                                                        \
        do {                                                                                    \
                if ((call) != 0)                                                                \
                        return log_error_errno(errno ?: EIO, "Building domain %u: %s failed: %m", \
                                               d->domid, what);                                 \
        } while (0)
        STEP(xc_dom_kernel_file(dom, kernel), "loading the kernel");
        if (initrd)
                STEP(xc_dom_module_file(dom, initrd, NULL), "loading the initrd");
        STEP(xc_dom_boot_xen_init(dom, d->xch, d->domid), "xc_dom_boot_xen_init");
        STEP(xc_dom_parse_image(dom), "parsing the kernel image");
        STEP(xc_dom_mem_init(dom, (unsigned) (d->memory >> 20)), "xc_dom_mem_init");
        STEP(xc_dom_boot_mem_init(dom), "allocating guest memory");
        STEP(xc_dom_build_image(dom), "building the image");
        STEP(xc_dom_boot_image(dom), "xc_dom_boot_image");
        STEP(xc_dom_gnttab_init(dom), "seeding the grant table");
#undef STEP
        d->console_mfn = xc_dom_p2m(dom, dom->console_pfn);
        d->store_mfn = xc_dom_p2m(dom, dom->xenstore_pfn);
        return 0;
}

int domain_build(Domain *d, const char *kernel, const char *initrd, const char *cmdline) {
        struct xc_dom_image *dom;
        int r;

        assert(d);
        assert(kernel);
        assert(cmdline);

        r = domain_create(d);
        if (r < 0)
                return r;
        dom = xc_dom_allocate(d->xch, cmdline, NULL);
        if (!dom)
                return log_error_errno(SYNTHETIC_ERRNO(ENOMEM), "xc_dom_allocate failed.");
        dom->container_type = XC_DOM_PV_CONTAINER;
        dom->max_vcpus = d->vcpus;
        dom->flags = 0;
        dom->console_evtchn = d->console_port;
        dom->console_domid = 0;
        dom->xenstore_evtchn = d->store_port;
        dom->xenstore_domid = 0;
        /* which kernel: the cached inflated ELF, or a bzImage the builder inflates */
        log_info("Building domain %u: kernel %s, initrd %s.", d->domid, kernel, initrd ?: "none");
        r = domain_load(d, dom, kernel, initrd);
        xc_dom_release(dom);
        return r;
}

int domain_unpause(Domain *d) {
        assert(d);

        if (xc_domain_unpause(d->xch, d->domid) < 0)
                return log_error_errno(errno ?: EIO, "Unpausing domain %u failed: %m", d->domid);
        return 0;
}

/* 1 and the info when domid is still the domain with our handle. */
static int domain_info(Domain *d, xc_domaininfo_t *ret) {
        int n = xc_domain_getinfolist(d->xch, d->domid, 1, ret);

        if (n < 0)
                return -(errno ?: EIO);
        return n == 1 && ret->domain == d->domid && memcmp(ret->handle, d->handle, sizeof d->handle) == 0;
}

int domain_has_ended(Domain *d, unsigned *ret_reason) {
        xc_domaininfo_t info;
        int r;

        assert(d);

        if (!d->created)
                return 1;
        r = domain_info(d, &info);
        if (r <= 0)
                return r < 0 ? r : 1; /* gone, or the domid was reused: ours is gone */
        if (info.flags & XEN_DOMINF_dying)
                return 1;
        if (info.flags & XEN_DOMINF_shutdown) {
                if (ret_reason)
                        *ret_reason = (info.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
                return 1;
        }
        return 0;
}

int domain_destroy(Domain *d) {
        xc_domaininfo_t info;

        assert(d);

        if (!d->created)
                return 0;
        /* Never destroy a reused domid. */
        if (domain_info(d, &info) == 0) {
                d->created = false;
                return 0;
        }
        if (xc_domain_destroy(d->xch, d->domid) < 0 && errno != ESRCH)
                return log_error_errno(errno, "Destroying domain %u failed: %m", d->domid);
        log_info("Destroyed domain %u.", d->domid);
        d->created = false;
        return 0;
}

void domain_close(Domain *d) {
        assert(d);

        if (d->xch)
                xc_interface_close(d->xch);
        d->xch = NULL;
}
