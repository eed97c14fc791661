/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "bus-polkit.h"
#include "log.h"
#include "manager.h"
#include "store.h"
#include "string-util.h"
#include "transfer.h"

int manager_new(Manager **ret) {
        _cleanup_(manager_freep) Manager *m = calloc(1, sizeof *m);
        int r;

        if (!m)
                return log_oom();
        imaged_config_init(&m->config);
        r = imaged_config_load(&m->config);
        if (r < 0)
                return r;
        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate event loop: %m");
        (void) sd_event_set_watchdog(m->event, true);
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        /* Cancel and join every worker before anything they use goes away. */
        for (size_t i = 0; i < m->n_transfers; i++)
                transfer_free(m->transfers[i]);
        free(m->transfers);
        polkit_registry_free(m->polkit);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        imaged_config_done(&m->config);
        return mfree(m);
}

int manager_connect_bus(Manager *m) {
        int r;

        r = bus_connect_system(&m->bus);
        if (r < 0)
                return r;
        r = sd_bus_add_object_vtable(m->bus, NULL, IMAGES_PATH, IMAGES_INTERFACE, manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register %s: %m", IMAGES_PATH);
        return 0;
}

int manager_is_idle(void *userdata) {
        Manager *m = userdata;
        return m->n_transfers == 0 && !polkit_registry_busy(m->polkit);
}

void manager_update_status(Manager *m) {
        if (m->n_transfers == 0)
                (void) sd_notify(0, "STATUS=Idle.");
        else
                (void) sd_notifyf(0, "STATUS=%zu transfer(s) running.", m->n_transfers);
}

Transfer *manager_find_transfer(Manager *m, uint32_t id) {
        for (size_t i = 0; i < m->n_transfers; i++)
                if (m->transfers[i]->id == id)
                        return m->transfers[i];
        return NULL;
}

Transfer *manager_find_pull(Manager *m, const char *reference, const char *platform) {
        for (size_t i = 0; i < m->n_transfers; i++) {
                Transfer *t = m->transfers[i];
                if (streq(t->req.reference, reference) && streq(t->req.platform, platform) &&
                    !atomic_load(&t->req.cancel))
                        return t;
        }
        return NULL;
}

int manager_add_transfer(Manager *m, Transfer *t) {
        Transfer **l = realloc(m->transfers, (m->n_transfers + 1) * sizeof *l);
        if (!l)
                return -ENOMEM;
        m->transfers = l;
        m->transfers[m->n_transfers++] = t;
        return 0;
}

void manager_remove_transfer(Manager *m, Transfer *t) {
        for (size_t i = 0; i < m->n_transfers; i++)
                if (m->transfers[i] == t) {
                        memmove(m->transfers + i, m->transfers + i + 1, (m->n_transfers - i - 1) * sizeof *m->transfers);
                        m->n_transfers--;
                        return;
                }
}
