/* SPDX-License-Identifier: Apache-2.0 */
/* krata-zoned's state machine (src/zoned/zone-transition.c), without a bus:
 * each event on zones in each relevant state, and what is decided. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "zone-transition.h"

static ZoneView view(ZoneState state) {
        return (ZoneView) { .state = state, .result = "" };
}

static ZoneEvent event(ZoneEventType type) {
        return (ZoneEvent) { .type = type, .facts = ZONE_FACTS_NONE };
}

static void decide(const ZoneView *v, const ZoneEvent *e, ZoneTransition *t) {
        zone_transition(v, e, t);
}

static void test_reported(void **state) {
        ZoneView v = view(ZONE_STARTING);
        ZoneEvent e = event(ZONE_EVENT_REPORTED);
        char *addresses[] = { "10.75.0.2/30", NULL };
        ZoneTransition t;

        /* the supervisor's word moves the zone and its facts are taken */
        e.facts.state = ZONE_RUNNING;
        e.facts.domid = 7;
        e.facts.kernel = "6.1.0-56-amd64";
        e.facts.addresses = addresses;
        decide(&v, &e, &t);
        assert_int_equal(t.refused, 0);
        assert_int_equal(t.state, ZONE_RUNNING);
        assert_int_equal(t.ignored, _ZONE_STATE_INVALID);
        assert_int_equal(t.facts.domid, 7);
        assert_string_equal(t.facts.kernel, "6.1.0-56-amd64");
        assert_ptr_equal(t.facts.addresses, addresses);
        assert_int_equal(t.action, ZONE_ACTION_NONE);
        assert_false(t.remove);

        /* but only along the state machine: running does not go back to created */
        v = view(ZONE_EXITED);
        e = event(ZONE_EVENT_REPORTED);
        e.facts.state = ZONE_RUNNING;
        e.facts.exit_status = 3;
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_EXITED);
        assert_int_equal(t.ignored, ZONE_RUNNING);
        assert_int_equal(t.facts.exit_status, 3);

        /* no state said: the state stays */
        v = view(ZONE_RUNNING);
        e = event(ZONE_EVENT_REPORTED);
        e.facts.status = "Pulling image: 40%";
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_RUNNING);
        assert_int_equal(t.ignored, _ZONE_STATE_INVALID);
        assert_string_equal(t.facts.status, "Pulling image: 40%");
}

static void test_record_read(void **state) {
        ZoneView v = view(ZONE_CREATED);
        ZoneEvent e = event(ZONE_EVENT_RECORD_READ);
        ZoneTransition t;

        /* no record, no supervisor: a created zone stays created */
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_CREATED);
        assert_null(t.facts.error);

        /* the record is taken as it is, even where no transition leads */
        e.facts.state = ZONE_EXITED;
        e.facts.exit_status = 42;
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_EXITED);
        assert_int_equal(t.facts.exit_status, 42);

        /* a live supervisor that has not written a record yet: starting */
        v.supervisor_running = true;
        e = event(ZONE_EVENT_RECORD_READ);
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_STARTING);

        /* recorded running, supervisor gone, a domain: orphaned */
        v = view(ZONE_CREATED);
        e.facts.state = ZONE_RUNNING;
        e.facts.domid = 9;
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_ORPHANED);
        assert_string_equal(t.facts.result, "supervisor");
        assert_non_null(t.facts.error);

        /* ... and without a domain: failed, keeping a recorded error */
        e.facts.domid = -1;
        e.facts.error = "Out of memory.";
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_FAILED);
        assert_string_equal(t.facts.error, "Out of memory.");
}

static void test_supervisor_gone(void **state) {
        ZoneView v = view(ZONE_RUNNING);
        ZoneEvent e = event(ZONE_EVENT_PROCESS_EXITED);
        ZoneTransition t;

        /* its record says it exited: that is how it ended */
        e.code = CLD_EXITED;
        e.facts.state = ZONE_EXITED;
        e.facts.exit_status = 0;
        decide(&v, &e, &t);
        assert_true(t.supervisor_gone);
        assert_int_equal(t.state, ZONE_EXITED);
        assert_int_equal(t.facts.exit_status, 0);
        assert_false(t.remove);
        assert_false(t.warn);

        /* killed while the zone ran, no domain: failed, with why */
        e = event(ZONE_EVENT_PROCESS_EXITED);
        e.code = CLD_KILLED;
        e.status = SIGKILL;
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_FAILED);
        assert_string_equal(t.facts.result, "supervisor");
        assert_non_null(strstr(t.facts.error, "killed by signal"));
        assert_true(t.warn);

        /* a result already there (the supervisor said why) is kept */
        v.result = "kernel";
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_FAILED);
        assert_null(t.facts.result);

        /* its domain may be left: orphaned, and kept even when it was to go */
        v = view(ZONE_RUNNING);
        v.domid = 5;
        v.remove_when_gone = true;
        v.auto_remove = true;
        e.code = CLD_EXITED;
        e.status = 1;
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_ORPHANED);
        assert_non_null(strstr(t.facts.error, "status 1"));
        assert_false(t.remove);

        /* Destroy while it ran, or --rm: removed once it is gone */
        v = view(ZONE_STOPPING);
        v.remove_when_gone = true;
        e = event(ZONE_EVENT_PROCESS_EXITED);
        e.facts.state = ZONE_EXITED;
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_EXITED);
        assert_true(t.remove);
        v = view(ZONE_FAILED);
        v.auto_remove = true;
        decide(&v, &e, &t);
        assert_true(t.remove);
}

