/* SPDX-License-Identifier: Apache-2.0 */
/* xs-hostile: a guest writing whatever it likes to its own xenstore keys, for
 * tests/e2e/zone-hostile.sh. It runs inside a zone (static, like krata-init,
 * whose wire-protocol code it shares) and talks to the real xenstored through
 * the guest kernel's xenbus device. Paths are relative to the domain's home
 * (/local/domain/<domid>) unless absolute. Values take C escapes (\0, \n,
 * \xHH, ...) so NULs and invalid UTF-8 reach xenstored byte for byte. Every
 * command prints one line saying what xenstored did; refusals are results,
 * not failures (exit status 0), unless the command could not talk at all. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "macro.h"
#include "xenbus.h"

static const char *device;

/* Decodes C escapes; returns the length (the result may hold NULs). */
static size_t unescape(const char *s, char *out, size_t max) {
        size_t n = 0;

        while (*s && n < max) {
                if (*s != '\\' || !s[1]) {
                        out[n++] = *s++;
                        continue;
                }
                s++;
                switch (*s) {
                case 'n': out[n++] = '\n'; s++; break;
                case 'r': out[n++] = '\r'; s++; break;
                case 't': out[n++] = '\t'; s++; break;
                case 'e': out[n++] = 0x1b; s++; break;
                case '0': out[n++] = 0; s++; break;
                case 'x': {
                        char hex[3] = { 0 };
                        s++;
                        for (int i = 0; i < 2 && s[0] && strchr("0123456789abcdefABCDEF", s[0]); i++)
                                hex[i] = *s++;
                        out[n++] = (char) strtoul(hex, NULL, 16);
                        break;
                }
                default: out[n++] = *s++; break;
                }
        }
        return n;
}

/* What xenstored said: "OK" or its error name. */
static const char *said(int r, const char *reply) {
        if (r == 0)
                return "OK";
        if (r == -E2BIG && !reply[0])
                return "E2BIG (over the wire limit, not sent)";
        return reply[0] ? reply : strerror(-r);
}

static void print_escaped(const char *v, size_t len) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) v[i];
                if (c >= 0x20 && c < 0x7f && c != '\\')
                        putchar(c);
                else
                        printf("\\x%02x", c);
        }
}

static int connect_bus(void) {
        int fd = xenbus_open(device);
        if (fd < 0) {
                fprintf(stderr, "xs-hostile: cannot open %s: %s\n", device, strerror(-fd));
                exit(2);
        }
        return fd;
}

static int request_path(int fd, uint32_t type, const char *path, char *reply, size_t *len) {
        return xenbus_request(fd, type, path, strlen(path) + 1, reply, len, NULL);
}

static int do_write(int fd, const char *path, const char *v, size_t len) {
        char reply[XENSTORE_PAYLOAD_MAX + 1] = "";
        int r = xenbus_write_bytes(fd, path, v, len, reply);
        printf("write %s (%zu bytes): %s\n", path, len, said(r, reply));
        return r;
}

static int cmd_write(int fd, char **argv) {
        char v[XENSTORE_PAYLOAD_MAX * 2];
        size_t len = unescape(argv[1], v, sizeof v);
        (void) do_write(fd, argv[0], v, len);
        return 0;
}

/* fill PATH SIZE|max [PATTERN]: SIZE bytes cycling through PATTERN (default "A"). */
static int cmd_fill(int fd, char **argv) {
        static char v[XENSTORE_PAYLOAD_MAX * 2];
        char pat[256];
        size_t size, plen = argv[2] ? unescape(argv[2], pat, sizeof pat) : 0;

        /* "max": the largest value one message can carry after the path */
        size = strcmp(argv[1], "max") == 0 ? XENSTORE_PAYLOAD_MAX - strlen(argv[0]) - 1 : strtoul(argv[1], NULL, 0);

        if (plen == 0)
                pat[plen++] = 'A';
        if (size > sizeof v)
                size = sizeof v;
        for (size_t i = 0; i < size; i++)
                v[i] = pat[i % plen];
        (void) do_write(fd, argv[0], v, size);
        return 0;
}

