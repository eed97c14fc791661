/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded parsing of untrusted JSON and field tables (shared/json-util.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json-util.h"
#include "log.h"
#include "string-util.h"

typedef struct Thing {
        char *name;
        uint64_t size;
        char **list;
        bool flag;
} Thing;

static void test_json(void **state) {
        static const JsonDispatch table[] = {
                { "name", json_type_string, json_dispatch_string, offsetof(Thing, name), JSON_MANDATORY },
                { "size", json_type_int, json_dispatch_uint64, offsetof(Thing, size), 0 },
                { "list", json_type_array, json_dispatch_strv, offsetof(Thing, list), 0 },
                { "flag", json_type_boolean, json_dispatch_bool, offsetof(Thing, flag), 0 },
                {}
        };
        const char *good = "{\"name\":\"x\",\"size\":12345678901,\"list\":[\"a\",\"b\"],\"flag\":true,\"extra\":1}";
        json_object *o = NULL;
        Thing t = {};

        log_set_max_level(LOG_EMERG); /* the failures below log on purpose */
        assert_int_equal(json_parse_bounded(good, strlen(good), 4096, true, &o), 0);
        assert_int_equal(json_dispatch(o, table, "thing", &t), 0);
        assert_string_equal(t.name, "x");
        assert_int_equal(t.size, 12345678901ULL);
        assert_int_equal(strv_length(t.list), 2);
        assert_true(t.flag);
        json_object_put(o);
        free(t.name);
        strv_free(t.list);

        assert_int_equal(json_parse_bounded(good, strlen(good), 10, true, &o), -EFBIG);
        assert_int_equal(json_parse_bounded("{\"a\":1} x", 9, 100, true, &o), -EBADMSG);
        assert_int_equal(json_parse_bounded("{\"a\":", 5, 100, true, &o), -EBADMSG);
        assert_int_equal(json_parse_bounded("[1]", 3, 100, true, &o), -EBADMSG);
        assert_int_equal(json_parse_bounded("[1]", 3, 100, false, &o), 0);
        json_object_put(o);

        char deep[200];
        memset(deep, '[', 100);
        memset(deep + 100, ']', 100);
        assert_int_equal(json_parse_bounded(deep, 200, 1000, false, &o), -EBADMSG);

        memset(&t, 0, sizeof t);
        assert_int_equal(json_parse_bounded("{\"size\":1}", 10, 100, true, &o), 0);
        assert_int_equal(json_dispatch(o, table, "thing", &t), -EBADMSG); /* name missing */
        json_object_put(o);
        assert_int_equal(json_parse_bounded("{\"name\":5}", 10, 100, true, &o), 0);
        assert_int_equal(json_dispatch(o, table, "thing", &t), -EBADMSG);
        json_object_put(o);
        assert_int_equal(json_parse_bounded("{\"name\":\"a\",\"size\":-1}", 22, 100, true, &o), 0);
        assert_int_equal(json_dispatch(o, table, "thing", &t), -EBADMSG);
        json_object_put(o);
        free(t.name);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
