/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Runs argv[0] (PATH search) with stdin from /dev/null and stdout to
 * /dev/null unless show_output; returns 0 on exit 0, else -EPROTO after
 * logging the command and its status. */
int run_program(char *const argv[], bool show_output);

/* sha256 of a file / of memory, as 64 lowercase hex digits (+NUL). */
int sha256_file(const char *path, char ret[static 65]);
/* Hashes what in_fd holds from offset 0 (pread: the offset is left alone),
 * writing it to out_fd too unless that is negative; -EFBIG beyond max bytes. */
int sha256_copy_fd(int in_fd, int out_fd, uint64_t max, char ret[static 65], uint64_t *ret_size);
void sha256_buffer(const void *data, size_t size, char ret[static 65]);
