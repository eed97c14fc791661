/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdint.h>
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

        assert(argv);
        assert(argv[0]);

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

        assert(ret);

        assert(data || size == 0);
        EVP_Digest(data, size, md, &len, EVP_sha256(), NULL);
        hex(md, ret);
}

static int write_all(int fd, const uint8_t *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

int sha256_copy_fd(int in_fd, int out_fd, uint64_t max, char ret[static 65], uint64_t *ret_size) {
        EVP_MD_CTX *ctx;
        unsigned char md[32];
        uint8_t buf[1 << 16];
        unsigned len = 0;
        uint64_t off = 0;
        int r = 0;

        assert(in_fd >= 0);
        assert(ret);

        ctx = EVP_MD_CTX_new();
        if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(ctx);
                return -ENOMEM;
        }
        for (;;) {
                /* pread: the offset of a descriptor handed over is its sender's too */
                ssize_t n = pread(in_fd, buf, sizeof buf, (off_t) off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        break;
                }
                if (n == 0)
                        break;
                if ((uint64_t) n > max - off) {
                        r = -EFBIG;
                        break;
                }
                EVP_DigestUpdate(ctx, buf, (size_t) n);
                if (out_fd >= 0) {
                        r = write_all(out_fd, buf, (size_t) n);
                        if (r < 0)
                                break;
                }
                off += (uint64_t) n;
        }
        if (r >= 0 && EVP_DigestFinal_ex(ctx, md, &len) == 1)
                hex(md, ret);
        EVP_MD_CTX_free(ctx);
        if (r >= 0 && ret_size)
                *ret_size = off;
        return r;
}

int sha256_file(const char *path, char ret[static 65]) {
        _cleanup_close_ int fd = -EBADF;

        assert(ret);

        assert(path);

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        return sha256_copy_fd(fd, -EBADF, UINT64_MAX, ret, NULL);
}
