/*
 * bench_dynamodb_keys.c — loading N sealed keys from a DynamoDB key table
 * (keys/dynamodb.c), next to the raw cost of opening N blobs on the same
 * cores in the same run.
 *
 *   CC_DYNALITE_ENDPOINT=http://127.0.0.1:8000 build/bench/bench_dynamodb_keys [N] [runs]
 *
 * Writes N (default 10,000) real BLS keys sealed under a fresh master key to
 * a new table (BatchWriteItem, not timed), then measures, `runs` times
 * (default 3):
 *   raw   — N cc_sealed_key_open on every core (the unavoidable CPU part);
 *   read  — cc_key_table_read_all alone (16 shards, 16 streams);
 *   load  — the source's load: read_all + open every blob on every core +
 *           keyset + cc_keyring_replace_origin (what start-up and a refresh do).
 * Prints each, and RESULT lines with load/raw.  AWS_* credentials must be set
 * (dynalite checks only their shape).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "aws/credentials.h"
#include "aws/dynamodb.h"
#include "aws/http.h"
#include "keys/dynamodb.h"
#include "keys/interop.h"
#include "signing/bls.h"
#include "util/log.h"
#include "util/secret.h"

static cc_dynamodb ddb;
static char table[64];
static uint8_t *master;
static cc_key_record *recs;
static size_t nkeys;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static cc_status with_master(void *ctx, cc_status (*fn)(void *arg, const uint8_t m[32], uint32_t version), void *arg,
                             cc_error *err)
{
    (void)ctx;
    (void)err;
    return fn(arg, master, 1);
}

/* ---- setup: make and write the keys */
static _Atomic size_t next_i;

static void *make_main(void *p)
{
    (void)p;
    uint8_t sk[32];
    for (;;) {
        size_t i = atomic_fetch_add(&next_i, 1);
        if (i >= nkeys)
            break;
        cc_key_record *r = &recs[i];
        cc_bls_sk s;
        cc_interop_secret((uint32_t)i, sk, NULL);
        cc_bls_sk_from_bytes(&s, sk, NULL);
        cc_bls_sk_to_pk(&s, r->pubkey);
        cc_sealed_key_seal(master, 1, r->pubkey, sk, r->sealed, &r->sealed_len, NULL);
        r->status = CC_KEY_ACTIVE;
        r->master_version = 1;
        strcpy(r->origin, "generated");
        snprintf(r->path, sizeof r->path, "m/12381/3600/%zu/0/0", i);
        strcpy(r->created_at, "2026-11-26T00:00:00Z");
        strcpy(r->updated_at, "2026-11-26T00:00:00Z");
    }
    cc_secret_wipe(sk, 32);
    return NULL;
}

static void *write_main(void *p)
{
    int *failed = p;
    for (;;) {
        size_t from = atomic_fetch_add(&next_i, 25);
        if (from >= nkeys || *failed)
            break;
        json_t *puts = json_array();
        for (size_t j = from; j < from + 25 && j < nkeys; j++) {
            json_t *item = NULL;
            cc_key_record_to_item(&recs[j], &item, NULL);
            json_array_append_new(puts, json_pack("{s:{s:o}}", "PutRequest", "Item", item));
        }
        json_t *req = json_pack("{s:{s:o}}", "RequestItems", table, puts), *resp = NULL;
        cc_error err;
        if (cc_dynamodb_call(&ddb, "BatchWriteItem", req, &resp, &err) != CC_OK ||
            json_object_size(json_object_get(resp, "UnprocessedItems"))) {
            fprintf(stderr, "BatchWriteItem: %s\n", err.msg);
            *failed = 1;
        }
        json_decref(req);
        json_decref(resp);
    }
    return NULL;
}

static void run_threads(void *(*fn)(void *), void *arg, unsigned n)
{
    pthread_t t[64];
    atomic_store(&next_i, 0);
    for (unsigned i = 0; i < n; i++)
        pthread_create(&t[i], NULL, fn, arg);
    for (unsigned i = 0; i < n; i++)
        pthread_join(t[i], NULL);
}

