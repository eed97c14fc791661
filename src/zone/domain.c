/* SPDX-License-Identifier: Apache-2.0 */
/* The PV domain, built with libxenguest's xc_dom_* builder in libxl's order
 * (tools/libs/light/libxl_dom.c: libxl__build_dom). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <xenctrl.h>
#include <xenguest.h>

#include "log.h"
#include "zone.h"

/* libxl's defaults for a PV guest. */
#define MAX_GRANT_FRAMES 64
#define MAX_MAPTRACK_FRAMES 1024
#define MAX_EVTCHN_PORT 1023
#define MAXMEM_SLACK_KB 1024 /* LIBXL_MAXMEM_CONSTANT */

int domain_open(Supervisor *s) {
        if (access("/dev/xen/privcmd", F_OK) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(ENOMEDIUM),
                                       "No Xen hypervisor here: /dev/xen/privcmd is missing. krata zones need a "
                                       "Xen dom0 with the xen-privcmd module loaded.");
        s->xch = xc_interface_open(NULL, NULL, 0);
        if (!s->xch)
                return log_error_errno(errno ?: EIO, "Cannot open the Xen control interface: %m");
        return 0;
}

int domain_build(Supervisor *s) {
        struct xen_domctl_createdomain config = {
                .ssidref = 0, /* SECINITSID_DOMU */
                .flags = 0,   /* PV */
                .max_vcpus = s->spec->vcpus,
                .max_evtchn_port = MAX_EVTCHN_PORT,
                .max_grant_frames = MAX_GRANT_FRAMES,
                .max_maptrack_frames = MAX_MAPTRACK_FRAMES,
                .grant_opts = XEN_DOMCTL_GRANT_version(2),
        };
        unsigned mem_mb = (unsigned) (s->spec->memory >> 20);
        struct xc_dom_image *dom = NULL;
        uint32_t domid = 0;
        int r, e;

        memcpy(config.handle, s->handle, sizeof config.handle);
        if (xc_domain_create(s->xch, &domid, &config) < 0)
                return log_error_errno(errno ?: EIO, "xc_domain_create failed: %m");
        s->domain_created = true;
        s->domid = domid;
        log_info("Created domain %u for zone %s.", domid, s->spec->name);

        if (xc_domain_max_vcpus(s->xch, domid, s->spec->vcpus) < 0)
                return log_error_errno(errno ?: EIO, "Setting %u vCPUs on domain %u failed: %m", s->spec->vcpus, domid);
        if (xc_domain_setmaxmem(s->xch, domid, (uint64_t) mem_mb * 1024 + MAXMEM_SLACK_KB) < 0)
                return log_error_errno(errno ?: EIO, "Setting max memory on domain %u failed: %m", domid);
        /* A PV guest's e820 covers its memory (libxl__build_pre does the same). */
        if (xc_domain_set_memmap_limit(s->xch, domid, (unsigned long) mem_mb * 1024) < 0)
                return log_error_errno(errno ?: EIO, "Setting the memory map limit on domain %u failed: %m", domid);

        r = xc_evtchn_alloc_unbound(s->xch, domid, 0);
        if (r < 0)
                return log_error_errno(errno ?: EIO, "Allocating the xenstore event channel failed: %m");
        s->store_port = (unsigned) r;
        r = xc_evtchn_alloc_unbound(s->xch, domid, 0);
        if (r < 0)
                return log_error_errno(errno ?: EIO, "Allocating the console event channel failed: %m");
        s->console_port = (unsigned) r;

        dom = xc_dom_allocate(s->xch, s->kernel_cmdline, NULL);
        if (!dom)
                return log_error_errno(SYNTHETIC_ERRNO(ENOMEM), "xc_dom_allocate failed.");
        dom->container_type = XC_DOM_PV_CONTAINER;
        dom->max_vcpus = s->spec->vcpus;
        dom->flags = 0;
        dom->console_evtchn = s->console_port;
        dom->console_domid = 0;
        dom->xenstore_evtchn = s->store_port;
        dom->xenstore_domid = 0;

#define STEP(call, what)                                                               \
        do {                                                                           \
                if ((call) != 0) {                                                     \
                        e = errno ?: EIO;                                              \
                        xc_dom_release(dom);                                           \
                        return log_error_errno(e, "Building domain %u: %s failed: %m", \
                                               domid, what);                           \
                }                                                                      \
        } while (0)
        /* which kernel: the cached inflated ELF, or a bzImage the builder inflates */
        log_info("Building domain %u: kernel %s, initrd %s.", domid, s->kernel_path, s->initrd_path ?: "none");
        STEP(xc_dom_kernel_file(dom, s->kernel_path), "loading the kernel");
        if (s->initrd_path)
                STEP(xc_dom_module_file(dom, s->initrd_path, NULL), "loading the initrd");
        STEP(xc_dom_boot_xen_init(dom, s->xch, domid), "xc_dom_boot_xen_init");
        STEP(xc_dom_parse_image(dom), "parsing the kernel image");
        STEP(xc_dom_mem_init(dom, mem_mb), "xc_dom_mem_init");
        STEP(xc_dom_boot_mem_init(dom), "allocating guest memory");
        STEP(xc_dom_build_image(dom), "building the image");
        STEP(xc_dom_boot_image(dom), "xc_dom_boot_image");
        STEP(xc_dom_gnttab_init(dom), "seeding the grant table");
#undef STEP
        s->console_mfn = xc_dom_p2m(dom, dom->console_pfn);
        s->store_mfn = xc_dom_p2m(dom, dom->xenstore_pfn);
        xc_dom_release(dom);
        return 0;
}

int domain_unpause(Supervisor *s) {
        if (xc_domain_unpause(s->xch, s->domid) < 0)
                return log_error_errno(errno ?: EIO, "Unpausing domain %u failed: %m", s->domid);
        return 0;
}

int domain_has_ended(Supervisor *s, unsigned *ret_reason) {
        xc_domaininfo_t info;
        int n;

        if (!s->domain_created)
                return 1;
        n = xc_domain_getinfolist(s->xch, s->domid, 1, &info);
        if (n < 0)
                return -(errno ?: EIO);
        if (n == 0 || info.domain != s->domid)
                return 1;
        if (memcmp(info.handle, s->handle, sizeof s->handle) != 0)
                return 1; /* the domid was reused: ours is gone */
        if (info.flags & XEN_DOMINF_dying)
                return 1;
        if (info.flags & XEN_DOMINF_shutdown) {
                if (ret_reason)
                        *ret_reason = (info.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
                return 1;
        }
        return 0;
}

int domain_destroy(Supervisor *s) {
        if (!s->domain_created)
                return 0;
        /* Never destroy a reused domid: check the handle first. */
        if (domain_has_ended(s, NULL) == 1) {
                xc_domaininfo_t info;
                if (xc_domain_getinfolist(s->xch, s->domid, 1, &info) != 1 || info.domain != s->domid ||
                    memcmp(info.handle, s->handle, sizeof s->handle) != 0) {
                        s->domain_created = false;
                        return 0;
                }
        }
        if (xc_domain_destroy(s->xch, s->domid) < 0 && errno != ESRCH)
                return log_error_errno(errno, "Destroying domain %u failed: %m", s->domid);
        log_info("Destroyed domain %u.", s->domid);
        s->domain_created = false;
        return 0;
}
