/* SPDX-License-Identifier: Apache-2.0 */
/* krata-init: PID 1 of a zone. Wires the stages; each lives in its own file. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "disks.h"
#include "fs-util.h"
#include "guest-protocol.h"
#include "launch-spec.h"
#include "log.h"
#include "modules.h"
#include "mounts.h"
#include "net.h"
#include "report.h"
#include "string-util.h"
#include "supervise.h"
#include "user.h"
#include "winsize.h"
#include "xenbus.h"

#define NEWROOT "/krata/root"
#define DEVICE_TIMEOUT_MS 15000u

/* Test mode: run the userspace part in a throwaway namespace with files in
 * place of disks and a report file in place of xenstore. */
static const char *arg_test_root;
static const char *arg_config, *arg_image, *arg_addons, *arg_report_file;
static const char *arg_console = "/dev/hvc0";
static bool arg_console_set;
static const char *arg_ifname = "eth0";

static bool test_mode(void) {
        return arg_test_root != NULL;
}

static _noreturn_ void finish(int code) {
        sync();
        if (test_mode())
                _exit(code);
        (void) reboot(RB_POWER_OFF);
        /* Should PID 1 ever get here, exiting panics the kernel and Xen reaps
         * the domain as crashed: better than a zone that hangs. */
        log_error_errno(errno, "Power-off failed: %m");
        _exit(code);
}

static _noreturn_ void fail_code(GuestFailure failure, int code) {
        log_error("Zone setup failed (%s); exit status %d; powering off.", guest_failure_to_string(failure), code);
        report_status(GUEST_FAILED, failure);
        report_exit_code(code);
        finish(code);
}

static _noreturn_ void fail(GuestFailure failure) {
        fail_code(failure, guest_failure_exit_code(failure));
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_TEST_ROOT = 0x100, ARG_CONFIG, ARG_IMAGE, ARG_ADDONS, ARG_REPORT_FILE, ARG_CONSOLE, ARG_IFNAME };
        static const struct option options[] = {
                { "test-root", required_argument, NULL, ARG_TEST_ROOT },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "image", required_argument, NULL, ARG_IMAGE },
                { "addons", required_argument, NULL, ARG_ADDONS },
                { "report-file", required_argument, NULL, ARG_REPORT_FILE },
                { "console", required_argument, NULL, ARG_CONSOLE },
                { "ifname", required_argument, NULL, ARG_IFNAME },
                {}
        };
        int c;

        /* The kernel passes unknown cmdline words as arguments: ignore what
         * is not ours unless we are in test mode. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_TEST_ROOT:
                        arg_test_root = optarg;
                        break;
                case ARG_CONFIG:
                        arg_config = optarg;
                        break;
                case ARG_IMAGE:
                        arg_image = optarg;
                        break;
                case ARG_ADDONS:
                        arg_addons = optarg;
                        break;
                case ARG_REPORT_FILE:
                        arg_report_file = optarg;
                        break;
                case ARG_CONSOLE:
                        arg_console = optarg;
                        arg_console_set = true;
                        break;
                case ARG_IFNAME:
                        arg_ifname = optarg;
                        break;
                default:
                        break;
                }
        if (!test_mode() && (arg_config || arg_image || arg_addons || arg_report_file))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "--config/--image/--addons/--report-file need --test-root.");
        if (test_mode() && (!arg_config || !arg_image || !arg_report_file))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "--test-root needs --config, --image and --report-file.");
        return 0;
}

/* Kernel-started init may lack stdio if the initramfs had no /dev/console. */
static void ensure_stdio(void) {
        if (fcntl(STDERR_FILENO, F_GETFD) >= 0)
                return;
        int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return;
        for (int i = 0; i < 3; i++)
                (void) dup2(fd, i);
        if (fd > 2)
                close(fd);
}

static int open_file(const char *path, int flags) {
        int fd = open(path, flags | O_CLOEXEC, 0600);
        if (fd < 0)
                log_error_errno(errno, "Failed to open %s: %m", path);
        return fd;
}

