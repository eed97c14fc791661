/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "hardlink.h"
#include "macro.h"
#include "merge.h"

/* Links waiting for a path in the layers below `from_layer`. */
typedef struct PendingRec {
        uint32_t from_layer;
        char *link_path; /* the first waiting link, for the error message */
        WaitList list;
        struct PendingRec *next;
} PendingRec;

typedef struct Pending {
        char *path; /* key */
        PendingRec *recs;
} Pending;

/* An entry of the current layer to read again. */
typedef struct Want {
        uint64_t ordinal;
        WaitList list;
} Want;

struct Links {
        uint32_t layer;
        void *pending; /* tsearch() of Pending* by path */
        void *seen;    /* tsearch() of Seen* by path, current layer */
        Want **wants;  /* current layer */
        size_t n_wants;
};

WaitList *waitlist_new(void) {
        return calloc(1, sizeof(WaitList));
}

void waitlist_free(WaitList *w) {
        if (w) {
                free(w->nodes);
                free(w);
        }
}

int waitlist_add(WaitList *w, Node *n) {
        Node **nv = reallocarray(w->nodes, w->n + 1, sizeof *nv);

        assert(w);
        assert(n);

        if (!nv)
                return -ENOMEM;
        w->nodes = nv;
        w->nodes[w->n++] = n;
        n->wait = w;
        return 0;
}

static int waitlist_move(WaitList *to, WaitList *from) {
        for (size_t i = 0; i < from->n; i++) {
                int r = waitlist_add(to, from->nodes[i]);
                if (r < 0)
                        return r;
        }
        from->nodes = mfree(from->nodes);
        from->n = 0;
        return 0;
}

void waitlist_remove(Node *n) {
        WaitList *w = n->wait;

        assert(n);

        if (!w)
                return;
        for (size_t i = 0; i < w->n; i++)
                if (w->nodes[i] == n) {
                        w->nodes[i] = w->nodes[--w->n];
                        break;
                }
        n->wait = NULL;
}

void waitlist_resolve(WaitList *w, SquashInode *inode) {
        assert(w);
        assert(inode);

        for (size_t i = 0; i < w->n; i++) {
                w->nodes[i]->inode = inode;
                w->nodes[i]->wait = NULL;
        }
        w->nodes = mfree(w->nodes);
        w->n = 0;
}

static int pending_cmp(const void *a, const void *b) {
        return strcmp(((const Pending *) a)->path, ((const Pending *) b)->path);
}

static int seen_cmp(const void *a, const void *b) {
        return strcmp(((const Seen *) a)->path, ((const Seen *) b)->path);
}

static void seen_free(void *p) {
        Seen *s = p;
        free(s->path);
        free(s->link);
        free(s);
}

static void pending_free(void *p) {
        Pending *pd = p;

        while (pd->recs) {
                PendingRec *r = pd->recs;
                pd->recs = r->next;
                free(r->list.nodes);
                free(r->link_path);
                free(r);
        }
        free(pd->path);
        free(pd);
}

static char *node_path(const Node *n) {
        size_t len = 0;
        char *s;

        for (const Node *p = n; p && p->parent; p = p->parent)
                len += strlen(p->name) + 1;
        if (len == 0)
                return strdup("/");
        s = malloc(len + 1);
        if (!s)
                return NULL;
        s[len] = 0;
        for (const Node *p = n; p && p->parent; p = p->parent) {
                size_t l = strlen(p->name);
                len -= l;
                memcpy(s + len, p->name, l);
                s[--len] = '/';
        }
        return s;
}

int links_new(Links **ret) {
        *ret = calloc(1, sizeof(Links));
        return *ret ? 0 : -ENOMEM;
}

static void drop_layer_state(Links *l) {
        if (l->seen) {
                tdestroy(l->seen, seen_free);
                l->seen = NULL;
        }
        for (size_t k = 0; k < l->n_wants; k++) {
                free(l->wants[k]->list.nodes);
                free(l->wants[k]);
        }
        l->wants = mfree(l->wants);
        l->n_wants = 0;
}

Links *links_free(Links *l) {
        if (!l)
                return NULL;
        drop_layer_state(l);
        if (l->pending)
                tdestroy(l->pending, pending_free);
        free(l);
        return NULL;
}

void links_begin_layer(Links *l, uint32_t layer) {
        assert(l);

        drop_layer_state(l);
        l->layer = layer;
}

static Seen *seen_find(Links *l, const char *path) {
        Seen key = { .path = (char *) path }, **found;

        found = l->seen ? tfind(&key, &l->seen, seen_cmp) : NULL;
        return found ? *found : NULL;
}

int links_seen(Links *l, const char *path, uint64_t ordinal, Seen **ret) {
        Seen *s = seen_find(l, path);

        assert(l);
        assert(ret);

        if (s)
                s->link = mfree(s->link);
        else {
                s = calloc(1, sizeof *s);
                if (!s)
                        return -ENOMEM;
                s->path = strdup(path);
                if (!s->path || !tsearch(s, &l->seen, seen_cmp)) {
                        seen_free(s);
                        return -ENOMEM;
                }
        }
        s->ordinal = ordinal;
        s->node = NULL;
        s->inode = NULL;
        s->is_dir = false;
        *ret = s;
        return 0;
}

