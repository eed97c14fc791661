/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

/* Bounds on names from layer tar headers (Linux's PATH_MAX and NAME_MAX; a
 * squashfs directory entry holds at most 256 bytes of name). */
#define SQUASH_PATH_MAX 4095
#define SQUASH_NAME_MAX 255

/* Normalises a tar member name to a relative path without "." or empty
 * components and without a trailing slash; the root directory becomes "".
 * Leading "./" is accepted (most tar writers emit it). Absolute names and any
 * ".." component are refused (-EINVAL), as are over-long names
 * (-ENAMETOOLONG). *ret_reason gets a static explanation on failure. */
int squash_path_normalize(const char *name, char **ret, const char **ret_reason);

typedef enum SquashWhiteout {
        SQUASH_WHITEOUT_NONE,    /* an ordinary entry */
        SQUASH_WHITEOUT_FILE,    /* ".wh.NAME": NAME is deleted from lower layers */
        SQUASH_WHITEOUT_OPAQUE,  /* ".wh..wh..opq": the directory's lower contents are hidden */
        SQUASH_WHITEOUT_IGNORED, /* other ".wh..wh." names (aufs metadata such as .wh..wh.plnk) */
        SQUASH_WHITEOUT_INVALID, /* ".wh." with nothing after it, or naming "." or ".." */
} SquashWhiteout;

/* Classifies a normalised path into *ret_kind. For FILE, *ret_target is the
 * deleted path; for OPAQUE, the directory's path (both malloc'd). */
int squash_path_whiteout(const char *path, SquashWhiteout *ret_kind, char **ret_target);

/* squashfs stores only user., trusted. and security. xattrs. */
bool squash_xattr_name_supported(const char *name);
