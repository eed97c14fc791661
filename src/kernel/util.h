/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

/* Runs argv[0] (PATH search) with stdin from /dev/null and stdout to
 * /dev/null unless show_output; returns 0 on exit 0, else -EPROTO after
 * logging the command and its status. */
int run_program(char *const argv[], bool show_output);

