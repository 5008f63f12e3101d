/*
 * limiter.h — backpressure for signing (SPEC §7).
 *
 * Signing concurrency is bounded by the server's thread pool (one thread per
 * core by default: backpressure.max_concurrent), and a request never holds a
 * thread while its anti-slashing record commits.  What this bounds is how
 * many signing requests may be inside the signer at once — running, or parked
 * waiting for their record: max_active + max_queue.  One more is answered 503
 * at once, so an overloaded signer fails fast instead of letting a validator
 * client's request hang; and a request whose deadline (arrival + timeout) has
 * passed when its turn to sign comes is answered 503 too.
 */
#ifndef CC_LIMITER_H
#define CC_LIMITER_H

#include <time.h>

#include "util/err.h"

typedef struct cc_limiter {
    unsigned max_active, max_queue;
    unsigned admitted; /* requests inside the signer */
    double timeout_seconds;
} cc_limiter;

/* max_active 0 means the number of online cores. */
void cc_limiter_init(cc_limiter *l, unsigned max_active, unsigned max_queue, double timeout_seconds);

/* Admits a request (sets *deadline on CLOCK_MONOTONIC), or CC_EUNAVAILABLE at once when full. */
cc_status cc_limiter_admit(cc_limiter *l, struct timespec *deadline, cc_error *err);
/* Leaves the signer (every admitted request calls it once). */
void cc_limiter_depart(cc_limiter *l);

#endif
