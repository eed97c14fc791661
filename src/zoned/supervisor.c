/* SPDX-License-Identifier: Apache-2.0 */
/* Starting, signalling and following krata-zone supervisors: through systemd
 * (krata-zone@NAME.service) when it is PID 1, else as our own children. What
 * they do reaches zone.c as events (zone_handle_event()); nothing here
 * changes a zone's state. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "string-util.h"
#include "zoned.h"

#define SYSTEMD_BUS "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define SYSTEMD_UNIT "org.freedesktop.systemd1.Unit"
#define SYSTEMD_SERVICE "org.freedesktop.systemd1.Service"

static int unit_name(Zone *z, char **ret) {
        return asprintf_safe(ret, "krata-zone@%s.service", z->spec.name);
}

static int unit_path(Zone *z, char **ret) {
        _cleanup_free_ char *u = NULL;
        int r = unit_name(z, &u);
        if (r < 0)
                return r;
        return sd_bus_path_encode("/org/freedesktop/systemd1/unit", u, ret);
}

/* The supervisor binary: $KRATA_BUILD_DIR/src/zone/krata-zone in a build
 * tree, else the one next to us, else krata-zone on $PATH. */
static int find_supervisor(char **ret) {
        const char *build = getenv("KRATA_BUILD_DIR");
        _cleanup_free_ char *self = NULL;
        char buf[4096];
        ssize_t n;

        if (!isempty(build)) {
                _cleanup_free_ char *p = path_join(build, "src/zone/krata-zone");
                if (!p)
                        return -ENOMEM;
                if (access(p, X_OK) == 0) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
        }
        n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        if (n > 0) {
                char *slash;
                buf[n] = 0;
                slash = strrchr(buf, '/');
                if (slash) {
                        *slash = 0;
                        self = path_join(buf, "krata-zone");
                        if (self && access(self, X_OK) == 0) {
                                *ret = TAKE_PTR(self);
                                return 0;
                        }
                }
        }
        *ret = strdup("krata-zone"); /* execvp searches PATH */
        return *ret ? 0 : -ENOMEM;
}

/* The supervisor is gone: its record holds what it last knew. */
static void supervisor_exited(Zone *z, ZoneEventType type, const char *unit_state, int code, int status) {
        _cleanup_zone_record_ ZoneRecord *rec = NULL;
        ZoneEvent e = { .type = type, .facts = ZONE_FACTS_NONE, .unit_state = unit_state, .code = code,
                        .status = status };

        if (zone_record_load(z->spec.name, &rec) >= 0)
                zone_facts_from_record(rec, &e.facts);
        (void) zone_handle_event(z, &e, NULL, NULL);
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Zone *z = userdata;

        z->child_source = sd_event_source_disable_unref(z->child_source);
        supervisor_exited(z, ZONE_EVENT_PROCESS_EXITED, NULL, si->si_code, si->si_status);
        return 0;
}

static int spawn_supervisor(Zone *z) {
        _cleanup_free_ char *bin = NULL;
        pid_t pid;
        int r;

        r = find_supervisor(&bin);
        if (r < 0)
                return r;
        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                sigset_t all;
                int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);

                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                if (nullfd >= 0)
                        dup2(nullfd, STDIN_FILENO);
                /* Not a systemd service here: no notify socket, no watchdog. */
                unsetenv("NOTIFY_SOCKET");
                unsetenv("WATCHDOG_PID");
                unsetenv("WATCHDOG_USEC");
                execlp(bin, "krata-zone", z->spec.name, (char *) NULL);
                log_error_errno(errno, "Failed to execute %s: %m", bin);
                _exit(127);
        }
        r = sd_event_add_child(z->manager->event, &z->child_source, pid, WEXITED, on_child, z);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return r;
        }
        z->supervisor_pid = pid;
        log_info("Zone %s: started supervisor %s as PID %d.", z->spec.name, bin, (int) pid);
        return 0;
}

