/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdatomic.h>
#include <stdint.h>

#include "imaged-config.h"
#include "krata-bus.h"
#include "oci-ref.h"
#include "store.h"

typedef enum TransferPhase {
        PHASE_RESOLVING,
        PHASE_DOWNLOADING,
        PHASE_CONVERTING,
        PHASE_DONE,
        PHASE_FAILED,
        PHASE_CANCELED,
        _PHASE_MAX,
} TransferPhase;

const char *transfer_phase_to_string(TransferPhase p);

#define PULL_FLAGS_ALL IMAGES_PULL_FORCE

typedef struct PullRequest {
        OciRef *ref;
        char *reference; /* normalised */
        char *os, *architecture, *variant;
        char *platform;  /* "linux/amd64[/v8]" */
        uint64_t flags;
        const ImagedConfig *config;
        atomic_bool cancel;
} PullRequest;

void pull_request_done(PullRequest *req);

/* The worker reports through these; they may be called from its thread only. */
typedef struct PullReporter {
        void (*phase)(TransferPhase phase, void *userdata);
        void (*bytes)(uint64_t done, uint64_t total, void *userdata);
        void *userdata;
} PullReporter;

typedef struct PullOutcome {
        ImageRecord *record;
        char *tmp_dir;  /* complete image to commit; NULL when it was cached */
        unsigned n_requests;
        uint64_t bytes_downloaded;
        uint64_t download_usec, convert_usec;
} PullOutcome;

void pull_outcome_done(PullOutcome *o);

/* Runs one pull (blocking; on a worker thread). On failure *ret_error says
 * why, without the image name (the caller adds it). */
int pull_run(PullRequest *req, const PullReporter *rep, PullOutcome *ret, char **ret_error);
