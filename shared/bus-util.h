/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "krata-bus.h"
#include "macro.h"

/* sd-bus.h and sd-event.h provide the *p cleanup helpers. */
#define _cleanup_bus_ _cleanup_(sd_bus_flush_close_unrefp)
#define _cleanup_bus_message_ _cleanup_(sd_bus_message_unrefp)
#define _cleanup_bus_slot_ _cleanup_(sd_bus_slot_unrefp)
#define _cleanup_event_ _cleanup_(sd_event_unrefp)
#define _cleanup_event_source_ _cleanup_(sd_event_source_unrefp)
#define _cleanup_bus_error_ _cleanup_(sd_bus_error_free)

/* A property getter for an enum field (SD_BUS_PROPERTY with offsetof() of
 * the field) that publishes name##_to_string(value), as systemd's
 * BUS_DEFINE_PROPERTY_GET_ENUM. Plain fields of basic types and strings need
 * no getter: SD_BUS_PROPERTY(name, sig, NULL, offsetof(...), flags). */
#define BUS_DEFINE_PROPERTY_GET_ENUM(function, name, type)                                       \
        int function(sd_bus *bus, const char *path, const char *interface, const char *property, \
                     sd_bus_message *reply, void *userdata, sd_bus_error *error) {               \
                return sd_bus_message_append(reply, "s", name##_to_string(*(type *) userdata)); \
        }


/* Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS honoured), with a clear
 * message when there is none. */
int bus_connect_system(sd_bus **ret);
/* Attaches the bus to the event loop, requests the name and runs the loop,
 * exiting after idle_usec without activity when check_idle() says so
 * (service_main() runs it for the daemons). */
typedef bool (*bus_idle_check_t)(void *userdata);
int bus_run_service(sd_event *e, sd_bus *bus, const char *name, uint64_t idle_usec,
                    bus_idle_check_t check_idle, void *userdata);
/* A readable message for a failed call: the remote error's message when there
 * is one, else strerror(r). */
const char *bus_error_message(const sd_bus_error *e, int r);
/* Registers the krata error names with errno mappings (call once per process). */
int bus_register_krata_errors(void);
/* Replies with a method error built from a negative errno and a message. */
int bus_reply_errnof(sd_bus_message *m, int r, const char *name, const char *fmt, ...) _printf_(4, 5);
