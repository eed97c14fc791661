/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholders for the console verbs; krata-consoled's console.c replaces
 * this file (weak, so a strong definition elsewhere also wins). */
#include "kratactl.h"
#include "log.h"

__attribute__((weak)) int verb_zone_attach(int argc, char *argv[]) {
        log_error("'kratactl zone attach' is not available in this build yet (needs krata-consoled).");
        return EXIT_UNAVAILABLE;
}

__attribute__((weak)) int verb_zone_logs(int argc, char *argv[]) {
        log_error("'kratactl zone logs' is not available in this build yet (needs krata-consoled).");
        return EXIT_UNAVAILABLE;
}
