/* SPDX-License-Identifier: Apache-2.0 */
/* AttachZone's a{sv} options (net/attach-options.c), through real sd-bus messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "attach-options.h"
#include "log.h"

/* a{sv} options, through a real sd-bus message. */
static sd_bus *test_bus(void) {
        sd_bus *bus = NULL;
        int fds[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        assert_int_equal(sd_bus_new(&bus), 0);
        assert_int_equal(sd_bus_set_fd(bus, fds[0], fds[0]), 0);
        assert_true(sd_bus_start(bus) >= 0);
        close(fds[1]);
        return bus;
}

static sd_bus_message *options_message(sd_bus *bus, const char *sig, ...) {
        sd_bus_message *m = NULL;
        va_list ap;

        assert_int_equal(sd_bus_message_new_method_call(bus, &m, "org.krata.Network1", "/org/krata/network1",
                                                        "org.krata.Network1", "AttachZone"), 0);
        va_start(ap, sig);
        assert_true(sd_bus_message_appendv(m, sig, ap) >= 0);
        va_end(ap);
        assert_int_equal(sd_bus_message_seal(m, 1, 0), 0);
        assert_true(sd_bus_message_rewind(m, true) >= 0);
        return m;
}

static void test_attach_options(void **state) {
        sd_bus *bus = test_bus();
        sd_bus_message *m;
        AttachOptions o;
        PortForward *f = NULL;
        size_t n = 0;
        const char *err = NULL;

        m = options_message(bus, "a{sv}", 4, "allow-host-loopback", "b", 1, "ipv6", "b", 0, "mtu", "u", 9000,
                            "port-forwards", "a(sqq)", 2, "tcp", 8080, 80, "udp", 5353, 53);
        o = (AttachOptions) { .ipv6 = true };
        assert_int_equal(attach_options_read(m, &o, &f, &n, &err), 0);
        assert_true(o.allow_host_loopback);
        assert_false(o.ipv6);
        assert_int_equal(o.mtu, 9000);
        assert_int_equal(n, 2);
        assert_int_equal(f[1].protocol, FORWARD_UDP);
        assert_int_equal(f[1].host_port, 5353);
        assert_int_equal(f[1].zone_port, 53);
        free(f);
        f = NULL;
        sd_bus_message_unref(m);

        m = options_message(bus, "a{sv}", 0);
        o = (AttachOptions) { .ipv6 = true };
        assert_int_equal(attach_options_read(m, &o, &f, &n, &err), 0);
        assert_true(o.ipv6);
        assert_int_equal(n, 0);
        sd_bus_message_unref(m);

        m = options_message(bus, "a{sv}", 1, "frobnicate", "b", 1);
        assert_true(attach_options_read(m, &o, &f, &n, &err) < 0);
        assert_non_null(strstr(err, "unknown option"));
        sd_bus_message_unref(m);

        m = options_message(bus, "a{sv}", 1, "mtu", "s", "big");
        assert_true(attach_options_read(m, &o, &f, &n, &err) < 0);
        assert_non_null(strstr(err, "mtu"));
        sd_bus_message_unref(m);

        m = options_message(bus, "a{sv}", 1, "mtu", "u", 100);
        assert_true(attach_options_read(m, &o, &f, &n, &err) < 0);
        sd_bus_message_unref(m);

        m = options_message(bus, "a{sv}", 1, "port-forwards", "a(sqq)", 1, "sctp", 1, 1);
        assert_true(attach_options_read(m, &o, &f, &n, &err) < 0);
        assert_non_null(strstr(err, "port-forwards"));
        sd_bus_message_unref(m);

        m = options_message(bus, "a{sv}", 1, "port-forwards", "a(sqq)", 2, "tcp", 80, 80, "tcp", 80, 81);
        assert_true(attach_options_read(m, &o, &f, &n, &err) < 0);
        assert_non_null(strstr(err, "twice"));
        sd_bus_message_unref(m);

        m = options_message(bus, "a{sv}", 1, "port-forwards", "a(sqq)", 1, "tcp", 0, 80);
        assert_true(attach_options_read(m, &o, &f, &n, &err) < 0);
        sd_bus_message_unref(m);

        m = options_message(bus, "a{sv}", 1, "ipv6", "u", 1);
        assert_true(attach_options_read(m, &o, &f, &n, &err) < 0);
        sd_bus_message_unref(m);

        sd_bus_flush_close_unref(bus);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_attach_options),
        };
        log_set_max_level(LOG_CRIT); /* the refusals are expected */
        return cmocka_run_group_tests(tests, NULL, NULL);
}
