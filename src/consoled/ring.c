/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "ring.h"

#define OUT_SIZE ((XENCONS_RING_IDX) sizeof(((struct xencons_interface *) 0)->out))
#define IN_SIZE ((XENCONS_RING_IDX) sizeof(((struct xencons_interface *) 0)->in))

/* The page is shared with a guest on another CPU: indices are read once with
 * acquire semantics (data written before the guest's index update is then
 * visible) and published with release semantics (our data copies complete
 * before the guest sees the index move). These are the rmb/wmb/mb pairs of
 * xen/io/console.h's protocol. */
static XENCONS_RING_IDX load_acquire(const XENCONS_RING_IDX *p) {
        return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_release(XENCONS_RING_IDX *p, XENCONS_RING_IDX v) {
        __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

void console_ring_init(ConsoleRing *r, struct xencons_interface *intf) {
        /* Each guest-writable index is read once: checking one value and
         * adopting another the guest stored meanwhile would defeat the check. */
        XENCONS_RING_IDX out_prod = load_acquire(&intf->out_prod), in_cons = load_acquire(&intf->in_cons);

        assert(r);
        assert(intf);

        *r = (ConsoleRing) {
                .intf = intf,
                .out_cons = load_acquire(&intf->out_cons),
                .in_prod = load_acquire(&intf->in_prod),
        };
        /* If the guest left nonsense in the indices we own, start clean
         * from its producer index rather than reading garbage. */
        if ((XENCONS_RING_IDX) (out_prod - r->out_cons) > OUT_SIZE)
                r->out_cons = out_prod;
        if ((XENCONS_RING_IDX) (r->in_prod - in_cons) > IN_SIZE)
                r->in_prod = in_cons;
        store_release(&intf->out_cons, r->out_cons);
        store_release(&intf->in_prod, r->in_prod);
}

int console_ring_read_output(ConsoleRing *r, void *buf, size_t n) {
        struct xencons_interface *intf = r->intf;
        XENCONS_RING_IDX prod = load_acquire(&intf->out_prod);
        XENCONS_RING_IDX avail = prod - r->out_cons; /* wraps mod 2^32 by design */
        size_t done = 0;

        assert(r);
        assert(buf || n == 0);

        if (avail > OUT_SIZE) {
                /* A producer cannot be more than one ring ahead of us: drop
                 * what it claims and continue from its index. */
                r->out_cons = prod;
                r->resyncs++;
                store_release(&intf->out_cons, r->out_cons);
                return -EPROTO;
        }

        n = MIN(n, (size_t) avail);
        while (done < n) {
                XENCONS_RING_IDX off = MASK_XENCONS_IDX(r->out_cons + (XENCONS_RING_IDX) done, intf->out);
                size_t chunk = MIN(n - done, (size_t) (OUT_SIZE - off));

                memcpy((uint8_t *) buf + done, intf->out + off, chunk);
                done += chunk;
        }
        r->out_cons += (XENCONS_RING_IDX) done;
        /* Re-assert our index even when nothing moved: the guest may have
         * overwritten it, and it must see where we really are. */
        store_release(&intf->out_cons, r->out_cons);
        return (int) done;
}

int console_ring_input_space(ConsoleRing *r) {
        struct xencons_interface *intf = r->intf;
        XENCONS_RING_IDX cons = load_acquire(&intf->in_cons);
        XENCONS_RING_IDX used = r->in_prod - cons;

        assert(r);

        if (used > IN_SIZE) {
                /* The guest claims to have consumed bytes we never wrote (or
                 * went backwards): treat the ring as empty from its index. */
                r->in_prod = cons;
                r->resyncs++;
                store_release(&intf->in_prod, r->in_prod);
                return -EPROTO;
        }
        return (int) (IN_SIZE - used);
}

int console_ring_write_input(ConsoleRing *r, const void *data, size_t n) {
        struct xencons_interface *intf = r->intf;
        int space = console_ring_input_space(r);
        size_t done = 0;

        assert(r);
        assert(data || n == 0);

        if (space < 0)
                return space;
        n = MIN(n, (size_t) space);
        while (done < n) {
                XENCONS_RING_IDX off = MASK_XENCONS_IDX(r->in_prod + (XENCONS_RING_IDX) done, intf->in);
                size_t chunk = MIN(n - done, (size_t) (IN_SIZE - off));

                memcpy(intf->in + off, (const uint8_t *) data + done, chunk);
                done += chunk;
        }
        r->in_prod += (XENCONS_RING_IDX) done;
        store_release(&intf->in_prod, r->in_prod);
        return (int) done;
}

int scrollback_init(Scrollback *s, size_t size) {
        assert(s);

        if (size == 0)
                return -EINVAL;
        *s = (Scrollback) { .buf = malloc(size), .size = size };
        return s->buf ? 0 : -ENOMEM;
}

void scrollback_done(Scrollback *s) {
        s->buf = mfree(s->buf);
        s->size = 0;
        s->end = 0;
}

void scrollback_append(Scrollback *s, const void *data, size_t n) {
        const uint8_t *p = data;

        assert(s);
        assert(data || n == 0);

        if (n > s->size) { /* only the tail can be kept */
                s->end += n - s->size;
                p += n - s->size;
                n = s->size;
        }
        while (n > 0) {
                size_t off = (size_t) (s->end % s->size);
                size_t chunk = MIN(n, s->size - off);

                memcpy(s->buf + off, p, chunk);
                s->end += chunk;
                p += chunk;
                n -= chunk;
        }
}

static uint64_t clamp_pos(const Scrollback *s, uint64_t *pos) {
        uint64_t start = scrollback_start(s), skipped = 0;

        if (*pos > s->end) /* a position from the future: nothing to give */
                *pos = s->end;
        if (*pos < start) {
                skipped = start - *pos;
                *pos = start;
        }
        return skipped;
}

size_t scrollback_span(const Scrollback *s, uint64_t *pos, const uint8_t **ret, uint64_t *ret_skipped) {
        uint64_t skipped = clamp_pos(s, pos);
        size_t off, n;

        assert(s);
        assert(pos);
        assert(ret);

        if (ret_skipped)
                *ret_skipped = skipped;
        if (*pos == s->end) {
                *ret = NULL;
                return 0;
        }
        off = (size_t) (*pos % s->size);
        n = (size_t) MIN(s->end - *pos, (uint64_t) (s->size - off));
        *ret = s->buf + off;
        return n;
}

size_t scrollback_peek(const Scrollback *s, uint64_t *pos, void *buf, size_t n, uint64_t *ret_skipped) {
        uint64_t p;
        size_t done = 0;

        assert(s);
        assert(pos);
        assert(buf || n == 0);

        if (ret_skipped)
                *ret_skipped = clamp_pos(s, pos);
        else
                (void) clamp_pos(s, pos);
        p = *pos;
        while (done < n) {
                const uint8_t *span;
                size_t len = scrollback_span(s, &p, &span, NULL);

                if (len == 0)
                        break;
                len = MIN(len, n - done);
                memcpy((uint8_t *) buf + done, span, len);
                done += len;
                p += len;
        }
        return done;
}
