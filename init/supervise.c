/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
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

#include "guest-protocol.h"
#include "launch-spec.h"
#include "log.h"
#include "string-util.h"
#include "supervise.h"

/* What the child sends back when it fails before exec: the stage as
 * krata-init reports it, and errno. */
typedef struct ChildError {
        GuestFailure stage;
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
        _cleanup_strv_free_ char **env = NULL;

        assert(s);
        assert(c);
        assert(ret);

        env = strv_copy(s->env);
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

static _noreturn_ void child_fail(int fd, GuestFailure stage, int error) {
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
                        child_fail(errfd, GUEST_FAILURE_TTY, errno);
                if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                        child_fail(errfd, GUEST_FAILURE_TTY, errno);
                if (fd > 2)
                        close(fd);
        }
        umask((mode_t) s->umask);
        if (setgroups(c->n_groups, c->groups) < 0 || setresgid(c->gid, c->gid, c->gid) < 0 ||
            setresuid(c->uid, c->uid, c->uid) < 0)
                child_fail(errfd, GUEST_FAILURE_USER, errno);
        if (chdir(s->cwd ?: "/") < 0)
                child_fail(errfd, GUEST_FAILURE_CWD, errno);
        /* execvp searches the PATH of environ, so that must be the process's. */
        environ = env;
        execvp(s->argv[0], s->argv);
        child_fail(errfd, GUEST_FAILURE_EXEC, errno);
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

/* Blocks SIGCHLD and the forwarded signals and makes them events, so one
 * poll serves them and the watch. */
static int signals_take(sigset_t *ret_old, int *ret_fd) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                sigaddset(&mask, forwarded[i]);
        if (sigprocmask(SIG_BLOCK, &mask, ret_old) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        *ret_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (*ret_fd < 0)
                return log_error_errno(errno, "signalfd failed: %m");
        return 0;
}

/* Forks the process and waits until it runs: its PID, or a negative errno
 * with ret saying which stage failed. */
static pid_t process_start(const LaunchSpec *s, const UserCreds *c, char **env, const char *console, int console_fd,
                           SuperviseResult *ret) {
        static const char *const what[_GUEST_FAILURE_MAX] = {
                [GUEST_FAILURE_USER] = "switch to the user", [GUEST_FAILURE_CWD] = "enter the working directory",
                [GUEST_FAILURE_EXEC] = "execute", [GUEST_FAILURE_TTY] = "take the console as a controlling TTY",
        };
        ChildError ce = {};
        int pipefd[2];
        ssize_t n;
        pid_t pid;

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
        if (n != (ssize_t) sizeof ce) {
                log_debug("Started %s as PID %d.", s->argv[0], (int) pid);
                return pid;
        }
        (void) waitpid(pid, NULL, 0);
        log_error_errno(ce.error, "Failed to %s for '%s': %m", what[ce.stage], s->argv[0]);
        ret->failure = ce.stage;
        ret->exit_code = ce.stage == GUEST_FAILURE_EXEC && ce.error == ENOENT ? KRATA_INIT_EXIT_NOT_FOUND
                                                                             : guest_failure_exit_code(ce.stage);
        return -ERRNO_VALUE(ce.error ?: EIO);
}

/* Forwards signals to the process and reaps every child (orphans are
 * re-parented to us) until the process has exited: its wait status. */
static int process_wait(pid_t pid, int sfd, SuperviseWatch *watch, int *ret_status) {
        for (;;) {
                int sig = wait_signal(sfd, watch);
                pid_t p;

                if (sig < 0)
                        return sig;
                if (sig != SIGCHLD) {
                        (void) kill(pid, sig);
                        continue;
                }
                while ((p = waitpid(-1, ret_status, WNOHANG)) > 0)
                        if (p == pid)
                                return 0;
        }
}

int supervise_run(const LaunchSpec *s, const UserCreds *c, const char *console, int console_fd,
                  SuperviseWatch *watch, SuperviseResult *ret) {
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_close_ int sfd = -EBADF;
        sigset_t old;
        int r, status = 0;
        pid_t pid;

        assert(s);
        assert(c);
        assert(ret);

        *ret = (SuperviseResult) { guest_failure_exit_code(GUEST_FAILURE_SUPERVISE), GUEST_FAILURE_SUPERVISE };
        r = supervise_build_env(s, c, &env);
        if (r < 0)
                return log_oom();
        r = signals_take(&old, &sfd);
        if (r < 0)
                return r;
        pid = process_start(s, c, env, console, console_fd, ret);
        if (pid < 0)
                return pid;
        r = process_wait(pid, sfd, watch, &status);
        if (r < 0)
                return r;
        ret->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;

        /* The zone ends with its process: ask the rest to go, then insist. */
        stop_all(SIGTERM, 1000);
        stop_all(SIGKILL, 1000);
        (void) sigprocmask(SIG_SETMASK, &old, NULL);
        return 0;
}
