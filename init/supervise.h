/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "guest-protocol.h"
#include "launch-spec.h"
#include "user.h"

typedef struct SuperviseResult {
        int exit_code;        /* WEXITSTATUS, or 128+signal; krata-init's own when it failed */
        GuestFailure failure; /* when supervise_run() failed: where (exec, cwd, user, tty, supervise) */
} SuperviseResult;

/* An extra event source for the supervising loop (the window size watch):
 * dispatch runs when fd is readable; when it fails, the fd is dropped from
 * the loop (the process runs on). */
typedef struct SuperviseWatch {
        int fd; /* < 0: none */
        int (*dispatch)(int fd, void *userdata);
        void *userdata;
} SuperviseWatch;

/* Builds the process's environment: the spec's, plus HOME from the user and
 * TERM for a TTY when the image did not set them. */
int supervise_build_env(const LaunchSpec *s, const UserCreds *c, char ***ret);

/* Forks the container process (own session; on the console as its
 * controlling TTY when s->tty: console_fd if >= 0, else the path console),
 * with the user's credentials, cwd, umask and env, then acts as PID 1: reaps
 * every child, forwards SIGTERM/SIGINT/SIGHUP to the process, serves watch
 * (may be NULL), and once the process has exited stops the stragglers. */
int supervise_run(const LaunchSpec *s, const UserCreds *c, const char *console, int console_fd,
                  SuperviseWatch *watch, SuperviseResult *ret);