static int cmd_read(int fd, char **argv) {
        char reply[XENSTORE_PAYLOAD_MAX + 1] = "";
        size_t len = 0;
        int r = request_path(fd, XS_READ, argv[0], reply, &len);

        printf("read %s: ", argv[0]);
        if (r < 0)
                printf("%s\n", said(r, reply));
        else {
                printf("(%zu bytes) ", len);
                print_escaped(reply, len);
                putchar('\n');
        }
        return 0;
}

static int cmd_rm(int fd, char **argv) {
        char reply[XENSTORE_PAYLOAD_MAX + 1] = "";
        int r = request_path(fd, XS_RM, argv[0], reply, NULL);
        printf("rm %s: %s\n", argv[0], said(r, reply));
        return 0;
}

static int cmd_exists(int fd, char **argv) {
        char reply[XENSTORE_PAYLOAD_MAX + 1] = "";
        return request_path(fd, XS_READ, argv[0], reply, NULL) == 0 ? 0 : 1;
}

/* many DIR SIZE MAX: DIR/0, DIR/1, ... of SIZE bytes until xenstored refuses. */
static int cmd_many(int fd, char **argv) {
        static char v[XENSTORE_PAYLOAD_MAX];
        char reply[XENSTORE_PAYLOAD_MAX + 1] = "", path[512];
        size_t size = strtoul(argv[1], NULL, 0);
        unsigned long max = strtoul(argv[2], NULL, 0), n;
        int r = 0;

        if (size > sizeof v - 600)
                size = sizeof v - 600;
        memset(v, 'M', size);
        for (n = 0; n < max; n++) {
                snprintf(path, sizeof path, "%s/%lu", argv[0], n);
                r = xenbus_write_bytes(fd, path, v, size, reply);
                if (r < 0)
                        break;
        }
        printf("many %s: %lu nodes of %zu bytes, %s%s\n", argv[0], n, size, r < 0 ? "then " : "",
               r < 0 ? said(r, reply) : "no refusal");
        return 0;
}

/* deep DIR MAX: DIR/d/d/d... one level more each time until refused. */
static int cmd_deep(int fd, char **argv) {
        char reply[XENSTORE_PAYLOAD_MAX + 1] = "", path[XENSTORE_PAYLOAD_MAX];
        unsigned long max = strtoul(argv[1], NULL, 0), depth;
        size_t len = (size_t) snprintf(path, sizeof path, "%s", argv[0]);
        int r = 0;

        for (depth = 0; depth < max && len + 3 < sizeof path; depth++) {
                memcpy(path + len, "/d", 3);
                len += 2;
                r = xenbus_write_bytes(fd, path, "x", 1, reply);
                if (r < 0)
                        break;
        }
        printf("deep %s: depth %lu (path %zu bytes), %s%s\n", argv[0], depth, len, r < 0 ? "then " : "",
               r < 0 ? said(r, reply) : "no refusal");
        return 0;
}

/* The garbage a storm cycles through. */
#define G(s) { s, sizeof(s) - 1 }
static const struct { const char *v; size_t len; } garbage[] = {
        G("-1"), G("256"), G("99999999999999999999999"), G("4x"), G("0x10"), G("1\0002"), G("\n"), G(""),
        G("\xff\xfe\xc0\x80"), G("failed:\x1b[2J\x1b[31mPWNED"), G(" 7"), G("3\n4"), G("18446744073709551617"),
        G("nan"), G("+5"),
};

/* storm PATH COUNT: rewrites PATH COUNT times with garbage. */
static int cmd_storm(int fd, char **argv) {
        char reply[XENSTORE_PAYLOAD_MAX + 1] = "";
        unsigned long count = strtoul(argv[1], NULL, 0), refused = 0;
        unsigned events = 0;

        for (unsigned long i = 0; i < count; i++) {
                char payload[XENSTORE_PAYLOAD_MAX];
                size_t plen = strlen(argv[0]) + 1, k = i % ELEMENTSOF(garbage);
                memcpy(payload, argv[0], plen);
                memcpy(payload + plen, garbage[k].v, garbage[k].len);
                if (xenbus_request(fd, XS_WRITE, payload, plen + garbage[k].len, reply, NULL, &events) < 0)
                        refused++;
        }
        printf("storm %s: %lu writes, %lu refused\n", argv[0], count, refused);
        return 0;
}

