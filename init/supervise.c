/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launch-spec.h"
#include "log.h"
#include "string-util.h"
#include "supervise.h"

enum { STAGE_USER = 1, STAGE_CWD, STAGE_EXEC, STAGE_TTY };

typedef struct ChildError {
        int stage;
        int error;
} ChildError;

static bool env_has(char *const *env, const char *key) {
        size_t k = strlen(key);
        STRV_FOREACH(e, env)
                if (strneq(*e, key, k) && (*e)[k] == '=')
                        return true;
        return false;
}

int supervise_build_env(const LaunchSpec *s, const UserCreds *c, char ***ret) {
        _cleanup_strv_free_ char **env = strv_copy(s->env);

        if (!env)
                return -ENOMEM;
        if (!env_has(env, "PATH") && strv_extend(&env, LAUNCH_DEFAULT_PATH) < 0)
                return -ENOMEM;
        if (!env_has(env, "HOME") && strv_consume(&env, strjoin("HOME=", c->home ?: "/")) < 0)
                return -ENOMEM;
        if (s->hostname && !env_has(env, "HOSTNAME") && strv_consume(&env, strjoin("HOSTNAME=", s->hostname)) < 0)
                return -ENOMEM;
        if (s->tty && !env_has(env, "TERM") && strv_extend(&env, "TERM=xterm") < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(env);
        return 0;
}

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP };

static _noreturn_ void child_fail(int fd, int stage, int error) {
        ChildError e = { stage, error };
        (void) !write(fd, &e, sizeof e);
        _exit(127);
}

static _noreturn_ void child(const LaunchSpec *s, const UserCreds *c, char **env, const char *console, int console_fd,
                             int errfd) {
        extern char **environ;
        sigset_t none;

        sigemptyset(&none);
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                signal(forwarded[i], SIG_DFL);
        sigprocmask(SIG_SETMASK, &none, NULL);

        (void) setsid();
        if (s->tty) {
                int fd = console_fd >= 0 ? console_fd : open(console, O_RDWR | O_NOCTTY);
                if (fd < 0 || ioctl(fd, TIOCSCTTY, 1) < 0)
                        child_fail(errfd, STAGE_TTY, errno);
                if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                        child_fail(errfd, STAGE_TTY, errno);
                if (fd > 2)
                        close(fd);
        }
        umask((mode_t) s->umask);
        if (setgroups(c->n_groups, c->groups) < 0 || setresgid(c->gid, c->gid, c->gid) < 0 ||
            setresuid(c->uid, c->uid, c->uid) < 0)
                child_fail(errfd, STAGE_USER, errno);
        if (chdir(s->cwd ?: "/") < 0)
                child_fail(errfd, STAGE_CWD, errno);
        /* execvp searches the PATH of environ, so that must be the process's. */
        environ = env;
        execvp(s->argv[0], s->argv);
        child_fail(errfd, STAGE_EXEC, errno);
}

/* Signals every process but us, then reaps until none is left or the grace
 * period is over. */
static void stop_all(int sig, unsigned grace_ms) {
        sigset_t chld;
        struct timespec ts = { .tv_nsec = 50 * 1000 * 1000 };

        (void) kill(-1, sig);
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        for (unsigned waited = 0; waited < grace_ms; waited += 50) {
                pid_t p;
                while ((p = waitpid(-1, NULL, WNOHANG)) > 0)
                        ;
                if (p < 0 && errno == ECHILD)
                        return;
                (void) sigtimedwait(&chld, NULL, &ts);
        }
}

/* Waits for the next signal in mask (blocked), serving the watch meanwhile. */
static int wait_signal(int sfd, SuperviseWatch *watch) {
        for (;;) {
                struct pollfd p[2] = {
                        { .fd = sfd, .events = POLLIN },
                        { .fd = watch ? watch->fd : -1, .events = POLLIN },
                };
                struct signalfd_siginfo si;
                ssize_t n;

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "poll failed: %m");
                }
                if (p[1].revents) {
                        int r = (p[1].revents & POLLIN) ? watch->dispatch(watch->fd, watch->userdata) : -EPIPE;
                        if (r < 0) {
                                log_warning_errno(r, "Event source failed, no longer watching it: %m");
                                watch->fd = -1; /* still the owner's to close */
                        }
                }
                if (!(p[0].revents & POLLIN))
                        continue;
                n = read(sfd, &si, sizeof si);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n != (ssize_t) sizeof si)
                        return log_error_errno(n < 0 ? errno : EIO, "Reading a signal failed: %m");
                return (int) si.ssi_signo;
        }
}

