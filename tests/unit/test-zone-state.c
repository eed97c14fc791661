/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fs-util.h"
#include "string-util.h"
#include "zone-state.h"

static void test_strings(void **state) {
        for (int i = 0; i < _ZONE_STATE_MAX; i++) {
                const char *s = zone_state_to_string((ZoneState) i);
                assert_non_null(s);
                assert_int_equal(zone_state_from_string(s), i);
        }
        assert_null(zone_state_to_string(_ZONE_STATE_MAX));
        assert_null(zone_state_to_string(_ZONE_STATE_INVALID));
        assert_int_equal(zone_state_from_string("bogus"), _ZONE_STATE_INVALID);
        assert_int_equal(zone_state_from_string(NULL), _ZONE_STATE_INVALID);
}

static void test_transitions(void **state) {
        /* the normal life */
        ZoneState s = ZONE_CREATED;
        assert_int_equal(zone_state_apply(&s, ZONE_STARTING), 1);
        assert_int_equal(zone_state_apply(&s, ZONE_RUNNING), 1);
        assert_int_equal(zone_state_apply(&s, ZONE_RUNNING), 0);
        assert_int_equal(zone_state_apply(&s, ZONE_STOPPING), 1);
        assert_int_equal(zone_state_apply(&s, ZONE_EXITED), 1);
        /* nothing goes back to running without starting */
        assert_int_equal(zone_state_apply(&s, ZONE_RUNNING), -EINVAL);
        assert_int_equal(s, ZONE_EXITED);
        assert_int_equal(zone_state_apply(&s, ZONE_STARTING), 1);
        assert_int_equal(zone_state_apply(&s, ZONE_FAILED), 1);
        assert_int_equal(zone_state_apply(&s, ZONE_STOPPING), -EINVAL);

        assert_false(zone_state_transition_valid(ZONE_CREATED, ZONE_RUNNING));
        assert_false(zone_state_transition_valid(ZONE_CREATED, ZONE_EXITED));
        assert_false(zone_state_transition_valid(ZONE_EXITED, ZONE_ORPHANED));
        assert_false(zone_state_transition_valid(ZONE_STOPPING, ZONE_RUNNING));
        assert_false(zone_state_transition_valid(ZONE_ORPHANED, ZONE_RUNNING));
        assert_true(zone_state_transition_valid(ZONE_RUNNING, ZONE_ORPHANED));
        assert_true(zone_state_transition_valid(ZONE_ORPHANED, ZONE_EXITED));
        assert_true(zone_state_transition_valid(ZONE_STARTING, ZONE_FAILED));
        assert_false(zone_state_transition_valid(_ZONE_STATE_INVALID, ZONE_RUNNING));
        assert_false(zone_state_transition_valid(ZONE_RUNNING, _ZONE_STATE_MAX));

        /* every state can end: exited or failed are reachable from each active state */
        for (int i = 0; i < _ZONE_STATE_MAX; i++) {
                if (!zone_state_is_active((ZoneState) i))
                        continue;
                assert_true(zone_state_transition_valid((ZoneState) i, ZONE_FAILED));
                assert_true(zone_state_transition_valid((ZoneState) i, ZONE_EXITED));
        }
        assert_false(zone_state_is_active(ZONE_CREATED));
        assert_false(zone_state_is_active(ZONE_EXITED));
        assert_true(zone_state_is_active(ZONE_ORPHANED));
}

static void test_record(void **state) {
        char tmpl[] = "/tmp/test-zone-state.XXXXXX";
        char *dir = mkdtemp(tmpl);
        _cleanup_zone_record_ ZoneRecord *r = zone_record_new("web"), *back = NULL;
        _cleanup_free_ char *path = NULL;

        assert_non_null(dir);
        setenv("KRATA_RUNTIME_DIR", dir, 1);
        assert_int_equal(zone_record_load("web", &back), -ENOENT);
        r->uuid = strdup("0123abcd-0000-4000-8000-00000000abcd");
        r->pid = 42;
        r->state = ZONE_RUNNING;
        r->domid = 7;
        r->error = strdup("none");
        assert_int_equal(strv_extend(&r->loop_devices, "/dev/loop3"), 0);
        assert_int_equal(strv_extend(&r->addresses, "10.75.0.2/16"), 0);
        r->started = 99;
        assert_int_equal(zone_record_save(r), 0);
        assert_int_equal(zone_record_load("web", &back), 0);
        assert_string_equal(back->uuid, r->uuid);
        assert_int_equal(back->pid, 42);
        assert_int_equal(back->state, ZONE_RUNNING);
        assert_int_equal(back->domid, 7);
        assert_int_equal(back->exit_status, -1);
        assert_string_equal(back->loop_devices[0], "/dev/loop3");
        assert_string_equal(back->addresses[0], "10.75.0.2/16");
        assert_int_equal(back->started, 99);
        zone_record_free(back);
        back = NULL;

        /* hostile records are refused */
        path = zone_record_path("web");
        assert_int_equal(write_string_file_atomic(path, "{\"pid\":1,\"state\":\"running\",\"loopDevices\":[\"/etc/passwd\"]}", 0644), 0);
        assert_int_equal(zone_record_load("web", &back), -EBADMSG);
        assert_int_equal(write_string_file_atomic(path, "{\"pid\":1,\"state\":\"dancing\"}", 0644), 0);
        assert_int_equal(zone_record_load("web", &back), -EBADMSG);
        assert_int_equal(write_string_file_atomic(path, "{\"pid\":1,\"state\":\"running\"} x", 0644), 0);
        assert_int_equal(zone_record_load("web", &back), -EBADMSG);
        assert_int_equal(zone_record_load("../x", &back), -EINVAL);
        assert_int_equal(zone_record_remove("web"), 0);
        assert_int_equal(zone_record_remove("web"), 0);
        assert_int_equal(rm_rf(dir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strings),
                cmocka_unit_test(test_transitions),
                cmocka_unit_test(test_record),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
