/* SPDX-License-Identifier: Apache-2.0 */
/* krata-networkd: wiring only. networkd-manager.c keeps the attachments,
 * networkd-bus.c is the D-Bus face, zone-loop.c runs each zone's slirp. */
#include "networkd-bus.h"
#include "networkd-manager.h"
#include "service.h"

static int networkd_init(Service *s) {
        Manager *m;
        int r;

        r = manager_new(s->event, s->bus, &m);
        if (r < 0)
                return r;
        s->userdata = m;
        return manager_startup(m);
}

static bool networkd_is_idle(void *userdata) {
        return manager_is_idle(userdata);
}

static void networkd_done(void *userdata) {
        manager_free(userdata);
}

static const ServiceDefinition networkd = {
        .name = "krata-networkd",
        .bus_name = NETWORK_BUS_NAME,
        .summary = "Userspace NAT networking for krata zones (" NETWORK_BUS_NAME ").",
        .environment_help = "Settings: networkd.conf in $KRATA_CONFIG_DIR. See krata-networkd(8).",
        .ready_status = "Serving zone networks.",
        .init = networkd_init,
        .object_path = NETWORK_PATH,
        .interface = NETWORK_INTERFACE,
        .vtable = network_vtable,
        .is_idle = networkd_is_idle,
        .done = networkd_done,
};

int main(int argc, char *argv[]) {
        return service_main(&networkd, argc, argv);
}
