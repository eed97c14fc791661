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

/* Sends one message: the payload is the parts laid end to end. */
static int xenbus_send(int fd, uint32_t type, const void *a, size_t alen, const void *b, size_t blen) {
        struct xsd_sockmsg hdr = { .type = type, .req_id = 1, .tx_id = 0, .len = (uint32_t) (alen + blen) };
        char msg[sizeof hdr + XENSTORE_PAYLOAD_MAX];

        if (alen + blen > XENSTORE_PAYLOAD_MAX)
                return -E2BIG;
        memcpy(msg, &hdr, sizeof hdr);
        memcpy(msg + sizeof hdr, a, alen);
        if (blen > 0)
                memcpy(msg + sizeof hdr + alen, b, blen);
        /* The device wants a whole message per write(). */
        return write_all(fd, msg, sizeof hdr + hdr.len);
}

/* Reads one message; the payload (≤ XENSTORE_PAYLOAD_MAX, as the protocol
 * says) is NUL-terminated in buf for convenience. */
static int xenbus_recv(int fd, struct xsd_sockmsg *hdr, char buf[static XENSTORE_PAYLOAD_MAX + 1]) {
        int r;

        r = read_all(fd, hdr, sizeof *hdr);
        if (r < 0)
                return r;
        if (hdr->len > XENSTORE_PAYLOAD_MAX)
                return -EBADMSG;
        r = read_all(fd, buf, hdr->len);
        if (r < 0)
                return r;
        buf[hdr->len] = 0;
        return 0;
}

static int xenbus_error(const char *name) {
        /* The payload names the errno ("EACCES"). */
        for (size_t i = 0; i < ELEMENTSOF(xsd_errors); i++)
                if (strcmp(name, xsd_errors[i].errstring) == 0)
                        return -xsd_errors[i].errnum;
        return -EIO;
}

/* Sends a request and waits for its reply (watch events in between are
 * skipped); XS_ERROR becomes its errno. */
static int xenbus_request(int fd, uint32_t type, const void *a, size_t alen, const void *b, size_t blen,
                          struct xsd_sockmsg *hdr, char buf[static XENSTORE_PAYLOAD_MAX + 1]) {
        int r;

        r = xenbus_send(fd, type, a, alen, b, blen);
        if (r < 0)
                return r;
        do {
                r = xenbus_recv(fd, hdr, buf);
                if (r < 0)
                        return r;
        } while (hdr->type == XS_WATCH_EVENT);
        if (hdr->type == XS_ERROR)
                return xenbus_error(buf);
        return hdr->type == type ? 0 : -EBADMSG;
}

/* One request on a connection of its own ("path\0" then b); the connection
 * is closed, or handed over in *ret_fd when that is not NULL. */
static int xenbus_call(const char *device, uint32_t type, const char *path, const void *b, size_t blen,
                       struct xsd_sockmsg *hdr, char reply[static XENSTORE_PAYLOAD_MAX + 1], int *ret_fd) {
        _cleanup_close_ int fd = open(device, O_RDWR | O_CLOEXEC | O_NOCTTY);
        int r;

        if (fd < 0)
                return negative_errno();
        r = xenbus_request(fd, type, path, strlen(path) + 1, b, blen, hdr, reply);
        if (r < 0)
                return r;
        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        return 0;
}

int xenbus_write(const char *device, const char *path, const char *value) {
        char reply[XENSTORE_PAYLOAD_MAX + 1];
        struct xsd_sockmsg hdr;

        /* payload: "path\0value", the value without a terminator */
        return xenbus_call(device, XS_WRITE, path, value, strlen(value), &hdr, reply, NULL);
}

int xenbus_read(const char *device, const char *path, char *buf, size_t size, size_t *ret_len) {
        char reply[XENSTORE_PAYLOAD_MAX + 1];
        struct xsd_sockmsg hdr;
        int r;

        r = xenbus_call(device, XS_READ, path, NULL, 0, &hdr, reply, NULL);
        if (r < 0)
                return r;
        /* the value comes without a terminator; one inside is not a value of ours */
        if (memchr(reply, 0, hdr.len))
                return -EBADMSG;
        if (hdr.len >= size)
                return -E2BIG;
        memcpy(buf, reply, hdr.len + 1);
        *ret_len = hdr.len;
        return 0;
}

int xenbus_watch(const char *device, const char *path, const char *token, int *ret_fd) {
        char reply[XENSTORE_PAYLOAD_MAX + 1];
        struct xsd_sockmsg hdr;

        /* payload: "path\0token\0"; the first event may come before the reply */
        return xenbus_call(device, XS_WATCH, path, token, strlen(token) + 1, &hdr, reply, ret_fd);
}

int xenbus_read_event(int fd, const char *token) {
        char buf[XENSTORE_PAYLOAD_MAX + 1];
        struct xsd_sockmsg hdr;
        const char *t;
        int r;

        r = xenbus_recv(fd, &hdr, buf);
        if (r < 0)
                return r;
        if (hdr.type != XS_WATCH_EVENT)
                return 0;
        /* payload: "path\0token\0" */
        t = memchr(buf, 0, hdr.len);
        if (!t)
                return 0;
        t++;
        return t < buf + hdr.len && strcmp(t, token) == 0;
}
