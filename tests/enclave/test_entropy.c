/*
 * test_entropy.c — NSM GetRandom into OpenSSL's RNG (src/enclave/entropy.c)
 * with the simulated NSM behind a counting, switchable wrapper: one mix asks
 * the NSM for 48 bytes and reseeds OpenSSL's primary DRBG (its reseed
 * counter moves); the feeder mixes at start and then periodically; a failing
 * NSM is logged (warn line on stderr) and counted, never fatal, and the
 * feeder recovers when the NSM does; stop is prompt.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "enclave/entropy.h"
#include "enclave/nsm.h"
#include "util/secret.h"
#include "test.h"

typedef struct wrap_nsm {
    cc_nsm base;
    cc_nsm *inner;
    atomic_int calls, fail;
    size_t last_len;
} wrap_nsm;

static cc_status w_get_random(cc_nsm *dev, uint8_t *out, size_t len, cc_error *err)
{
    wrap_nsm *w = (wrap_nsm *)dev;
    atomic_fetch_add(&w->calls, 1);
    w->last_len = len;
    if (atomic_load(&w->fail))
        return cc_error_set(err, CC_EIO, "NSM GetRandom: ioctl failed: Input/output error");
    return w->inner->ops->get_random(w->inner, out, len, err);
}
static void w_close(cc_nsm *dev)
{
    wrap_nsm *w = (wrap_nsm *)dev;
    cc_nsm_close(w->inner);
    free(w);
}
static const cc_nsm_ops w_ops = {"wrapped-sim", NULL, NULL, w_get_random, w_close};

static wrap_nsm *wrap_new(void)
{
    cc_nsm_sim_options o = {0};
    cc_nsm *sim = NULL;
    cc_error err;
    if (cc_nsm_sim_new(&o, &sim, &err) != CC_OK)
        return NULL;
    wrap_nsm *w = calloc(1, sizeof *w);
    w->base.ops = &w_ops;
    w->inner = sim;
    return w;
}

static unsigned long long primary_reseeds(void)
{
    EVP_RAND_CTX *p = RAND_get0_primary(NULL);
    unsigned int n = 0;
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_uint(OSSL_DRBG_PARAM_RESEED_COUNTER, &n), OSSL_PARAM_END};
    if (!p || !EVP_RAND_CTX_get_params(p, params))
        return 0;
    return n;
}

/* Runs fn with stderr captured into buf. */
static void capture_stderr(void (*fn)(void *), void *arg, char *buf, size_t cap)
{
    char path[] = "/tmp/cc-test-entropy.XXXXXX";
    int fd = mkstemp(path);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, cap - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
}

TEST(mix_once_reseeds_openssl)
{
    wrap_nsm *w = wrap_new();
    CHECK(w != NULL);
    if (!w)
        return;
    uint8_t warm[8];
    CHECK(RAND_bytes(warm, sizeof warm) == 1);
    unsigned long long before = primary_reseeds();
    cc_error err;
    CHECK(cc_entropy_mix_once(&w->base, &err) == CC_OK);
    CHECK(atomic_load(&w->calls) == 1 && w->last_len == CC_ENTROPY_BYTES);
    unsigned long long after = primary_reseeds();
    CHECK_MSG(after > before, "primary DRBG reseed counter %llu → %llu", before, after);
    atomic_store(&w->fail, 1);
    CHECK(cc_entropy_mix_once(&w->base, &err) == CC_EIO && strstr(err.msg, "GetRandom"));
    CHECK(primary_reseeds() == after); /* nothing added on failure */
    CHECK(RAND_bytes(warm, sizeof warm) == 1); /* OpenSSL's RNG still works */
    cc_nsm_close(&w->base);
}

typedef struct start_args {
    wrap_nsm *w;
    cc_entropy_feeder *f;
    cc_status st;
} start_args;
static void do_start(void *arg)
{
    start_args *a = arg;
    cc_error err;
    a->st = cc_entropy_feeder_start(&a->w->base, 60000, &a->f, &err);
}

TEST(failure_logged_not_fatal)
{
    wrap_nsm *w = wrap_new();
    if (!w)
        return;
    atomic_store(&w->fail, 1);
    start_args a = {w, NULL, CC_EINTERNAL};
    char log[4096];
    capture_stderr(do_start, &a, log, sizeof log);
    CHECK(a.st == CC_OK && a.f != NULL);
    CHECK(a.f && cc_entropy_feeder_failures(a.f) == 1 && cc_entropy_feeder_mixes(a.f) == 0);
    CHECK_MSG(strstr(log, "\"level\":\"warn\"") && strstr(log, "entropy: NSM GetRandom failed") &&
                  strstr(log, "ioctl failed"),
              "log: %s", log);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cc_entropy_feeder_stop(a.f); /* a 60 s interval: stop must not wait for it */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK((t1.tv_sec - t0.tv_sec) < 2);
    cc_nsm_close(&w->base);
}

TEST(periodic_and_recovers)
{
    wrap_nsm *w = wrap_new();
    if (!w)
        return;
    cc_entropy_feeder *f = NULL;
    cc_error err;
    CHECK(cc_entropy_feeder_start(&w->base, 50, &f, &err) == CC_OK);
    if (!f)
        return;
    CHECK(cc_entropy_feeder_mixes(f) >= 1); /* at start, synchronously */
    for (int i = 0; i < 40 && cc_entropy_feeder_mixes(f) < 4; i++)
        usleep(50 * 1000);
    CHECK_MSG(cc_entropy_feeder_mixes(f) >= 4, "%lu mixes", cc_entropy_feeder_mixes(f));
    atomic_store(&w->fail, 1);
    for (int i = 0; i < 40 && cc_entropy_feeder_failures(f) < 2; i++)
        usleep(50 * 1000);
    CHECK(cc_entropy_feeder_failures(f) >= 2);
    atomic_store(&w->fail, 0);
    unsigned long m = cc_entropy_feeder_mixes(f);
    for (int i = 0; i < 40 && cc_entropy_feeder_mixes(f) < m + 2; i++)
        usleep(50 * 1000);
    CHECK(cc_entropy_feeder_mixes(f) >= m + 2);
    cc_entropy_feeder_stop(f);
    CHECK(cc_entropy_feeder_start(&w->base, 0, &f, &err) == CC_EINVAL);
    cc_nsm_close(&w->base);
}

int main(void)
{
    cc_secret_init();
    RUN(mix_once_reseeds_openssl);
    RUN(failure_logged_not_fatal);
    RUN(periodic_and_recovers);
    TEST_MAIN_END();
}
