/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* The zone launch spec: everything krata-init needs to start the container
 * process, written by the zone supervisor onto the config disk.
 *
 * JSON, {"version": "1.0", ...}. A reader accepts any 1.x (minor versions only
 * add optional fields, which older readers ignore) and refuses other majors. */

#define LAUNCH_SPEC_VERSION "1.0"
#define LAUNCH_SPEC_VERSION_MAJOR 1u
/* Upper bound for the JSON text; a spec is a few KiB, env lists included. */
#define LAUNCH_SPEC_JSON_MAX (1024u * 1024u)

/* Config disk: a raw block image, so init reads it with pread() and needs no
 * file system driver:
 *   offset 0  8 bytes  magic "KRATACFG"
 *   offset 8  u32 LE   format version (1)
 *   offset 12 u32 LE   JSON length in bytes
 *   offset 16          JSON text (not NUL-terminated)
 *   then zeros up to a multiple of 4096 bytes (one blkback sector group). */
#define LAUNCH_DISK_MAGIC "KRATACFG"
#define LAUNCH_DISK_FORMAT 1u
#define LAUNCH_DISK_HEADER_SIZE 16u
#define LAUNCH_DISK_ALIGN 4096u

typedef struct LaunchAddress {
        char *address; /* textual, NULL when unset */
        unsigned prefix;
        char *gateway; /* NULL: no default route */
} LaunchAddress;

typedef struct LaunchNetwork {
        LaunchAddress ipv4, ipv6;
        char **dns; /* nameserver addresses for resolv.conf */
} LaunchNetwork;

void launch_network_done(LaunchNetwork *n);

typedef struct LaunchSpec {
        char *hostname;
        /* The final argv: the OCI Entrypoint and Cmd are merged on the host
         * (src/zone/oci-config.c), so init never re-implements that rule. */
        char **argv;
        char **env;    /* KEY=VALUE */
        char *cwd;     /* absolute; NULL means "/" */
        char *user;    /* OCI form: user, uid, user:group, uid:gid; NULL means root */
        uint32_t umask;
        bool tty;
        bool has_network;
        LaunchNetwork network;
} LaunchSpec;

LaunchSpec *launch_spec_new(void);
LaunchSpec *launch_spec_free(LaunchSpec *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(LaunchSpec *, launch_spec_free);
#define _cleanup_launch_spec_ _cleanup_(launch_spec_freep)

/* Checks every field (argv non-empty, env KEY=VALUE, absolute cwd, hostname
 * syntax, umask, addresses and prefixes); logs and returns -EINVAL. */
int launch_spec_validate(const LaunchSpec *s);

/* Untrusted JSON text → validated spec. -EBADMSG malformed, -EPROTONOSUPPORT
 * unknown major version, -EFBIG larger than LAUNCH_SPEC_JSON_MAX. */
int launch_spec_parse(const char *json, size_t size, LaunchSpec **ret);
/* Spec → JSON text (malloc'd, NUL-terminated). Validates first. */
int launch_spec_serialize(const LaunchSpec *s, char **ret);

/* Spec → padded config disk image in memory / on disk (atomic). */
int launch_disk_encode(const LaunchSpec *s, void **ret, size_t *ret_size);
int launch_disk_write(const char *path, const LaunchSpec *s);
/* Reads from a block device or file: header first, then exactly the JSON
 * length, bounded by LAUNCH_SPEC_JSON_MAX and the device size. */
int launch_disk_read_fd(int fd, LaunchSpec **ret);

/* The OCI default when the image has no PATH. */
#define LAUNCH_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
