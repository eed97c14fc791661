/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Hard-link bookkeeping for the top-down merge. A link names a path as it was
 * when the link's layer was applied: an earlier entry of the same layer, or
 * what the layers below hold there. Links whose target is not known yet wait
 * in a WaitList until the entry that gives their inode is read. */

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"
#include "tree.h"

typedef struct Links Links;

/* What the current layer held at a path (its latest entry so far). */
typedef struct Seen {
        char *path;          /* key */
        uint64_t ordinal;    /* position in the layer, 1-based */
        Node *node;          /* the entry decided this node */
        SquashInode *inode;  /* an inode made from the entry */
        char *link;          /* the entry is a hard link to this path */
        bool is_dir;
} Seen;

WaitList *waitlist_new(void);
void waitlist_free(WaitList *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(WaitList *, waitlist_free);
int waitlist_add(WaitList *w, Node *n);
/* Takes n off the list it waits on (a later entry replaced it). */
void waitlist_remove(Node *n);
/* Gives every waiting node the inode and empties the list. */
void waitlist_resolve(WaitList *w, SquashInode *inode);

int links_new(Links **ret);
Links *links_free(Links *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(Links *, links_free);

/* Per layer: forgets what the previous layer held and wanted. */
void links_begin_layer(Links *l, uint32_t layer);

/* Records the current layer's entry at path (replacing an earlier one). */
int links_seen(Links *l, const char *path, uint64_t ordinal, Seen **ret);

/* The links from upper layers that the current layer's entry at path
 * satisfies (the layers in between did not delete it); NULL when none. */
int links_take_pending(Links *l, Tree *t, const char *path, WaitList **ret);

/* Points the links in w at `target` as seen from the current layer: shares
 * an inode, joins another waiting list, asks for a second read of the layer
 * (see links_wanted()), or waits for a lower layer. -EISDIR for a directory,
 * -ELOOP for a chain over SQUASH_MAX_LINK_CHAIN links. */
int links_resolve(Links *l, const char *target, WaitList *w);

/* The entries of the current layer to read again (targets an upper layer
 * shadowed, whose data the first pass skipped). */
size_t links_n_wanted(Links *l);
WaitList *links_wanted(Links *l, uint64_t ordinal);

/* After the bottom layer: a link whose target never appeared, if any. */
bool links_first_unresolved(Links *l, uint32_t *ret_layer, const char **ret_link, const char **ret_target);