int supervise_run(const LaunchSpec *s, const UserCreds *c, const char *console, int console_fd,
                  SuperviseWatch *watch, SuperviseResult *ret) {
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_close_ int sfd = -EBADF;
        sigset_t mask, old;
        int pipefd[2], r, status = 0;
        ChildError ce = {};
        ssize_t n;
        pid_t pid;

        r = supervise_build_env(s, c, &env);
        if (r < 0)
                return log_oom();

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                sigaddset(&mask, forwarded[i]);
        if (sigprocmask(SIG_BLOCK, &mask, &old) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        /* Signals as events, so one poll serves them and the watch. */
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0)
                return log_error_errno(errno, "signalfd failed: %m");
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return log_error_errno(errno, "Failed to create a pipe: %m");

        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "Failed to fork: %m");
        if (pid == 0) {
                close(pipefd[0]);
                child(s, c, env, console, console_fd, pipefd[1]);
        }
        close(pipefd[1]);
        /* exec closes the write end: EOF means the process is running. */
        do
                n = read(pipefd[0], &ce, sizeof ce);
        while (n < 0 && errno == EINTR);
        close(pipefd[0]);

        if (n == (ssize_t) sizeof ce) {
                static const char *const what[] = {
                        [STAGE_USER] = "switch to the user", [STAGE_CWD] = "enter the working directory",
                        [STAGE_EXEC] = "execute", [STAGE_TTY] = "take the console as a controlling TTY",
                };
                (void) waitpid(pid, NULL, 0);
                log_error_errno(ce.error, "Failed to %s for '%s': %m", ce.stage >= STAGE_USER && ce.stage <= STAGE_TTY ? what[ce.stage] : "start", s->argv[0]);
                switch (ce.stage) {
                case STAGE_USER:
                        *ret = (SuperviseResult) { KRATA_INIT_EXIT_USER, "user" };
                        break;
                case STAGE_CWD:
                        *ret = (SuperviseResult) { KRATA_INIT_EXIT_CWD, "cwd" };
                        break;
                case STAGE_TTY:
                        *ret = (SuperviseResult) { KRATA_INIT_EXIT_SETUP, "tty" };
                        break;
                default:
                        *ret = (SuperviseResult) { ce.error == ENOENT ? KRATA_INIT_EXIT_NOT_FOUND : KRATA_INIT_EXIT_NOT_EXECUTABLE,
                                                   "exec" };
                }
                return -ERRNO_VALUE(ce.error ?: EIO);
        }

        log_debug("Started %s as PID %d.", s->argv[0], (int) pid);
        for (;;) {
                int sig = wait_signal(sfd, watch);
                pid_t p;
                bool done = false;

                if (sig < 0)
                        return sig;
                if (sig != SIGCHLD) {
                        (void) kill(pid, sig);
                        continue;
                }
                /* Reap everything: orphans are re-parented to us. */
                while ((p = waitpid(-1, &status, WNOHANG)) > 0)
                        if (p == pid) {
                                done = true;
                                break;
                        }
                if (done)
                        break;
        }

        if (WIFEXITED(status))
                ret->exit_code = WEXITSTATUS(status);
        else if (WIFSIGNALED(status))
                ret->exit_code = 128 + WTERMSIG(status);
        else
                ret->exit_code = 255;
        ret->failure = NULL;

        /* The zone ends with its process: ask the rest to go, then insist. */
        stop_all(SIGTERM, 1000);
        stop_all(SIGKILL, 1000);
        (void) sigprocmask(SIG_SETMASK, &old, NULL);
        return 0;
}
