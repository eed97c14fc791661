/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "log.h"
#include "macro.h"
#include "xenbus.h"

const char *xenbus_device(void) {
        if (access("/dev/xen/xenbus", F_OK) == 0)
                return "/dev/xen/xenbus";
        return "/proc/xen/xenbus";
}

static int write_all(int fd, const void *buf, size_t size) {
        const char *p = buf;
        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

static int read_all(int fd, void *buf, size_t size) {
        char *p = buf;
        while (size > 0) {
                ssize_t n = read(fd, p, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        return -EPIPE;
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

int xenbus_write(const char *device, const char *path, const char *value) {
        struct xsd_sockmsg hdr = { .type = XS_WRITE, .req_id = 1, .tx_id = 0 };
        size_t plen = strlen(path) + 1, vlen = strlen(value);
        char msg[sizeof hdr + XENSTORE_PAYLOAD_MAX], reply[XENSTORE_PAYLOAD_MAX + 1];
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (plen + vlen > XENSTORE_PAYLOAD_MAX)
                return -E2BIG;
        fd = open(device, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        /* payload: "path\0value", the value without a terminator */
        hdr.len = (uint32_t) (plen + vlen);
        memcpy(msg, &hdr, sizeof hdr);
        memcpy(msg + sizeof hdr, path, plen);
        memcpy(msg + sizeof hdr + plen, value, vlen);
        /* The device wants a whole message per write(). */
        r = write_all(fd, msg, sizeof hdr + hdr.len);
        if (r < 0)
                return r;
        r = read_all(fd, &hdr, sizeof hdr);
        if (r < 0)
                return r;
        if (hdr.len > XENSTORE_PAYLOAD_MAX)
                return -EBADMSG;
        r = read_all(fd, reply, hdr.len);
        if (r < 0)
                return r;
        reply[hdr.len] = 0;
        if (hdr.type == XS_ERROR) {
                /* The payload names the errno ("EACCES"). */
                for (size_t i = 0; i < ELEMENTSOF(xsd_errors); i++)
                        if (strcmp(reply, xsd_errors[i].errstring) == 0)
                                return -xsd_errors[i].errnum;
                return -EIO;
        }
        return hdr.type == XS_WRITE ? 0 : -EBADMSG;
}