/* watches PATH MAX WRITES: as many watches on PATH as xenstored allows (up to
 * MAX), then WRITES rewrites of PATH, each firing every watch. */
static int cmd_watches(int fd, char **argv) {
        char reply[XENSTORE_PAYLOAD_MAX + 1] = "", payload[XENSTORE_PAYLOAD_MAX];
        unsigned long max = strtoul(argv[1], NULL, 0), writes = strtoul(argv[2], NULL, 0), n;
        unsigned events = 0;
        int r = 0;

        for (n = 0; n < max; n++) {
                int len = snprintf(payload, sizeof payload, "%s%ctoken%lu", argv[0], 0, n);
                r = xenbus_request(fd, XS_WATCH, payload, (size_t) len + 1, reply, NULL, &events);
                if (r < 0)
                        break;
        }
        printf("watches %s: %lu registered, %s%s\n", argv[0], n, r < 0 ? "then " : "",
               r < 0 ? said(r, reply) : "no refusal");
        for (unsigned long i = 0; i < writes; i++) {
                size_t plen = strlen(argv[0]) + 1;
                memcpy(payload, argv[0], plen);
                payload[plen] = (char) ('0' + i % 10);
                (void) xenbus_request(fd, XS_WRITE, payload, plen + 1, reply, NULL, &events);
        }
        printf("watches %s: %lu writes, %u events seen\n", argv[0], writes, events);
        fflush(stdout);
        return 0;
}

/* wait PATH: blocks until PATH exists. */
static int cmd_wait(int fd, char **argv) {
        char reply[XENSTORE_PAYLOAD_MAX + 1] = "", payload[XENSTORE_PAYLOAD_MAX];
        int len = snprintf(payload, sizeof payload, "%s%cwait", argv[0], 0), r;
        uint32_t type;

        r = xenbus_request(fd, XS_WATCH, payload, (size_t) len + 1, reply, NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "xs-hostile: cannot watch %s: %s\n", argv[0], said(r, reply));
                return 1;
        }
        /* A watch fires once when set; every event is a reason to look again. */
        while (request_path(fd, XS_READ, argv[0], reply, NULL) < 0) {
                r = xenbus_read_message(fd, &type, reply, NULL);
                if (r < 0) {
                        fprintf(stderr, "xs-hostile: reading watch events failed: %s\n", strerror(-r));
                        return 1;
                }
        }
        return 0;
}

/* poweroff: ends the domain at once, so krata-init writes nothing after us. */
static int cmd_poweroff(int fd, char **argv) {
        sync();
        (void) reboot(RB_POWER_OFF);
        fprintf(stderr, "xs-hostile: reboot(RB_POWER_OFF) failed: %s\n", strerror(errno));
        return 1;
}

static const struct {
        const char *name;
        int args;
        int (*run)(int fd, char **argv);
        const char *usage;
} commands[] = {
        { "write", 2, cmd_write, "PATH VALUE" },
        { "fill", 2, cmd_fill, "PATH SIZE|max [PATTERN]" },
        { "read", 1, cmd_read, "PATH" },
        { "rm", 1, cmd_rm, "PATH" },
        { "exists", 1, cmd_exists, "PATH" },
        { "many", 3, cmd_many, "DIR SIZE MAX" },
        { "deep", 2, cmd_deep, "DIR MAX" },
        { "storm", 2, cmd_storm, "PATH COUNT" },
        { "watches", 3, cmd_watches, "PATH MAX WRITES" },
        { "wait", 1, cmd_wait, "PATH" },
        { "poweroff", 0, cmd_poweroff, "" },
};

int main(int argc, char *argv[]) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        device = getenv("XS_HOSTILE_DEVICE") ?: xenbus_device();
        if (argc >= 2)
                for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                        if (strcmp(argv[1], commands[i].name) == 0 && argc - 2 >= commands[i].args &&
                            argc - 2 <= commands[i].args + 1) {
                                int fd = connect_bus(), r = commands[i].run(fd, argv + 2);
                                close(fd);
                                return r;
                        }
        fprintf(stderr, "usage: xs-hostile COMMAND ARGS...\n");
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(stderr, "  xs-hostile %s %s\n", commands[i].name, commands[i].usage);
        return 2;
}
