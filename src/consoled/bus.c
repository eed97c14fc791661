/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>

#include "bus-polkit.h"
#include "bus-util.h"
#include "consoled.h"
#include "log.h"
#include "macro.h"
#include "string-util.h"
#include "zone-file.h"

/* org.krata.Console1 at /org/krata/console1: the vtable and its handlers. */

/* Reads the zone name that every per-zone method takes first. */
/* Returns 0 when the caller may go on, 1 when a polkit query is in flight
 * (the call is re-dispatched when the answer comes), <0 when refused. */
static int authorize(Manager *m, sd_bus_message *msg, const char *action, sd_bus_error *error) {
        int r = bus_verify_polkit_async(msg, action, &m->polkit, error);
        if (r < 0)
                return r;
        return r == 0 ? 1 : 0;
}

static int read_console(Manager *m, sd_bus_message *msg, const char *action, Console **ret, sd_bus_error *error) {
        const char *name;
        Console *con;
        int r;

        r = authorize(m, msg, action, error);
        if (r != 0)
                return r;
        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        if (!zone_name_is_valid(name))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid zone name.");
        con = manager_find_console(m, name);
        if (!con)
                return sd_bus_error_setf(error, KRATA_ERROR_NO_SUCH_ZONE, "No console for zone %s.", name);
        *ret = con;
        return 0;
}

static int method_register_zone(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name;
        uint32_t domid;
        int r;

        r = authorize(m, msg, POLKIT_ACTION_ZONE_MANAGE, error);
        if (r != 0)
                return r;
        r = sd_bus_message_read(msg, "su", &name, &domid);
        if (r < 0)
                return r;
        if (!zone_name_is_valid(name))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid zone name.");
        /* dom0 has no PV console ring here; ids from 0x7FF0 up are reserved. */
        if (domid == 0 || domid >= 0x7FF0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid domain id %" PRIu32 ".", domid);
        r = manager_register_console(m, name, domid);
        if (r == -EEXIST)
                return sd_bus_error_setf(error, KRATA_ERROR_ZONE_EXISTS,
                                         "Zone %s or domain %" PRIu32 " already has a console registered.", name, domid);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot attach the console of zone %s (domain %" PRIu32 "): %s",
                                               name, domid, m->backend->last_error[0] ? m->backend->last_error
                                                                                      : strerror(ERRNO_VALUE(r)));
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_unregister_zone(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        Console *con;
        int r;

        r = read_console(m, msg, POLKIT_ACTION_ZONE_MANAGE, &con, error);
        if (r != 0)
                return r;
        console_unregister(con);
        return sd_bus_reply_method_return(msg, NULL);
}

static int reply_console_fd(sd_bus_message *msg, Console *con, bool write, bool replay, sd_bus_error *error) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = console_open_client(con, write, replay, &fd);
        if (r == -EBUSY)
                return sd_bus_error_set_errnof(error, EBUSY, "Zone %s already has a writer attached; attach read-only or detach it first.", con->name);
        if (r == -ESRCH)
                return sd_bus_error_set_errnof(error, ESRCH, "Zone %s is no longer running; its log is still available.", con->name);
        if (r == -EMFILE)
                return sd_bus_error_set_errnof(error, EMFILE, "Zone %s has too many console clients (%d).", con->name, CLIENTS_PER_CONSOLE_MAX);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot open the console of zone %s: %s", con->name, strerror(-r));
        return sd_bus_reply_method_return(msg, "h", fd); /* sd-bus sends a dup */
}

static int method_open_console(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int write;
        Console *con;
        int r;

        r = read_console(m, msg, POLKIT_ACTION_CONSOLE_ATTACH, &con, error);
        if (r != 0)
                return r;
        r = sd_bus_message_read(msg, "b", &write);
        if (r < 0)
                return r;
        return reply_console_fd(msg, con, write, false, error);
}

static int method_follow_log(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        Console *con;
        int r;

        r = read_console(m, msg, POLKIT_ACTION_CONSOLE_ATTACH, &con, error);
        if (r != 0)
                return r;
        return reply_console_fd(msg, con, false, true, error);
}

static int method_get_log(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        Manager *m = userdata;
        uint64_t pos = 0;
        size_t n;
        void *p;
        Console *con;
        int r;

        r = read_console(m, msg, POLKIT_ACTION_CONSOLE_ATTACH, &con, error);
        if (r != 0)
                return r;
        n = (size_t) (con->scrollback.end - scrollback_start(&con->scrollback));
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append_array_space(reply, 'y', n, &p);
        if (r < 0)
                return r;
        if (scrollback_peek(&con->scrollback, &pos, p, n, NULL) != n)
                return -EIO;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_list_zones(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        Manager *m = userdata;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(susut)");
        if (r < 0)
                return r;
        for (Console *con = m->consoles; con; con = con->next) {
                r = sd_bus_message_append(reply, "(susut)", con->name, con->domid, console_state(con),
                                          (uint32_t) con->n_clients, con->scrollback.end);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_resize(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        uint16_t rows, cols;
        Console *con;
        int r;

        r = read_console(m, msg, POLKIT_ACTION_CONSOLE_ATTACH, &con, error);
        if (r != 0)
                return r;
        r = sd_bus_message_read(msg, "qq", &rows, &cols);
        if (r < 0)
                return r;
        if (rows == 0 || cols == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "A window size needs rows and columns.");
        r = console_set_winsize(con, rows, cols);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot pass the window size to zone %s: %s", con->name, strerror(-r));
        return sd_bus_reply_method_return(msg, NULL);
}

/* Authorization is polkit's (root always passes): handing zones over is
 * org.krata.zone.manage, everything that reads or writes a console is
 * org.krata.console.attach (a console is as good as a root shell in the
 * zone), ListZones is open to all. */
const sd_bus_vtable console_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("RegisterZone", SD_BUS_ARGS("s", name, "u", domid), SD_BUS_NO_RESULT,
                                method_register_zone, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UnregisterZone", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                method_unregister_zone, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenConsole", SD_BUS_ARGS("s", name, "b", write), SD_BUS_RESULT("h", fd),
                                method_open_console, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("FollowLog", SD_BUS_ARGS("s", name), SD_BUS_RESULT("h", fd),
                                method_follow_log, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetLog", SD_BUS_ARGS("s", name), SD_BUS_RESULT("ay", log),
                                method_get_log, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListZones", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(susut)", zones),
                                method_list_zones, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Resize", SD_BUS_ARGS("s", name, "q", rows, "q", cols), SD_BUS_NO_RESULT,
                                method_resize, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
