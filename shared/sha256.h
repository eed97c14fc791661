/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* SHA-256 through libcrypto, written as 64 lowercase hex digits (+NUL): the
 * form of OCI digests ("sha256:" + hex) and of krata's cache keys. */

#define SHA256_DIGEST_SIZE 32
#define SHA256_HEX_SIZE (2 * SHA256_DIGEST_SIZE + 1)

void sha256_to_hex(const uint8_t md[static SHA256_DIGEST_SIZE], char ret[static SHA256_HEX_SIZE]);
/* Ends a digest that was fed in pieces (EVP_DigestUpdate()). */
int sha256_final_hex(EVP_MD_CTX *ctx, char ret[static SHA256_HEX_SIZE]);
int sha256_buffer(const void *data, size_t size, char ret[static SHA256_HEX_SIZE]);
int sha256_file(const char *path, char ret[static SHA256_HEX_SIZE]);
/* Hashes what in_fd holds from offset 0 (pread: the offset of a descriptor
 * handed over is its sender's too, so it is left alone), writing it to out_fd
 * too unless that is negative; -EFBIG beyond max bytes. */
int sha256_copy_fd(int in_fd, int out_fd, uint64_t max, char ret[static SHA256_HEX_SIZE], uint64_t *ret_size);
