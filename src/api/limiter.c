/*
 * limiter.c — a counting semaphore with a deadline, plus an admission count.
 * The condition variable runs on CLOCK_MONOTONIC so a wall-clock jump can
 * neither stretch nor cut a wait.
 */
#include "api/limiter.h"

#include <errno.h>
#include <unistd.h>

void cc_limiter_init(cc_limiter *l, unsigned max_active, unsigned max_queue, double timeout_seconds)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->freed, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&l->lock, NULL);
    if (max_active == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        max_active = n > 0 ? (unsigned)n : 1;
    }
    l->max_active = max_active;
    l->max_queue = max_queue;
    l->admitted = 0;
    l->active = 0;
    l->timeout_seconds = timeout_seconds;
}

void cc_limiter_destroy(cc_limiter *l)
{
    pthread_cond_destroy(&l->freed);
    pthread_mutex_destroy(&l->lock);
}

cc_status cc_limiter_admit(cc_limiter *l, struct timespec *deadline, cc_error *err)
{
    clock_gettime(CLOCK_MONOTONIC, deadline);
    long long ns = (long long)(l->timeout_seconds * 1e9);
    deadline->tv_sec += (time_t)(ns / 1000000000LL);
    deadline->tv_nsec += (long)(ns % 1000000000LL);
    if (deadline->tv_nsec >= 1000000000L) {
        deadline->tv_sec++;
        deadline->tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&l->lock);
    if (l->admitted >= l->max_active + l->max_queue) {
        pthread_mutex_unlock(&l->lock);
        return cc_error_set(err, CC_EUNAVAILABLE, "overloaded: %u signing requests in progress, try again",
                            l->max_active + l->max_queue);
    }
    l->admitted++;
    pthread_mutex_unlock(&l->lock);
    return CC_OK;
}

void cc_limiter_depart(cc_limiter *l)
{
    pthread_mutex_lock(&l->lock);
    l->admitted--;
    pthread_mutex_unlock(&l->lock);
}

cc_status cc_limiter_enter(cc_limiter *l, const struct timespec *deadline, cc_error *err)
{
    pthread_mutex_lock(&l->lock);
    while (l->active >= l->max_active) {
        int rc = pthread_cond_timedwait(&l->freed, &l->lock, deadline);
        if (rc == ETIMEDOUT && l->active >= l->max_active) {
            pthread_mutex_unlock(&l->lock);
            return cc_error_set(err, CC_EUNAVAILABLE, "timed out after %.0f s waiting for a signing slot",
                                l->timeout_seconds);
        }
    }
    l->active++;
    pthread_mutex_unlock(&l->lock);
    return CC_OK;
}

void cc_limiter_leave(cc_limiter *l)
{
    pthread_mutex_lock(&l->lock);
    l->active--;
    pthread_cond_signal(&l->freed);
    pthread_mutex_unlock(&l->lock);
}
