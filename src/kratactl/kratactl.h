/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include <systemd/sd-bus.h>

/* Exit codes (documented in kratactl(1)). `zone launch --attach` exits with
 * the zone's own exit status instead. */
enum {
        EXIT_OK = 0,
        EXIT_FAILURE_GENERIC = 1, /* the operation failed; the message says why */
        EXIT_USAGE = 2,           /* bad command line */
        EXIT_NOT_FOUND = 3,       /* no such zone, image or transfer */
        EXIT_UNAVAILABLE = 4,     /* a daemon or the hypervisor is not there */
        EXIT_DENIED = 5,          /* not authorized */
};

typedef enum OutputMode {
        OUTPUT_TABLE,
        OUTPUT_JSON,
} OutputMode;

extern OutputMode arg_output;
extern bool arg_legend;
extern bool arg_ask_password;

/* Maps a negative errno from an operation to the exit codes above. */
int exit_code_from_errno(int r);
/* Connects to the system bus; EXIT_OK, or EXIT_UNAVAILABLE (logged). */
int connect_bus(sd_bus **ret);
/* Logs why a bus call failed ("WHAT: message", or the message alone when
 * what is NULL) and maps it to an exit code. */
int call_failed(const char *what, const sd_bus_error *error, int r);

typedef struct Verb {
        const char *name;
        int min_args, max_args; /* counting the verb itself; -1: unlimited */
        int (*run)(int argc, char *argv[]);
        const char *help;
} Verb;

/* Runs the verb named by argv[0] from verbs[]; prints the group's help for
 * "help", --help or no verb. Returns a process exit code. */
int dispatch_verb(const char *group, const Verb verbs[], int argc, char *argv[]);

int verb_zone(int argc, char *argv[]);
/* launch.c: `zone launch` */
int verb_zone_launch(int argc, char *argv[]);
/* A string property of the zone object at path (org.krata.Zone1). */
int zone_property_string(sd_bus *bus, const char *path, const char *property, char **ret);
int verb_image(int argc, char *argv[]);
int verb_kernel(int argc, char *argv[]);
int verb_network(int argc, char *argv[]);

/* console.c: `zone attach` and `zone logs` (krata-consoled clients).
 * `zone launch --attach` calls verb_zone_attach(3, {"attach", "--history", NAME})
 * once the zone runs, or verb_zone_logs(2, {"logs", NAME}) if it already ended. */
int verb_zone_attach(int argc, char *argv[]);
int verb_zone_logs(int argc, char *argv[]);
/* Runs an interactive session: zone output read from out_fd, keys written
 * to in_fd (-1: read-only); Ctrl+] detaches. For `zone launch --attach`:
 * out_fd from FollowLog (replays everything since the zone started, so no
 * early output is lost however late the attach), in_fd from
 * OpenConsole(name, true); or one OpenConsole fd for both. */
int console_session(sd_bus *bus, const char *name, int out_fd, int in_fd);