static int on_unit_properties(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Zone *z = userdata;
        _cleanup_free_ char *state = NULL, *path = NULL;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        int32_t code = 0, status = 0;
        ZoneEvent e = { .type = ZONE_EVENT_UNIT_CHANGED, .facts = ZONE_FACTS_NONE };

        if (supervisor_unit_state(z, &state) < 0 || !state)
                return 0;
        e.unit_state = state;
        if (zone_unit_state_is_alive(state)) {
                (void) zone_handle_event(z, &e, NULL, NULL);
                return 0;
        }
        if (unit_path(z, &path) < 0)
                return 0;
        (void) sd_bus_get_property_trivial(z->manager->bus, SYSTEMD_BUS, path, SYSTEMD_SERVICE,
                                           "ExecMainCode", &error, 'i', &code);
        (void) sd_bus_get_property_trivial(z->manager->bus, SYSTEMD_BUS, path, SYSTEMD_SERVICE,
                                           "ExecMainStatus", &error, 'i', &status);
        supervisor_exited(z, ZONE_EVENT_UNIT_CHANGED, state, code ?: CLD_EXITED, status);
        return 0;
}

static int supervisor_watch_unit(Zone *z) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (z->unit_slot)
                return 0;
        r = unit_path(z, &path);
        if (r < 0)
                return r;
        return sd_bus_match_signal_async(z->manager->bus, &z->unit_slot, SYSTEMD_BUS, path,
                                         "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                         on_unit_properties, NULL, z);
}

int supervisor_unit_state(Zone *z, char **ret) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        assert(z);
        assert(ret);

        r = unit_path(z, &path);
        if (r < 0)
                return r;
        r = sd_bus_get_property_string(z->manager->bus, SYSTEMD_BUS, path, SYSTEMD_UNIT, "ActiveState",
                                       &error, ret);
        if (r < 0)
                return log_debug_errno(r, "Cannot read ActiveState of %s: %s", path,
                                       bus_error_message(&error, r));
        return 0;
}

static int start_unit(Zone *z) {
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_free_ char *unit = NULL;
        int r;

        r = unit_name(z, &unit);
        if (r < 0)
                return r;
        /* Subscribe first so the unit's end cannot slip between start and match. */
        (void) sd_bus_call_method(z->manager->bus, SYSTEMD_BUS, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe",
                                  NULL, NULL, NULL);
        r = supervisor_watch_unit(z);
        if (r < 0)
                return r;
        r = sd_bus_call_method(z->manager->bus, SYSTEMD_BUS, SYSTEMD_PATH, SYSTEMD_MANAGER, "StartUnit",
                               &error, &reply, "ss", unit, "replace");
        if (r < 0) {
                z->unit_slot = sd_bus_slot_unref(z->unit_slot);
                return log_error_errno(r, "Failed to start %s: %s", unit, bus_error_message(&error, r));
        }
        log_info("Zone %s: started %s.", z->spec.name, unit);
        return 0;
}

/* A zone that is destroyed leaves no failed krata-zone@NAME.service behind
 * (a non-zero exit status fails the unit, by design, until then). */
void supervisor_forget_unit(Zone *z) {
        _cleanup_free_ char *unit = NULL;

        assert(z);

        if (!z->manager->use_systemd || unit_name(z, &unit) < 0)
                return;
        (void) sd_bus_call_method(z->manager->bus, SYSTEMD_BUS, SYSTEMD_PATH, SYSTEMD_MANAGER, "ResetFailedUnit",
                                  NULL, NULL, "s", unit);
}

bool supervisor_running(Zone *z) {
        assert(z);

        if (z->child_source || z->pidfd_source)
                return true;
        /* systemd: the unit is followed until it is inactive (its teardown included). */
        return z->manager->use_systemd && z->unit_slot;
}

int supervisor_start(Zone *z) {
        assert(z);

        if (supervisor_running(z))
                return -EBUSY;
        return z->manager->use_systemd ? start_unit(z) : spawn_supervisor(z);
}

