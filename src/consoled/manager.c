/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <stdlib.h>

#include "consoled.h"
#include "log.h"
#include "string-util.h"

int manager_new(sd_event *event, sd_bus *bus, size_t scrollback_size, bool journal, Manager **ret) {
        Manager *m;
        uint64_t now = 0;
        int r;

        assert(event);
        assert(bus);
        assert(ret);

        m = calloc(1, sizeof *m);
        if (!m)
                return log_oom();
        m->event = event;
        m->bus = bus;
        m->scrollback_size = scrollback_size;
        m->journal = journal;
        r = backend_new(&m->backend);
        if (r < 0) {
                free(m);
                return log_oom();
        }
        (void) sd_event_now(event, CLOCK_MONOTONIC, &now);
        journal_limit_init(&m->journal_limit, true, now);
        *ret = m;
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        while (m->consoles)
                console_unregister(m->consoles);
        sd_event_source_disable_unref(m->watch_source);
        backend_free(m->backend);
        polkit_registry_free(m->polkit);
        return mfree(m);
}

bool manager_is_idle(Manager *m) {
        assert(m);
        return m->n_consoles == 0 && !polkit_registry_busy(m->polkit);
}

Console *manager_find_console(Manager *m, const char *name) {
        assert(m);
        assert(name);

        for (Console *con = m->consoles; con; con = con->next)
                if (streq(con->name, name))
                        return con;
        return NULL;
}
