/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "manager.h"
#include "pull.h"

/* A running pull: a worker thread doing blocking network and conversion
 * work, reporting through an eventfd to the event loop, which owns the bus
 * object /org/krata/images1/transfer/N and commits the result. */
struct Transfer {
        Manager *manager;
        uint32_t id;
        char *object_path;
        PullRequest req;

        pthread_t thread;
        bool thread_running;
        int efd;
        sd_event_source *efd_source;
        sd_bus_slot *slot;

        pthread_mutex_t lock;
        /* shared with the worker, under lock */
        TransferPhase phase;
        uint64_t bytes_done, bytes_total;
        uint64_t last_notify_usec;
        bool finished;
        int result;
        char *error;
        PullOutcome outcome;

        /* published on the bus (event loop only) */
        TransferPhase pub_phase;
        uint64_t pub_done, pub_total;
        char *pub_error;
};

/* Takes req's contents. */
int transfer_start(Manager *m, PullRequest *req, Transfer **ret);
void transfer_cancel(Transfer *t);
/* Cancels, joins the worker and frees (shutdown path; no signals). */
Transfer *transfer_free(Transfer *t);
