/*
 * limiter.h — backpressure for signing (SPEC §7).
 *
 * Two bounds.  Admission: at most max_active + max_queue signing requests are
 * in the signer at once; one more is answered 503 at once, so an overloaded
 * signer fails fast instead of letting a validator client's request hang.
 * The CPU stage (parsing, hashing, BLS) runs at most max_active at a time
 * (default: the number of cores); a request that cannot start it before its
 * deadline (arrival + timeout) is answered 503.
 *
 * The anti-slashing wait is outside the CPU stage on purpose: while one
 * request waits for its group commit, another uses the core.
 */
#ifndef CC_LIMITER_H
#define CC_LIMITER_H

#include <pthread.h>
#include <time.h>

#include "util/err.h"

typedef struct cc_limiter {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    unsigned max_active, max_queue;
    unsigned admitted; /* requests inside the signer (active or waiting) */
    unsigned active;   /* requests in the CPU stage */
    double timeout_seconds;
} cc_limiter;

/* max_active 0 means the number of online cores. */
void cc_limiter_init(cc_limiter *l, unsigned max_active, unsigned max_queue, double timeout_seconds);
void cc_limiter_destroy(cc_limiter *l);

/* Admits a request (sets *deadline), or CC_EUNAVAILABLE at once when full. */
cc_status cc_limiter_admit(cc_limiter *l, struct timespec *deadline, cc_error *err);
/* Leaves the signer (every admitted request calls it once). */
void cc_limiter_depart(cc_limiter *l);

/* Enters the CPU stage, waiting until deadline at most: CC_EUNAVAILABLE on timeout. */
cc_status cc_limiter_enter(cc_limiter *l, const struct timespec *deadline, cc_error *err);
void cc_limiter_leave(cc_limiter *l);

#endif
