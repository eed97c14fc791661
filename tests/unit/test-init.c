/* SPDX-License-Identifier: Apache-2.0 */
/* libinit (init/ but main.c), krata-init's logic outside a VM: user
 * resolution against an image's /etc, disk roles from the command line and
 * a fake sysfs, the process environment, the xenbus wire and the window
 * size watch against a scripted xenstored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "disks.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"
#include "supervise.h"
#include "user.h"
#include "winsize.h"
#include "xenbus.h"

static char root[] = "/tmp/test-init-XXXXXX";

static int setup(void **state) {
        if (!mkdtemp(root))
                return -1;
        _cleanup_free_ char *etc = path_join(root, "etc"), *pw = path_join(root, "etc/passwd"),
                            *gr = path_join(root, "etc/group");
        mkdir_p(etc, 0755);
        write_string_file_atomic(pw, "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:App:/home/app:/bin/sh\n"
                                     "nohome:x:1002:1002::: /bin/sh\n", 0644);
        write_string_file_atomic(gr, "root:x:0:\napp:x:1001:\nstaff:x:50:app,other\nwheel:x:10:app\n", 0644);
        return 0;
}

static int teardown(void **state) {
        return rm_rf(root);
}

static void test_users(void **state) {
        UserCreds c = {};

        assert_int_equal(user_resolve(root, "app", &c), 0);
        assert_int_equal(c.uid, 1000);
        assert_int_equal(c.gid, 1001);
        assert_string_equal(c.home, "/home/app");
        assert_int_equal(c.n_groups, 3); /* 1001, staff, wheel */
        user_creds_done(&c);

        assert_int_equal(user_resolve(root, "app:staff", &c), 0);
        assert_int_equal(c.gid, 50);
        user_creds_done(&c);

        assert_int_equal(user_resolve(root, "1000:7", &c), 0);
        assert_int_equal(c.uid, 1000);
        assert_int_equal(c.gid, 7);
        user_creds_done(&c);

        /* a uid not in passwd runs with gid 0 and home / */
        assert_int_equal(user_resolve(root, "4242", &c), 0);
        assert_int_equal(c.uid, 4242);
        assert_int_equal(c.gid, 0);
        assert_string_equal(c.home, "/");
        user_creds_done(&c);

        assert_int_equal(user_resolve(root, NULL, &c), 0);
        assert_int_equal(c.uid, 0);
        assert_string_equal(c.home, "/root");
        user_creds_done(&c);

        assert_int_equal(user_resolve(root, "nobody", &c), -ESRCH);
        assert_int_equal(user_resolve(root, "app:nogroup", &c), -ESRCH);
        assert_int_equal(user_resolve(root, ":0", &c), -EINVAL);
        assert_int_equal(user_resolve(root, "app:", &c), -EINVAL);
        /* no /etc/passwd at all: numbers still work, names do not */
        assert_int_equal(user_resolve("/nonexistent", "0:0", &c), 0);
        user_creds_done(&c);
        assert_int_equal(user_resolve("/nonexistent", "app", &c), -ESRCH);
}

static void test_cmdline(void **state) {
        DiskRoles r;

        assert_int_equal(cmdline_parse_disk_roles("console=hvc0 krata.image=51712 krata.config=51728 krata.addons=51744 quiet\n", &r), 0);
        assert_int_equal(r.image, 51712);
        assert_int_equal(r.config, 51728);
        assert_int_equal(r.addons, 51744);
        assert_int_equal(cmdline_parse_disk_roles("console=hvc0", &r), 0);
        assert_int_equal(r.image, 0);
        assert_int_equal(cmdline_parse_disk_roles("krata.image=xvda", &r), -EINVAL);
        assert_int_equal(cmdline_parse_disk_roles("krata.image=0", &r), -EINVAL);
        assert_int_equal(cmdline_parse_disk_roles("krata.image=99999999999999999999", &r), -EINVAL);
}

static void test_sysfs(void **state) {
        _cleanup_free_ char *sys = path_join(root, "sys"), *a = path_join(root, "sys/block/xvda/device"),
                            *b = path_join(root, "sys/block/xvdb/device"), *l = path_join(root, "sys/block/loop0"),
                            *an = path_join(a, "nodename"), *bn = path_join(b, "nodename");
        _cleanup_free_ char *name = NULL;

        mkdir_p(a, 0755);
        mkdir_p(b, 0755);
        mkdir_p(l, 0755);
        write_string_file_atomic(an, "device/vbd/51712\n", 0644);
        write_string_file_atomic(bn, "device/vbd/51728\n", 0644);
        assert_int_equal(disk_find_by_vdev(sys, 51728, &name), 0);
        assert_string_equal(name, "xvdb");
        assert_int_equal(disk_find_by_vdev(sys, 51744, &name), -ENOENT);
}

