/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "log.h"
#include "string-util.h"

static int max_level = LOG_INFO;
static const char *program_name = "krata";
static int journal_stream = -1; /* -1: not yet checked */
static char last_error[2048];

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg",  [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit",
        [LOG_ERR] = "err",      [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",    [LOG_DEBUG] = "debug",
};

/* JOURNAL_STREAM is "DEV:INODE" of the stream systemd connected us to; it only
 * counts while stderr is still that stream (a child may have redirected it). */
static bool check_journal_stream(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

bool log_to_journal(void) {
        if (journal_stream < 0)
                journal_stream = check_journal_stream();
        return journal_stream;
}

void log_setup(const char *program) {
        const char *e;

        if (program) {
                const char *slash = strrchr(program, '/');
                program_name = slash ? slash + 1 : program;
        }
        journal_stream = check_journal_stream();
        e = getenv("KRATA_LOG_LEVEL");
        if (e) {
                int l = log_level_from_string(e);
                if (l >= 0)
                        max_level = l;
        }
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

int log_level_from_string(const char *s) {
        unsigned u;

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (strcasecmp(s, level_names[i]) == 0)
                        return (int) i;
        if (strcasecmp(s, "error") == 0)
                return LOG_ERR;
        if (safe_atou(s, &u) >= 0 && u <= LOG_DEBUG)
                return (int) u;
        return -EINVAL;
}

int log_parse_level_arg(const char *s) {
        int l = log_level_from_string(s);

        assert(s);

        if (l < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "Invalid log level '%s': expected debug, info, notice, warning, err, crit, alert, emerg or 0-7.",
                                       s);
        log_set_max_level(l);
        return 0;
}

int log_internal(int level, int error, const char *file _unused_, int line _unused_,
                 const char *func _unused_, const char *format, ...) {
        char buf[2048];
        va_list ap;
        int saved = errno;

        assert(format);

        /* %m in the format means the error passed in, not whatever errno is now. */
        errno = error;
        va_start(ap, format);
        vsnprintf(buf, sizeof buf, format, ap);
        va_end(ap);

        if ((level & LOG_PRIMASK) <= LOG_ERR)
                memcpy(last_error, buf, sizeof last_error);
        if (log_to_journal())
                fprintf(stderr, "<%d>%s\n", level & LOG_PRIMASK, buf);
        else
                fprintf(stderr, "%s: %s\n", program_name, buf);

        errno = saved;
        return -ERRNO_VALUE(error);
}

const char *log_last_error(void) {
        return last_error;
}
