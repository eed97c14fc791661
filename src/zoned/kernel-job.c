/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json-util.h"
#include "kernel-job.h"
#include "kernel-store.h"
#include "log.h"
#include "string-util.h"
#include "time-util.h"

/* Bounded: under QEMU TCG an install (copy, inflate, initrd) takes seconds;
 * a worker stuck on hostile input must not hold the queue for ever. */
#define KERNEL_JOB_TIMEOUT_USEC (10ULL * 60ULL * USEC_PER_SEC)
#define KERNEL_RESULT_MAX (16U * 1024U)

struct KernelJob {
        Manager *manager;
        KernelJob *next;
        KernelJobType type;
        int fds[KERNEL_JOB_FDS];
        sd_bus_message *request;
        pid_t pid;
        int result_fd; /* read end of the worker's result pipe */
        sd_event_source *child_source, *timer_source;
};

static KernelJob *kernel_job_free(KernelJob *j) {
        if (!j)
                return NULL;
        for (size_t i = 0; i < KERNEL_JOB_FDS; i++)
                safe_close(j->fds[i]);
        safe_close(j->result_fd);
        if (j->child_source) {
                /* zoned is exiting: the worker goes with it */
                (void) kill(j->pid, SIGKILL);
                (void) waitpid(j->pid, NULL, 0);
        }
        sd_event_source_disable_unref(j->child_source);
        sd_event_source_disable_unref(j->timer_source);
        sd_bus_message_unref(j->request);
        return mfree(j);
}

/* ---- the worker process ---- */

static void worker_drop_capabilities(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

        /* It reads files its caller opened and writes only krata's own
         * directories, which root owns. */
        if (syscall(SYS_capset, &h, d) < 0)
                log_warning_errno(errno, "Kernel worker cannot drop its capabilities: %m");
}

/* Everything but stdio, the job's files and the result pipe: the worker
 * must not keep zoned's bus connection (and name) alive. */
static void worker_close_fds(const KernelJob *j, int result_fd) {
        int keep[KERNEL_JOB_FDS + 1], n = 0, from = 3;

        keep[n++] = result_fd;
        for (size_t i = 0; i < KERNEL_JOB_FDS; i++)
                if (j->fds[i] >= 0)
                        keep[n++] = j->fds[i];
        for (int i = 1; i < n; i++) /* sort, few */
                for (int k = i; k > 0 && keep[k - 1] > keep[k]; k--) {
                        int t = keep[k];
                        keep[k] = keep[k - 1];
                        keep[k - 1] = t;
                }
        for (int i = 0; i < n; i++) {
                if (keep[i] > from)
                        (void) close_range((unsigned) from, (unsigned) keep[i] - 1, 0);
                from = keep[i] + 1;
        }
        (void) close_range((unsigned) from, ~0U, 0);
}

static int worker_run(const KernelJob *j, KernelPrepared *p) {
        _cleanup_(kernel_source_done) KernelSource src = {};
        int r;

        switch (j->type) {
        case KERNEL_JOB_INSTALL_DEFAULT:
                return kernel_install_default(j->fds[0], j->fds[1], NULL, p);
        case KERNEL_JOB_PREPARE_DEFAULT:
                r = kernel_source_default(&src);
                if (r == -ENOENT)
                        return log_error_errno(r, "No system default zone kernel; see 'kratactl kernel install-default'.");
                if (r < 0)
                        return r;
                return kernel_prepare(&src, NULL, p);
        case KERNEL_JOB_PREPARE_FILES:
                return kernel_prepare_fds(j->fds[0], j->fds[1], j->fds[2], NULL, p);
        case KERNEL_JOB_PREPARE_SQUASHFS:
                return kernel_prepare_squashfs_fd(j->fds[0], NULL, p);
        }
        return -EINVAL;
}

