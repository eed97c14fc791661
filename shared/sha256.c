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

int sha256_file(const char *path, char ret[static SHA256_HEX_SIZE]) {
        _cleanup_close_ int fd = -EBADF;
        EVP_MD_CTX *ctx = NULL;
        uint8_t buf[1 << 16];
        ssize_t n;
        int r = 0;

        assert(path);
        assert(ret);

        fd = open(path, O_RDONLY | O_CLOEXEC);
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
                if (EVP_DigestUpdate(ctx, buf, (size_t) n) != 1) {
                        r = -EIO;
                        break;
                }
        }
        if (r >= 0)
                r = sha256_final_hex(ctx, ret);
        EVP_MD_CTX_free(ctx);
        return r;
}
