/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "backend.h"
#include "bus-polkit.h"
#include "journal-limit.h"
#include "ring.h"


#define SCROLLBACK_DEFAULT (1024 * 1024)
#define SCROLLBACK_MIN 4096
#define SCROLLBACK_MAX (32 * 1024 * 1024) /* a D-Bus array holds at most 64 MiB */
/* Input a writer may have in flight beyond what the ring takes; when full we
 * stop reading its socket, so back-pressure reaches the writer, no byte lost. */
#define INPUT_BUFFER_MAX 4096
#define JOURNAL_LINE_MAX 2048
#define ZONES_MAX 4096
#define CLIENTS_PER_ZONE_MAX 64

typedef struct Zone Zone;
typedef struct Client Client;

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        Backend *backend;
        sd_event_source *watch_source;
        PolkitRegistry *polkit;
        Zone *zones;
        size_t n_zones;
        size_t scrollback_size;
        bool journal;
        JournalLimit journal_limit; /* all zones together */
} Manager;

struct Client {
        Zone *zone;
        Client *next;
        int fd;
        sd_event_source *source;
        uint64_t pos;       /* next scrollback byte to send */
        uint64_t skipped;   /* bytes lost because this reader was too slow */
        bool writer;
        bool input_eof;     /* the client closed its sending side */
        bool input_paused;  /* writer held back: the input buffer is full */
        bool hung_up;       /* the peer closed; only queued input is left to read */
        bool close_when_drained; /* the zone is gone: EOF after the last byte */
};

struct Zone {
        Manager *manager;
        Zone *next;
        char *name;
        uint32_t domid;
        Channel *channel;
        sd_event_source *event_source;
        ConsoleRing ring;
        Scrollback scrollback;
        Client *clients;
        size_t n_clients;
        Client *writer;
        uint8_t input[INPUT_BUFFER_MAX];
        size_t n_input;
        char line[JOURNAL_LINE_MAX];
        char line_msg[8 + JOURNAL_LINE_MAX]; /* "MESSAGE=" + line */
        char *zone_field;                    /* "ZONE=name" */
        JournalLimit journal_limit;
        uint64_t journal_suppressed, journal_suppressed_bytes; /* since the last report */
        uint64_t journal_reported_usec;
        size_t n_line;
        uint64_t protocol_errors;
        bool dead;
};

/* zone.c */
Zone *manager_find_zone(Manager *m, const char *name);
int zone_register(Manager *m, const char *name, uint32_t domid);
void zone_unregister(Zone *z);
/* Returns the client's end of a new socketpair. */
int zone_open_console(Zone *z, bool write, bool replay, int *ret_fd);
int zone_set_winsize(Zone *z, unsigned rows, unsigned cols);
const char *zone_state(const Zone *z);
void manager_free_zones(Manager *m);

/* bus.c */
int manager_add_bus_objects(Manager *m);
