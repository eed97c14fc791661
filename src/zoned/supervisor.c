/* SPDX-License-Identifier: Apache-2.0 */
/* Starting and watching krata-zone supervisors: through systemd
 * (krata-zone@NAME.service) when it is PID 1, else as our own children. */
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
        return asprintf_safe(ret, "krata-zone@%s.service", z->spec->name);
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

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Zone *z = userdata;

        z->child_source = sd_event_source_disable_unref(z->child_source);
        supervisor_gone(z, si->si_code, si->si_status);
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
                execlp(bin, "krata-zone", z->spec->name, (char *) NULL);
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
        log_info("Zone %s: started supervisor %s as PID %d.", z->spec->name, bin, (int) pid);
        return 0;
}

static int on_unit_properties(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Zone *z = userdata;
        _cleanup_free_ char *state = NULL;
        _cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        int32_t code = 0, status = 0;
        int r;

        r = supervisor_unit_state(z, &state);
        if (r < 0 || !state)
                return 0;
        if (!streq(state, "inactive") && !streq(state, "failed"))
                return 0;
        if (unit_path(z, &path) < 0)
                return 0;
        (void) sd_bus_get_property_trivial(z->manager->bus, SYSTEMD_BUS, path, SYSTEMD_SERVICE,
                                           "ExecMainCode", &error, 'i', &code);
        (void) sd_bus_get_property_trivial(z->manager->bus, SYSTEMD_BUS, path, SYSTEMD_SERVICE,
                                           "ExecMainStatus", &error, 'i', &status);
        z->unit_slot = sd_bus_slot_unref(z->unit_slot);
        supervisor_gone(z, code ?: CLD_EXITED, status);
        return 0;
}

int supervisor_watch_unit(Zone *z) {
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
        log_info("Zone %s: started %s.", z->spec->name, unit);
        return 0;
}

/* A zone that is destroyed leaves no failed krata-zone@NAME.service behind
 * (a non-zero exit status fails the unit, by design, until then). */
void supervisor_forget_unit(Zone *z) {
        _cleanup_free_ char *unit = NULL;

        if (!z->manager->use_systemd || unit_name(z, &unit) < 0)
                return;
        (void) sd_bus_call_method(z->manager->bus, SYSTEMD_BUS, SYSTEMD_PATH, SYSTEMD_MANAGER, "ResetFailedUnit",
                                  NULL, NULL, "s", unit);
}

bool supervisor_running(Zone *z) {
        if (z->child_source || z->pidfd_source)
                return true;
        /* systemd: the unit is followed until it is inactive (its teardown included). */
        return z->manager->use_systemd && z->unit_slot;
}

int supervisor_start(Zone *z) {
        int r;

        if (supervisor_running(z))
                return -EBUSY;
        r = zone_ensure_uuid(z);
        if (r < 0)
                return r;
        /* The supervisor reads the uuid from the spec: persist it there. */
        if (!z->spec->uuid) {
                z->spec->uuid = strdup(z->uuid);
                if (!z->spec->uuid)
                        return -ENOMEM;
                if (z->source != ZONE_SOURCE_DECLARED) {
                        r = zone_spec_save(z->spec, z->spec_path);
                        if (r < 0)
                                return log_error_errno(r, "Failed to write %s: %m", z->spec_path);
                }
        }
        (void) zone_record_remove(z->spec->name);
        z->exit_status = -1;
        z->domid = 0;
        (void) zone_set_error(z, "", NULL);
        r = zone_set_state(z, ZONE_STARTING);
        if (r < 0)
                return -EBUSY;
        zone_emit_changed(z, "ExitStatus", "DomainId", NULL);
        r = z->manager->use_systemd ? start_unit(z) : spawn_supervisor(z);
        if (r < 0) {
                (void) zone_set_error(z, "supervisor", "Could not start the zone's supervisor.");
                (void) zone_set_state(z, ZONE_FAILED);
        }
        return r;
}

int supervisor_signal(Zone *z, int sig) {
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

void supervisor_gone(Zone *z, int code, int status) {
        _cleanup_zone_record_ ZoneRecord *rec = NULL;
        const char *name = z->spec->name;

        z->supervisor_pid = 0;
        z->pidfd_source = sd_event_source_disable_unref(z->pidfd_source);
        /* The record holds what the supervisor last knew (its exit status, its error). */
        if (zone_record_load(name, &rec) >= 0)
                (void) zone_apply_record(z, rec);
        if (zone_state_is_active(z->state) || z->state == ZONE_STARTING) {
                char why[128];

                if (code == CLD_EXITED)
                        snprintf(why, sizeof why, "The supervisor exited with status %d before the zone ended.", status);
                else
                        snprintf(why, sizeof why, "The supervisor was killed by signal %s.", strsignal(status));
                if (z->domid > 0) {
                        log_warning("Zone %s: %s Domain %u may be left behind; it is reported as orphaned.",
                                    name, why, z->domid);
                        (void) zone_set_error(z, "supervisor", why);
                        (void) zone_set_state(z, ZONE_ORPHANED);
                        return;
                }
                log_warning("Zone %s: %s", name, why);
                if (isempty(z->result))
                        (void) zone_set_error(z, "supervisor", why);
                (void) zone_set_state(z, ZONE_FAILED);
        }
        log_info("Zone %s: supervisor gone (%s), exit status %d.", name, zone_state_to_string(z->state),
                 z->exit_status);
        if (z->remove_when_gone || z->spec->auto_remove)
                (void) zone_remove(z);
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Zone *z = userdata;

        log_debug("Zone %s: supervisor PID %d exited (not our child).", z->spec->name, (int) z->supervisor_pid);
        supervisor_gone(z, CLD_EXITED, -1);
        return 0;
}

int supervisor_watch_pid(Zone *z, pid_t pid) {
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

/* An orphaned domain's resources are listed in the supervisor's record; a
 * krata-zone in cleanup mode tears them down with the same code that builds
 * them. */
int supervisor_cleanup_orphan(Zone *z) {
        _cleanup_free_ char *bin = NULL;
        pid_t pid;
        int r, status;

        r = find_supervisor(&bin);
        if (r < 0)
                return r;
        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                execlp(bin, "krata-zone", "--cleanup", z->spec->name, (char *) NULL);
                _exit(127);
        }
        /* Cleanup is bounded (the destroy waits have timeouts); wait for it. */
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "Zone %s: cleanup of orphaned domain %u failed.",
                                       z->spec->name, z->domid);
        return 0;
}
