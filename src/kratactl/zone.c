/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "kratactl.h"
#include "log.h"

/* Placeholder until the zone commands land: say so plainly, never pretend. */
static int not_yet(int argc, char *argv[]) {
        log_error("'kratactl zone %s' is not available in this build yet.", argv[0]);
        return EXIT_UNAVAILABLE;
}

int verb_zone(int argc, char *argv[]) {
        static const char *const names[] = { "launch", "list", "inspect", "stop", "destroy", "attach", "logs", "watch" };
        Verb verbs[ELEMENTSOF(names) + 1] = {};

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                verbs[i] = (Verb) { names[i], 1, -1, not_yet, "(not available yet)" };
        verbs[5] = (Verb) { "attach", 2, -1, verb_zone_attach, "attach the terminal to a zone's console (Ctrl+] detaches)" };
        verbs[6] = (Verb) { "logs", 2, -1, verb_zone_logs, "print a zone's console log; -f follows it" };
        return dispatch_verb("zone", verbs, argc, argv);
}
