/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <curl/curl.h>
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

int manager_new(sd_event *event, sd_bus *bus, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        assert(event);
        assert(bus);
        assert(ret);

        m = calloc(1, sizeof *m);
        if (!m)
                return log_oom();
        m->event = event;
        m->bus = bus;
        imaged_config_init(&m->config);
        /* Before any worker thread exists (libcurl's rule). */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "Failed to initialise libcurl.");
        m->curl_initialized = true;
        r = imaged_config_load(&m->config);
        if (r < 0)
                return r;
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
        imaged_config_done(&m->config);
        if (m->curl_initialized)
                curl_global_cleanup();
        return mfree(m);
}

bool manager_is_idle(Manager *m) {
        assert(m);
        return m->n_transfers == 0 && !polkit_registry_busy(m->polkit);
}

void manager_update_status(Manager *m) {
        assert(m);

        if (m->n_transfers == 0)
                (void) sd_notify(0, "STATUS=Idle.");
        else
                (void) sd_notifyf(0, "STATUS=%zu transfer(s) running.", m->n_transfers);
}

Transfer *manager_find_transfer(Manager *m, uint32_t id) {
        assert(m);

        for (size_t i = 0; i < m->n_transfers; i++)
                if (m->transfers[i]->id == id)
                        return m->transfers[i];
        return NULL;
}

Transfer *manager_find_pull(Manager *m, const char *reference, const char *platform) {
        assert(m);
        assert(reference);
        assert(platform);

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

        assert(m);
        assert(t);

        if (!l)
                return -ENOMEM;
        m->transfers = l;
        m->transfers[m->n_transfers++] = t;
        return 0;
}

void manager_remove_transfer(Manager *m, Transfer *t) {
        assert(m);
        assert(t);

        for (size_t i = 0; i < m->n_transfers; i++)
                if (m->transfers[i] == t) {
                        memmove(m->transfers + i, m->transfers + i + 1, (m->n_transfers - i - 1) * sizeof *m->transfers);
                        m->n_transfers--;
                        return;
                }
}
