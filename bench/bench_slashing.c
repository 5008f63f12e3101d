/*
 * bench_slashing.c — throughput of the sqlite anti-slashing backend alone.
 *
 *   bench_slashing [threads=64] [seconds=5] [validators=1000] [path]
 *
 * THREADS threads issue attestation checks for VALIDATORS distinct
 * validators (thread t owns validators t, t+threads, ...; each validator's
 * epochs rise: source e-1, target e), through the durable sqlite backend (WAL,
 * synchronous=FULL, group commit).  Prints checks/s and the mean batch size
 * (checks per COMMIT, so per fsync).  The database is a fresh file in /tmp
 * unless a path is given (a fresh one is expected).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slashing/slashing.h"

static atomic_int stop;
static atomic_ullong refused, failed;

typedef struct bench_thread {
    cc_slashing *db;
    int index, threads, validators;
    unsigned long long done;
} bench_thread;

static void pubkey(uint8_t pk[48], uint32_t n)
{
    memset(pk, 0xb0, 48);
    for (int i = 0; i < 4; i++) {
        pk[8 + i] = (uint8_t)(n >> (8 * i));
        pk[44 + i] = (uint8_t)(n >> (8 * i));
    }
}

static void *bench_main(void *arg)
{
    bench_thread *b = arg;
    uint8_t pk[48], root[32];
    memset(root, 0x77, sizeof root);
    for (uint64_t epoch = 1; !atomic_load(&stop); epoch++) {
        for (int v = b->index; v < b->validators && !atomic_load(&stop); v += b->threads) {
            cc_error err;
            pubkey(pk, (uint32_t)v);
            memcpy(root, &epoch, sizeof epoch);
            cc_status st = cc_slashing_check_attestation(b->db, pk, epoch - 1, epoch, root, &err);
            if (st == CC_ESLASHABLE)
                atomic_fetch_add(&refused, 1);
            else if (st != CC_OK)
                atomic_fetch_add(&failed, 1);
            b->done++;
        }
    }
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 64;
    double seconds = argc > 2 ? atof(argv[2]) : 5;
    int validators = argc > 3 ? atoi(argv[3]) : 1000;
    char path[512];
    if (argc > 4)
        snprintf(path, sizeof path, "%s", argv[4]);
    else
        snprintf(path, sizeof path, "/tmp/bench_slashing_%d.sqlite", (int)getpid());
    if (threads < 1 || validators < threads || seconds <= 0) {
        fprintf(stderr, "usage: bench_slashing [threads] [seconds] [validators >= threads] [path]\n");
        return 2;
    }

    uint8_t gvr[32] = {0x4b, 0x36};
    cc_slashing *db = NULL;
    cc_error err;
    if (cc_slashing_sqlite_open(path, gvr, &db, &err) != CC_OK) {
        fprintf(stderr, "bench_slashing: %s\n", err.msg);
        return 1;
    }
    bench_thread *b = calloc((size_t)threads, sizeof *b);
    pthread_t *th = calloc((size_t)threads, sizeof *th);
    double t0 = now();
    for (int i = 0; i < threads; i++) {
        b[i] = (bench_thread){.db = db, .index = i, .threads = threads, .validators = validators};
        pthread_create(&th[i], NULL, bench_main, &b[i]);
    }
    usleep((useconds_t)(seconds * 1e6));
    atomic_store(&stop, 1);
    unsigned long long total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        total += b[i].done;
    }
    double elapsed = now() - t0;
    uint64_t batches = 0, checks = 0;
    cc_slashing_sqlite_stats(db, &batches, &checks);
    cc_slashing_close(db);
    if (argc <= 4) {
        char p[600];
        unlink(path);
        snprintf(p, sizeof p, "%s-wal", path);
        unlink(p);
        snprintf(p, sizeof p, "%s-shm", path);
        unlink(p);
    }
    printf("bench_slashing: %d threads, %d validators, %.1f s: %llu attestation checks, %.0f checks/s, "
           "%llu commits, mean batch %.1f, refused %llu, failed %llu\n",
           threads, validators, elapsed, total, (double)total / elapsed, (unsigned long long)batches,
           batches ? (double)checks / (double)batches : 0.0, (unsigned long long)atomic_load(&refused),
           (unsigned long long)atomic_load(&failed));
    free(b);
    free(th);
    return atomic_load(&refused) || atomic_load(&failed) ? 1 : 0;
}
