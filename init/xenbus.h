/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Writes one xenstore key through the xenbus device, speaking the wire
 * protocol (struct xsd_sockmsg header + payload) directly: no libxenstore in
 * a static init. A relative path resolves to the domain's home,
 * /local/domain/<domid>. */
int xenbus_write(const char *device, const char *path, const char *value);

/* The default device (/dev/xen/xenbus, else /proc/xen/xenbus). */
const char *xenbus_device(void);
