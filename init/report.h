/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "guest-protocol.h"

/* Where init tells the host how things went (krata/status, krata/exit-code):
 * xenstore (the real path) or, in test mode, a file of KEY=VALUE lines. */
void report_set_file(int fd);
/* The failure counts only with GUEST_FAILED. */
void report_status(GuestStatus status, GuestFailure failure);
void report_exit_code(int code);
