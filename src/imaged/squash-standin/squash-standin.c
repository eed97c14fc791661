/* SPDX-License-Identifier: Apache-2.0 */
/* Stand-in for src/imaged/squash/ until it is merged: one layer, no
 * whiteouts, through tar2sqfs. Not for production (see meson.build). */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "fs-util.h"
#include "macro.h"
#include "squash.h"
#include "string-util.h"

extern char **environ;

int squash_layers(const SquashLayer *layers, size_t n, const char *output, const SquashOptions *opts,
                  char **ret_error) {
        _cleanup_free_ char *tmp = NULL, *cmd = NULL;
        const char *cat;
        pid_t pid;
        int r, status;

        if (n != 1) {
                asprintf_safe(ret_error, "the squash stand-in converts single-layer images only (%zu layers)", n);
                return -EOPNOTSUPP;
        }
        cat = endswith(layers[0].media_type, "+zstd") ? "zstdcat" :
              endswith(layers[0].media_type, "gzip") ? "zcat" : "cat";
        r = tempfn_random(output, &tmp);
        if (r < 0)
                return r;
        r = asprintf_safe(&cmd, "%s \"$1\" | tar2sqfs -q -f -c zstd -X level=%d \"$2\" >/dev/null",
                          cat, opts && opts->compression_level > 0 ? opts->compression_level : 3);
        if (r < 0)
                return r;
        char *argv[] = { "sh", "-c", cmd, "sh", (char *) layers[0].path, tmp, NULL };
        r = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);
        if (r != 0)
                return -r;
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                unlink(tmp);
                asprintf_safe(ret_error, "tar2sqfs failed on layer %s", layers[0].path);
                return -EBADMSG;
        }
        if (opts && opts->progress)
                (void) opts->progress(layers[0].size, layers[0].size, opts->userdata);
        if (rename(tmp, output) < 0) {
                r = -errno;
                unlink(tmp);
                return r;
        }
        return 0;
}
