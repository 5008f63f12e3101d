/*
 * queue.h — the queue of pending anti-slashing checks that every queued
 * backend (sqlite, postgres, dynamodb) shares.
 *
 * Callers push cc_slashing_check items (slashing.h) from any thread; the
 * backend's own threads take them — all at once for a group commit, a bounded
 * batch, or one at a time — decide them, and complete them with
 * cc_check_batch_done once the verdicts are durable.  The synchronous calls
 * of the slashing interface are built on the same path
 * (cc_slashing_submit_wait), so there is one route to the database.
 */
#ifndef CC_SLASHING_QUEUE_H
#define CC_SLASHING_QUEUE_H

#include <pthread.h>
#include <stddef.h>

#include "slashing/slashing.h"

typedef struct cc_check_queue {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    cc_slashing_check *head, *tail;
    int stopping;
} cc_check_queue;

void cc_check_queue_init(cc_check_queue *q);
void cc_check_queue_destroy(cc_check_queue *q);

/* Queues check; 0 when the queue is stopping (the caller then completes it with an error). */
int cc_check_queue_push(cc_check_queue *q, cc_slashing_check *check);

/*
 * Blocks until checks are queued and takes up to max of them (SIZE_MAX: all)
 * as a NULL-terminated list, *count set; NULL once stopped and drained.
 * When more remain, another waiting taker is woken.
 */
cc_slashing_check *cc_check_queue_take(cc_check_queue *q, size_t max, size_t *count);

/* Stops the queue: pushes fail, takers drain what is queued and then get NULL. */
void cc_check_queue_stop(cc_check_queue *q);

/* Calls done() on every check of a taken batch — only after their verdicts are durable. */
void cc_check_batch_done(cc_slashing_check *batch);

/* The synchronous calls of a queued backend: submit through ops->submit and wait for done. */
cc_status cc_slashing_submit_wait(cc_slashing *db, cc_slashing_check *check, cc_error *err);
cc_status cc_slashing_queued_check_block(cc_slashing *db, const uint8_t pubkey[48], uint64_t slot,
                                         const uint8_t signing_root[32], cc_error *err);
cc_status cc_slashing_queued_check_attestation(cc_slashing *db, const uint8_t pubkey[48], uint64_t source_epoch,
                                               uint64_t target_epoch, const uint8_t signing_root[32], cc_error *err);

#endif
