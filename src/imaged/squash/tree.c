/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqfs/predef.h>

#include "macro.h"
#include "squash-path.h"
#include "string-util.h"
#include "tree.h"

static int node_cmp(const void *a, const void *b) {
        return strcmp(((const Node *) a)->name, ((const Node *) b)->name);
}

static Node *node_new(Node *parent, const char *name, size_t len) {
        Node *n = calloc(1, sizeof *n);
        if (!n)
                return NULL;
        n->name = strndup(name, len);
        if (!n->name)
                return mfree(n);
        n->parent = parent;
        return n;
}

static void node_free(void *p) {
        Node *n = p;

        if (!n)
                return;
        if (n->children)
                tdestroy(n->children, node_free);
        free(n->sorted);
        free(n->markers);
        free(n->name);
        free(n);
}

int tree_new(Tree **ret) {
        Tree *t = calloc(1, sizeof *t);

        assert(ret);

        if (!t)
                return -ENOMEM;
        t->root = node_new(NULL, "", 0);
        if (!t->root) {
                free(t);
                return -ENOMEM;
        }
        t->root->kind = NODE_DIR;
        t->root->implicit = true;
        t->root->inode = tree_inode_new(t, S_IFDIR | 0755);
        if (!t->root->inode) {
                tree_free(t);
                return -ENOMEM;
        }
        *ret = t;
        return 0;
}

Tree *tree_free(Tree *t) {
        if (!t)
                return NULL;
        node_free(t->root);
        for (size_t i = 0; i < t->n_inodes; i++) {
                free(t->inodes[i]->symlink);
                sqfs_free(t->inodes[i]->sq);
                free(t->inodes[i]);
        }
        free(t->inodes);
        free(t);
        return NULL;
}

SquashInode *tree_inode_new(Tree *t, uint32_t mode) {
        SquashInode *i;

        assert(t);

        if (t->n_inodes == t->n_inodes_alloc) {
                size_t na = MAX(t->n_inodes_alloc * 2, (size_t) 1024);
                SquashInode **nv = reallocarray(t->inodes, na, sizeof *nv);
                if (!nv)
                        return NULL;
                t->inodes = nv;
                t->n_inodes_alloc = na;
        }
        i = calloc(1, sizeof *i);
        if (!i)
                return NULL;
        i->mode = mode;
        i->xattr_idx = 0xFFFFFFFF;
        t->inodes[t->n_inodes++] = i;
        return i;
}

static Node *child_find(Node *dir, const char *name, size_t len) {
        char buf[SQUASH_NAME_MAX + 1];
        Node key = { .name = buf };
        Node **found;

        if (len > SQUASH_NAME_MAX)
                return NULL; /* squash_path_normalize() refuses such names */
        memcpy(buf, name, len);
        buf[len] = 0;
        found = tfind(&key, &dir->children, node_cmp);
        return found ? *found : NULL;
}

static Node *child_add(Node *dir, const char *name, size_t len) {
        Node *n = node_new(dir, name, len), **slot;

        if (!n)
                return NULL;
        slot = tsearch(n, &dir->children, node_cmp);
        if (!slot) {
                node_free(n);
                return NULL;
        }
        return n;
}

static int marker_add(Node *n, uint32_t layer, MarkerKind kind) {
        Marker *nm;

        for (size_t i = 0; i < n->n_markers; i++)
                if (n->markers[i].layer == layer && n->markers[i].kind == kind)
                        return 0;
        nm = reallocarray(n->markers, n->n_markers + 1, sizeof *nm);
        if (!nm)
                return -ENOMEM;
        n->markers = nm;
        n->markers[n->n_markers++] = (Marker) { layer, kind };
        return 0;
}

/* Is there a marker of `kind` (or any kind, when any) with lower < layer <= upper? */
static bool marker_in(const Node *n, bool any, MarkerKind kind, uint32_t lower, uint32_t upper) {
        for (size_t i = 0; i < n->n_markers; i++)
                if ((any || n->markers[i].kind == kind) &&
                    n->markers[i].layer > lower && n->markers[i].layer <= upper)
                        return true;
        return false;
}

/* Does ancestor a hide its descendants from an entry of layer `lower`, counting
 * only what layers in (lower, upper] did? */
static bool hides_subtree(const Node *a, uint32_t lower, uint32_t upper) {
        if (marker_in(a, true, 0, lower, upper))
                return true;
        return a->kind == NODE_OTHER && a->layer > lower && a->layer <= upper;
}

static int make_implicit_dir(Tree *t, Node *n, uint32_t layer) {
        n->kind = NODE_DIR;
        n->implicit = true;
        n->layer = layer;
        n->inode = tree_inode_new(t, S_IFDIR | 0755);
        return n->inode ? 0 : -ENOMEM;
}

/* Walks to the parent of path's last component. Ancestors are created (as
 * implicit directories when mkdir, else as marker-only nodes) or converted.
 * Returns 1 and the parent, 0 when an upper layer hides the path, <0 on error. */
