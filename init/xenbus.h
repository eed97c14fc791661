/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The xenstore wire protocol (struct xsd_sockmsg header + payload) spoken
 * directly over the xenbus device: no libxenstore in a static init. A
 * relative path resolves to the domain's home, /local/domain/<domid>. */

/* Writes one key (one connection per call). */
int xenbus_write(const char *device, const char *path, const char *value);

/* The default device (/dev/xen/xenbus, else /proc/xen/xenbus). */
const char *xenbus_device(void);

/* A connection, for callers that make many requests (tests/e2e/tools). */
int xenbus_open(const char *device);

/* Sends one request of TYPE with PAYLOAD and waits for its reply, skipping
 * (and counting in *n_events, when given) the watch events that arrive in
 * between. The reply's payload lands NUL-terminated in REPLY (at least
 * XENSTORE_PAYLOAD_MAX + 1 bytes). xenstored's refusals come back as
 * -errno, with the error's name ("EACCES", "EQUOTA") left in REPLY; names
 * Linux has no errno for give -EIO. */
int xenbus_request(int fd, uint32_t type, const void *payload, size_t size, char *reply, size_t *ret_len,
                   unsigned *n_events);

/* path\0value: VALUE may hold any bytes, NULs included. */
int xenbus_write_bytes(int fd, const char *path, const void *value, size_t size, char *reply);

/* Reads one whole message (a watch event, usually). */
int xenbus_read_message(int fd, uint32_t *ret_type, char *payload, size_t *ret_len);
