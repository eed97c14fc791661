/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* xenstore through the xenbus device, speaking the wire protocol (struct
 * xsd_sockmsg header + payload) directly: no libxenstore in a static init.
 * A relative path resolves to the domain's home, /local/domain/<domid>.
 * xenbus_write/read/watch open a connection per call, so replies never mix
 * with watch events (a watch keeps its connection, see xenbus_watch()). */
int xenbus_write(const char *device, const char *path, const char *value);

/* Reads PATH's value into buf (at most size - 1 bytes, NUL-terminated) and
 * its length into *ret_len. -ENOENT when it does not exist, -E2BIG when it
 * does not fit, -EBADMSG when it holds a NUL (no value of ours does). */
int xenbus_read(const char *device, const char *path, char *buf, size_t size, size_t *ret_len);

/* Opens a connection and sets a watch on PATH with TOKEN; the fd becomes
 * readable whenever an event is queued. The event xenstored fires when a
 * watch is set may be consumed here: read the current value afterwards. */
int xenbus_watch(const char *device, const char *path, const char *token, int *ret_fd);

/* Reads one message from a watch connection: 1 for an event carrying TOKEN,
 * 0 for anything else (skipped), negative on a broken connection. */
int xenbus_read_event(int fd, const char *token);

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
