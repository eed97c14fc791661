/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "string-util.h"
#include "util.h"

extern char **environ;

int run_program(char *const argv[], bool show_output) {
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int r, status;

        assert(argv);
        assert(argv[0]);

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (!show_output)
                posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return log_error_errno(r, "Failed to run %s: %m", argv[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "Failed to wait for %s: %m", argv[0]);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        _cleanup_free_ char *cmd = strv_join((char **) argv, " ");
        return log_error_errno(SYNTHETIC_ERRNO(EPROTO), "'%.300s' failed (status %d).", strempty(cmd),
                               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}