/* ---- raw: N opens on every core */
static void *open_main(void *p)
{
    (void)p;
    uint8_t *sk = cc_secret_alloc(32);
    for (;;) {
        size_t i = atomic_fetch_add(&next_i, 1);
        if (i >= nkeys)
            break;
        if (cc_sealed_key_open(master, 1, recs[i].pubkey, recs[i].sealed, recs[i].sealed_len, sk, NULL) != CC_OK)
            fprintf(stderr, "open %zu failed\n", i);
    }
    cc_secret_free(sk, 32);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *ep = getenv("CC_DYNALITE_ENDPOINT");
    if (!ep) {
        fprintf(stderr, "set CC_DYNALITE_ENDPOINT (a dynalite or DynamoDB endpoint) and AWS_* credentials\n");
        return 2;
    }
    nkeys = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    unsigned cores = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    cc_log_set_level(CC_LOG_WARN);
    cc_aws_http *http = NULL;
    cc_aws_credentials_provider *creds = NULL;
    cc_error err;
    if (cc_aws_http_new(NULL, &http, &err) != CC_OK ||
        cc_aws_credentials_default_new(http, "us-east-1", NULL, &creds, &err) != CC_OK ||
        cc_dynamodb_init(&ddb, http, creds, "us-east-1", ep, &err) != CC_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    snprintf(table, sizeof table, "cc-bench-keys-%d", (int)getpid());
    int created = 0;
    if (cc_key_table_create(&ddb, table, &created, &err) != CC_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    master = cc_secret_alloc(32);
    RAND_bytes(master, 32);
    recs = calloc(nkeys, sizeof *recs);
    double t = now();
    run_threads(make_main, NULL, cores);
    printf("setup: %zu keys derived and sealed in %.2f s\n", nkeys, now() - t);
    int failed = 0;
    t = now();
    run_threads(write_main, &failed, 8);
    if (failed)
        return 1;
    printf("setup: written to %s in %.2f s (BatchWriteItem, 8 writers)\n", table, now() - t);

    cc_key_source *src = NULL;
    cc_key_source_dynamodb_config cfg = {.ddb = &ddb, .table = table, .status_filter = CC_KEY_ACTIVE,
                                         .refresh_interval_seconds = 1, .max_concurrent_reads = 16,
                                         .with_master = with_master};
    cc_key_source_dynamodb_new(&cfg, &src, &err);
    double best_raw = 1e9, best_read = 1e9, best_load = 1e9;
    for (int r = 0; r < runs; r++) {
        t = now();
        run_threads(open_main, NULL, cores);
        double raw = now() - t;
        t = now();
        cc_key_record *got = NULL;
        size_t n = 0;
        if (cc_key_table_read_all(&ddb, table, CC_KEY_ACTIVE, 16, &got, &n, &err) != CC_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        double read = now() - t;
        for (size_t i = 0; i < n; i++)
            cc_key_record_clear(&got[i]);
        free(got);
        cc_keyring *ring = cc_keyring_new();
        cc_key_load_report rep;
        t = now();
        if (src->ops->load(src, ring, &rep, &err) != CC_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        double load = now() - t;
        printf("run %d: raw open %.3f s | read_all %.3f s (%zu records) | load %.3f s (%zu keys, %zu failed) | "
               "load/raw %.2f\n",
               r + 1, raw, read, n, load, rep.loaded, rep.failed, load / raw);
        if (rep.loaded != nkeys)
            fprintf(stderr, "loaded %zu of %zu\n", rep.loaded, nkeys);
        cc_keyring_free(ring);
        best_raw = raw < best_raw ? raw : best_raw;
        best_read = read < best_read ? read : best_read;
        best_load = load < best_load ? load : best_load;
    }
    printf("RESULT keys=%zu cores=%u raw_open_s=%.3f read_all_s=%.3f load_s=%.3f load_over_raw=%.2f (best of %d)\n",
           nkeys, cores, best_raw, best_read, best_load, best_load / best_raw, runs);
    src->ops->free(src);
    cc_secret_free(master, 32);
    free(recs);
    cc_aws_credentials_provider_free(creds);
    cc_aws_http_free(http);
    return 0;
}
