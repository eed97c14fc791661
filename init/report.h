/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Where init tells the host how things went: xenstore (the real path) or,
 * in test mode, a file of KEY=VALUE lines. */
void report_set_file(int fd);
void report_status(const char *status);
void report_exit_code(int code);
