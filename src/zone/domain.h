/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct xc_interface_core xc_interface;

/* The zone's PV domain. The caller sets handle, vcpus and memory before
 * domain_build(); the rest records what was built. */
typedef struct Domain {
        xc_interface *xch;
        uint8_t handle[16];     /* the zone's UUID */
        unsigned vcpus;
        uint64_t memory;        /* bytes */

        bool created;           /* domid is ours: destroy on teardown */
        uint32_t domid;
        unsigned store_port, console_port;
        unsigned long store_mfn, console_mfn;
} Domain;

/* -ENOMEDIUM when this is no Xen dom0. */
int domain_open(Domain *d);
/* Paused, with kernel and initrd (may be NULL) loaded. */
int domain_build(Domain *d, const char *kernel, const char *initrd, const char *cmdline);
int domain_unpause(Domain *d);
/* 1 when it is gone, dying or shut down (then *ret_shutdown_reason); 0 while it runs. */
int domain_has_ended(Domain *d, unsigned *ret_shutdown_reason);
/* Only while the handle is ours: domids are reused. */
int domain_destroy(Domain *d);
void domain_close(Domain *d);
