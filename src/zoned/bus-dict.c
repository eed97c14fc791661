/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus-dict.h"
#include "string-util.h"

static const BusDictField *find_field(const BusDictField table[], const char *key) {
        for (const BusDictField *f = table; f->key; f++)
                if (streq(f->key, key))
                        return f;
        return NULL;
}

static int read_entry(sd_bus_message *m, const BusDictField table[], bool refuse_unknown, void *base,
                      sd_bus_error *error) {
        const BusDictField *f;
        const char *key;
        int r;

        r = sd_bus_message_read(m, "s", &key);
        if (r < 0)
                return r;
        f = find_field(table, key);
        if (!f) {
                if (refuse_unknown)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown option '%s'.", key);
                return sd_bus_message_skip(m, "v");
        }
        r = sd_bus_message_enter_container(m, 'v', f->signature);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Option '%s' must have type %s.", key,
                                         f->signature);
        r = f->read(m, key, (uint8_t *) base + f->offset, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        return sd_bus_message_exit_container(m);
}

int bus_dict_read(sd_bus_message *m, const BusDictField table[], bool refuse_unknown, void *base,
                  sd_bus_error *error) {
        int r;

        assert(m);
        assert(table);
        assert(base);

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = read_entry(m, table, refuse_unknown, base, error);
                if (r < 0 || sd_bus_error_is_set(error))
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int bus_dict_read_uint64(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error) {
        assert(m);
        assert(dest);

        return sd_bus_message_read_basic(m, 't', dest);
}

int bus_dict_read_uint32(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error) {
        assert(m);
        assert(dest);

        return sd_bus_message_read_basic(m, 'u', dest);
}

int bus_dict_read_int32(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error) {
        assert(m);
        assert(dest);

        return sd_bus_message_read_basic(m, 'i', dest);
}

int bus_dict_read_bool(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error) {
        int b, r;

        assert(m);
        assert(dest);

        r = sd_bus_message_read_basic(m, 'b', &b);
        if (r < 0)
                return r;
        *(bool *) dest = b;
        return 0;
}

int bus_dict_read_string(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error) {
        char **s = dest, *copy = NULL;
        const char *v;
        int r;

        assert(m);
        assert(dest);

        r = sd_bus_message_read_basic(m, 's', &v);
        if (r < 0)
                return r;
        if (!isempty(v) && !(copy = strdup(v)))
                return -ENOMEM;
        free(*s);
        *s = copy;
        return 0;
}

int bus_dict_read_strv(sd_bus_message *m, const char *key, void *dest, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        char ***s = dest;
        int r;

        assert(m);
        assert(dest);

        r = sd_bus_message_read_strv(m, &l);
        if (r < 0)
                return r;
        if (!l && !(l = calloc(1, sizeof(char *))))
                return -ENOMEM;
        strv_free(*s);
        *s = TAKE_PTR(l);
        return 0;
}
