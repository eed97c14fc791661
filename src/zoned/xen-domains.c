/* SPDX-License-Identifier: Apache-2.0 */
/* The hypervisor's domain list, to match domains to zones by their handle
 * (the zone's UUID). */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenctrl.h>

#include "log.h"
#include "zoned.h"

#define MAX_DOMAINS 4096

int xen_list_domains(XenDomainInfo **ret, size_t *ret_n) {
        _cleanup_free_ xc_domaininfo_t *info = NULL;
        _cleanup_free_ XenDomainInfo *out = NULL;
        xc_interface *xch;
        size_t n = 0;
        int got;

        assert(ret);
        assert(ret_n);

        if (access("/dev/xen/privcmd", F_OK) < 0)
                return -ENOMEDIUM; /* not a Xen dom0 */
        info = calloc(MAX_DOMAINS, sizeof *info);
        out = calloc(MAX_DOMAINS, sizeof *out);
        if (!info || !out)
                return -ENOMEM;
        xch = xc_interface_open(NULL, NULL, 0);
        if (!xch)
                return log_warning_errno(errno ?: EIO, "Cannot open the Xen control interface: %m");
        got = xc_domain_getinfolist(xch, 0, MAX_DOMAINS, info);
        if (got < 0) {
                int e = errno ?: EIO;
                xc_interface_close(xch);
                return log_warning_errno(e, "Cannot list Xen domains: %m");
        }
        xc_interface_close(xch);
        for (int i = 0; i < got; i++) {
                const uint8_t *h = info[i].handle;
                if (info[i].domain == 0)
                        continue;
                out[n].domid = info[i].domain;
                snprintf(out[n].uuid, sizeof out[n].uuid,
                         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                         h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12],
                         h[13], h[14], h[15]);
                out[n].dying = info[i].flags & XEN_DOMINF_dying;
                out[n].shutdown = info[i].flags & XEN_DOMINF_shutdown;
                n++;
        }
        *ret = TAKE_PTR(out);
        *ret_n = n;
        return 0;
}