static int add_string(json_object *o, const char *key, const char *v) {
        json_object *s;

        if (!v)
                return 0;
        s = json_object_new_string(v);
        if (!s || json_object_object_add(o, key, s) < 0)
                return -ENOMEM;
        return 0;
}

/* The result: {"errno": N, "error": "..."} or the prepared kernel. */
static const char *worker_result(int r, const KernelPrepared *p, json_object *o) {
        _cleanup_free_ char *cmdline = NULL;

        if (r >= 0 && kernel_prepared_cmdline(p, &cmdline) < 0)
                r = -ENOMEM;
        if (r >= 0 && (add_string(o, KERNEL_PREPARED_KERNEL, p->kernel) < 0 ||
                       add_string(o, KERNEL_PREPARED_IMAGE, p->image) < 0 ||
                       add_string(o, KERNEL_PREPARED_INITRD, p->initrd) < 0 ||
                       add_string(o, KERNEL_PREPARED_ADDONS, p->addons) < 0 ||
                       add_string(o, KERNEL_PREPARED_RELEASE, p->release) < 0 ||
                       add_string(o, KERNEL_PREPARED_DIGEST, p->digest) < 0 ||
                       add_string(o, KERNEL_PREPARED_CMDLINE, cmdline) < 0))
                r = -ENOMEM;
        if (r < 0 && (json_object_object_add(o, "errno", json_object_new_int(-r)) < 0 ||
                      add_string(o, "error", isempty(log_last_error()) ? strerror(-r) : log_last_error()) < 0))
                return NULL;
        return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static _noreturn_ void worker_main(const KernelJob *j, int result_fd) {
        _cleanup_(kernel_prepared_done) KernelPrepared p = {};
        _cleanup_json_ json_object *o = NULL;
        sigset_t none;
        const char *text;
        int r;

        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        worker_close_fds(j, result_fd);
        worker_drop_capabilities();

        r = worker_run(j, &p);
        o = json_object_new_object();
        text = o ? worker_result(r, &p, o) : NULL;
        if (text && strlen(text) < KERNEL_RESULT_MAX)
                (void) write(result_fd, text, strlen(text));
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

/* ---- in krata-zoned ---- */

static void jobs_advance(Manager *m);

static void job_done(KernelJob *j) {
        Manager *m = j->manager;

        assert(m->kernel_jobs == j);
        m->kernel_jobs = j->next;
        kernel_job_free(j);
        jobs_advance(m);
}

static int reply_prepared(sd_bus_message *request, json_object *o) {
        static const char *const keys[] = {
                KERNEL_PREPARED_KERNEL, KERNEL_PREPARED_IMAGE, KERNEL_PREPARED_INITRD, KERNEL_PREPARED_ADDONS,
                KERNEL_PREPARED_RELEASE, KERNEL_PREPARED_DIGEST, KERNEL_PREPARED_CMDLINE,
        };
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(request, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(keys); i++) {
                json_object *v;
                if (json_object_object_get_ex(o, keys[i], &v) && json_object_is_type(v, json_type_string))
                        r = sd_bus_message_append(reply, "{sv}", keys[i], "s", json_object_get_string(v));
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* Answers the request from what the worker wrote before it exited. */
static void job_reply(KernelJob *j, int code, int status) {
        _cleanup_json_ json_object *o = NULL;
        char buf[KERNEL_RESULT_MAX];
        size_t n = 0;
        json_object *v;
        int e;

        while (n < sizeof buf) {
                ssize_t k = read(j->result_fd, buf + n, sizeof buf - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        if (n == 0 || json_parse_bounded(buf, n, sizeof buf, true, &o) < 0) {
                log_error("Kernel worker %d ended without a result (%s %d).", (int) j->pid,
                          code == CLD_EXITED ? "status" : "signal", status);
                (void) sd_bus_reply_method_errnof(j->request, EIO, "The kernel job ended without a result.");
                return;
        }
        if (!json_object_object_get_ex(o, "errno", &v)) {
                if (reply_prepared(j->request, o) < 0)
                        (void) sd_bus_reply_method_errnof(j->request, EIO, "Cannot send the prepared kernel.");
                return;
        }
        e = json_object_get_int(v);
        if (e <= 0)
                e = EIO;
        json_object_object_get_ex(o, "error", &v);
        (void) sd_bus_reply_method_errnof(j->request, e, "%s", v ? json_object_get_string(v) : strerror(e));
}

static int on_worker_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        KernelJob *j = userdata;

        j->child_source = sd_event_source_disable_unref(j->child_source);
        job_reply(j, si->si_code, si->si_status);
        job_done(j);
        return 0;
}

static int on_worker_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        KernelJob *j = userdata;

        log_error("Kernel worker %d did not finish within %llu s; killing it.", (int) j->pid,
                  KERNEL_JOB_TIMEOUT_USEC / USEC_PER_SEC);
        (void) kill(j->pid, SIGKILL); /* its exit answers the request */
        return 0;
}

static int job_start(KernelJob *j) {
        Manager *m = j->manager;
        int pipefd[2], r;
        pid_t pid;

        /* Non-blocking: read once the worker has exited, whatever it wrote. */
        if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
                return negative_errno();
        pid = fork();
        if (pid < 0) {
                r = negative_errno();
                safe_close(pipefd[0]);
                safe_close(pipefd[1]);
                return r;
        }
        if (pid == 0)
                worker_main(j, pipefd[1]);
        safe_close(pipefd[1]);
        j->pid = pid;
        j->result_fd = pipefd[0];
        r = sd_event_add_child(m->event, &j->child_source, pid, WEXITED, on_worker_exit, j);
        if (r >= 0)
                r = sd_event_add_time_relative(m->event, &j->timer_source, CLOCK_MONOTONIC,
                                               KERNEL_JOB_TIMEOUT_USEC, 0, on_worker_timeout, j);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                j->child_source = sd_event_source_disable_unref(j->child_source);
                return r;
        }
        /* The files are the worker's now. */
        for (size_t i = 0; i < KERNEL_JOB_FDS; i++)
                j->fds[i] = safe_close(j->fds[i]);
        log_debug("Kernel job %d started as PID %d.", (int) j->type, (int) pid);
        return 0;
}

static void jobs_advance(Manager *m) {
        while (m->kernel_jobs && !m->kernel_jobs->child_source) {
                KernelJob *j = m->kernel_jobs;
                int r = job_start(j);

                if (r >= 0)
                        return;
                (void) sd_bus_reply_method_errnof(j->request, -r, "Cannot start the kernel job: %s", strerror(-r));
                m->kernel_jobs = j->next;
                kernel_job_free(j);
        }
}

int kernel_job_enqueue(Manager *m, KernelJobType type, int fds[KERNEL_JOB_FDS], sd_bus_message *request) {
        KernelJob *j, **tail;

        assert(m);
        assert(fds);
        assert(request);

        j = calloc(1, sizeof *j);
        if (!j) {
                for (size_t i = 0; i < KERNEL_JOB_FDS; i++)
                        fds[i] = safe_close(fds[i]);
                return -ENOMEM;
        }
        *j = (KernelJob) {
                .manager = m,
                .type = type,
                .request = sd_bus_message_ref(request),
                .result_fd = -EBADF,
        };
        for (size_t i = 0; i < KERNEL_JOB_FDS; i++)
                j->fds[i] = TAKE_FD(fds[i]);
        for (tail = &m->kernel_jobs; *tail; tail = &(*tail)->next)
                ;
        *tail = j;
        jobs_advance(m);
        return 0;
}

void kernel_jobs_free(Manager *m) {
        assert(m);

        while (m->kernel_jobs) {
                KernelJob *j = m->kernel_jobs;
                m->kernel_jobs = j->next;
                kernel_job_free(j);
        }
}
