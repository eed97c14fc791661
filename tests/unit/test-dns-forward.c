/* SPDX-License-Identifier: Apache-2.0 */
/* The DNS forwarder's resolv.conf parsing (net/dns-forward.c). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dns-forward.h"

static void test_resolv_conf(void **state) {
        struct sockaddr_storage s[3];
        size_t n;

        assert_int_equal(resolv_conf_parse("# x\nsearch example.org\nnameserver 192.0.2.1\n"
                                           "nameserver fe80::1%eth0\nnameserver  2001:db8::53 \n"
                                           "nameserver bogus\nnameserver 192.0.2.2\nnameserver 192.0.2.3\n",
                                           s, 3, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(s[0].ss_family, AF_INET);
        assert_int_equal(ntohs(((struct sockaddr_in *) &s[0])->sin_port), 53);
        assert_int_equal(s[1].ss_family, AF_INET6);
        assert_int_equal(s[2].ss_family, AF_INET);
        assert_int_equal(resolv_conf_parse("", s, 3, &n), 0);
        assert_int_equal(n, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_resolv_conf),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
