/* SPDX-License-Identifier: Apache-2.0 */
#include <signal.h>
#include <systemd/sd-daemon.h>

#include "bus-util.h"
#include "log.h"
#include "networkd-bus.h"
#include "networkd-manager.h"

#define IDLE_USEC (30 * 1000000ULL)

DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

static int check_idle(void *userdata) {
        return manager_is_idle(userdata);
}

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        sigset_t ss;
        int r;

        log_setup("krata-networkd");
        if (argc > 1) {
                log_error("This program takes no arguments; it is started by D-Bus activation.");
                return 1;
        }
        (void) bus_register_krata_errors();

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        /* Writes to a closed host socket must not kill us. */
        signal(SIGPIPE, SIG_IGN);

        r = manager_new(&m);
        if (r < 0)
                return 1;
        (void) sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        (void) sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);

        r = manager_startup(m);
        if (r < 0)
                return 1;
        r = manager_bus_register(m);
        if (r < 0)
                return 1;

        (void) sd_notify(false, "READY=1\nSTATUS=Serving zone networks.");
        r = bus_run_service(m->event, m->bus, NETWORK_BUS_NAME, IDLE_USEC, check_idle, m);
        (void) sd_notify(false, "STOPPING=1");
        return r < 0 ? 1 : 0;
}
