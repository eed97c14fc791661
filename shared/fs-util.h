/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Writes data to path atomically: a temp file beside it, fsync, rename, fsync
 * of the directory. Readers see the old file or the new one, never a part. */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);
int write_string_file_atomic(const char *path, const char *s, mode_t mode);
/* Reads a whole file; refuses files larger than max_size with -EFBIG. */
int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size);
int mkdir_p(const char *path, mode_t mode);
/* Removes a tree, not crossing mount points; missing is fine. */
int rm_rf(const char *path);
int fsync_directory_of(const char *path);
/* Creates a fresh temp path "DIR/.#NAMEXXXXXX" for atomically replacing path. */
int tempfn_random(const char *path, char **ret);
