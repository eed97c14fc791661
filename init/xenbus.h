/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/* xenstore through the xenbus device, speaking the wire protocol (struct
 * xsd_sockmsg header + payload) directly: no libxenstore in a static init.
 * A relative path resolves to the domain's home, /local/domain/<domid>. Each
 * request opens its own connection, so replies never mix with watch events
 * (which have a connection of their own, see xenbus_watch()). */
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
