/* SPDX-License-Identifier: Apache-2.0 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "macro.h"
#include "sha256.h"

void sha256_to_hex(const uint8_t md[static SHA256_DIGEST_SIZE], char ret[static SHA256_HEX_SIZE]) {
        static const char digits[] = "0123456789abcdef";

        assert(md);
        assert(ret);

        for (size_t i = 0; i < SHA256_DIGEST_SIZE; i++) {
                ret[2 * i] = digits[md[i] >> 4];
                ret[2 * i + 1] = digits[md[i] & 15];
        }
        ret[2 * SHA256_DIGEST_SIZE] = 0;
}

int sha256_final_hex(EVP_MD_CTX *ctx, char ret[static SHA256_HEX_SIZE]) {
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned len = 0;

        assert(ctx);
        assert(ret);

        if (EVP_DigestFinal_ex(ctx, md, &len) != 1 || len != SHA256_DIGEST_SIZE)
                return -EIO;
        sha256_to_hex(md, ret);
        return 0;
}

int sha256_buffer(const void *data, size_t size, char ret[static SHA256_HEX_SIZE]) {
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned len = 0;

        assert(data || size == 0);
        assert(ret);

        if (EVP_Digest(data, size, md, &len, EVP_sha256(), NULL) != 1 || len != SHA256_DIGEST_SIZE)
                return -EIO;
        sha256_to_hex(md, ret);
        return 0;
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

int sha256_copy_fd(int in_fd, int out_fd, uint64_t max, char ret[static SHA256_HEX_SIZE], uint64_t *ret_size) {
        EVP_MD_CTX *ctx;
        uint8_t buf[1 << 16];
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
                if (EVP_DigestUpdate(ctx, buf, (size_t) n) != 1) {
                        r = -EIO;
                        break;
                }
                if (out_fd >= 0) {
                        r = write_all(out_fd, buf, (size_t) n);
                        if (r < 0)
                                break;
                }
                off += (uint64_t) n;
        }
        if (r >= 0)
                r = sha256_final_hex(ctx, ret);
        EVP_MD_CTX_free(ctx);
        if (r >= 0 && ret_size)
                *ret_size = off;
        return r;
}

int sha256_file(const char *path, char ret[static SHA256_HEX_SIZE]) {
        _cleanup_close_ int fd = -EBADF;

        assert(path);
        assert(ret);

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        return sha256_copy_fd(fd, -EBADF, UINT64_MAX, ret, NULL);
}
