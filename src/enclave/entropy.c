/*
 * entropy.c — NSM GetRandom mixed into OpenSSL's RNG (entropy.h).
 */
#include "enclave/entropy.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/rand.h>
#include <pthread.h>

#include "util/log.h"
#include "util/secret.h"

cc_status cc_entropy_mix_once(cc_nsm *nsm, cc_error *err)
{
    uint8_t buf[CC_ENTROPY_BYTES];
    cc_status st = nsm->ops->get_random(nsm, buf, sizeof buf, err);
    if (st == CC_OK)
        RAND_add(buf, (int)sizeof buf, (double)sizeof buf);
    cc_secret_wipe(buf, sizeof buf);
    return st;
}

struct cc_entropy_feeder {
    cc_nsm *nsm;
    unsigned interval_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    atomic_ulong mixes, failures;
    pthread_t thread;
};

static void mix_logged(cc_entropy_feeder *f)
{
    cc_error err;
    cc_error_clear(&err);
    if (cc_entropy_mix_once(f->nsm, &err) == CC_OK) {
        atomic_fetch_add(&f->mixes, 1);
    } else {
        atomic_fetch_add(&f->failures, 1);
        cc_log(CC_LOG_WARN, "entropy: NSM GetRandom failed; the kernel's source stays in use, retrying later", "error",
               err.msg, NULL);
    }
}

static void *feeder_main(void *arg)
{
    cc_entropy_feeder *f = arg;
    pthread_mutex_lock(&f->mu);
    while (!f->stop) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        t.tv_sec += f->interval_ms / 1000;
        t.tv_nsec += (long)(f->interval_ms % 1000) * 1000000L;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
        int rc = 0;
        while (!f->stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&f->cv, &f->mu, &t);
        if (f->stop)
            break;
        pthread_mutex_unlock(&f->mu);
        mix_logged(f);
        pthread_mutex_lock(&f->mu);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

cc_status cc_entropy_feeder_start(cc_nsm *nsm, unsigned interval_ms, cc_entropy_feeder **out, cc_error *err)
{
    *out = NULL;
    if (interval_ms == 0)
        return cc_error_set(err, CC_EINVAL, "entropy: the interval must be positive");
    cc_entropy_feeder *f = calloc(1, sizeof *f);
    if (!f)
        return cc_error_set(err, CC_ENOMEM, "entropy: out of memory");
    f->nsm = nsm;
    f->interval_ms = interval_ms;
    pthread_mutex_init(&f->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
    mix_logged(f); /* before anything in this process generates a key */
    if (cc_entropy_feeder_mixes(f) == 1)
        cc_log(CC_LOG_INFO, "entropy: NSM GetRandom mixed into OpenSSL's RNG", "nsm", nsm->ops->name, NULL);
    if (pthread_create(&f->thread, NULL, feeder_main, f) != 0) {
        pthread_cond_destroy(&f->cv);
        pthread_mutex_destroy(&f->mu);
        free(f);
        return cc_error_set(err, CC_EIO, "entropy: cannot start a thread");
    }
    *out = f;
    return CC_OK;
}

unsigned long cc_entropy_feeder_mixes(cc_entropy_feeder *f)
{
    return atomic_load(&f->mixes);
}

unsigned long cc_entropy_feeder_failures(cc_entropy_feeder *f)
{
    return atomic_load(&f->failures);
}

void cc_entropy_feeder_stop(cc_entropy_feeder *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
}