int links_take_pending(Links *l, Tree *t, const char *path, WaitList **ret) {
        Pending key = { .path = (char *) path }, **found, *pd;
        _cleanup_(waitlist_freep) WaitList *w = NULL;
        int r;

        assert(l);
        assert(t);
        assert(path);
        assert(ret);

        *ret = NULL;
        found = l->pending ? tfind(&key, &l->pending, pending_cmp) : NULL;
        if (!found)
                return 0;
        pd = *found;
        for (PendingRec **rp = &pd->recs; *rp;) {
                PendingRec *rec = *rp;

                if (rec->from_layer <= l->layer || tree_hidden_between(t, path, l->layer, rec->from_layer)) {
                        rp = &rec->next;
                        continue;
                }
                if (!w) {
                        w = waitlist_new();
                        if (!w)
                                return -ENOMEM;
                }
                r = waitlist_move(w, &rec->list);
                if (r < 0)
                        return r;
                *rp = rec->next;
                free(rec->link_path);
                free(rec);
        }
        if (!pd->recs) {
                tdelete(pd, &l->pending, pending_cmp);
                pending_free(pd);
        }
        *ret = TAKE_PTR(w);
        return 0;
}

static int add_pending(Links *l, const char *target, WaitList *w) {
        Pending key = { .path = (char *) target }, **found, *pd;
        PendingRec *rec;

        found = l->pending ? tfind(&key, &l->pending, pending_cmp) : NULL;
        if (found)
                pd = *found;
        else {
                pd = calloc(1, sizeof *pd);
                if (!pd)
                        return -ENOMEM;
                pd->path = strdup(target);
                if (!pd->path || !tsearch(pd, &l->pending, pending_cmp)) {
                        pending_free(pd);
                        return -ENOMEM;
                }
        }
        for (rec = pd->recs; rec; rec = rec->next)
                if (rec->from_layer == l->layer)
                        return waitlist_move(&rec->list, w);
        rec = calloc(1, sizeof *rec);
        if (!rec)
                return -ENOMEM;
        rec->from_layer = l->layer;
        rec->link_path = w->n > 0 ? node_path(w->nodes[0]) : NULL;
        rec->next = pd->recs;
        pd->recs = rec;
        return waitlist_move(&rec->list, w);
}

static int add_want(Links *l, uint64_t ordinal, WaitList *w) {
        Want **nv, *want;

        for (size_t i = 0; i < l->n_wants; i++)
                if (l->wants[i]->ordinal == ordinal)
                        return waitlist_move(&l->wants[i]->list, w);
        nv = reallocarray(l->wants, l->n_wants + 1, sizeof *nv);
        if (!nv)
                return -ENOMEM;
        l->wants = nv;
        want = calloc(1, sizeof *want);
        if (!want)
                return -ENOMEM;
        want->ordinal = ordinal;
        l->wants[l->n_wants++] = want;
        return waitlist_move(&want->list, w);
}

int links_resolve(Links *l, const char *target, WaitList *w) {
        const char *t = target;

        assert(l);
        assert(target);
        assert(w);

        for (unsigned depth = 0; depth < SQUASH_MAX_LINK_CHAIN; depth++) {
                Seen *s = seen_find(l, t);

                if (!s)
                        return add_pending(l, t, w);
                if (s->is_dir)
                        return -EISDIR;
                if (s->inode) {
                        waitlist_resolve(w, s->inode);
                        return 0;
                }
                if (s->node && s->node->inode) {
                        waitlist_resolve(w, s->node->inode);
                        return 0;
                }
                if (s->node && s->node->wait)
                        return waitlist_move(s->node->wait, w);
                if (s->link) {
                        t = s->link;
                        continue;
                }
                return add_want(l, s->ordinal, w);
        }
        return -ELOOP;
}

size_t links_n_wanted(Links *l) {
        assert(l);

        return l->n_wants;
}

WaitList *links_wanted(Links *l, uint64_t ordinal) {
        assert(l);

        for (size_t k = 0; k < l->n_wants; k++)
                if (l->wants[k]->ordinal == ordinal)
                        return &l->wants[k]->list;
        return NULL;
}

static void first_pending(const void *nodep, VISIT which, void *userdata) {
        const Pending **ret = userdata;
        if (!*ret && (which == leaf || which == postorder))
                *ret = *(const Pending *const *) nodep;
}

bool links_first_unresolved(Links *l, uint32_t *ret_layer, const char **ret_link, const char **ret_target) {
        const Pending *pd = NULL;

        assert(l);
        assert(ret_layer);
        assert(ret_link);
        assert(ret_target);

        if (!l->pending)
                return false;
        twalk_r(l->pending, first_pending, &pd);
        if (!pd || !pd->recs)
                return false;
        *ret_layer = pd->recs->from_layer;
        *ret_link = pd->recs->link_path ? pd->recs->link_path + 1 : "?";
        *ret_target = pd->path;
        return true;
}
