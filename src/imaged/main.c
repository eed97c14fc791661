/* SPDX-License-Identifier: Apache-2.0 */
/* krata-imaged: wiring only. pull.c runs a pull, transfer.c is its bus
 * object and worker thread, store.c the image cache, manager*.c the
 * org.krata.Images1 object. */
#include "manager.h"
#include "service.h"
#include "store.h"
#include "time-util.h"

static int imaged_init(Service *s) {
        Manager *m;
        int r;

        r = manager_new(s->event, s->bus, &m);
        if (r < 0)
                return r;
        s->userdata = m;
        s->idle_usec = m->config.idle_exit_sec * USEC_PER_SEC;
        return store_init();
}

static bool imaged_is_idle(void *userdata) {
        return manager_is_idle(userdata);
}

static void imaged_done(void *userdata) {
        manager_free(userdata);
}

static const ServiceDefinition imaged = {
        .name = "krata-imaged",
        .bus_name = IMAGES_BUS_NAME,
        .summary = "Pulls OCI images into verified squashfs root filesystems; serves\n"
                   IMAGES_BUS_NAME " on the system bus.",
        .environment_help = "Settings: imaged.conf in $KRATA_CONFIG_DIR. See krata-imaged(8).",
        .ready_status = "Idle.",
        .init = imaged_init,
        .object_path = IMAGES_PATH,
        .interface = IMAGES_INTERFACE,
        .vtable = manager_vtable,
        .is_idle = imaged_is_idle,
        .done = imaged_done,
};

int main(int argc, char *argv[]) {
        return service_main(&imaged, argc, argv);
}
