/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The merged image tree, metadata only. Layers are applied top layer first:
 * the first layer to name a path decides it, and whiteouts, opaque
 * directories and non-directories left in upper layers are recorded as
 * markers that hide what lower layers hold beneath them. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <sqfs/predef.h>

typedef struct Node Node;
typedef struct WaitList WaitList;

/* One inode of the image; hard links share it. */
typedef struct SquashInode {
        uint32_t mode; /* with the S_IFMT type bits */
        uint32_t uid, gid, mtime;
        uint32_t xattr_idx;            /* 0xFFFFFFFF: none */
        uint32_t devno;                /* devices, Linux new_encode_dev() form */
        char *symlink;                 /* symlinks */
        sqfs_inode_generic_t *sq;      /* regular files: filled by the block processor */

        /* set while serialising */
        uint32_t nlink;
        uint32_t number;
        uint64_t ref;
        bool written;
} SquashInode;

typedef enum NodeKind {
        NODE_NONE,  /* only markers: a whiteout, or a parent of one */
        NODE_DIR,
        NODE_OTHER, /* anything but a directory */
} NodeKind;

typedef enum MarkerKind {
        MARKER_WHITEOUT, /* the node and its subtree are deleted below this layer */
        MARKER_CHILDREN, /* the node's children are hidden below this layer */
} MarkerKind;

typedef struct Marker {
        uint32_t layer;
        MarkerKind kind;
} Marker;

/* Nodes waiting for a hard link's target to be found. */
struct WaitList {
        Node **nodes;
        size_t n;
};

struct Node {
        char *name;
        Node *parent;
        NodeKind kind;
        bool implicit;        /* a directory no layer has described (yet) */
        uint32_t layer;       /* the layer that decided the node */
        void *children;       /* tsearch() tree of Node*, ordered by strcmp() of names */
        Marker *markers;
        size_t n_markers;
        SquashInode *inode;   /* NULL while a hard link waits for its target */
        WaitList *wait;       /* the list this node waits on */

        /* set while serialising: children to emit, in strcmp() order */
        Node **sorted;
        size_t n_sorted;
        uint32_t n_subdirs;
};

typedef struct Tree {
        Node *root;
        SquashInode **inodes; /* owns every inode */
        size_t n_inodes, n_inodes_alloc;
} Tree;

typedef enum PlaceResult {
        PLACE_HIDDEN, /* an upper layer shadows or deleted this entry */
        PLACE_MERGED, /* a directory an upper layer already described */
        PLACE_FILL,   /* a directory that exists but whose metadata this entry gives */
        PLACE_NEW,    /* the entry decides the node (created, or replacing an earlier entry of the same layer) */
} PlaceResult;

int tree_new(Tree **ret);
Tree *tree_free(Tree *t);
static inline void tree_freep(Tree **t) {
        if (*t)
                tree_free(*t);
}

/* A new inode owned by the tree (mode 0755 directory defaults). */
SquashInode *tree_inode_new(Tree *t, uint32_t mode);

/* Places an entry of `layer` (1 = bottom) at the normalised path. Returns a
 * PlaceResult and the node for MERGED/FILL/NEW, or -ENOTDIR/-EEXIST for
 * entries that contradict their own layer. */
int tree_place(Tree *t, const char *path, uint32_t layer, bool is_dir, Node **ret);
/* ".wh.NAME" in `layer`: hides path and its subtree in lower layers. */
int tree_whiteout(Tree *t, const char *path, uint32_t layer);
/* ".wh..wh..opq" in `layer`: hides the lower children of directory path. */
int tree_opaque(Tree *t, const char *path, uint32_t layer);
/* Whether an entry at path in layer `lower` is deleted or shadowed by the
 * layers in (lower, upper]; used to resolve hard links across layers. */
bool tree_hidden_between(Tree *t, const char *path, uint32_t lower, uint32_t upper);
/* Looks a path up without creating anything. */
Node *tree_lookup(Tree *t, const char *path);
/* Whether the node ends up in the image. */
static inline bool node_emitted(const Node *n) {
        return n->kind != NODE_NONE;
}
