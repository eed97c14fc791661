/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

/* Reading an a{sv} into a struct by a table of {key, signature, reader,
 * offset}, as systemd's bus_message_map_all_properties() does for property
 * dictionaries. A reader is called inside the variant, after its signature
 * was checked, with base + offset. */
typedef int (*bus_dict_read_t)(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error);

typedef struct BusDictField {
        const char *key;
        const char *signature;
        bus_dict_read_t read;
        size_t offset;
} BusDictField;

/* Unknown keys are refused (InvalidArgs, naming the key) when refuse_unknown,
 * else skipped; a variant of another type is refused. */
int bus_dict_read(sd_bus_message *m, const BusDictField table[], bool refuse_unknown, void *base,
                  sd_bus_error *error);

int bus_dict_read_uint64(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error); /* uint64_t */
int bus_dict_read_uint32(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error); /* uint32_t, unsigned */
int bus_dict_read_int32(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error);  /* int32_t, int */
int bus_dict_read_bool(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error);   /* bool */
/* char *: replaced by a copy; an empty string leaves NULL. */
int bus_dict_read_string(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error);
/* char **: replaced by a copy ({} for an empty array). */
int bus_dict_read_strv(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error);
