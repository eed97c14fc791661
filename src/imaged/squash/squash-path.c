/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "squash-path.h"
#include "string-util.h"

int squash_path_normalize(const char *name, char **ret, const char **ret_reason) {
        _cleanup_free_ char *out = NULL;
        const char *reason = NULL;
        size_t n = 0, len;
        int r;

        assert(ret);

        if (!name) {
                reason = "missing name";
                r = -EINVAL;
                goto fail;
        }
        len = strlen(name);
        if (len > SQUASH_PATH_MAX) {
                reason = "name longer than 4095 bytes";
                r = -ENAMETOOLONG;
                goto fail;
        }
        if (name[0] == '/') {
                reason = "absolute name";
                r = -EINVAL;
                goto fail;
        }
        out = malloc(len + 1);
        if (!out)
                return -ENOMEM;

        for (const char *p = name; *p;) {
                size_t l = strcspn(p, "/");

                if (l == 0 || (l == 1 && p[0] == '.'))
                        ; /* "//" or "/./": nothing */
                else if (l == 2 && p[0] == '.' && p[1] == '.') {
                        reason = "\"..\" component";
                        r = -EINVAL;
                        goto fail;
                } else if (l > SQUASH_NAME_MAX) {
                        reason = "component longer than 255 bytes";
                        r = -ENAMETOOLONG;
                        goto fail;
                } else {
                        if (n > 0)
                                out[n++] = '/';
                        memcpy(out + n, p, l);
                        n += l;
                }
                p += l;
                if (*p == '/')
                        p++;
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
fail:
        if (ret_reason)
                *ret_reason = reason;
        return r;
}

int squash_path_whiteout(const char *path, SquashWhiteout *ret_kind, char **ret_target) {
        const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path, *rest;
        size_t dirlen = slash ? (size_t) (slash - path) : 0;
        char *t;

        assert(path);
        assert(ret_kind);
        assert(ret_target);

        *ret_target = NULL;
        rest = startswith(base, ".wh.");
        if (!rest) {
                *ret_kind = SQUASH_WHITEOUT_NONE;
                return 0;
        }
        if (streq(rest, ".wh..opq")) {
                t = strndup(path, dirlen);
                if (!t)
                        return -ENOMEM;
                *ret_target = t;
                *ret_kind = SQUASH_WHITEOUT_OPAQUE;
                return 0;
        }
        if (startswith(rest, ".wh.")) {
                *ret_kind = SQUASH_WHITEOUT_IGNORED;
                return 0;
        }
        if (isempty(rest) || streq(rest, ".") || streq(rest, "..")) {
                *ret_kind = SQUASH_WHITEOUT_INVALID;
                return 0;
        }

        if (asprintf_safe(&t, "%.*s%s%s", (int) dirlen, path, slash ? "/" : "", rest) < 0)
                return -ENOMEM;
        *ret_target = t;
        *ret_kind = SQUASH_WHITEOUT_FILE;
        return 0;
}

bool squash_xattr_name_supported(const char *name) {
        assert(name);

        return startswith(name, "user.") || startswith(name, "trusted.") ||
               startswith(name, "security.");
}