/* Test mode: a fresh tmpfs becomes "/" so nothing of the host is touched. */
static int enter_test_root(void) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return log_error_errno(errno, "Failed to make mounts private: %m");
        if (mount("krata-test-root", arg_test_root, "tmpfs", 0, "mode=0755") < 0)
                return log_error_errno(errno, "Failed to mount a tmpfs on %s: %m", arg_test_root);
        if (chdir(arg_test_root) < 0 || chroot(".") < 0 || chdir("/") < 0)
                return log_error_errno(errno, "Failed to enter %s: %m", arg_test_root);
        return 0;
}

static int find_disk(unsigned vdev, int test_fd, const char *role, char **ret) {
        int r;

        if (test_mode())
                return loop_attach_readonly(test_fd, ret);
        if (vdev == 0)
                return log_error_errno(SYNTHETIC_ERRNO(ENODEV), "No krata.%s= on the kernel command line.", role);
        r = disk_wait_by_vdev(vdev, DEVICE_TIMEOUT_MS, ret);
        if (r < 0)
                return log_error_errno(r, "The %s disk (virtual device %u) did not appear: %m", role, vdev);
        return 0;
}

static int read_spec(unsigned vdev, int test_fd, LaunchSpec **ret) {
        _cleanup_free_ char *dev = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (test_mode())
                return launch_disk_read_fd(test_fd, ret);
        if (vdev == 0)
                return log_error_errno(SYNTHETIC_ERRNO(ENODEV), "No krata.config= on the kernel command line.");
        r = disk_wait_by_vdev(vdev, DEVICE_TIMEOUT_MS, &dev);
        if (r < 0)
                return log_error_errno(r, "The config disk (virtual device %u) did not appear: %m", vdev);
        fd = open(dev, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open the config disk %s: %m", dev);
        return launch_disk_read_fd(fd, ret);
}

/* Test mode: the report file, the files standing in for the disks and the
 * console are opened before a fresh root hides them. */
static int test_mode_open(int *config_fd, int *image_fd, int *addons_fd, int *console_fd) {
        int rfd = open_file(arg_report_file, O_WRONLY | O_CREAT | O_APPEND);

        if (rfd < 0)
                return rfd;
        report_set_file(rfd);
        *config_fd = open_file(arg_config, O_RDONLY);
        if (*config_fd < 0)
                fail(GUEST_FAILURE_CONFIG);
        *image_fd = open_file(arg_image, O_RDONLY);
        if (*image_fd < 0)
                fail(GUEST_FAILURE_IMAGE_DISK);
        if (arg_addons) {
                *addons_fd = open_file(arg_addons, O_RDONLY);
                if (*addons_fd < 0)
                        fail(GUEST_FAILURE_ADDONS_DISK);
        }
        /* a terminal from outside the test root (a pty) */
        if (arg_console_set) {
                *console_fd = open(arg_console, O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (*console_fd < 0) {
                        log_error_errno(errno, "Failed to open %s: %m", arg_console);
                        fail(GUEST_FAILURE_TTY);
                }
        }
        if (enter_test_root() < 0)
                fail(GUEST_FAILURE_TEST_ROOT);
        return 0;
}

/* The disk roles from the kernel command line and the initrd's modules
 * (blkfront, netfront, squashfs, overlay): what finding the disks needs. */
static void load_cmdline_and_modules(const char *release, DiskRoles *ret) {
        _cleanup_free_ char *cmdline = NULL, *moddir = path_join("/lib/modules", release);
        size_t size;
        int r;

        r = read_full_file("/proc/cmdline", 64 * 1024, &cmdline, &size);
        if (r < 0) {
                log_error_errno(r, "Failed to read /proc/cmdline: %m");
                fail(GUEST_FAILURE_CMDLINE);
        }
        if (cmdline_parse_disk_roles(cmdline, ret) < 0)
                fail(GUEST_FAILURE_CMDLINE);
        if (!moddir || modules_load_all(moddir) < 0)
                fail(GUEST_FAILURE_MODULES);
}

/* The image's squashfs under a tmpfs overlay, the addons at
 * /lib/modules/RELEASE, made the root. */
static void enter_root(const DiskRoles *roles, int image_fd, int addons_fd, const char *release) {
        _cleanup_free_ char *image_dev = NULL, *addons_dev = NULL;

        if (find_disk(roles->image, image_fd, "image", &image_dev) < 0)
                fail(GUEST_FAILURE_IMAGE_DISK);
        if (mount_root(image_dev, NEWROOT) < 0)
                fail(GUEST_FAILURE_ROOT);
        if (roles->addons != 0 || addons_fd >= 0) {
                if (find_disk(roles->addons, addons_fd, "addons", &addons_dev) < 0)
                        fail(GUEST_FAILURE_ADDONS_DISK);
                if (mount_addons(addons_dev, NEWROOT, release) < 0)
                        fail(GUEST_FAILURE_ADDONS);
        }
        if (switch_root(NEWROOT) < 0)
                fail(GUEST_FAILURE_SWITCH_ROOT);
}

/* Runs the process as the spec says: its exit status. */
static int run_process(const LaunchSpec *spec, int console_fd) {
        SuperviseResult result = {};
        SuperviseWatch watch = { .fd = -EBADF };
        WinsizeWatch winsize = { .watch_fd = -EBADF, .tty_fd = -EBADF };
        UserCreds creds = {};

        if (user_resolve("/", spec->user, &creds) < 0)
                fail(GUEST_FAILURE_USER);
        /* With a TTY, the attached client's window size follows it (not in
         * test mode: no xenstore there). Without one, a zone still runs. */
        if (spec->tty && !test_mode() && winsize_watch_start(&winsize, xenbus_device(), arg_console, console_fd) >= 0)
                watch = (SuperviseWatch) { winsize.watch_fd, winsize_watch_dispatch, &winsize };

        report_status(GUEST_RUNNING, 0);
        if (supervise_run(spec, &creds, arg_console, console_fd, &watch, &result) < 0)
                fail_code(result.failure, result.exit_code);
        log_info("%s exited with status %d.", spec->argv[0], result.exit_code);
        user_creds_done(&creds);
        winsize_watch_done(&winsize);
        return result.exit_code;
}

int main(int argc, char *argv[]) {
        _cleanup_launch_spec_ LaunchSpec *spec = NULL;
        int config_fd = -EBADF, image_fd = -EBADF, addons_fd = -EBADF, console_fd = -EBADF, code;
        DiskRoles roles = {};
        struct utsname uts;

        log_setup("krata-init");
        if (parse_argv(argc, argv) < 0)
                return KRATA_INIT_EXIT_SETUP;
        if (getpid() != 1) {
                log_error("krata-init runs as PID 1 only (for tests: unshare -mpfu ... krata-init --test-root=DIR ...).");
                return KRATA_INIT_EXIT_SETUP;
        }
        (void) umask(0022);
        if (test_mode() && test_mode_open(&config_fd, &image_fd, &addons_fd, &console_fd) < 0)
                return KRATA_INIT_EXIT_SETUP;

        if (mount_api_filesystems() < 0)
                fail(GUEST_FAILURE_MOUNTS);
        ensure_stdio();
        report_status(GUEST_STARTING, 0);
        if (uname(&uts) < 0)
                fail(GUEST_FAILURE_UNAME);
        if (!test_mode())
                load_cmdline_and_modules(uts.release, &roles);

        if (read_spec(roles.config, config_fd, &spec) < 0)
                fail(GUEST_FAILURE_CONFIG);
        safe_close(config_fd);
        if (sethostname(spec->hostname ?: "zone", strlen(spec->hostname ?: "zone")) < 0)
                log_warning_errno(errno, "Failed to set the host name: %m");
        if (net_setup(spec, arg_ifname, DEVICE_TIMEOUT_MS) < 0)
                fail(GUEST_FAILURE_NETWORK);
        enter_root(&roles, image_fd, addons_fd, uts.release);
        if (net_write_files(spec) < 0)
                fail(GUEST_FAILURE_NETWORK_FILES);

        code = run_process(spec, console_fd);
        report_exit_code(code);
        report_status(GUEST_EXITED, 0);
        finish(code);
}
