/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bus-util.h"
#include "log.h"
#include "string-util.h"

static const sd_bus_error_map krata_error_map[] = {
        SD_BUS_ERROR_MAP(KRATA_ERROR_NO_SUCH_IMAGE, ENOENT),
        SD_BUS_ERROR_MAP(KRATA_ERROR_NO_SUCH_ZONE, ENXIO),
        SD_BUS_ERROR_MAP(KRATA_ERROR_NO_SUCH_TRANSFER, ENOENT),
        SD_BUS_ERROR_MAP(KRATA_ERROR_ZONE_EXISTS, EEXIST),
        SD_BUS_ERROR_MAP(KRATA_ERROR_BAD_IMAGE, EBADMSG),
        SD_BUS_ERROR_MAP(KRATA_ERROR_REGISTRY, EREMOTEIO),
        SD_BUS_ERROR_MAP(KRATA_ERROR_NOT_SUPPORTED, EOPNOTSUPP),
        SD_BUS_ERROR_MAP_END,
};

int bus_register_krata_errors(void) {
        return sd_bus_error_add_map(krata_error_map);
}

int bus_connect_system(sd_bus **ret) {
        int r = sd_bus_open_system(ret);

        assert(ret);

        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus (%s): %m. "
                                          "Is dbus running? In a development tree use tools/dev-env.",
                                       strempty(getenv("DBUS_SYSTEM_BUS_ADDRESS")));
        return 0;
}

const char *bus_error_message(const sd_bus_error *e, int r) {
        if (e && sd_bus_error_is_set(e) && e->message)
                return e->message;
        return strerror(ERRNO_VALUE(r));
}

int bus_reply_errnof(sd_bus_message *m, int r, const char *name, const char *fmt, ...) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        char buf[1024];
        va_list ap;

        assert(m);
        assert(fmt);

        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (name)
                sd_bus_error_set(&error, name, buf);
        else
                sd_bus_error_set_errnof(&error, ERRNO_VALUE(r), "%s", buf);
        return sd_bus_reply_method_error(m, &error);
}

struct idle_state {
        sd_bus *bus;
        bus_idle_check_t check_idle;
        void *userdata;
        uint64_t idle_usec;
};

int bus_run_service(sd_event *e, sd_bus *bus, const char *name, uint64_t idle_usec,
                    bus_idle_check_t check_idle, void *userdata) {
        int r;

        assert(e);
        assert(bus);
        assert(name);

        r = sd_bus_attach_event(bus, e, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach bus to event loop: %m");
        r = sd_bus_request_name(bus, name, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire bus name %s: %m", name);

        for (;;) {
                r = sd_event_get_state(e);
                if (r < 0)
                        return r;
                if (r == SD_EVENT_FINISHED)
                        break;
                if (!check_idle || !check_idle(userdata)) {
                        r = sd_event_run(e, UINT64_MAX);
                        if (r < 0)
                                return log_error_errno(r, "Event loop failed: %m");
                        continue;
                }
                r = sd_event_run(e, idle_usec);
                if (r < 0)
                        return log_error_errno(r, "Event loop failed: %m");
                if (r == 0 && check_idle(userdata)) {
                        log_debug("Idle, exiting.");
                        /* Release the name first so new callers activate a fresh instance. */
                        (void) sd_bus_release_name(bus, name);
                        break;
                }
        }
        int code = 0;
        (void) sd_event_get_exit_code(e, &code);
        return code;
}
