/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "json-util.h"
#include "launch-spec.h"
#include "log.h"
#include "string-util.h"

/* Bounds for single fields; generous for real images, small enough that a
 * hostile spec cannot make init allocate much. */
#define ARGV_MAX 4096u
#define ENV_MAX 4096u
#define STRING_MAX 65536u

LaunchSpec *launch_spec_new(void) {
        LaunchSpec *s = calloc(1, sizeof(LaunchSpec));
        if (s)
                s->umask = 0022;
        return s;
}

static void launch_address_done(LaunchAddress *a) {
        a->address = mfree(a->address);
        a->gateway = mfree(a->gateway);
}

void launch_network_done(LaunchNetwork *n) {
        assert(n);

        launch_address_done(&n->ipv4);
        launch_address_done(&n->ipv6);
        strv_free(n->dns);
        n->dns = NULL;
}

LaunchSpec *launch_spec_free(LaunchSpec *s) {
        if (!s)
                return NULL;
        free(s->hostname);
        strv_free(s->argv);
        strv_free(s->env);
        free(s->cwd);
        free(s->user);
        launch_network_done(&s->network);
        free(s);
        return NULL;
}

/* RFC 1123 host name: dot-separated labels of [A-Za-z0-9-], no leading or
 * trailing '-', at most 63 characters each and 64 in all (HOST_NAME_MAX). */
static bool hostname_is_valid(const char *s) {
        size_t label = 0, n = 0;
        char prev = '.';

        if (isempty(s))
                return false;
        for (const char *p = s; *p; p++, n++) {
                if (*p == '.') {
                        if (label == 0 || prev == '-')
                                return false;
                        label = 0;
                } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                           (*p >= '0' && *p <= '9') || (*p == '-' && label > 0)) {
                        if (++label > 63)
                                return false;
                } else
                        return false;
                prev = *p;
        }
        return n <= 64 && prev != '-' && prev != '.';
}

static int validate_address(const char *what, const LaunchAddress *a, int family) {
        unsigned char buf[16];
        unsigned max = family == AF_INET ? 32 : 128;

        if (!a->address) {
                if (a->gateway)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "Launch spec: %s gateway given without an address.", what);
                return 0;
        }
        if (inet_pton(family, a->address, buf) != 1)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Launch spec: %s address '%s' is invalid.",
                                       what, a->address);
        if (a->prefix == 0 || a->prefix > max)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "Launch spec: %s prefix length %u is out of range 1-%u.", what,
                                       a->prefix, max);
        if (a->gateway && inet_pton(family, a->gateway, buf) != 1)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Launch spec: %s gateway '%s' is invalid.",
                                       what, a->gateway);
        return 0;
}

static bool env_entry_is_valid(const char *e) {
        const char *eq = strchr(e, '=');
        return eq && eq != e && (size_t) (eq - e) < 4096 && strlen(e) < STRING_MAX;
}

int launch_spec_validate(const LaunchSpec *s) {
        size_t n;
        int r;

        assert(s);

        n = strv_length(s->argv);
        if (n == 0 || isempty(s->argv[0]))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Launch spec: no command to run.");
        if (n > ARGV_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Launch spec: %zu arguments, at most %u allowed.",
                                       n, ARGV_MAX);
        STRV_FOREACH(a, s->argv)
                if (strlen(*a) >= STRING_MAX)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Launch spec: an argument is too long.");
        if (strv_length(s->env) > ENV_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Launch spec: too many environment variables.");
        STRV_FOREACH(e, s->env)
                if (!env_entry_is_valid(*e))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "Launch spec: environment entry '%.64s' is not KEY=VALUE.", *e);
        if (s->cwd && (s->cwd[0] != '/' || strlen(s->cwd) >= 4096))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "Launch spec: working directory '%.64s' is not an absolute path.", s->cwd);
        if (s->user && (isempty(s->user) || !string_is_printable(s->user, 256)))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Launch spec: user '%.64s' is invalid.", s->user);
        if (s->hostname && !hostname_is_valid(s->hostname))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Launch spec: host name '%.64s' is invalid.",
                                       s->hostname);
        if (s->umask > 0777)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Launch spec: umask %#o is out of range.", s->umask);
        if (s->has_network) {
                r = validate_address("IPv4", &s->network.ipv4, AF_INET);
                if (r < 0)
                        return r;
                r = validate_address("IPv6", &s->network.ipv6, AF_INET6);
                if (r < 0)
                        return r;
                if (strv_length(s->network.dns) > 8)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Launch spec: more than 8 DNS servers.");
                STRV_FOREACH(d, s->network.dns) {
                        unsigned char buf[16];
                        if (inet_pton(AF_INET, *d, buf) != 1 && inet_pton(AF_INET6, *d, buf) != 1)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "Launch spec: DNS server '%.64s' is not an address.", *d);
                }
        }
        return 0;
}

