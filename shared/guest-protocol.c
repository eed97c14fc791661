/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "guest-protocol.h"
#include "string-util.h"

#define EXIT_CODE_MAX 16 /* bytes we read from krata/exit-code */

static const struct {
        const char *reason;
        int exit_code;
} failures[_GUEST_FAILURE_MAX] = {
        [GUEST_FAILURE_CONFIG] = { "config", KRATA_INIT_EXIT_CONFIG },
        [GUEST_FAILURE_IMAGE_DISK] = { "image-disk", KRATA_INIT_EXIT_DISK },
        [GUEST_FAILURE_ADDONS_DISK] = { "addons-disk", KRATA_INIT_EXIT_DISK },
        [GUEST_FAILURE_ADDONS] = { "addons", KRATA_INIT_EXIT_DISK },
        [GUEST_FAILURE_TTY] = { "tty", KRATA_INIT_EXIT_SETUP },
        [GUEST_FAILURE_TEST_ROOT] = { "test-root", KRATA_INIT_EXIT_SETUP },
        [GUEST_FAILURE_MOUNTS] = { "mounts", KRATA_INIT_EXIT_SETUP },
        [GUEST_FAILURE_UNAME] = { "uname", KRATA_INIT_EXIT_SETUP },
        [GUEST_FAILURE_CMDLINE] = { "cmdline", KRATA_INIT_EXIT_SETUP },
        [GUEST_FAILURE_MODULES] = { "modules", KRATA_INIT_EXIT_MODULES },
        [GUEST_FAILURE_NETWORK] = { "network", KRATA_INIT_EXIT_NETWORK },
        [GUEST_FAILURE_NETWORK_FILES] = { "network-files", KRATA_INIT_EXIT_NETWORK },
        [GUEST_FAILURE_ROOT] = { "root", KRATA_INIT_EXIT_ROOT },
        [GUEST_FAILURE_SWITCH_ROOT] = { "switch-root", KRATA_INIT_EXIT_ROOT },
        [GUEST_FAILURE_USER] = { "user", KRATA_INIT_EXIT_USER },
        [GUEST_FAILURE_CWD] = { "cwd", KRATA_INIT_EXIT_CWD },
        [GUEST_FAILURE_EXEC] = { "exec", KRATA_INIT_EXIT_NOT_EXECUTABLE },
        [GUEST_FAILURE_SUPERVISE] = { "supervise", KRATA_INIT_EXIT_SETUP },
};

static const char *const statuses[_GUEST_STATUS_MAX] = {
        [GUEST_STARTING] = "starting",
        [GUEST_RUNNING] = "running",
        [GUEST_EXITED] = "exited",
        [GUEST_FAILED] = "failed:",
};

const char *guest_failure_to_string(GuestFailure f) {
        return f >= 0 && f < _GUEST_FAILURE_MAX ? failures[f].reason : NULL;
}

int guest_failure_exit_code(GuestFailure f) {
        return f >= 0 && f < _GUEST_FAILURE_MAX ? failures[f].exit_code : KRATA_INIT_EXIT_SETUP;
}

void guest_status_format(GuestStatus s, GuestFailure f, char buf[static GUEST_STATUS_MAX + 1]) {
        assert(s >= 0 && s < _GUEST_STATUS_MAX);
        snprintf(buf, GUEST_STATUS_MAX + 1, "%s%s", statuses[s],
                 s == GUEST_FAILED ? strempty(guest_failure_to_string(f)) : "");
}

int guest_status_parse(const char *v, size_t len, GuestStatus *ret, GuestFailure *ret_failure) {
        char buf[GUEST_STATUS_MAX + 1];
        const char *reason;

        assert(ret);
        assert(ret_failure);
        if (!v || len == 0 || len > GUEST_STATUS_MAX || memchr(v, 0, len))
                return -EBADMSG;
        memcpy(buf, v, len);
        buf[len] = 0;
        for (GuestStatus s = 0; s < GUEST_FAILED; s++)
                if (streq(buf, statuses[s])) {
                        *ret = s;
                        return 0;
                }
        reason = startswith(buf, statuses[GUEST_FAILED]);
        if (!reason)
                return -EBADMSG;
        for (GuestFailure f = 0; f < _GUEST_FAILURE_MAX; f++)
                if (streq(reason, failures[f].reason)) {
                        *ret = GUEST_FAILED;
                        *ret_failure = f;
                        return 0;
                }
        return -EBADMSG;
}

int guest_exit_code_parse(const char *v, size_t len) {
        char buf[EXIT_CODE_MAX + 1];
        int code;

        if (!v || len == 0 || len > EXIT_CODE_MAX)
                return -EBADMSG;
        memcpy(buf, v, len);
        buf[len] = 0;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
                buf[--len] = 0;
        if (len == 0 || len > 3)
                return -EBADMSG;
        for (size_t i = 0; i < len; i++)
                if (buf[i] < '0' || buf[i] > '9')
                        return -EBADMSG;
        if (safe_atoi(buf, &code) < 0 || code > 255)
                return -EBADMSG;
        return code;
}

/* One decimal field, 1..65535, no sign, blanks or leading zeros. */
static int winsize_field(const char *s, size_t n, unsigned short *ret) {
        unsigned v = 0;

        if (n == 0 || n > 5 || s[0] == '0')
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        if (v > 65535)
                return -ERANGE;
        *ret = (unsigned short) v;
        return 0;
}

int guest_winsize_parse(const char *v, size_t len, struct winsize *ret) {
        struct winsize ws = {};
        const char *sp;
        int r;

        assert(ret);
        if (!v || len == 0 || len > GUEST_WINSIZE_MAX)
                return -EINVAL;
        sp = memchr(v, ' ', len);
        if (!sp)
                return -EINVAL;
        r = winsize_field(v, (size_t) (sp - v), &ws.ws_row);
        if (r < 0)
                return r;
        r = winsize_field(sp + 1, len - (size_t) (sp - v) - 1, &ws.ws_col);
        if (r < 0)
                return r;
        *ret = ws;
        return 0;
}
