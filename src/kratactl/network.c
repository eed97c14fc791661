/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>

#include "bus-util.h"
#include "json-util.h"
#include "kratactl.h"
#include "log.h"
#include "table.h"


/* One row from ListAttachments' (sssssba(sqq)a{st}). */
static int read_attachment(sd_bus_message *reply, json_object **ret) {
        _cleanup_json_ json_object *row = json_object_new_object();
        json_object *fw = json_object_new_array();
        const char *zone, *ifname, *state, *a4, *a6, *proto, *key;
        uint16_t hp, zp;
        uint64_t v;
        int loopback, r;

        if (!row || !fw) {
                json_object_put(fw);
                return -ENOMEM;
        }
        json_object_object_add(row, "forwards", fw);
        r = sd_bus_message_enter_container(reply, 'r', "sssssba(sqq)a{st}");
        if (r <= 0)
                return r;
        r = sd_bus_message_read(reply, "sssssb", &zone, &ifname, &state, &a4, &a6, &loopback);
        if (r < 0)
                return r;
        json_object_object_add(row, "zone", json_object_new_string(zone));
        json_object_object_add(row, "interface", json_object_new_string(ifname));
        json_object_object_add(row, "state", json_object_new_string(state));
        json_object_object_add(row, "ipv4", json_object_new_string(a4));
        json_object_object_add(row, "ipv6", *a6 ? json_object_new_string(a6) : NULL);
        json_object_object_add(row, "host-loopback", json_object_new_boolean(loopback));

        r = sd_bus_message_enter_container(reply, 'a', "(sqq)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(sqq)", &proto, &hp, &zp)) > 0) {
                char s[32];
                snprintf(s, sizeof s, "%s:%u:%u", proto, hp, zp);
                json_object_array_add(fw, json_object_new_string(s));
        }
        if (r < 0 || (r = sd_bus_message_exit_container(reply)) < 0)
                return r;

        r = sd_bus_message_enter_container(reply, 'a', "{st}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "{st}", &key, &v)) > 0)
                json_object_object_add(row, key, json_object_new_int64((int64_t) v));
        if (r < 0 || (r = sd_bus_message_exit_container(reply)) < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(row);
        return 1;
}

static int verb_list(int argc, char *argv[]) {
        static const TableColumn columns[] = {
                { "zone", "ZONE", COLUMN_STRING },
                { "interface", "INTERFACE", COLUMN_STRING },
                { "state", "STATE", COLUMN_STRING },
                { "ipv4", "IPV4", COLUMN_STRING },
                { "ipv6", "IPV6", COLUMN_STRING },
                { "forwards", "FORWARDS", COLUMN_STRING },
                { "rx-bytes", "RX", COLUMN_SIZE },
                { "tx-bytes", "TX", COLUMN_SIZE },
        };
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_table_ Table *t = NULL;
        int r;

        r = connect_bus(&bus);
        if (r != EXIT_OK)
                return r;
        r = sd_bus_call_method(bus, NETWORK_BUS_NAME, NETWORK_PATH, NETWORK_INTERFACE, "ListAttachments", &error, &reply, NULL);
        if (r < 0)
                return call_failed("Failed to list network attachments", &error, r);
        t = table_new(columns, ELEMENTSOF(columns));
        if (!t)
                return log_oom(), EXIT_FAILURE_GENERIC;
        r = sd_bus_message_enter_container(reply, 'a', "(sssssba(sqq)a{st})");
        for (;;) {
                json_object *row = NULL;
                if (r < 0)
                        break;
                r = read_attachment(reply, &row);
                if (r <= 0)
                        break;
                r = table_add_row(t, row);
        }
        if (r < 0) {
                log_error_errno(r, "Failed to parse the attachment list: %m");
                return EXIT_FAILURE_GENERIC;
        }
        r = table_print(t, arg_output);
        return r < 0 ? EXIT_FAILURE_GENERIC : EXIT_OK;
}

int verb_network(int argc, char *argv[]) {
        assert(argv);

        static const Verb verbs[] = {
                { "list", 1, 1, verb_list, "list zone network attachments, addresses, forwards, counters" },
                {}
        };
        return dispatch_verb("network", verbs, argc, argv);
}