static void test_env(void **state) {
        LaunchSpec s = { .env = (char *[]) { "FOO=1", "HOME=/custom", NULL }, .tty = true, .hostname = "h" };
        UserCreds c = { .home = "/home/app" };
        _cleanup_strv_free_ char **env = NULL;

        assert_int_equal(supervise_build_env(&s, &c, &env), 0);
        assert_true(strv_contains(env, "HOME=/custom")); /* the image's wins */
        assert_true(strv_contains(env, "TERM=xterm"));
        assert_true(strv_contains(env, "HOSTNAME=h"));
        assert_true(strv_contains(env, LAUNCH_DEFAULT_PATH));
}

/* A pty, raw both ways so bytes pass unchanged: the master plays xenstored. */
static int open_raw_pty(int *ret_slave) {
        int master = posix_openpt(O_RDWR | O_NOCTTY);
        struct termios t;

        assert_true(master >= 0);
        assert_int_equal(grantpt(master), 0);
        assert_int_equal(unlockpt(master), 0);
        *ret_slave = open(ptsname(master), O_RDWR | O_NOCTTY);
        assert_true(*ret_slave >= 0);
        assert_int_equal(tcgetattr(*ret_slave, &t), 0);
        cfmakeraw(&t);
        assert_int_equal(tcsetattr(*ret_slave, TCSANOW, &t), 0);
        return master;
}

/* A fake xenstored on the master side of a raw pty: checks the request and
 * answers with reply_type/reply. Exits 0 when the request was as expected. */
static pid_t fake_xenstored(int master, uint32_t reply_type, const char *reply, size_t reply_len) {
        pid_t pid = fork();
        if (pid != 0)
                return pid;
        struct xsd_sockmsg h;
        char payload[256];
        size_t got = 0;
        while (got < sizeof h) {
                ssize_t n = read(master, (char *) &h + got, sizeof h - got);
                if (n <= 0)
                        _exit(10);
                got += (size_t) n;
        }
        if (h.type != XS_WRITE || h.tx_id != 0 || h.len > sizeof payload)
                _exit(11);
        for (got = 0; got < h.len;) {
                ssize_t n = read(master, payload + got, h.len - got);
                if (n <= 0)
                        _exit(12);
                got += (size_t) n;
        }
        /* "krata/exit-code\0" "7" */
        if (h.len != 17 || memcmp(payload, "krata/exit-code\0" "7", 17) != 0)
                _exit(13);
        struct xsd_sockmsg r = { .type = reply_type, .req_id = h.req_id, .len = (uint32_t) reply_len };
        if (write(master, &r, sizeof r) != sizeof r || write(master, reply, reply_len) != (ssize_t) reply_len)
                _exit(14);
        _exit(0);
}

static void test_xenbus_wire(void **state) {
        struct {
                uint32_t type;
                const char *reply;
                size_t len;
                int expect;
        } cases[] = {
                { XS_WRITE, "OK", 3, 0 },
                { XS_ERROR, "EACCES", 7, -EACCES },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int slave, master = open_raw_pty(&slave), status;
                pid_t pid;

                pid = fake_xenstored(master, cases[i].type, cases[i].reply, cases[i].len);
                assert_true(pid > 0);
                assert_int_equal(xenbus_write(ptsname(master), "krata/exit-code", "7"), cases[i].expect);
                assert_int_equal(waitpid(pid, &status, 0), pid);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
                close(slave);
                close(master);
        }
        assert_int_equal(xenbus_write("/nonexistent/xenbus", "a", "b"), -ENOENT);
}

static bool xs_recv(int fd, struct xsd_sockmsg *h, char *payload, size_t size) {
        size_t got;
        for (got = 0; got < sizeof *h;) {
                ssize_t n = read(fd, (char *) h + got, sizeof *h - got);
                if (n <= 0)
                        return false;
                got += (size_t) n;
        }
        if (h->len > size)
                return false;
        for (got = 0; got < h->len;) {
                ssize_t n = read(fd, payload + got, h->len - got);
                if (n <= 0)
                        return false;
                got += (size_t) n;
        }
        return true;
}

static bool xs_send(int fd, uint32_t type, const void *p, size_t len) {
        struct xsd_sockmsg h = { .type = type, .req_id = 1, .len = (uint32_t) len };
        return write(fd, &h, sizeof h) == sizeof h && write(fd, p, len) == (ssize_t) len;
}

#define WS_EVENT "krata/winsize\0krata-winsize"
#define WS_PATH "krata/winsize"

/* A scripted xenstored for the window size watch: every connection is the
 * same pty, which works because init has one request in flight at a time.
 * Exits with the number of the step that went wrong, 0 when all went well. */
