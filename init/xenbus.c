/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
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

int xenbus_open(const char *device) {
        int fd;

        assert(device);

        fd = open(device, O_RDWR | O_CLOEXEC | O_NOCTTY);
        return fd < 0 ? negative_errno() : fd;
}

int xenbus_read_message(int fd, uint32_t *ret_type, char *payload, size_t *ret_len) {
        struct xsd_sockmsg hdr;
        int r;

        assert(ret_type);
        assert(payload);

        r = read_all(fd, &hdr, sizeof hdr);
        if (r < 0)
                return r;
        /* xenstored never sends more; anything else means we lost framing. */
        if (hdr.len > XENSTORE_PAYLOAD_MAX)
                return -EBADMSG;
        r = read_all(fd, payload, hdr.len);
        if (r < 0)
                return r;
        payload[hdr.len] = 0;
        *ret_type = hdr.type;
        if (ret_len)
                *ret_len = hdr.len;
        return (int) hdr.req_id;
}

static int error_to_errno(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(xsd_errors); i++)
                if (strcmp(name, xsd_errors[i].errstring) == 0)
                        return -xsd_errors[i].errnum;
        return -EIO; /* "EQUOTA" and friends */
}

int xenbus_request(int fd, uint32_t type, const void *payload, size_t size, char *reply, size_t *ret_len,
                   unsigned *n_events) {
        static uint32_t req_id;
        struct xsd_sockmsg hdr = { .type = type, .req_id = ++req_id, .tx_id = 0 };
        char msg[sizeof hdr + XENSTORE_PAYLOAD_MAX];
        uint32_t rtype;
        int r;

        assert(payload);
        assert(reply);

        reply[0] = 0; /* a refusal of the write() itself leaves no reply */
        if (size > XENSTORE_PAYLOAD_MAX)
                return -E2BIG;
        hdr.len = (uint32_t) size;
        memcpy(msg, &hdr, sizeof hdr);
        memcpy(msg + sizeof hdr, payload, size);
        /* The device wants a whole message per write(). */
        r = write_all(fd, msg, sizeof hdr + size);
        if (r < 0)
                return r;
        for (;;) {
                r = xenbus_read_message(fd, &rtype, reply, ret_len);
                if (r < 0)
                        return r;
                if (rtype == XS_WATCH_EVENT) {
                        if (n_events)
                                (*n_events)++;
                        continue;
                }
                break;
        }
        if (rtype == XS_ERROR)
                return error_to_errno(reply);
        return rtype == type ? 0 : -EBADMSG;
}

/* A request whose payload is "path\0" followed by B (no terminator added). */
static int xenbus_path_request(int fd, uint32_t type, const char *path, const void *b, size_t blen,
                               char *reply, size_t *ret_len) {
        char payload[XENSTORE_PAYLOAD_MAX];
        size_t plen = strlen(path) + 1;

        if (plen + blen > sizeof payload)
                return -E2BIG;
        memcpy(payload, path, plen);
        if (blen > 0)
                memcpy(payload + plen, b, blen);
        return xenbus_request(fd, type, payload, plen + blen, reply, ret_len, NULL);
}

int xenbus_write_bytes(int fd, const char *path, const void *value, size_t size, char *reply) {
        assert(path);
        assert(value);
        assert(reply);

        /* payload: "path\0value", the value without a terminator */
        return xenbus_path_request(fd, XS_WRITE, path, value, size, reply, NULL);
}

/* One request on a connection of its own, closed afterwards or handed over
 * in *ret_fd. */
static int xenbus_call(const char *device, uint32_t type, const char *path, const void *b, size_t blen,
                       char reply[static XENSTORE_PAYLOAD_MAX + 1], size_t *ret_len, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = xenbus_open(device);
        if (fd < 0)
                return fd;
        r = xenbus_path_request(fd, type, path, b, blen, reply, ret_len);
        if (r < 0)
                return r;
        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        return 0;
}

int xenbus_write(const char *device, const char *path, const char *value) {
        char reply[XENSTORE_PAYLOAD_MAX + 1];

        assert(device);
        assert(path);
        assert(value);

        /* payload: "path\0value", the value without a terminator */
        return xenbus_call(device, XS_WRITE, path, value, strlen(value), reply, NULL, NULL);
}

int xenbus_read(const char *device, const char *path, char *buf, size_t size, size_t *ret_len) {
        char reply[XENSTORE_PAYLOAD_MAX + 1];
        size_t len = 0;
        int r;

        assert(device);
        assert(path);
        assert(buf);
        assert(ret_len);

        r = xenbus_call(device, XS_READ, path, NULL, 0, reply, &len, NULL);
        if (r < 0)
                return r;
        /* the value comes without a terminator; one inside is not a value of ours */
        if (memchr(reply, 0, len))
                return -EBADMSG;
        if (len >= size)
                return -E2BIG;
        memcpy(buf, reply, len + 1);
        *ret_len = len;
        return 0;
}

int xenbus_watch(const char *device, const char *path, const char *token, int *ret_fd) {
        char reply[XENSTORE_PAYLOAD_MAX + 1];

        assert(device);
        assert(path);
        assert(token);
        assert(ret_fd);

        /* payload: "path\0token\0"; the first event may come before the reply */
        return xenbus_call(device, XS_WATCH, path, token, strlen(token) + 1, reply, NULL, ret_fd);
}

int xenbus_read_event(int fd, const char *token) {
        char buf[XENSTORE_PAYLOAD_MAX + 1];
        uint32_t type;
        size_t len;
        const char *t;
        int r;

        assert(token);

        r = xenbus_read_message(fd, &type, buf, &len);
        if (r < 0)
                return r;
        if (type != XS_WATCH_EVENT)
                return 0;
        /* payload: "path\0token\0" */
        t = memchr(buf, 0, len);
        if (!t)
                return 0;
        t++;
        return t < buf + len && strcmp(t, token) == 0;
}