/* ---- parsing ---- */

static int dispatch_version(const char *name _unused_, json_object *v, void *dest) {
        const char *s = json_object_get_string(v);
        unsigned major, minor;
        int n = -1;

        if (sscanf(s, "%u.%u%n", &major, &minor, &n) != 2 || n < 0 || s[n] != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Launch spec: version '%.32s' is not MAJOR.MINOR.", s);
        if (major != LAUNCH_SPEC_VERSION_MAJOR)
                return log_error_errno(SYNTHETIC_ERRNO(EPROTONOSUPPORT),
                                       "Launch spec: version %u.%u is not supported (this init reads %u.x).",
                                       major, minor, LAUNCH_SPEC_VERSION_MAJOR);
        *(unsigned *) dest = major;
        return 0;
}

static int dispatch_prefix(const char *name, json_object *v, void *dest) {
        uint32_t u;
        int r = json_dispatch_uint32(name, v, &u);
        if (r < 0)
                return r;
        if (u > 128)
                return -ERANGE;
        *(unsigned *) dest = u;
        return 0;
}

static int dispatch_address(const char *name, json_object *v, void *dest) {
        static const JsonDispatch table[] = {
                { "address", json_type_string, json_dispatch_string, offsetof(LaunchAddress, address), JSON_MANDATORY },
                { "prefix", json_type_int, dispatch_prefix, offsetof(LaunchAddress, prefix), JSON_MANDATORY },
                { "gateway", json_type_string, json_dispatch_string, offsetof(LaunchAddress, gateway), JSON_NULLABLE },
                {}
        };
        return json_dispatch(v, table, name, dest);
}

static int dispatch_network(const char *name _unused_, json_object *v, void *dest) {
        static const JsonDispatch table[] = {
                { "ipv4", json_type_object, dispatch_address, offsetof(LaunchNetwork, ipv4), JSON_NULLABLE },
                { "ipv6", json_type_object, dispatch_address, offsetof(LaunchNetwork, ipv6), JSON_NULLABLE },
                { "dns", json_type_array, json_dispatch_strv, offsetof(LaunchNetwork, dns), JSON_NULLABLE },
                {}
        };
        return json_dispatch(v, table, "launch spec network", dest);
}

int launch_spec_parse(const char *json, size_t size, LaunchSpec **ret) {
        _cleanup_launch_spec_ LaunchSpec *s = NULL;
        _cleanup_json_ json_object *o = NULL;
        json_object *net = NULL;
        unsigned major = 0;
        int r;

        assert(json);
        assert(ret);

        const JsonDispatch table[] = {
                { "version", json_type_string, dispatch_version, 0, JSON_MANDATORY },
                {}
        };
        const JsonDispatch fields[] = {
                { "hostname", json_type_string, json_dispatch_string, offsetof(LaunchSpec, hostname), JSON_NULLABLE },
                { "argv", json_type_array, json_dispatch_strv, offsetof(LaunchSpec, argv), JSON_MANDATORY },
                { "env", json_type_array, json_dispatch_strv, offsetof(LaunchSpec, env), JSON_NULLABLE },
                { "cwd", json_type_string, json_dispatch_string, offsetof(LaunchSpec, cwd), JSON_NULLABLE },
                { "user", json_type_string, json_dispatch_string, offsetof(LaunchSpec, user), JSON_NULLABLE },
                { "umask", json_type_int, json_dispatch_uint32, offsetof(LaunchSpec, umask), 0 },
                { "tty", json_type_boolean, json_dispatch_bool, offsetof(LaunchSpec, tty), 0 },
                { "network", json_type_object, dispatch_network, offsetof(LaunchSpec, network), JSON_NULLABLE },
                {}
        };

        if (size > LAUNCH_SPEC_JSON_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(EFBIG), "Launch spec: %zu bytes, at most %u allowed.", size,
                                       LAUNCH_SPEC_JSON_MAX);
        r = json_parse_bounded(json, size, LAUNCH_SPEC_JSON_MAX, true, &o);
        if (r < 0)
                return log_error_errno(r == -EFBIG ? r : SYNTHETIC_ERRNO(EBADMSG),
                                       "Launch spec: not a JSON object.");

        /* The version first, on its own: an unknown major must be reported as
         * such, not as whatever field changed shape in it. */
        json_object *v;
        if (json_object_object_get_ex(o, "version", &v) && json_object_is_type(v, json_type_string)) {
                r = dispatch_version("version", v, &major);
                if (r < 0)
                        return r;
        }
        r = json_dispatch(o, table, "launch spec", &major);
        if (r < 0)
                return r;

        s = launch_spec_new();
        if (!s)
                return log_oom();
        r = json_dispatch(o, fields, "launch spec", s);
        if (r < 0)
                return r;
        s->has_network = json_object_object_get_ex(o, "network", &net) && net;
        r = launch_spec_validate(s);
        if (r < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Launch spec rejected.");
        *ret = TAKE_PTR(s);
        return 0;
}

/* ---- serializing ---- */

static int add(json_object *o, const char *key, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int address_to_json(json_object *parent, const char *key, const LaunchAddress *a) {
        json_object *o;

        if (!a->address)
                return 0;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        if (add(o, "address", json_object_new_string(a->address)) < 0 ||
            add(o, "prefix", json_object_new_int((int) a->prefix)) < 0 ||
            (a->gateway && add(o, "gateway", json_object_new_string(a->gateway)) < 0)) {
                json_object_put(o);
                return -ENOMEM;
        }
        return add(parent, key, o);
}

int launch_spec_serialize(const LaunchSpec *s, char **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        const char *text;
        char *copy;
        int r;

        assert(s);
        assert(ret);

        r = launch_spec_validate(s);
        if (r < 0)
                return r;
        if (!o)
                return -ENOMEM;
        if (add(o, "version", json_object_new_string(LAUNCH_SPEC_VERSION)) < 0 ||
            (s->hostname && add(o, "hostname", json_object_new_string(s->hostname)) < 0) ||
            add(o, "argv", json_strv_new(s->argv)) < 0 ||
            add(o, "env", json_strv_new(s->env)) < 0 ||
            (s->cwd && add(o, "cwd", json_object_new_string(s->cwd)) < 0) ||
            (s->user && add(o, "user", json_object_new_string(s->user)) < 0) ||
            add(o, "umask", json_object_new_int((int) s->umask)) < 0 ||
            add(o, "tty", json_object_new_boolean(s->tty)) < 0)
                return -ENOMEM;
        if (s->has_network) {
                json_object *n = json_object_new_object();
                if (add(o, "network", n) < 0)
                        return -ENOMEM;
                if (address_to_json(n, "ipv4", &s->network.ipv4) < 0 ||
                    address_to_json(n, "ipv6", &s->network.ipv6) < 0 ||
                    add(n, "dns", json_strv_new(s->network.dns)) < 0)
                        return -ENOMEM;
        }
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;
        if (strlen(text) > LAUNCH_SPEC_JSON_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(EFBIG), "Launch spec: serialized form exceeds %u bytes.",
                                       LAUNCH_SPEC_JSON_MAX);
        copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

/* ---- config disk ---- */

int launch_disk_encode(const LaunchSpec *s, void **ret, size_t *ret_size) {
        _cleanup_free_ char *json = NULL;
        size_t len, total;
        uint32_t le;
        char *buf;
        int r;

        assert(ret);
        assert(ret_size);

        r = launch_spec_serialize(s, &json);
        if (r < 0)
                return r;
        len = strlen(json);
        total = (LAUNCH_DISK_HEADER_SIZE + len + LAUNCH_DISK_ALIGN - 1) / LAUNCH_DISK_ALIGN * LAUNCH_DISK_ALIGN;
        buf = calloc(1, total);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, LAUNCH_DISK_MAGIC, 8);
        le = htole32(LAUNCH_DISK_FORMAT);
        memcpy(buf + 8, &le, 4);
        le = htole32((uint32_t) len);
        memcpy(buf + 12, &le, 4);
        memcpy(buf + LAUNCH_DISK_HEADER_SIZE, json, len);
        *ret = buf;
        *ret_size = total;
        return 0;
}

int launch_disk_write(const char *path, const LaunchSpec *s) {
        _cleanup_free_ void *buf = NULL;
        size_t size;
        int r;

        assert(path);

        r = launch_disk_encode(s, &buf, &size);
        if (r < 0)
                return r;
        r = write_file_atomic(path, buf, size, 0600);
        if (r < 0)
                return log_error_errno(r, "Failed to write config disk %s: %m", path);
        return 0;
}

static int header_parse(const uint8_t *h, uint32_t *ret_len) {
        uint32_t format, len;

        if (memcmp(h, LAUNCH_DISK_MAGIC, 8) != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Config disk: no krata magic header.");
        memcpy(&format, h + 8, 4);
        memcpy(&len, h + 12, 4);
        format = le32toh(format);
        len = le32toh(len);
        if (format != LAUNCH_DISK_FORMAT)
                return log_error_errno(SYNTHETIC_ERRNO(EPROTONOSUPPORT),
                                       "Config disk: format %u is not supported (expected %u).", format,
                                       LAUNCH_DISK_FORMAT);
        if (len == 0 || len > LAUNCH_SPEC_JSON_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(EFBIG), "Config disk: JSON length %u out of range 1-%u.",
                                       len, LAUNCH_SPEC_JSON_MAX);
        *ret_len = len;
        return 0;
}

static int pread_full(int fd, void *buf, size_t size, off_t offset) {
        uint8_t *p = buf;
        while (size > 0) {
                ssize_t n = pread(fd, p, size, offset);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        return -EIO; /* short device */
                p += n;
                size -= (size_t) n;
                offset += n;
        }
        return 0;
}

int launch_disk_read_fd(int fd, LaunchSpec **ret) {
        uint8_t header[LAUNCH_DISK_HEADER_SIZE];
        _cleanup_free_ char *json = NULL;
        uint64_t dev_size = UINT64_MAX;
        struct stat st;
        uint32_t len = 0;
        int r;

        assert(ret);

        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Config disk: fstat failed: %m");
        if (S_ISBLK(st.st_mode)) {
                if (ioctl(fd, BLKGETSIZE64, &dev_size) < 0)
                        return log_error_errno(errno, "Config disk: cannot read the device size: %m");
        } else if (S_ISREG(st.st_mode))
                dev_size = (uint64_t) st.st_size;
        else
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Config disk: neither a block device nor a file.");

        r = pread_full(fd, header, sizeof header, 0);
        if (r < 0)
                return log_error_errno(r, "Config disk: cannot read the header: %m");
        r = header_parse(header, &len);
        if (r < 0)
                return r;
        if ((uint64_t) len + LAUNCH_DISK_HEADER_SIZE > dev_size)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                       "Config disk: JSON length %u runs past the end of the disk (%llu bytes).", len,
                                       (unsigned long long) dev_size);
        json = malloc(len);
        if (!json)
                return log_oom();
        r = pread_full(fd, json, len, LAUNCH_DISK_HEADER_SIZE);
        if (r < 0)
                return log_error_errno(r, "Config disk: cannot read %u bytes of JSON: %m", len);
        return launch_spec_parse(json, len, ret);
}
