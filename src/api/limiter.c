/*
 * limiter.c — the admission count and deadlines.  Deadlines run on
 * CLOCK_MONOTONIC so a wall-clock jump can neither stretch nor cut a wait.
 */
#include "api/limiter.h"

#include <errno.h>
#include <unistd.h>

void cc_limiter_init(cc_limiter *l, unsigned max_active, unsigned max_queue, double timeout_seconds)
{
    if (max_active == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        max_active = n > 0 ? (unsigned)n : 1;
    }
    l->max_active = max_active;
    l->max_queue = max_queue;
    l->admitted = 0;
    l->timeout_seconds = timeout_seconds;
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
    /* Lock-free: every signing request passes here twice. */
    if (__atomic_add_fetch(&l->admitted, 1, __ATOMIC_ACQ_REL) > l->max_active + l->max_queue) {
        __atomic_sub_fetch(&l->admitted, 1, __ATOMIC_ACQ_REL);
        return cc_error_set(err, CC_EUNAVAILABLE, "overloaded: %u signing requests in progress, try again",
                            l->max_active + l->max_queue);
    }
    return CC_OK;
}

void cc_limiter_depart(cc_limiter *l)
{
    __atomic_sub_fetch(&l->admitted, 1, __ATOMIC_ACQ_REL);
}

