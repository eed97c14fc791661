/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/io/console.h>

/* The host side of one PV console page (xen/io/console.h). We are the only
 * consumer of out[] and the only producer of in[], so we keep our own copies
 * of out_cons and in_prod: the guest can scribble over the page but can only
 * move the two indices it owns (out_prod, in_cons), and those are checked
 * against ours before any byte is touched. */
typedef struct ConsoleRing {
        struct xencons_interface *intf;
        XENCONS_RING_IDX out_cons; /* our consumer index for out[] */
        XENCONS_RING_IDX in_prod;  /* our producer index for in[] */
        uint64_t resyncs;          /* times the guest's indices made no sense */
} ConsoleRing;

/* Adopts the page's current indices (the guest may already have written). */
void console_ring_init(ConsoleRing *r, struct xencons_interface *intf);

/* Copies up to n bytes of guest output into buf and frees that space for the
 * guest. Returns the number of bytes copied (0: nothing pending), or -EPROTO
 * after resynchronising when the guest's out_prod claims more than the ring
 * holds (the pending bytes are then dropped, never read out of bounds). */
int console_ring_read_output(ConsoleRing *r, void *buf, size_t n);

/* Free space for input, in bytes; -EPROTO (after resynchronising) when the
 * guest's in_cons is not within what we produced. */
int console_ring_input_space(ConsoleRing *r);

/* Copies at most n bytes of input into the free space of in[]. Returns the
 * number written (possibly fewer than n, possibly 0 when full) or -EPROTO. */
int console_ring_write_input(ConsoleRing *r, const void *data, size_t n);

/* A bounded byte history addressed by absolute offsets: bytes [start, end)
 * are kept, end - start <= size. Readers remember an absolute offset, so one
 * copy serves the log, every attached client and GetLog; a reader that falls
 * more than `size` behind skips forward. */
typedef struct Scrollback {
        uint8_t *buf;
        size_t size;
        uint64_t end; /* total bytes ever appended */
} Scrollback;

int scrollback_init(Scrollback *s, size_t size);
void scrollback_done(Scrollback *s);
void scrollback_append(Scrollback *s, const void *data, size_t n);
static inline uint64_t scrollback_start(const Scrollback *s) {
        return s->end > s->size ? s->end - s->size : 0;
}
/* Copies bytes from absolute offset *pos (moved up to the oldest byte kept
 * when it fell behind; the number skipped goes to *ret_skipped) into buf.
 * Returns the number of bytes copied and advances nothing: the caller moves
 * *pos by what it managed to deliver. */
size_t scrollback_peek(const Scrollback *s, uint64_t *pos, void *buf, size_t n, uint64_t *ret_skipped);
/* The contiguous kept bytes starting at pos (after clamping as above), for
 * zero-copy sends; returns their length (0 when pos == end). */
size_t scrollback_span(const Scrollback *s, uint64_t *pos, const uint8_t **ret, uint64_t *ret_skipped);
