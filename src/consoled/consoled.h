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
#define CONSOLES_MAX 4096
#define CLIENTS_PER_CONSOLE_MAX 64

typedef struct Console Console;
typedef struct Client Client;

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        Backend *backend;
        sd_event_source *watch_source;
        PolkitRegistry *polkit;
        Console *consoles;
        size_t n_consoles;
        size_t scrollback_size;
        bool journal;
        JournalLimit journal_limit; /* all zones together */
} Manager;

struct Client {
        Console *console;
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

struct Console {
        Manager *manager;
        Console *next;
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

/* manager.c: the daemon's state (its loop and bus are the Service's) */
int manager_new(sd_event *event, sd_bus *bus, size_t scrollback_size, bool journal, Manager **ret);
Manager *manager_free(Manager *m);
bool manager_is_idle(Manager *m);
Console *manager_find_console(Manager *m, const char *name);

/* console.c: one zone's console: its ring, scrollback and clients */
int manager_register_console(Manager *m, const char *name, uint32_t domid);
void console_unregister(Console *con);
/* Returns the client's end of a new socketpair. */
int console_open_client(Console *con, bool write, bool replay, int *ret_fd);
int console_set_winsize(Console *con, unsigned rows, unsigned cols);
const char *console_state(const Console *con);

/* bus.c: org.krata.Console1 at CONSOLE_PATH, userdata the Manager */
extern const sd_bus_vtable console_vtable[];
