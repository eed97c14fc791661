/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

#include "manifest.h"
#include "registry.h"

/* One blob to bring into the content-addressed cache. */
typedef struct BlobFetch {
        const Descriptor *desc;
        char *path;     /* final path: blobs/sha256/<hex> */

        /* private */
        char *tmp_path;
        int fd;
        void *sha;      /* EVP_MD_CTX */
        uint64_t received;
        unsigned attempts;
        unsigned auth_attempts;
        long status;
        bool too_big;
        bool started;   /* the current attempt's status is known */
        char *www_authenticate;
        struct curl_slist *headers;
        void *easy;
} BlobFetch;

typedef void (*blob_progress_t)(int64_t delta, void *userdata);

/* Downloads the blobs in parallel (ParallelDownloads= at a time), verifying
 * each one's size and sha256 while it streams; a blob becomes visible at
 * ->path only once verified. Dropped connections resume with Range. */
int blob_fetch_all(Registry *r, BlobFetch *blobs, size_t n, blob_progress_t progress, void *userdata);
void blob_fetch_done(BlobFetch *b);
