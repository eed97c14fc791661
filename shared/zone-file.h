/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* A zone's spec, stored as an INI file in the spirit of systemd's .nspawn files:
 *
 *   [Zone]
 *   Image=docker.io/library/busybox:latest
 *   Memory=256M
 *   Environment=FOO=bar
 *   Port=8080:80/tcp
 *   Command=/bin/sh -c "echo hi"
 *
 *   [Service]
 *   Restart=on-failure
 *   RestartSec=5s
 *
 *   [Install]
 *   WantedBy=multi-user.target
 *
 * Declared zones live in $KRATA_CONFIG_DIR/zones/NAME.zone, zones created over
 * D-Bus in $KRATA_STATE_DIR/zones/ (persistent) or $KRATA_RUNTIME_DIR/zones/
 * (transient, removed when they end). [Service] and [Install] are read by
 * krata-zone-generator(8), which turns a declared zone's into
 * krata-zone@NAME.service's drop-in and wants/requires symlinks. */

#define ZONE_NAME_MAX 63
#define ZONE_FILE_MAX (64U * 1024U)
#define ZONE_MEMORY_MIN (32ULL << 20)
#define ZONE_MEMORY_MAX (1ULL << 40)
#define ZONE_MEMORY_DEFAULT (256ULL << 20)
#define ZONE_VCPUS_MAX 128U
#define ZONE_VALUE_MAX 4096U
#define ZONE_ENV_MAX 1024U
#define ZONE_PORTS_MAX 256U
#define ZONE_INSTALL_MAX 64U                   /* WantedBy=, RequiredBy= entries */
#define ZONE_RESTART_SEC_MAX (24ULL * 3600 * 1000000)
#define ZONE_RESTART_SEC_UNSET UINT64_MAX

typedef enum ZoneRestart {
        ZONE_RESTART_NO,
        ZONE_RESTART_ON_FAILURE,
        ZONE_RESTART_ALWAYS,
        _ZONE_RESTART_MAX,
        _ZONE_RESTART_UNSET = -1,
} ZoneRestart;

typedef enum ZoneSource {
        ZONE_SOURCE_DECLARED,   /* $KRATA_CONFIG_DIR/zones */
        ZONE_SOURCE_PERSISTENT, /* $KRATA_STATE_DIR/zones */
        ZONE_SOURCE_TRANSIENT,  /* $KRATA_RUNTIME_DIR/zones */
        _ZONE_SOURCE_MAX,
        _ZONE_SOURCE_INVALID = -1,
} ZoneSource;

typedef enum ZonePortProto {
        ZONE_PORT_TCP,
        ZONE_PORT_UDP,
} ZonePortProto;

typedef struct ZonePort {
        uint16_t host_port;
        uint16_t zone_port;
        ZonePortProto proto;
} ZonePort;

typedef struct ZoneSpec {
        char *name;
        char *uuid;        /* 36-character form; NULL: assigned when the zone starts */
        char *image;       /* OCI reference */
        char *kernel;      /* OCI kernel reference; NULL: the system default kernel */
        uint64_t memory;   /* bytes */
        unsigned vcpus;
        char **environment; /* "KEY=VALUE" */
        ZonePort *ports;
        size_t n_ports;
        char *working_directory;
        char *user;
        char **command;    /* NULL: the image's entrypoint + cmd */
        bool tty;
        bool auto_remove;
        uint64_t created;  /* µs since the epoch; 0 unknown */
        /* [Service] and [Install]: the unit's, for krata-zone-generator */
        ZoneRestart restart;  /* _ZONE_RESTART_UNSET: the unit's default */
        uint64_t restart_usec; /* ZONE_RESTART_SEC_UNSET: the unit's default */
        char **wanted_by;     /* unit names */
        char **required_by;
} ZoneSpec;

/* A spec with the defaults (256M, one vCPU). */
ZoneSpec *zone_spec_new(const char *name);
int zone_spec_init(ZoneSpec *s, const char *name);
ZoneSpec *zone_spec_free(ZoneSpec *s);
/* Frees what s holds and zeroes it (for specs embedded in other structs). */
void zone_spec_done(ZoneSpec *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ZoneSpec *, zone_spec_free);
#define _cleanup_zone_spec_ _cleanup_(zone_spec_freep)

bool zone_name_is_valid(const char *name);
/* A unit name another unit can be wanted by: "multi-user.target", "web@a.service". */
bool zone_install_unit_is_valid(const char *unit);
const char *zone_restart_to_string(ZoneRestart r);
ZoneRestart zone_restart_from_string(const char *s);
/* "5s", "500ms", "7us": the largest unit that is exact; buf needs 24 bytes. */
const char *zone_restart_sec_format(uint64_t usec, char *buf, size_t len);
bool zone_uuid_is_valid(const char *uuid);

/* "8080:80", "53:53/udp", "8443:443/tcp". */
int zone_port_parse(const char *s, ZonePort *ret);
/* "8080:80/tcp"; buf needs 20 bytes. */
const char *zone_port_format(const ZonePort *p, char *buf, size_t len);
/* "KEY=VALUE" with a valid key (no '=', not empty, printable). */
bool zone_env_is_valid(const char *assignment);
/* Checks a spec built in code (from D-Bus options) against the same rules as the
 * parser; on failure sets *ret_error (malloc'd) to a sentence naming the key. */
int zone_spec_validate(const ZoneSpec *s, char **ret_error);

/* Parses a spec; path names the file in errors. The zone's name is the file's
 * basename without ".zone". On a malformed file returns -EBADMSG with
 * *ret_error = "PATH:LINE: Key=: reason" (malloc'd). */
int zone_spec_parse(const char *path, const char *data, size_t size, ZoneSpec **ret, char **ret_error);
int zone_spec_load(const char *path, ZoneSpec **ret, char **ret_error);

/* Serializes in the file format (round-trips through zone_spec_parse). */
int zone_spec_format(const ZoneSpec *s, char **ret);
/* Writes atomically, creating the directory. */
int zone_spec_save(const ZoneSpec *s, const char *path);

const char *zone_source_to_string(ZoneSource s);
ZoneSource zone_source_from_string(const char *s);
/* $DIR/zones for a source; malloc'd. */
char *zone_source_dir(ZoneSource s);
/* $DIR/zones/NAME.zone; malloc'd. */
char *zone_spec_path(ZoneSource s, const char *name);
/* Finds NAME.zone, declared first, then transient, then persistent.
 * Returns -ENOENT when there is none. */
int zone_spec_find(const char *name, ZoneSource *ret_source, char **ret_path);

/* Shell-like word splitting used for Command=: whitespace separates, "..." and
 * '...' quote, backslash escapes \\ \" \' \n \t inside double quotes and outside. */
int zone_split_words(const char *s, char ***ret);
/* The inverse: every word double-quoted when it needs to be. */
char *zone_join_words(char *const *words);
