/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/ioctl.h>

/* What krata-init and the host say to each other besides the launch spec.
 * The guest owns krata/ and can write anything there, so a reader believes
 * only what these parsers accept (docs/security.md). */

/* Disk roles: Xen virtual-device numbers (xvda, xvdb, xvdc), named on the
 * kernel command line as krata.image=N krata.config=N krata.addons=N. */
#define KRATA_VDEV_IMAGE 51712u
#define KRATA_VDEV_CONFIG 51728u
#define KRATA_VDEV_ADDONS 51744u
#define KRATA_CMDLINE_IMAGE "krata.image="
#define KRATA_CMDLINE_CONFIG "krata.config="
#define KRATA_CMDLINE_ADDONS "krata.addons="

/* xenstore, relative to /local/domain/<domid>; krata/ is the guest's. */
#define KRATA_XS_DIR "krata"
#define KRATA_XS_EXIT_CODE "krata/exit-code" /* guest → host: decimal 0..255 */
#define KRATA_XS_STATUS "krata/status"       /* guest → host: GuestStatus */
#define KRATA_XS_WINSIZE "krata/winsize"     /* host → guest: "ROWS COLS" (krata-consoled) */

/* Exit statuses krata-init reports when the container process never ran. A
 * process can exit with these too; krata/status says which happened. */
enum {
        KRATA_INIT_EXIT_NOT_EXECUTABLE = 126, /* exec: permission denied / not executable */
        KRATA_INIT_EXIT_NOT_FOUND = 127,      /* exec: no such command */
        KRATA_INIT_EXIT_SETUP = 240,          /* mounting /proc, /sys, /dev; generic */
        KRATA_INIT_EXIT_CONFIG = 241,         /* config disk missing, malformed, unsupported version */
        KRATA_INIT_EXIT_DISK = 242,           /* image/addons disk not found or not mountable */
        KRATA_INIT_EXIT_MODULES = 243,        /* a kernel module from the initrd failed to load */
        KRATA_INIT_EXIT_NETWORK = 244,        /* eth0 missing or not configurable */
        KRATA_INIT_EXIT_USER = 245,           /* user/group not resolvable, setuid failed */
        KRATA_INIT_EXIT_CWD = 246,            /* working directory not usable */
        KRATA_INIT_EXIT_ROOT = 247,           /* overlay or switch_root failed */
};

/* Where krata-init failed: krata/status "failed:<reason>", each with its
 * exit status (exec's is 127 when the command does not exist). */
typedef enum GuestFailure {
        GUEST_FAILURE_CONFIG,
        GUEST_FAILURE_IMAGE_DISK,
        GUEST_FAILURE_ADDONS_DISK,
        GUEST_FAILURE_ADDONS,
        GUEST_FAILURE_TTY,
        GUEST_FAILURE_TEST_ROOT,
        GUEST_FAILURE_MOUNTS,
        GUEST_FAILURE_UNAME,
        GUEST_FAILURE_CMDLINE,
        GUEST_FAILURE_MODULES,
        GUEST_FAILURE_NETWORK,
        GUEST_FAILURE_NETWORK_FILES,
        GUEST_FAILURE_ROOT,
        GUEST_FAILURE_SWITCH_ROOT,
        GUEST_FAILURE_USER,
        GUEST_FAILURE_CWD,
        GUEST_FAILURE_EXEC,
        GUEST_FAILURE_SUPERVISE,
        _GUEST_FAILURE_MAX,
} GuestFailure;

const char *guest_failure_to_string(GuestFailure f);
int guest_failure_exit_code(GuestFailure f);

/* krata/status: "starting", "running", "exited" or "failed:<reason>". */
typedef enum GuestStatus {
        GUEST_STARTING,
        GUEST_RUNNING,
        GUEST_EXITED,
        GUEST_FAILED,
        _GUEST_STATUS_MAX,
} GuestStatus;

#define GUEST_STATUS_MAX 64 /* the most a reader takes */
/* The failure counts only with GUEST_FAILED. */
void guest_status_format(GuestStatus s, GuestFailure f, char buf[static GUEST_STATUS_MAX + 1]);
/* len bytes, no terminator needed: one of the forms above with a reason of
 * krata-init's own, no NUL; else -EBADMSG. */
int guest_status_parse(const char *v, size_t len, GuestStatus *ret, GuestFailure *ret_failure);

/* krata/exit-code: at most 16 bytes, trailing newlines/blanks stripped, 1-3
 * decimal digits with no sign or blank inside, 0..255; else -EBADMSG. */
int guest_exit_code_parse(const char *v, size_t len);

/* krata/winsize: exactly "ROWS COLS", each 1..65535 in decimal without sign,
 * leading zeros or blanks, at most GUEST_WINSIZE_MAX bytes; else -EINVAL
 * (-ERANGE for a number too large), *ret untouched. */
#define GUEST_WINSIZE_MAX 11
int guest_winsize_parse(const char *v, size_t len, struct winsize *ret);
