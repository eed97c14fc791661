/* SPDX-License-Identifier: Apache-2.0 */
/* A bus service whose one method is guarded by bus_verify_polkit_async(), so
 * the authorization path can be exercised against a real bus. */
#include <errno.h>
#include <stdlib.h>

#include "bus-polkit.h"
#include "bus-util.h"
#include "log.h"

static PolkitRegistry *registry;

static int method_guarded(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        int r = bus_verify_polkit_async(m, "org.krata.zone.manage", &registry, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;
        return sd_bus_reply_method_return(m, "s", "allowed");
}

static int method_quit(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        sd_event_exit(sd_bus_get_event(sd_bus_message_get_bus(m)), 0);
        return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Guarded", "", "s", method_guarded, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Quit", "", "", method_quit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int main(int argc, char *argv[]) {
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_event_ sd_event *e = NULL;
        int r;

        log_setup(argv[0]);
        if (bus_connect_system(&bus) < 0 || sd_event_default(&e) < 0)
                return EXIT_FAILURE;
        r = sd_bus_add_object_vtable(bus, NULL, "/org/krata/test", "org.krata.Test", vtable, NULL);
        if (r < 0)
                return log_error_errno(r, "vtable: %m"), EXIT_FAILURE;
        r = bus_run_service(e, bus, "org.krata.Test", UINT64_MAX, NULL, NULL);
        polkit_registry_free(registry);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
