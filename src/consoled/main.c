/* SPDX-License-Identifier: Apache-2.0 */
/* krata-consoled: wiring only. ring.c moves bytes through console pages,
 * console.c keeps each zone's console and clients, manager.c the set of
 * them, bus.c is the D-Bus face, backend-xen.c / backend-test.c supply the
 * pages and doorbells. */
#include <errno.h>
#include <stdlib.h>

#include "consoled.h"
#include "log.h"
#include "service.h"
#include "string-util.h"
#include "time-util.h"

static uint64_t arg_scrollback = SCROLLBACK_DEFAULT;
static uint64_t arg_idle_usec = SERVICE_IDLE_USEC_DEFAULT;
static bool arg_journal = true;

static int parse_scrollback(const char *s) {
        uint64_t v;

        if (parse_size(s, &v) < 0 || v < SCROLLBACK_MIN || v > SCROLLBACK_MAX)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid scrollback size '%s': between 4K and 32M.", s);
        arg_scrollback = v;
        return 0;
}

static int parse_idle(const char *s) {
        unsigned v;

        if (safe_atou(s, &v) < 0 || v > 86400)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid idle time '%s': seconds, at most 86400.", s);
        arg_idle_usec = (uint64_t) v * USEC_PER_SEC;
        return 0;
}

static int parse_environment(void) {
        const char *e;
        int r;

        e = getenv("KRATA_CONSOLED_SCROLLBACK");
        if (e && (r = parse_scrollback(e)) < 0)
                return r;
        e = getenv("KRATA_CONSOLED_EXIT_IDLE_TIME");
        if (e && (r = parse_idle(e)) < 0)
                return r;
        e = getenv("KRATA_CONSOLED_JOURNAL");
        if (e)
                arg_journal = parse_boolean(e) != 0;
        return 0;
}

enum { ARG_SCROLLBACK = 0x100, ARG_IDLE, ARG_NO_JOURNAL };

static int parse_option(int option, const char *arg) {
        switch (option) {
        case ARG_SCROLLBACK:
                return parse_scrollback(arg);
        case ARG_IDLE:
                return parse_idle(arg);
        case ARG_NO_JOURNAL:
                arg_journal = false;
                return 0;
        }
        return -EINVAL;
}

static int consoled_init(Service *s) {
        Manager *m;
        int r;

        r = manager_new(s->event, s->bus, (size_t) arg_scrollback, arg_journal, &m);
        if (r < 0)
                return r;
        s->userdata = m;
        s->idle_usec = arg_idle_usec;
        return 0;
}

static bool consoled_is_idle(void *userdata) {
        return manager_is_idle(userdata);
}

static void consoled_done(void *userdata) {
        manager_free(userdata);
}

static const struct option options[] = {
        { "scrollback-size", required_argument, NULL, ARG_SCROLLBACK },
        { "exit-idle-time", required_argument, NULL, ARG_IDLE },
        { "no-journal", no_argument, NULL, ARG_NO_JOURNAL },
        {}
};

static const ServiceDefinition consoled = {
        .name = "krata-consoled",
        .bus_name = CONSOLE_BUS_NAME,
        .summary = "Broker for krata zones' Xen PV consoles (" CONSOLE_BUS_NAME ").",
        .options_help = "     --scrollback-size=SIZE Scrollback kept per zone (default 1M; 4K..32M)\n"
                        "     --exit-idle-time=SEC   Exit after SEC seconds without zones (default 30)\n"
                        "     --no-journal           Do not copy zone output into the journal\n",
        .environment_help = "Environment: KRATA_CONSOLED_SCROLLBACK, KRATA_CONSOLED_EXIT_IDLE_TIME,\n"
                            "KRATA_CONSOLED_JOURNAL=0 give the same settings. See krata-consoled(8).",
        .options = options,
        .parse_environment = parse_environment,
        .parse_option = parse_option,
        .ready_status = "Serving consoles.",
        .init = consoled_init,
        .object_path = CONSOLE_PATH,
        .interface = CONSOLE_INTERFACE,
        .vtable = console_vtable,
        .is_idle = consoled_is_idle,
        .done = consoled_done,
};

int main(int argc, char *argv[]) {
        return service_main(&consoled, argc, argv);
}
