/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "string-util.h"
#include "util.h"

extern char **environ;

int run_program(char *const argv[], bool show_output) {
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int r, status;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (!show_output)
                posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return log_error_errno(r, "Failed to run %s: %m", argv[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "Failed to wait for %s: %m", argv[0]);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        _cleanup_free_ char *cmd = strv_join((char **) argv, " ");
        return log_error_errno(SYNTHETIC_ERRNO(EPROTO), "'%.300s' failed (status %d).", strempty(cmd),
                               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

static void hex(const unsigned char *md, char *out) {
        for (int i = 0; i < 32; i++)
                snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void sha256_buffer(const void *data, size_t size, char ret[static 65]) {
        unsigned char md[32];
        unsigned len = 0;
        EVP_Digest(data, size, md, &len, EVP_sha256(), NULL);
        hex(md, ret);
}

int sha256_file(const char *path, char ret[static 65]) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        EVP_MD_CTX *ctx;
        unsigned char md[32], buf[1 << 16];
        unsigned len = 0;
        ssize_t n;
        int r = 0;

        if (fd < 0)
                return negative_errno();
        ctx = EVP_MD_CTX_new();
        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(ctx);
                return -ENOMEM;
        }
        while ((n = read(fd, buf, sizeof buf)) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        break;
                }
                EVP_DigestUpdate(ctx, buf, (size_t) n);
        }
        if (r >= 0 && EVP_DigestFinal_ex(ctx, md, &len) == 1)
                hex(md, ret);
        EVP_MD_CTX_free(ctx);
        return r;
}
