/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "ring.h"

#define OUT_SIZE sizeof(((struct xencons_interface *) 0)->out)
#define IN_SIZE sizeof(((struct xencons_interface *) 0)->in)

/* The guest side of the protocol, as a well-behaved frontend does it. */
static size_t guest_write(struct xencons_interface *intf, const char *data, size_t n) {
        size_t i = 0;

        for (; i < n && intf->out_prod - intf->out_cons < OUT_SIZE; i++) {
                intf->out[MASK_XENCONS_IDX(intf->out_prod, intf->out)] = data[i];
                intf->out_prod++;
        }
        return i;
}

static size_t guest_read(struct xencons_interface *intf, char *buf, size_t n) {
        size_t i = 0;

        for (; i < n && intf->in_cons != intf->in_prod; i++)
                buf[i] = intf->in[MASK_XENCONS_IDX(intf->in_cons++, intf->in)];
        return i;
}

static void test_output_simple(void **state) {
        struct xencons_interface page = {};
        ConsoleRing r;
        char buf[64];

        console_ring_init(&r, &page);
        assert_int_equal(console_ring_read_output(&r, buf, sizeof buf), 0);
        assert_int_equal(guest_write(&page, "hello", 5), 5);
        assert_int_equal(console_ring_read_output(&r, buf, sizeof buf), 5);
        assert_memory_equal(buf, "hello", 5);
        assert_int_equal(page.out_cons, 5);
        assert_int_equal(console_ring_read_output(&r, buf, sizeof buf), 0);
}

/* Indices near 2^32 and offsets near the end of out[]: both wraps at once. */
static void test_output_wraparound(void **state) {
        struct xencons_interface page = {};
        ConsoleRing r;
        char data[3000], buf[4096];
        size_t total = 0, got = 0;

        for (size_t i = 0; i < sizeof data; i++)
                data[i] = (char) ('a' + i % 26);
        page.out_cons = page.out_prod = UINT32_MAX - 100;
        console_ring_init(&r, &page);
        while (got < sizeof data) {
                int n;

                total += guest_write(&page, data + total, MIN(sizeof data - total, 700));
                n = console_ring_read_output(&r, buf + got, 333);
                assert_true(n >= 0);
                got += (size_t) n;
        }
        assert_memory_equal(buf, data, sizeof data);
        assert_int_equal(page.out_cons, (uint32_t) (UINT32_MAX - 100 + sizeof data));
}

static void test_output_full_ring(void **state) {
        struct xencons_interface page = {};
        ConsoleRing r;
        char data[OUT_SIZE + 10], buf[OUT_SIZE + 10];

        memset(data, 'x', sizeof data);
        data[OUT_SIZE - 1] = 'E';
        console_ring_init(&r, &page);
        assert_int_equal(guest_write(&page, data, sizeof data), OUT_SIZE); /* guest stops when full */
        assert_int_equal(console_ring_read_output(&r, buf, sizeof buf), OUT_SIZE);
        assert_int_equal(buf[OUT_SIZE - 1], 'E');
        /* Partial reads of a full ring leave the rest where it was. */
        assert_int_equal(guest_write(&page, data, sizeof data), OUT_SIZE);
        assert_int_equal(console_ring_read_output(&r, buf, 100), 100);
        assert_int_equal(page.out_prod - page.out_cons, OUT_SIZE - 100);
        assert_int_equal(console_ring_read_output(&r, buf, sizeof buf), OUT_SIZE - 100);
}

static void test_output_bogus_prod(void **state) {
        struct xencons_interface page = {};
        ConsoleRing r;
        char buf[4096];

        console_ring_init(&r, &page);
        page.out_prod = OUT_SIZE + 1; /* more than a ring ahead */
        assert_int_equal(console_ring_read_output(&r, buf, sizeof buf), -EPROTO);
        assert_int_equal(r.resyncs, 1);
        assert_int_equal(page.out_cons, OUT_SIZE + 1);
        /* It recovers: subsequent honest output is read normally. */
        assert_int_equal(guest_write(&page, "ok", 2), 2);
        assert_int_equal(console_ring_read_output(&r, buf, sizeof buf), 2);
        assert_memory_equal(buf, "ok", 2);

        /* Going backwards looks like a huge unsigned distance: same treatment. */
        page.out_prod -= 5;
        assert_int_equal(console_ring_read_output(&r, buf, sizeof buf), -EPROTO);
        assert_int_equal(console_ring_read_output(&r, buf, sizeof buf), 0);

        /* A guest overwriting the consumer index we own is ignored. */
        assert_int_equal(guest_write(&page, "abc", 3), 3);
        page.out_cons = 12345;
        assert_int_equal(console_ring_read_output(&r, buf, sizeof buf), 3);
        assert_memory_equal(buf, "abc", 3);
        assert_int_equal(page.out_cons, page.out_prod);
}

