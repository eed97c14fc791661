/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>

#include "kernel-job.h"
#include "zoned.h"

bool manager_is_busy(Manager *m) {
        assert(m);

        if (polkit_registry_busy(m->polkit) || m->kernel_jobs)
                return true;
        /* Our own children must be reaped by us; everything else is on disk. */
        for (Zone *z = m->zones; z; z = z->next)
                if (z->child_source || z->pidfd_source || z->cleanup_source || z->remove_when_gone)
                        return true;
        return false;
}

void manager_free(Manager *m) {
        assert(m);

        kernel_jobs_free(m);
        while (m->zones)
                zone_free(m->zones);
        manager_clear_orphans(m);
        polkit_registry_free(m->polkit);
        /* The bus and the event loop belong to the service skeleton. */
}