static pid_t fake_xenstored_winsize(int master) {
        static const struct {
                uint32_t reply_type;
                const char *reply; /* to a read of krata/winsize */
                size_t len;
                bool other_token_first; /* an event for someone else before ours */
        } reads[] = {
                { XS_READ, "30 100", 6, false },   /* at start */
                { XS_READ, "45 132", 6, true },    /* a resize */
                { XS_READ, "9 99999", 7, false },  /* out of range: ignored */
                { XS_READ, "12 34\0x", 7, false }, /* a NUL inside: ignored */
                { XS_READ, "50 200 then lots more", 21, false }, /* too long: ignored */
                { XS_ERROR, "ENOENT", 7, false },  /* removed: ignored */
                { XS_ERROR, "EACCES", 7, false },  /* unreadable: ignored */
                { XS_READ, "60 180", 6, false },   /* and it still follows */
        };
        pid_t pid = fork();
        if (pid != 0)
                return pid;
        struct xsd_sockmsg h;
        char p[4096];

        /* the watch: its first event comes before the reply, as it may */
        if (!xs_recv(master, &h, p, sizeof p) || h.type != XS_WATCH ||
            h.len != sizeof WS_EVENT || memcmp(p, WS_EVENT, sizeof WS_EVENT) != 0)
                _exit(1);
        if (!xs_send(master, XS_WATCH_EVENT, WS_EVENT, sizeof WS_EVENT) || !xs_send(master, XS_WATCH, "OK", 3))
                _exit(2);
        for (size_t i = 0; i < ELEMENTSOF(reads); i++) {
                if (!xs_recv(master, &h, p, sizeof p) || h.type != XS_READ || h.len != sizeof WS_PATH ||
                    memcmp(p, WS_PATH, sizeof WS_PATH) != 0)
                        _exit(10 + (int) i);
                if (!xs_send(master, reads[i].reply_type, reads[i].reply, reads[i].len))
                        _exit(30 + (int) i);
                /* the next change: the reader is done with its reply */
                if (i + 1 < ELEMENTSOF(reads) &&
                    ((reads[i + 1].other_token_first &&
                      !xs_send(master, XS_WATCH_EVENT, "krata/winsize\0other", sizeof "krata/winsize\0other")) ||
                     !xs_send(master, XS_WATCH_EVENT, WS_EVENT, sizeof WS_EVENT)))
                        _exit(50 + (int) i);
        }
        _exit(0);
}

static void assert_size(int tty, unsigned short rows, unsigned short cols) {
        struct winsize ws;
        assert_int_equal(ioctl(tty, TIOCGWINSZ, &ws), 0);
        assert_int_equal(ws.ws_row, rows);
        assert_int_equal(ws.ws_col, cols);
}

static void test_winsize_watch(void **state) {
        int xs_slave, xs_master = open_raw_pty(&xs_slave), tty_slave, tty_master = open_raw_pty(&tty_slave), status;
        WinsizeWatch w;
        pid_t pid;

        assert_int_equal(ioctl(tty_slave, TIOCSWINSZ, &(struct winsize) { .ws_row = 5, .ws_col = 5 }), 0);
        pid = fake_xenstored_winsize(xs_master);
        assert_true(pid > 0);

        /* the size present at start is applied at once */
        assert_int_equal(winsize_watch_start(&w, ptsname(xs_master), NULL, tty_slave), 0);
        assert_size(tty_slave, 30, 100);
        /* an event for another token reads nothing */
        assert_int_equal(winsize_watch_dispatch(w.watch_fd, &w), 0);
        assert_size(tty_slave, 30, 100);
        assert_int_equal(winsize_watch_dispatch(w.watch_fd, &w), 0);
        assert_size(tty_slave, 45, 132);
        /* out of range, NUL inside, too long, gone, unreadable: all ignored */
        for (int i = 0; i < 5; i++) {
                assert_int_equal(winsize_watch_dispatch(w.watch_fd, &w), 0);
                assert_size(tty_slave, 45, 132);
        }
        assert_int_equal(w.n_warned, 4); /* ENOENT is not worth a word */
        assert_int_equal(winsize_watch_dispatch(w.watch_fd, &w), 0);
        assert_size(tty_slave, 60, 180);

        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        /* the caller's tty stays open; the watch connection is closed */
        winsize_watch_done(&w);
        assert_int_equal(w.watch_fd, -EBADF);
        assert_true(fcntl(tty_slave, F_GETFD) >= 0);
        close(tty_slave);
        close(tty_master);
        close(xs_slave);
        close(xs_master);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_users),
                cmocka_unit_test(test_cmdline),
                cmocka_unit_test(test_sysfs),
                cmocka_unit_test(test_env),
                cmocka_unit_test(test_xenbus_wire),
                cmocka_unit_test(test_winsize_watch),
        };
        log_set_max_level(LOG_CRIT);
        return cmocka_run_group_tests(tests, setup, teardown);
}
