/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include "domain.h"

/* The zone's xenstore trees: /local/domain/N, /vm/UUID, and its devices'
 * backend and frontend directories. */
typedef struct XsTree {
        struct xs_handle *xsh;
        uint32_t domid;
        const char *name, *uuid; /* the zone's, borrowed */
        bool written;     /* something of ours may be there: removed on teardown */
        bool introduced;  /* xenstored knows the domain: released on teardown */
} XsTree;

typedef struct XsEntry {
        const char *key, *value;
} XsEntry; /* tables end with {} */

int xs_tree_open(XsTree *x);
/* Read-only for the guest but where it must answer (data, control/...,
 * device, krata/...), which it owns. */
int xs_tree_write_domain(XsTree *x, const Domain *d);
int xs_tree_introduce(XsTree *x, const Domain *d);
/* In one transaction: the backend (back[], read-only for the guest) and the
 * frontend (front[], owned by the guest), linked, both in state 1. */
int xs_tree_add_device(XsTree *x, const char *kind, unsigned devid, const XsEntry *back, const XsEntry *front);
int xs_tree_add_vif(XsTree *x, const Domain *d);
int xs_tree_request_shutdown(XsTree *x, const char *how);
/* KEY under /local/domain/N, as the guest left it; -ENODATA: none. */
int xs_tree_read(XsTree *x, const char *key, char **ret, size_t *ret_size);
/* With the frontend gone there is no handshake to wait for (xl destroy). */
void xs_tree_remove(XsTree *x);
void xs_tree_close(XsTree *x);