static void test_unit_changed(void **state) {
        ZoneView v = view(ZONE_RUNNING);
        ZoneEvent e = event(ZONE_EVENT_UNIT_CHANGED);
        ZoneTransition t;

        v.supervisor_running = true;
        e.unit_state = "deactivating";
        decide(&v, &e, &t);
        assert_false(t.supervisor_gone);
        assert_int_equal(t.state, ZONE_RUNNING);

        e.unit_state = "failed";
        e.code = CLD_EXITED;
        e.status = 7;
        e.facts.state = ZONE_EXITED;
        e.facts.exit_status = 7;
        decide(&v, &e, &t);
        assert_true(t.supervisor_gone);
        assert_int_equal(t.state, ZONE_EXITED);
        assert_int_equal(t.facts.exit_status, 7);

        assert_true(zone_unit_state_is_alive("activating"));
        assert_true(zone_unit_state_is_alive("deactivating"));
        assert_false(zone_unit_state_is_alive("inactive"));
        assert_false(zone_unit_state_is_alive(NULL));
}

static void test_domains_scanned(void **state) {
        ZoneView v = view(ZONE_EXITED);
        ZoneEvent e = event(ZONE_EVENT_DOMAINS_SCANNED);
        ZoneTransition t;

        /* a domain without a supervisor is orphaned, whatever was recorded */
        e.hypervisor = true;
        e.domain_found = true;
        e.domain_id = 12;
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_ORPHANED);
        assert_int_equal(t.facts.domid, 12);
        assert_true(t.warn);

        /* with its supervisor, it is just its domain */
        v = view(ZONE_RUNNING);
        v.supervisor_running = true;
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_RUNNING);
        assert_int_equal(t.facts.domid, 12);

        /* an orphan whose domain is gone failed */
        v = view(ZONE_ORPHANED);
        v.domid = 12;
        e.domain_found = false;
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_FAILED);
        assert_int_equal(t.facts.domid, 0);

        /* no hypervisor: no domain can exist */
        e.hypervisor = false;
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_FAILED);
        v = view(ZONE_RUNNING);
        v.supervisor_running = true;
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_RUNNING);
}

static void test_start(void **state) {
        ZoneView v = view(ZONE_EXITED);
        ZoneEvent e = event(ZONE_EVENT_START_ASKED);
        ZoneTransition t;

        decide(&v, &e, &t);
        assert_int_equal(t.refused, 0);
        assert_int_equal(t.state, ZONE_STARTING);
        assert_true(t.new_run);
        assert_int_equal(t.action, ZONE_ACTION_START);

        /* refused while something runs */
        v = view(ZONE_RUNNING);
        decide(&v, &e, &t);
        assert_int_equal(t.refused, -EBUSY);
        v = view(ZONE_FAILED);
        v.supervisor_running = true;
        decide(&v, &e, &t);
        assert_int_equal(t.refused, -EBUSY);
        v = view(ZONE_ORPHANED);
        decide(&v, &e, &t);
        assert_int_equal(t.refused, -EBUSY);

        v = view(ZONE_STARTING);
        e = event(ZONE_EVENT_START_FAILED);
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_FAILED);
        assert_string_equal(t.facts.result, "supervisor");
}

static void test_stop_kill(void **state) {
        ZoneView v = view(ZONE_RUNNING);
        ZoneEvent stop = event(ZONE_EVENT_STOP_ASKED), kill = event(ZONE_EVENT_KILL_ASKED);
        ZoneTransition t;

        v.supervisor_running = true;
        decide(&v, &stop, &t);
        assert_int_equal(t.action, ZONE_ACTION_STOP);
        assert_int_equal(t.state, ZONE_STOPPING);
        decide(&v, &kill, &t);
        assert_int_equal(t.action, ZONE_ACTION_KILL);
        assert_int_equal(t.state, ZONE_RUNNING);

        /* a starting zone is signalled but stays starting until it reports */
        v.state = ZONE_STARTING;
        decide(&v, &stop, &t);
        assert_int_equal(t.action, ZONE_ACTION_STOP);
        assert_int_equal(t.state, ZONE_STARTING);

        /* stopping a stopped zone does nothing */
        v = view(ZONE_EXITED);
        decide(&v, &stop, &t);
        assert_int_equal(t.action, ZONE_ACTION_NONE);
        assert_int_equal(t.state, ZONE_EXITED);

        /* an orphan is cleaned up, once */
        v = view(ZONE_ORPHANED);
        decide(&v, &kill, &t);
        assert_int_equal(t.action, ZONE_ACTION_CLEANUP);
        assert_int_equal(t.state, ZONE_ORPHANED);
        v.cleanup_running = true;
        decide(&v, &stop, &t);
        assert_int_equal(t.action, ZONE_ACTION_NONE);
}

