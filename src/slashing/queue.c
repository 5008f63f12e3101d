/*
 * queue.c — the shared queue of pending checks, and synchronous waiting on it.
 */
#include "slashing/queue.h"

#include <stdint.h>
#include <string.h>

void cc_check_queue_init(cc_check_queue *q)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cv, NULL);
}

void cc_check_queue_destroy(cc_check_queue *q)
{
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->lock);
}

int cc_check_queue_push(cc_check_queue *q, cc_slashing_check *check)
{
    check->next = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->stopping) {
        pthread_mutex_unlock(&q->lock);
        return 0;
    }
    if (q->tail)
        q->tail->next = check;
    else
        q->head = check;
    q->tail = check;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->lock);
    return 1;
}

cc_slashing_check *cc_check_queue_take(cc_check_queue *q, size_t max, size_t *count)
{
    pthread_mutex_lock(&q->lock);
    while (!q->head && !q->stopping)
        pthread_cond_wait(&q->cv, &q->lock);
    cc_slashing_check *batch = q->head, *last = batch;
    size_t n = 0;
    if (batch) {
        n = 1;
        while (last->next && n < max) {
            last = last->next;
            n++;
        }
        q->head = last->next;
        if (!q->head)
            q->tail = NULL;
        else
            pthread_cond_signal(&q->cv); /* more for another taker */
        last->next = NULL;
    }
    pthread_mutex_unlock(&q->lock);
    *count = n;
    return batch; /* NULL: stopping and drained */
}

void cc_check_queue_stop(cc_check_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->stopping = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->lock);
}

void cc_check_batch_done(cc_slashing_check *batch)
{
    for (cc_slashing_check *r = batch, *next; r; r = next) {
        next = r->next; /* r may be gone as soon as done() returns */
        r->done(r);
    }
}

/*
 * A synchronous caller waits on its own mutex and condition variable, on its
 * stack; sync_done signals under that mutex, so the waiter cannot see done
 * and return before the signal has been given.
 */
typedef struct sync_wait {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int done;
} sync_wait;

static void sync_done(cc_slashing_check *check)
{
    sync_wait *w = check->arg;
    pthread_mutex_lock(&w->lock);
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->lock);
}

cc_status cc_slashing_submit_wait(cc_slashing *db, cc_slashing_check *check, cc_error *err)
{
    sync_wait w = {.done = 0};
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cv, NULL);
    check->done = sync_done;
    check->arg = &w;
    db->ops->submit(db, check);
    pthread_mutex_lock(&w.lock);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.lock);
    pthread_mutex_unlock(&w.lock);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.lock);
    if (check->status != CC_OK && err)
        *err = check->err;
    return check->status;
}

cc_status cc_slashing_queued_check_block(cc_slashing *db, const uint8_t pubkey[48], uint64_t slot,
                                         const uint8_t signing_root[32], cc_error *err)
{
    cc_slashing_check c = {.kind = CC_SLASHING_BLOCK, .slot = slot};
    memcpy(c.pubkey, pubkey, sizeof c.pubkey);
    memcpy(c.signing_root, signing_root, sizeof c.signing_root);
    return cc_slashing_submit_wait(db, &c, err);
}

cc_status cc_slashing_queued_check_attestation(cc_slashing *db, const uint8_t pubkey[48], uint64_t source_epoch,
                                               uint64_t target_epoch, const uint8_t signing_root[32], cc_error *err)
{
    cc_slashing_check c = {.kind = CC_SLASHING_ATTESTATION, .source_epoch = source_epoch,
                           .target_epoch = target_epoch};
    memcpy(c.pubkey, pubkey, sizeof c.pubkey);
    memcpy(c.signing_root, signing_root, sizeof c.signing_root);
    return cc_slashing_submit_wait(db, &c, err);
}
