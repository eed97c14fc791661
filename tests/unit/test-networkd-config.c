/* SPDX-License-Identifier: Apache-2.0 */
/* networkd.conf and port forward syntax (net/networkd-config.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "addr-util.h"
#include "log.h"
#include "networkd-config.h"

static void test_config(void **state) {
        NetworkConfig c;
        char b[INET6_ADDRSTRLEN];

        network_config_init(&c);
        assert_string_equal(ntop4(c.prefix4, b), "10.75.0.0");
        assert_int_equal(c.prefixlen4, 16);
        assert_string_equal(ntop6(&c.prefix6, b), "fdd4:1476:6c7e::");
        assert_int_equal(c.prefixlen6, 48);
        assert_null(c.resolv_conf);

        assert_int_equal(network_config_parse(&c,
                "# comment\n\n[Network]\nIPv4Prefix = 172.20.0.0/20\nIPv6Prefix=fd00:aa::/32\n"
                "ResolvConf=/run/x/resolv.conf\nMTU=9000\nAllowHostLoopback=yes\n; done\n", "t"), 0);
        assert_string_equal(ntop4(c.prefix4, b), "172.20.0.0");
        assert_int_equal(c.prefixlen4, 20);
        assert_string_equal(ntop6(&c.prefix6, b), "fd00:aa::");
        assert_string_equal(c.resolv_conf, "/run/x/resolv.conf");
        assert_int_equal(c.mtu, 9000);
        assert_true(c.allow_host_loopback);

        assert_int_equal(network_config_parse(&c, "[Other]\nWhatever=1\n", "t"), 0); /* other sections ignored */
        assert_int_equal(network_config_parse(&c, "Bogus=1\n", "t"), -EINVAL);
        assert_int_equal(network_config_parse(&c, "MTU=100\n", "t"), -EINVAL);
        assert_int_equal(network_config_parse(&c, "MTU=0\n", "t"), 0);
        assert_int_equal(network_config_parse(&c, "IPv4Prefix=10.75.0.1/16\n", "t"), -EINVAL);
        assert_int_equal(network_config_parse(&c, "ResolvConf=relative\n", "t"), -EINVAL);
        assert_int_equal(network_config_parse(&c, "AllowHostLoopback=maybe\n", "t"), -EINVAL);
        assert_int_equal(network_config_parse(&c, "no equals sign\n", "t"), -EINVAL);
        network_config_done(&c);
}

static void test_port_forward_parse(void **state) {
        PortForward f;

        assert_int_equal(port_forward_parse("8080:80", &f), 0);
        assert_int_equal(f.protocol, FORWARD_TCP);
        assert_int_equal(f.host_port, 8080);
        assert_int_equal(f.zone_port, 80);
        assert_int_equal(port_forward_parse("5353:53/udp", &f), 0);
        assert_int_equal(f.protocol, FORWARD_UDP);
        assert_int_equal(port_forward_parse("22", &f), 0);
        assert_int_equal(f.host_port, 22);
        assert_int_equal(f.zone_port, 22);
        assert_true(port_forward_parse("0:80", &f) < 0);
        assert_true(port_forward_parse("65536:80", &f) < 0);
        assert_true(port_forward_parse("80:", &f) < 0);
        assert_true(port_forward_parse("80:80/sctp", &f) < 0);
        assert_true(port_forward_parse("", &f) < 0);
        assert_true(port_forward_parse("-1:80", &f) < 0);
        assert_int_equal(forward_protocol_from_string("udp"), FORWARD_UDP);
        assert_true(forward_protocol_from_string("UDP") < 0);
        assert_string_equal(forward_protocol_to_string(FORWARD_TCP), "tcp");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_config),
                cmocka_unit_test(test_port_forward_parse),
        };
        log_set_max_level(LOG_CRIT); /* the refusals are expected */
        return cmocka_run_group_tests(tests, NULL, NULL);
}
