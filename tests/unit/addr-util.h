/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <arpa/inet.h>

/* Addresses as text, for comparing with what a test expects. */
static inline const char *ntop4(struct in_addr a, char *buf) {
        return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static inline const char *ntop6(const struct in6_addr *a, char *buf) {
        return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}
