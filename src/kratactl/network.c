/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "kratactl.h"
#include "log.h"

/* Placeholder until the network commands land: say so plainly, never pretend. */
static int not_yet(int argc, char *argv[]) {
        log_error("'kratactl network %s' is not available in this build yet.", argv[0]);
        return EXIT_UNAVAILABLE;
}

int verb_network(int argc, char *argv[]) {
        static const char *const names[] = { "list" };
        Verb verbs[ELEMENTSOF(names) + 1] = {};

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                verbs[i] = (Verb) { names[i], 1, -1, not_yet, "(not available yet)" };
        return dispatch_verb("network", verbs, argc, argv);
}