int supervisor_signal(Zone *z, int sig) {
        assert(z);

        if (z->manager->use_systemd && !z->child_source && !z->pidfd_source) {
                _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_free_ char *unit = NULL;
                int r = unit_name(z, &unit);

                if (r < 0)
                        return r;
                if (sig == SIGTERM)
                        r = sd_bus_call_method(z->manager->bus, SYSTEMD_BUS, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                               "StopUnit", &error, NULL, "ss", unit, "replace");
                else
                        r = sd_bus_call_method(z->manager->bus, SYSTEMD_BUS, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                               "KillUnit", &error, NULL, "ssi", unit, "main", sig);
                if (r < 0)
                        return log_error_errno(r, "Failed to signal %s: %s", unit, bus_error_message(&error, r));
                return 0;
        }
        if (z->supervisor_pid <= 0)
                return -ESRCH;
        return kill(z->supervisor_pid, sig) < 0 ? negative_errno() : 0;
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Zone *z = userdata;

        log_debug("Zone %s: supervisor PID %d exited (not our child).", z->spec.name, (int) z->supervisor_pid);
        z->pidfd_source = sd_event_source_disable_unref(z->pidfd_source);
        supervisor_exited(z, ZONE_EVENT_PROCESS_EXITED, NULL, CLD_EXITED, -1);
        return 0;
}

static int supervisor_watch_pid(Zone *z, pid_t pid) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
                return negative_errno();
        r = sd_event_add_io(z->manager->event, &z->pidfd_source, fd, EPOLLIN, on_pidfd, z);
        if (r < 0)
                return r;
        r = sd_event_source_set_io_fd_own(z->pidfd_source, true);
        if (r < 0)
                return r;
        TAKE_FD(fd);
        z->supervisor_pid = pid;
        return 0;
}

int supervisor_follow(Zone *z, pid_t pid) {
        assert(z);

        if (z->manager->use_systemd)
                return supervisor_watch_unit(z);
        if (pid <= 0)
                return -ESRCH;
        return supervisor_watch_pid(z, pid);
}

void supervisor_unfollow(Zone *z) {
        assert(z);

        z->supervisor_pid = 0;
        z->child_source = sd_event_source_disable_unref(z->child_source);
        z->pidfd_source = sd_event_source_disable_unref(z->pidfd_source);
        z->unit_slot = sd_bus_slot_unref(z->unit_slot);
}

static int on_cleanup_exited(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Zone *z = userdata;
        ZoneEvent e = { .type = ZONE_EVENT_CLEANUP_EXITED, .facts = ZONE_FACTS_NONE,
                        .success = si->si_code == CLD_EXITED && si->si_status == 0 };

        if (!e.success)
                log_error("Zone %s: cleanup of orphaned domain %u failed (%s %d).", z->spec.name, z->domid,
                          si->si_code == CLD_EXITED ? "status" : "signal", si->si_status);
        (void) zone_handle_event(z, &e, NULL, NULL);
        return 0;
}

/* An orphaned domain's resources are listed in the supervisor's record; a
 * krata-zone in cleanup mode tears them down with the same code that builds
 * them. It runs beside the event loop: zoned keeps answering meanwhile. */
int supervisor_cleanup_orphan(Zone *z) {
        _cleanup_free_ char *bin = NULL;
        pid_t pid;
        int r;

        assert(z);

        if (z->cleanup_source)
                return -EBUSY;
        r = find_supervisor(&bin);
        if (r < 0)
                return r;
        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                sigset_t all;

                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                execlp(bin, "krata-zone", "--cleanup", z->spec.name, (char *) NULL);
                _exit(127);
        }
        r = sd_event_add_child(z->manager->event, &z->cleanup_source, pid, WEXITED, on_cleanup_exited, z);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return r;
        }
        log_info("Zone %s: cleaning up orphaned domain %u (PID %d).", z->spec.name, z->domid, (int) pid);
        return 0;
}
