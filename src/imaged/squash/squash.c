/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs-util.h"
#include "merge.h"
#include "sqfs-out.h"
#include "squash.h"
#include "string-util.h"
#include "tree.h"

/* "WHAT: strerror(r)" into *ret_error unless an error is already there. */
_printf_(3, 4)
static int set_error(char **ret_error, int r, const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;

        if (ret_error && !*ret_error) {
                va_start(ap, fmt);
                if (vasprintf(&what, fmt, ap) < 0)
                        what = NULL;
                va_end(ap);
                if (asprintf(ret_error, "%s: %s", what ?: "error", strerror(ERRNO_VALUE(r))) < 0)
                        *ret_error = NULL;
        }
        return -ERRNO_VALUE(r);
}

static unsigned default_workers(void) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        return n < 1 ? 1 : n > 64 ? 64 : (unsigned) n;
}

int squash_layers(const SquashLayer *layers, size_t n, const char *output, const SquashOptions *opts,
                  char **ret_error) {
        _cleanup_free_ char *tmp = NULL, *error = NULL;
        _cleanup_close_ int fd = -EBADF;
        SqfsOut *out = NULL;
        Tree *tree = NULL;
        int level = opts && opts->compression_level > 0 ? opts->compression_level : SQUASH_DEFAULT_LEVEL;
        unsigned workers = opts && opts->workers > 0 ? MIN(opts->workers, 64U) : default_workers();
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (isempty(output) || (n > 0 && !layers))
                return set_error(ret_error, EINVAL, "invalid arguments");
        if (level < 1 || level > 22)
                return set_error(ret_error, EINVAL, "zstd level %d is not in 1..22", level);

        r = tempfn_random(output, &tmp);
        if (r < 0)
                return set_error(ret_error, r, "temporary name for %s", output);
        fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
                return set_error(ret_error, errno, "creating %s", tmp);

        r = sqfs_out_new(fd, level, workers, &out);
        if (r < 0) {
                set_error(&error, r, "starting squashfs %s", output);
                goto fail;
        }
        r = tree_new(&tree);
        if (r < 0) {
                set_error(&error, r, "creating the tree");
                goto fail;
        }
        r = merge_layers(layers, n, tree, out, opts ? opts->progress : NULL, opts ? opts->userdata : NULL, &error);
        if (r < 0)
                goto fail;
        r = sqfs_out_finish(out, tree);
        if (r < 0) {
                const char *s = sqfs_out_strerror(out, r);
                r = sqfs_out_errno(out, r);
                if (asprintf(&error, "writing squashfs %s: %s", output, s) < 0)
                        error = NULL;
                goto fail;
        }
        /* Worker threads are done; the file is complete. */
        out = sqfs_out_free(out);
        tree = tree_free(tree);

        if (fsync(fd) < 0) {
                r = set_error(&error, errno, "fsync %s", tmp);
                goto fail;
        }
        if (rename(tmp, output) < 0) {
                r = set_error(&error, errno, "renaming to %s", output);
                goto fail;
        }
        (void) fsync_directory_of(output);
        return 0;

fail:
        /* The processor joins its threads before the tree (whose inodes
         * they update) goes away. */
        sqfs_out_free(out);
        tree_free(tree);
        (void) unlink(tmp);
        if (r >= 0)
                r = -EIO;
        if (ret_error)
                *ret_error = TAKE_PTR(error) ?: strdup(strerror(ERRNO_VALUE(r)));
        return r;
}