static void test_init_bogus(void **state) {
        struct xencons_interface page = { .out_cons = 7, .out_prod = 100000, .in_cons = 5000, .in_prod = 3 };
        ConsoleRing r;
        char buf[16];

        console_ring_init(&r, &page);
        assert_int_equal(console_ring_read_output(&r, buf, sizeof buf), 0);
        assert_int_equal(console_ring_input_space(&r), (int) IN_SIZE);
}

static void test_input_partial(void **state) {
        struct xencons_interface page = {};
        ConsoleRing r;
        char data[IN_SIZE * 2], buf[IN_SIZE * 2];
        size_t sent = 0, got = 0;

        for (size_t i = 0; i < sizeof data; i++)
                data[i] = (char) i;
        page.in_cons = page.in_prod = UINT32_MAX - 10;
        console_ring_init(&r, &page);
        assert_int_equal(console_ring_input_space(&r), (int) IN_SIZE);
        /* Full ring: a write is partial, then 0, never more than the space. */
        assert_int_equal(console_ring_write_input(&r, data, sizeof data), (int) IN_SIZE);
        sent = IN_SIZE;
        assert_int_equal(console_ring_write_input(&r, data + sent, 1), 0);
        assert_int_equal(console_ring_input_space(&r), 0);
        /* The guest drains some, we fill exactly that. */
        got += guest_read(&page, buf, 100);
        assert_int_equal(console_ring_write_input(&r, data + sent, sizeof data - sent), 100);
        sent += 100;
        while (got < sent) {
                got += guest_read(&page, buf + got, 300);
                int n = console_ring_write_input(&r, data + sent, sizeof data - sent);
                assert_true(n >= 0);
                sent += (size_t) n;
        }
        assert_int_equal(sent, sizeof data);
        assert_memory_equal(buf, data, sizeof data);
}

static void test_input_bogus_cons(void **state) {
        struct xencons_interface page = {};
        ConsoleRing r;
        char buf[8];

        console_ring_init(&r, &page);
        assert_int_equal(console_ring_write_input(&r, "abcd", 4), 4);
        page.in_cons = 50; /* consumed bytes never produced */
        assert_int_equal(console_ring_write_input(&r, "efgh", 4), -EPROTO);
        assert_int_equal(r.in_prod, 50);
        assert_int_equal(console_ring_write_input(&r, "efgh", 4), 4);
        assert_int_equal(guest_read(&page, buf, sizeof buf), 4);
        assert_memory_equal(buf, "efgh", 4);
        /* Overwriting the producer index we own does not make us skip. */
        page.in_prod = 9999;
        assert_int_equal(console_ring_write_input(&r, "z", 1), 1);
        assert_int_equal(page.in_prod, 55);
}

static void test_scrollback(void **state) {
        Scrollback s;
        uint64_t pos = 0, skipped = 0;
        char buf[32];
        const uint8_t *span;

        assert_int_equal(scrollback_init(&s, 8), 0);
        scrollback_append(&s, "abcdef", 6);
        assert_int_equal(scrollback_peek(&s, &pos, buf, sizeof buf, &skipped), 6);
        assert_memory_equal(buf, "abcdef", 6);
        assert_int_equal(skipped, 0);
        scrollback_append(&s, "ghijk", 5); /* wraps, drops "abc" */
        assert_int_equal(scrollback_start(&s), 3);
        pos = 0;
        assert_int_equal(scrollback_peek(&s, &pos, buf, sizeof buf, &skipped), 8);
        assert_int_equal(skipped, 3);
        assert_int_equal(pos, 3);
        assert_memory_equal(buf, "defghijk", 8);
        /* Spans stop at the wrap point. */
        pos = 3;
        assert_int_equal(scrollback_span(&s, &pos, &span, NULL), 5);
        assert_memory_equal(span, "defgh", 5);
        pos = 8;
        assert_int_equal(scrollback_span(&s, &pos, &span, NULL), 3);
        assert_memory_equal(span, "ijk", 3);
        pos = 11;
        assert_int_equal(scrollback_span(&s, &pos, &span, NULL), 0);
        pos = 500; /* a position from the future is clamped, not trusted */
        assert_int_equal(scrollback_peek(&s, &pos, buf, sizeof buf, NULL), 0);
        assert_int_equal(pos, 11);
        /* More than the whole buffer at once keeps the tail. */
        scrollback_append(&s, "0123456789AB", 12);
        pos = 0;
        assert_int_equal(scrollback_peek(&s, &pos, buf, sizeof buf, NULL), 8);
        assert_memory_equal(buf, "456789AB", 8);
        assert_int_equal(s.end, 23);
        scrollback_done(&s);
        assert_int_equal(scrollback_init(&s, 0), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_output_simple),
                cmocka_unit_test(test_output_wraparound),
                cmocka_unit_test(test_output_full_ring),
                cmocka_unit_test(test_output_bogus_prod),
                cmocka_unit_test(test_init_bogus),
                cmocka_unit_test(test_input_partial),
                cmocka_unit_test(test_input_bogus_cons),
                cmocka_unit_test(test_scrollback),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