static int walk_parent(Tree *t, const char *path, uint32_t layer, bool mkdir,
                       Node **ret_parent, const char **ret_last) {
        Node *n = t->root;
        const char *p = path;
        int r;

        if (hides_subtree(n, layer, UINT32_MAX))
                return 0;
        for (;;) {
                size_t l = strcspn(p, "/");
                Node *c;

                if (p[l] == 0) {
                        *ret_parent = n;
                        *ret_last = p;
                        return 1;
                }
                c = child_find(n, p, l);
                if (!c) {
                        c = child_add(n, p, l);
                        if (!c)
                                return -ENOMEM;
                        if (mkdir) {
                                r = make_implicit_dir(t, c, layer);
                                if (r < 0)
                                        return r;
                        }
                } else {
                        if (hides_subtree(c, layer, UINT32_MAX))
                                return 0;
                        /* A non-directory of this same layer: for a whiteout
                         * beneath it (umoci writes those) there is nothing
                         * left to delete; an entry beneath it is an error. */
                        if (c->kind == NODE_OTHER)
                                return mkdir ? -ENOTDIR : 0;
                        if (c->kind == NODE_NONE && mkdir) {
                                r = make_implicit_dir(t, c, layer);
                                if (r < 0)
                                        return r;
                        }
                }
                n = c;
                p += l + 1;
        }
}

int tree_place(Tree *t, const char *path, uint32_t layer, bool is_dir, Node **ret) {
        const char *last;
        Node *parent, *c;
        int r;

        assert(t);
        assert(ret);

        *ret = NULL;
        if (isempty(path)) {
                if (!is_dir)
                        return -ENOTDIR;
                *ret = t->root;
                if (t->root->implicit || t->root->layer == layer) {
                        t->root->implicit = false;
                        t->root->layer = layer;
                        return PLACE_FILL;
                }
                return PLACE_MERGED;
        }

        r = walk_parent(t, path, layer, true, &parent, &last);
        if (r <= 0)
                return r < 0 ? r : PLACE_HIDDEN;

        c = child_find(parent, last, strlen(last));
        if (!c) {
                c = child_add(parent, last, strlen(last));
                if (!c)
                        return -ENOMEM;
                goto decide;
        }
        if (marker_in(c, false, MARKER_WHITEOUT, layer, UINT32_MAX))
                return PLACE_HIDDEN;
        if (c->kind == NODE_NONE)
                goto decide;

        if (c->layer > layer || c->implicit) {
                if (c->kind == NODE_DIR && is_dir) {
                        *ret = c;
                        if (c->implicit) {
                                c->implicit = false;
                                return PLACE_FILL;
                        }
                        return PLACE_MERGED;
                }
                if (c->kind == NODE_DIR) {
                        /* A lower non-directory replaced by an upper directory: what
                         * lay beneath it in even lower layers is gone too. */
                        r = marker_add(c, layer, MARKER_CHILDREN);
                        return r < 0 ? r : PLACE_HIDDEN;
                }
                return PLACE_HIDDEN;
        }

        /* The same path twice in one layer: the later entry wins. */
        if (c->kind == NODE_DIR && is_dir) {
                *ret = c;
                return PLACE_FILL;
        }
        if (c->kind == NODE_DIR || is_dir)
                return -EEXIST;
        c->inode = NULL;
        *ret = c;
        return PLACE_NEW;

decide:
        c->kind = is_dir ? NODE_DIR : NODE_OTHER;
        c->layer = layer;
        c->implicit = false;
        if (is_dir) {
                c->inode = tree_inode_new(t, S_IFDIR | 0755);
                if (!c->inode)
                        return -ENOMEM;
        }
        *ret = c;
        return PLACE_NEW;
}

int tree_whiteout(Tree *t, const char *path, uint32_t layer) {
        const char *last;
        Node *parent, *c;
        int r;

        assert(t);
        assert(path);

        r = walk_parent(t, path, layer, false, &parent, &last);
        if (r <= 0)
                return r;
        c = child_find(parent, last, strlen(last));
        if (!c) {
                c = child_add(parent, last, strlen(last));
                if (!c)
                        return -ENOMEM;
        }
        return marker_add(c, layer, MARKER_WHITEOUT);
}

int tree_opaque(Tree *t, const char *path, uint32_t layer) {
        const char *last;
        Node *parent, *c;
        int r;

        assert(t);

        if (isempty(path))
                return marker_add(t->root, layer, MARKER_CHILDREN);

        r = walk_parent(t, path, layer, false, &parent, &last);
        if (r <= 0)
                return r;
        c = child_find(parent, last, strlen(last));
        if (!c) {
                c = child_add(parent, last, strlen(last));
                if (!c)
                        return -ENOMEM;
        } else if (marker_in(c, false, MARKER_WHITEOUT, layer, UINT32_MAX))
                return 0;
        return marker_add(c, layer, MARKER_CHILDREN);
}

bool tree_hidden_between(Tree *t, const char *path, uint32_t lower, uint32_t upper) {
        Node *n = t->root;
        const char *p = path;

        assert(t);

        if (isempty(path))
                return false;
        for (;;) {
                size_t l = strcspn(p, "/");
                Node *c;

                if (hides_subtree(n, lower, upper))
                        return true;
                c = child_find(n, p, l);
                if (!c)
                        return false;
                if (p[l] == 0)
                        return marker_in(c, false, MARKER_WHITEOUT, lower, upper);
                n = c;
                p += l + 1;
        }
}

Node *tree_lookup(Tree *t, const char *path) {
        Node *n = t->root;
        const char *p = path;

        assert(t);

        if (isempty(path))
                return n;
        for (;;) {
                size_t l = strcspn(p, "/");

                n = child_find(n, p, l);
                if (!n || p[l] == 0)
                        return n;
                p += l + 1;
        }
}
