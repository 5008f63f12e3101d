/*
 * bench_blst.c — raw blst signing throughput, the denominator of every signer
 * figure in docs/benchmarks.md.
 *
 * T threads (default: the number of online CPUs) each sign distinct 32-byte
 * messages with their own secret key for D seconds, through the project's own
 * wrapper (cc_bls_sign), exactly what the signer does per request minus HTTP,
 * JSON, SSZ and anti-slashing.  It measures and prints; it asserts nothing.
 *
 *   build/bench/bench_blst [--threads T] [--duration D] [--warmup W]
 *
 * Last line (machine-readable):
 *   RESULT blst_sign_per_s=NNNN threads=T per_core=NNNN sign_ms=X
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "signing/bls.h"
#include "util/secret.h"

typedef struct worker {
    pthread_t tid;
    unsigned index;
    cc_bls_sk *sk; /* in secret memory */
    unsigned long long measured; /* signatures inside the measured window */
    double busy_s;               /* wall time spent in the measured window */
    double cpu_s;                /* this thread's CPU time in the measured window */
} worker;

static atomic_int g_phase; /* 0 warm-up, 1 measuring, 2 stop */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
    worker *w = arg;
    uint8_t msg[32] = {0};
    uint8_t sig[CC_BLS_SIG_LEN];
    unsigned long long ctr = 0, count = 0;
    double t0 = 0, c0 = 0;
    int measuring = 0;

    msg[0] = (uint8_t)w->index;
    for (;;) {
        int phase = atomic_load_explicit(&g_phase, memory_order_relaxed);
        if (phase == 2)
            break;
        if (phase == 1 && !measuring) {
            measuring = 1;
            t0 = now_s();
            c0 = thread_cpu_s();
        }
        /* a distinct message every time: thread index + counter */
        ctr++;
        memcpy(msg + 8, &ctr, sizeof ctr);
        cc_bls_sign(w->sk, msg, sizeof msg, sig);
        if (measuring)
            count++;
    }
    w->measured = count;
    w->busy_s = measuring ? now_s() - t0 : 0;
    w->cpu_s = measuring ? thread_cpu_s() - c0 : 0;
    /* keep the compiler honest about the signature being used */
    if (sig[0] == 0 && sig[1] == 0 && sig[2] == 0 && sig[3] == 0 && sig[4] == 0)
        fprintf(stderr, "(unlikely signature prefix)\n");
    return NULL;
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--threads T] [--duration SECONDS] [--warmup SECONDS]\n", argv0);
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int main(int argc, char **argv)
{
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = nproc > 0 ? (unsigned)nproc : 1;
    double duration = 5, warmup = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) {
            usage(argv[0]);
            return 2;
        }
        if (strcmp(a, "--threads") == 0)
            threads = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--duration") == 0)
            duration = strtod(argv[++i], NULL);
        else if (strcmp(a, "--warmup") == 0)
            warmup = strtod(argv[++i], NULL);
        else {
            usage(argv[0]);
            return 2;
        }
    }
    if (threads == 0 || threads > 1024 || duration <= 0 || duration > 600 || warmup < 0 || warmup > 60) {
        fprintf(stderr, "bench_blst: bad arguments (threads 1..1024, duration 0..600 s, warmup 0..60 s)\n");
        return 2;
    }

    worker *ws = calloc(threads, sizeof *ws);
    if (!ws) {
        fprintf(stderr, "bench_blst: out of memory\n");
        return 1;
    }
    for (unsigned t = 0; t < threads; t++) {
        uint8_t be[32] = {0};
        cc_error err;
        ws[t].index = t;
        ws[t].sk = cc_secret_alloc(sizeof *ws[t].sk);
        if (!ws[t].sk) {
            fprintf(stderr, "bench_blst: cannot allocate secret memory\n");
            return 1;
        }
        /* a small deterministic valid scalar per thread (not a real key) */
        be[0] = 0x11;
        be[30] = (uint8_t)(t >> 8);
        be[31] = (uint8_t)(t + 1);
        if (cc_bls_sk_from_bytes(ws[t].sk, be, &err) != CC_OK) {
            fprintf(stderr, "bench_blst: key %u: %s\n", t, err.msg);
            return 1;
        }
    }

    atomic_store(&g_phase, 0);
    for (unsigned t = 0; t < threads; t++) {
        int rc = pthread_create(&ws[t].tid, NULL, run, &ws[t]);
        if (rc != 0) {
            fprintf(stderr, "bench_blst: pthread_create: %s\n", strerror(rc));
            return 1;
        }
    }
    sleep_s(warmup);
    atomic_store(&g_phase, 1);
    sleep_s(duration);
    atomic_store(&g_phase, 2);

    double total_rate = 0, total_cpu = 0;
    unsigned long long total = 0;
    for (unsigned t = 0; t < threads; t++) {
        pthread_join(ws[t].tid, NULL);
        total += ws[t].measured;
        total_cpu += ws[t].cpu_s;
        if (ws[t].busy_s > 0)
            total_rate += (double)ws[t].measured / ws[t].busy_s;
        cc_secret_free(ws[t].sk, sizeof *ws[t].sk);
    }
    free(ws);

    double per_core = total_rate / (double)(nproc > 0 ? nproc : 1);
    double per_thread = total_rate / threads;
    printf("blst sign (cc_bls_sign, 32-byte messages): %u thread(s), %.1f s measured after %.1f s warm-up\n",
           threads, duration, warmup);
    printf("  signatures:        %llu\n", total);
    printf("  total:             %.1f signatures/s\n", total_rate);
    printf("  per thread:        %.1f signatures/s (%.3f ms per signature)\n", per_thread,
           per_thread > 0 ? 1000.0 / per_thread : 0.0);
    printf("  per core (%ld online): %.1f signatures/s\n", nproc, per_core);
    double per_cpu_s = total_cpu > 0 ? (double)total / total_cpu : 0;
    printf("  per CPU-second:    %.1f signatures (threads were on a CPU %.0f%% of the window)\n", per_cpu_s,
           duration > 0 ? 100.0 * total_cpu / (duration * threads) : 0.0);
    printf("RESULT blst_sign_per_s=%.0f threads=%u per_core=%.0f sign_ms=%.3f per_cpu_s=%.0f\n", total_rate,
           threads, per_core, per_thread > 0 ? 1000.0 / per_thread : 0.0, per_cpu_s);
    return 0;
}