static void test_destroy(void **state) {
        ZoneView v = view(ZONE_EXITED);
        ZoneEvent e = event(ZONE_EVENT_DESTROY_ASKED);
        ZoneTransition t;

        decide(&v, &e, &t);
        assert_true(t.remove);
        assert_int_equal(t.action, ZONE_ACTION_NONE);

        /* a running zone is killed and removed once its supervisor is gone */
        v = view(ZONE_RUNNING);
        v.supervisor_running = true;
        decide(&v, &e, &t);
        assert_false(t.remove);
        assert_true(t.remove_when_gone);
        assert_int_equal(t.action, ZONE_ACTION_KILL);

        /* an orphan is cleaned up first */
        v = view(ZONE_ORPHANED);
        decide(&v, &e, &t);
        assert_false(t.remove);
        assert_true(t.remove_when_gone);
        assert_int_equal(t.action, ZONE_ACTION_CLEANUP);
}

static void test_cleanup_exited(void **state) {
        ZoneView v = view(ZONE_ORPHANED);
        ZoneEvent e = event(ZONE_EVENT_CLEANUP_EXITED);
        ZoneTransition t;

        /* Stop or Kill: the cleaned-up orphan failed (its supervisor did) */
        e.success = true;
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_FAILED);
        assert_false(t.remove);

        /* Destroy: removed */
        v.remove_when_gone = true;
        decide(&v, &e, &t);
        assert_true(t.remove);

        /* a failed cleanup leaves the orphan for another try */
        e.success = false;
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_ORPHANED);
        assert_false(t.remove);
        assert_false(t.remove_when_gone);
}

static void test_registered(void **state) {
        ZoneView v = view(ZONE_CREATED);
        ZoneEvent e = event(ZONE_EVENT_REGISTERED);
        ZoneTransition t;

        /* started by systemctl, not by us: followed from now on */
        e.facts.uuid = "0123abcd-0000-4000-8000-00000000abcd";
        e.pid = 4242;
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_STARTING);
        assert_int_equal(t.action, ZONE_ACTION_FOLLOW);
        assert_string_equal(t.facts.uuid, e.facts.uuid);

        v = view(ZONE_STARTING);
        v.supervisor_running = true;
        decide(&v, &e, &t);
        assert_int_equal(t.state, ZONE_STARTING);
        assert_int_equal(t.action, ZONE_ACTION_NONE);
}

/* Every event on every state gives a state the zone can be in, along the
 * state machine except where recovery decides. */
static void test_every_event(void **state) {
        for (int s = 0; s < _ZONE_STATE_MAX; s++)
                for (int ev = 0; ev < _ZONE_EVENT_MAX; ev++)
                        for (int running = 0; running < 2; running++) {
                                ZoneView v = view((ZoneState) s);
                                ZoneEvent e = event((ZoneEventType) ev);
                                ZoneTransition t;

                                v.supervisor_running = running;
                                e.unit_state = "inactive";
                                decide(&v, &e, &t);
                                assert_non_null(zone_event_type_to_string((ZoneEventType) ev));
                                assert_true(t.state >= 0 && t.state < _ZONE_STATE_MAX);
                                if (t.refused < 0)
                                        assert_int_equal(t.state, s);
                                /* only recovery and the domain list may skip the table */
                                if (ev != ZONE_EVENT_RECORD_READ && ev != ZONE_EVENT_DOMAINS_SCANNED)
                                        assert_true(zone_state_transition_valid((ZoneState) s, t.state));
                        }
}

static void test_record_facts(void **state) {
        ZoneRecord r = { .name = "web", .uuid = "0123abcd-0000-4000-8000-00000000abcd", .state = ZONE_RUNNING,
                         .domid = -1, .exit_status = -1, .kernel = "6.1" };
        ZoneFacts f;

        zone_facts_from_record(&r, &f);
        assert_int_equal(f.state, ZONE_RUNNING);
        assert_int_equal(f.domid, -1);
        assert_int_equal(f.exit_status, -1);
        assert_string_equal(f.uuid, r.uuid);
        assert_string_equal(f.kernel, "6.1");
        assert_null(f.result);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reported),
                cmocka_unit_test(test_record_read),
                cmocka_unit_test(test_supervisor_gone),
                cmocka_unit_test(test_unit_changed),
                cmocka_unit_test(test_domains_scanned),
                cmocka_unit_test(test_start),
                cmocka_unit_test(test_stop_kill),
                cmocka_unit_test(test_destroy),
                cmocka_unit_test(test_cleanup_exited),
                cmocka_unit_test(test_registered),
                cmocka_unit_test(test_every_event),
                cmocka_unit_test(test_record_facts),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
