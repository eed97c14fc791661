/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus-util.h"

/* The one skeleton of krata's bus daemons (krata-imaged, krata-consoled,
 * krata-networkd, krata-zoned): their main() is service_main() over a
 * ServiceDefinition, and their main.c only wires.
 *
 * In order: log_setup(name); parse_environment(); the options (--help,
 * --version, --log-level=LEVEL and the daemon's own; no positional
 * arguments); the krata error names; SIGTERM and SIGINT (and SIGCHLD with
 * watch_children) blocked before any thread exists, SIGPIPE ignored; the
 * sd-event loop, which SIGTERM and SIGINT end; the system bus; init(); the
 * vtable at object_path; add_objects(); the bus name; READY=1 with
 * STATUS=ready_status; the loop, until a signal, or until idle_usec pass
 * without an event while is_idle() says the daemon holds nothing (the name
 * is released first, so the next caller activates a fresh instance);
 * STOPPING=1; done(); the bus is flushed and closed.
 *
 * Exit status: SERVICE_EXIT_SUCCESS (also after --help and --version),
 * SERVICE_EXIT_FAILURE, SERVICE_EXIT_USAGE (a bad option, argument or
 * environment value). */

enum {
        SERVICE_EXIT_SUCCESS = 0,
        SERVICE_EXIT_FAILURE = 1,
        SERVICE_EXIT_USAGE = 2,
};

#define SERVICE_IDLE_USEC_DEFAULT (30ULL * 1000000ULL)

/* The daemon's own option values must stay below this. */
#define SERVICE_OPTION_MAX 0x7f00

typedef struct Service {
        sd_event *event;
        sd_bus *bus;         /* connected before init() */
        uint64_t idle_usec;  /* SERVICE_IDLE_USEC_DEFAULT; init() may change it; UINT64_MAX: never exit */
        void *userdata;      /* set by init(), passed to is_idle() and done() */
} Service;

typedef struct ServiceDefinition {
        const char *name;              /* "krata-imaged": the log prefix, --version, --help */
        const char *bus_name;          /* the well-known name it owns */
        const char *summary;           /* --help: what it is, after the usage line */
        const char *options_help;      /* --help: its own options, laid out as the common ones; NULL: none */
        const char *environment_help;  /* --help: last paragraph (environment, man page); NULL: none */
        const struct option *options;  /* its own long options, {} ends them; NULL: none */
        /* Reads the daemon's environment; the options override it. < 0 (logged): exit 2. */
        int (*parse_environment)(void);
        /* One of options[] (its val, its argument); < 0 (logged): exit 2. */
        int (*parse_option)(int option, const char *arg);
        bool watch_children;           /* blocks SIGCHLD too, for sd_event_add_child() */
        const char *ready_status;      /* STATUS= sent with READY=1 (mandatory) */
        /* The loop and the bus exist, the bus name is not taken yet:
         * allocate the daemon's state into s->userdata, which done() frees
         * whatever fails later. */
        int (*init)(Service *s);
        /* The daemon's main object: vtable at object_path (interface), with
         * s->userdata as its userdata. */
        const char *object_path;
        const char *interface;
        const sd_bus_vtable *vtable;
        /* More objects, or anything that needs them before callers come; NULL: none. */
        int (*add_objects)(Service *s);
        /* True when the daemon holds nothing a restart would lose. */
        bool (*is_idle)(void *userdata);
        /* Frees s->userdata (the bus and the loop are still there). */
        void (*done)(void *userdata);
} ServiceDefinition;

/* Returns 1 to run, 0 when --help or --version was answered, < 0 (logged)
 * for a bad command line. */
int service_parse_argv(const ServiceDefinition *def, int argc, char *argv[]);

/* Everything above; returns the process's exit status. */
int service_main(const ServiceDefinition *def, int argc, char *argv[]);
