/*
 * bench_sealed_key.c — how long N DynamoDB keys take to unseal at start-up.
 *
 * Seals N distinct BLS keys under one master key (not timed), then opens all
 * of them with T threads (each open = AES-256-GCM decryption + the sk→pk
 * check that the secret belongs to the item's pubkey) and prints the wall
 * time.  The DynamoDB custody issue asks for 10,000 keys in ≤ 3 s.  It
 * measures and prints; it asserts nothing.
 *
 *   build/bench/bench_sealed_key [--keys N] [--threads T]
 *
 * Last line (machine-readable):
 *   RESULT sealed_key_open keys=N threads=T seconds=S per_key_us=U
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keys/sealed_key.h"
#include "signing/bls.h"
#include "util/secret.h"

typedef struct item {
    uint8_t pk[48];
    uint8_t blob[CC_SEALED_KEY_LEN];
} item;

static const uint8_t master[32] = {0x42};
static item *items;
static size_t n_items;
static size_t n_threads;
static int failures;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *opener(void *arg)
{
    size_t t = (size_t)arg;
    uint8_t *sk = cc_secret_alloc(32);
    for (size_t i = t; i < n_items; i += n_threads)
        if (cc_sealed_key_open(master, 1, items[i].pk, items[i].blob, CC_SEALED_KEY_LEN, sk, NULL) != CC_OK)
            __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    cc_secret_free(sk, 32);
    return NULL;
}

int main(int argc, char **argv)
{
    n_items = 10000;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    n_threads = cpus > 0 ? (size_t)cpus : 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--keys") == 0)
            n_items = (size_t)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--threads") == 0)
            n_threads = (size_t)strtoul(argv[i + 1], NULL, 10);
    }
    if (n_items == 0 || n_threads == 0 || n_threads > 256) {
        fprintf(stderr, "usage: bench_sealed_key [--keys N] [--threads T]\n");
        return 2;
    }
    items = calloc(n_items, sizeof *items);
    cc_bls_sk *sk = cc_secret_alloc(sizeof *sk);
    uint8_t *be = cc_secret_alloc(32);
    if (!items || !sk || !be)
        return 1;
    for (size_t i = 0; i < n_items; i++) {
        memset(be, 0, 32);
        be[0] = 0x10;
        memcpy(be + 24, &i, sizeof i);
        size_t len;
        if (cc_bls_sk_from_bytes(sk, be, NULL) != CC_OK ||
            (cc_bls_sk_to_pk(sk, items[i].pk),
             cc_sealed_key_seal(master, 1, items[i].pk, be, items[i].blob, &len, NULL) != CC_OK)) {
            fprintf(stderr, "setup failed at key %zu\n", i);
            return 1;
        }
    }
    cc_secret_free(sk, sizeof *sk);
    cc_secret_free(be, 32);

    pthread_t tid[256];
    double t0 = now();
    for (size_t t = 0; t < n_threads; t++)
        pthread_create(&tid[t], NULL, opener, (void *)t);
    for (size_t t = 0; t < n_threads; t++)
        pthread_join(tid[t], NULL);
    double dt = now() - t0;
    printf("opened %zu sealed keys with %zu threads in %.3f s (%d failures)\n", n_items, n_threads, dt, failures);
    printf("RESULT sealed_key_open keys=%zu threads=%zu seconds=%.3f per_key_us=%.1f\n", n_items, n_threads, dt,
           dt * 1e6 / (double)n_items * (double)n_threads);
    free(items);
    return failures ? 1 : 0;
}
