/*
 * test_dynamodb_source.c — the DynamoDB key table and key source against a
 * real DynamoDB stand-in (keys/dynamodb.h).
 *
 * Needs CC_DYNALITE_ENDPOINT: dynalite behind tests/support/ddb_transact_proxy.mjs
 * (dynalite has no TransactWriteItems; the proxy adds it).  tests/integration/
 * keys_dynamodb.sh starts both and runs this binary; run alone without the
 * variable it prints a skip line and "0 passed, 0 failed".
 *
 * The master key is made here (no chamber): a fake with_master that, like
 * cc_chamber_with_master_key, holds a read lock while fn runs and answers
 * CC_EUNAVAILABLE while "sealed"; its seal takes the write lock and runs the
 * source's wipe, as the chamber's on-seal hook does.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "../test.h"
#include "aws/credentials.h"
#include "aws/dynamodb.h"
#include "aws/http.h"
#include "keys/dynamodb.h"
#include "keys/interop.h"
#include "signing/bls.h"
#include "util/log.h"
#include "util/secret.h"

static cc_aws_http *http;
static cc_aws_credentials_provider *creds;
static cc_dynamodb ddb;
static char table[64], big_table[64];

typedef struct fake_chamber {
    pthread_rwlock_t lock;
    uint8_t *master;
    uint32_t version;
    int sealed;
    cc_key_source *src;
} fake_chamber;

static fake_chamber fc;

static cc_status fake_with_master(void *ctx, cc_status (*fn)(void *arg, const uint8_t master[32], uint32_t version),
                                  void *arg, cc_error *err)
{
    fake_chamber *c = ctx;
    pthread_rwlock_rdlock(&c->lock);
    cc_status st = c->sealed ? cc_error_set(err, CC_EUNAVAILABLE, "sealed") : fn(arg, c->master, c->version);
    pthread_rwlock_unlock(&c->lock);
    return st;
}

static void fake_seal(void)
{
    pthread_rwlock_wrlock(&fc.lock);
    fc.sealed = 1;
    if (fc.src)
        cc_key_source_dynamodb_wipe(fc.src);
    pthread_rwlock_unlock(&fc.lock);
}

static void fake_unseal(void)
{
    pthread_rwlock_wrlock(&fc.lock);
    fc.sealed = 0;
    pthread_rwlock_unlock(&fc.lock);
}

/* Interop key i: its secret and public key. */
static void key_of(uint32_t i, uint8_t sk[32], uint8_t pk[48])
{
    cc_bls_sk s;
    cc_interop_secret(i, sk, NULL);
    cc_bls_sk_from_bytes(&s, sk, NULL);
    cc_bls_sk_to_pk(&s, pk);
    cc_secret_wipe(&s, sizeof s);
}

/* A record of interop key i sealed under master / version (status active). */
static void record_of(uint32_t i, const uint8_t *master, uint32_t version, cc_key_record *r)
{
    uint8_t sk[32];
    memset(r, 0, sizeof *r);
    key_of(i, sk, r->pubkey);
    cc_sealed_key_seal(master, version, r->pubkey, sk, r->sealed, &r->sealed_len, NULL);
    cc_secret_wipe(sk, 32);
    r->status = CC_KEY_ACTIVE;
    r->master_version = version;
    strcpy(r->origin, "imported");
    strcpy(r->created_at, "2026-11-26T00:00:00Z");
    strcpy(r->updated_at, "2026-11-26T00:00:00Z");
}

static int wait_for(cc_keyring *ring, const uint8_t pk[48], int want_present, double seconds)
{
    for (int i = 0; i < (int)(seconds * 20); i++) {
        if (cc_keyring_contains(ring, pk) == want_present)
            return 1;
        usleep(50000);
    }
    return cc_keyring_contains(ring, pk) == want_present;
}

static int wait_count(cc_keyring *ring, size_t want, double seconds)
{
    for (int i = 0; i < (int)(seconds * 20); i++) {
        if (cc_keyring_count(ring, CC_KEY_DYNAMODB) == want)
            return 1;
        usleep(50000);
    }
    return cc_keyring_count(ring, CC_KEY_DYNAMODB) == want;
}

static uint64_t generation(void)
{
    uint64_t g = 0;
    cc_error err;
    if (cc_key_table_generation(&ddb, table, &g, &err) != CC_OK)
        fprintf(stderr, "  generation: %s\n", err.msg);
    return g;
}

TEST(create_table_is_idempotent)
{
    cc_error err;
    int created = -1;
    cc_status st = cc_key_table_create(&ddb, table, &created, &err);
    CHECK_MSG(st == CC_OK, "%s", err.msg);
    CHECK_EQ_INT(created, 1);
    st = cc_key_table_create(&ddb, table, &created, &err);
    CHECK_MSG(st == CC_OK, "%s", err.msg);
    CHECK_EQ_INT(created, 0);
    CHECK_EQ_INT(generation(), 0);
    /* A table without the index is refused, naming the index. */
    char plain[80];
    snprintf(plain, sizeof plain, "%s-plain", table);
    CHECK_EQ_INT(cc_dynamodb_create_table(&ddb, plain, "pk", "S", NULL, NULL, &err), CC_OK);
    st = cc_key_table_create(&ddb, plain, &created, &err);
    CHECK_EQ_INT(st, CC_ECONFIG);
    CHECK(strstr(err.msg, CC_KEY_TABLE_INDEX) != NULL);
}

TEST(put_new_get_and_conflicts)
{
    cc_key_record recs[3];
    for (uint32_t i = 0; i < 3; i++)
        record_of(i, fc.master, 1, &recs[i]);
    cc_error err;
    size_t at = 99;
    cc_status st = cc_key_table_put_new(&ddb, table, recs, 3, &at, &err);
    CHECK_MSG(st == CC_OK, "%s", err.msg);
    CHECK_EQ_INT(generation(), 1);

    cc_key_record got;
    int found = 0;
    CHECK_EQ_INT(cc_key_table_get(&ddb, table, recs[1].pubkey, &got, &found, &err), CC_OK);
    CHECK_EQ_INT(found, 1);
    CHECK(memcmp(got.sealed, recs[1].sealed, CC_SEALED_KEY_LEN) == 0);
    CHECK_EQ_INT(got.master_version, 1);
    cc_key_record_clear(&got);

    /* [new key 3, existing key 1]: refused as a whole, index 1, key 3 not written, generation unchanged. */
    cc_key_record two[2];
    record_of(3, fc.master, 1, &two[0]);
    two[1] = recs[1];
    st = cc_key_table_put_new(&ddb, table, two, 2, &at, &err);
    CHECK_EQ_INT(st, CC_ECONFLICT);
    CHECK_EQ_INT(at, 1);
    CHECK(strstr(err.msg, "records[1]") != NULL);
    found = 1;
    CHECK_EQ_INT(cc_key_table_get(&ddb, table, two[0].pubkey, &got, &found, &err), CC_OK);
    CHECK_EQ_INT(found, 0);
    CHECK_EQ_INT(generation(), 1);

    /* The same pubkey twice in one call. */
    two[1] = two[0];
    at = 99;
    CHECK_EQ_INT(cc_key_table_put_new(&ddb, table, two, 2, &at, &err), CC_ECONFLICT);
    CHECK_EQ_INT(at, 1);
    CHECK_EQ_INT(cc_key_table_put_new(&ddb, table, two, 0, &at, &err), CC_EINVAL);

    /* Absent keys. */
    uint8_t sk[32], pk[48];
    key_of(40, sk, pk);
    CHECK_EQ_INT(cc_key_table_set_status(&ddb, table, pk, CC_KEY_INACTIVE, &err), CC_ENOTFOUND);
    CHECK_EQ_INT(cc_key_table_delete(&ddb, table, pk, &err), CC_ENOTFOUND);
    CHECK_EQ_INT(generation(), 1);
    /* set_status moves the shard and bumps the generation. */
    CHECK_EQ_INT(cc_key_table_set_status(&ddb, table, recs[2].pubkey, CC_KEY_INACTIVE, &err), CC_OK);
    CHECK_EQ_INT(cc_key_table_get(&ddb, table, recs[2].pubkey, &got, &found, &err), CC_OK);
    CHECK_EQ_INT(got.status, CC_KEY_INACTIVE);
    cc_key_record_clear(&got);
    CHECK_EQ_INT(generation(), 2);
    CHECK_EQ_INT(cc_key_table_set_status(&ddb, table, recs[2].pubkey, CC_KEY_ACTIVE, &err), CC_OK);
    CHECK_EQ_INT(generation(), 3);
    cc_secret_wipe(sk, 32);
}

TEST(source_loads_signs_refreshes_and_wipes)
{
    cc_keyring *ring = cc_keyring_new();
    cc_key_source_dynamodb_config cfg = {.ddb = &ddb, .table = table, .status_filter = CC_KEY_ACTIVE,
                                         .refresh_interval_seconds = 1, .max_concurrent_reads = 4,
                                         .with_master = fake_with_master, .with_master_ctx = &fc};
    cc_key_source *src = NULL;
    cc_error err;
    CHECK_EQ_INT(cc_key_source_dynamodb_new(&cfg, &src, &err), CC_OK);
    fc.src = src;
    cc_key_load_report rep;
    cc_status st = src->ops->load(src, ring, &rep, &err);
    CHECK_MSG(st == CC_OK, "%s", err.msg);
    CHECK_EQ_INT(rep.loaded, 3);
    CHECK_EQ_INT(rep.failed, 0);
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_DYNAMODB), 3);

    /* Keys sign, and the signature is the interop key's. */
    uint8_t sk[32], pk[48], msg[32] = {1, 2, 3}, sig[96], want[96];
    key_of(0, sk, pk);
    CHECK_EQ_INT(cc_keyring_sign(ring, pk, msg, 32, sig, &err), CC_OK);
    cc_bls_sk s;
    cc_bls_sk_from_bytes(&s, sk, NULL);
    cc_bls_sign(&s, msg, 32, want);
    CHECK(memcmp(sig, want, 96) == 0);
    CHECK(cc_bls_verify(pk, msg, 32, sig));
    CHECK_EQ_INT(cc_keyring_origin(ring, pk), CC_KEY_DYNAMODB);

    CHECK_EQ_INT(cc_key_source_dynamodb_start_refresh(src, ring, &err), CC_OK);
    /* Deactivate → dropped within the interval (+ margin). */
    CHECK_EQ_INT(cc_key_table_set_status(&ddb, table, pk, CC_KEY_INACTIVE, &err), CC_OK);
    CHECK_MSG(wait_for(ring, pk, 0, 3.0), "deactivated key still held after 3 s");
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_DYNAMODB), 2);
    /* A new key → added. */
    cc_key_record r5;
    record_of(5, fc.master, 1, &r5);
    CHECK_EQ_INT(cc_key_table_put_new(&ddb, table, &r5, 1, NULL, &err), CC_OK);
    CHECK_MSG(wait_for(ring, r5.pubkey, 1, 3.0), "new key not loaded after 3 s");
    /* Reactivated + poke → back at once-ish. */
    CHECK_EQ_INT(cc_key_table_set_status(&ddb, table, pk, CC_KEY_ACTIVE, &err), CC_OK);
    cc_key_source_dynamodb_poke(src);
    CHECK_MSG(wait_for(ring, pk, 1, 3.0), "reactivated key not loaded after 3 s");
    /* Deleted → dropped. */
    CHECK_EQ_INT(cc_key_table_delete(&ddb, table, r5.pubkey, &err), CC_OK);
    CHECK_MSG(wait_for(ring, r5.pubkey, 0, 3.0), "deleted key still held after 3 s");
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_DYNAMODB), 3);

    /* forget, as the Chamber API does after deactivating: gone at once, and
     * refreshes that still see the key active (a stale index — here the table
     * is simply left unchanged) do not bring it back for 10 s; then they do. */
    cc_key_source_dynamodb_forget(src, pk);
    CHECK(!cc_keyring_contains(ring, pk));
    usleep(2500000); /* two refresh rounds, each reading the key as active */
    CHECK_MSG(!cc_keyring_contains(ring, pk), "a refresh brought a forgotten key back within its 10 s");
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_DYNAMODB), 2);
    CHECK_MSG(wait_for(ring, pk, 1, 12.0), "the forgotten key did not come back once its tombstone expired");
    /* remember (a local activation) lifts a tombstone at once. */
    cc_key_source_dynamodb_forget(src, pk);
    CHECK(!cc_keyring_contains(ring, pk));
    cc_key_source_dynamodb_remember(src, pk);
    CHECK_MSG(wait_for(ring, pk, 1, 3.0), "remember did not lift the tombstone");

    /* Seal: wiped at once; signing fails; stays empty while sealed. */
    uint8_t keep_sk[32], keep_pk[48];
    key_of(99, keep_sk, keep_pk);
    CHECK_EQ_INT(cc_keyring_add(ring, keep_sk, CC_KEY_FILESYSTEM, NULL, &err), CC_OK);
    fake_seal();
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_DYNAMODB), 0);
    CHECK_EQ_INT(cc_keyring_sign(ring, pk, msg, 32, sig, &err), CC_ENOTFOUND);
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_FILESYSTEM), 1); /* other sources untouched */
    CHECK_EQ_INT(src->ops->load(src, ring, &rep, &err), CC_EUNAVAILABLE);
    usleep(1500000);
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_DYNAMODB), 0);
    /* Unseal → back within the interval, without a poke. */
    fake_unseal();
    CHECK_MSG(wait_count(ring, 3, 3.0), "keys not back 3 s after the unseal (%zu held)",
              cc_keyring_count(ring, CC_KEY_DYNAMODB));
    CHECK_EQ_INT(cc_keyring_sign(ring, pk, msg, 32, sig, &err), CC_OK);

    src->ops->free(src); /* stops and joins the refresh */
    fc.src = NULL;
    cc_secret_wipe(&s, sizeof s);
    cc_secret_wipe(sk, 32);
    cc_secret_wipe(keep_sk, 32);
    cc_keyring_free(ring);
}

/* Writes an item directly (bypassing put_new's checks), as a hostile or broken writer could. */
static void put_raw(const cc_key_record *r)
{
    json_t *item = NULL;
    cc_error err;
    CHECK_EQ_INT(cc_key_record_to_item(r, &item, &err), CC_OK);
    CHECK_EQ_INT(cc_dynamodb_put_item(&ddb, table, item, NULL, NULL, NULL, NULL, &err), CC_OK);
    json_decref(item);
}

TEST(blobs_bound_to_pubkey_and_version_are_refused)
{
    cc_error err;
    /* Key 10's item carrying key 0's blob (copied ciphertext). */
    cc_key_record a, b, c;
    record_of(0, fc.master, 1, &a);
    record_of(10, fc.master, 1, &b);
    memcpy(b.sealed, a.sealed, CC_SEALED_KEY_LEN);
    put_raw(&b);
    /* Key 11 sealed under master version 2 (same key bytes), item saying version 2. */
    record_of(11, fc.master, 2, &c);
    put_raw(&c);
    /* Key 12 sealed under version 2 but the item claims version 1. */
    cc_key_record d;
    record_of(12, fc.master, 2, &d);
    d.master_version = 1;
    put_raw(&d);
    /* A malformed item in an index shard. */
    json_t *bad = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}}", "pk", "S", "0xnothex", "status_shard", "S", "active#03",
                            "status", "S", "active");
    CHECK_EQ_INT(cc_dynamodb_put_item(&ddb, table, bad, NULL, NULL, NULL, NULL, &err), CC_OK);
    json_decref(bad);

    cc_keyring *ring = cc_keyring_new();
    cc_key_source_dynamodb_config cfg = {.ddb = &ddb, .table = table, .status_filter = CC_KEY_ACTIVE,
                                         .refresh_interval_seconds = 1, .max_concurrent_reads = 16,
                                         .with_master = fake_with_master, .with_master_ctx = &fc};
    cc_key_source *src = NULL;
    CHECK_EQ_INT(cc_key_source_dynamodb_new(&cfg, &src, &err), CC_OK);
    cc_key_load_report rep;
    cc_status st = src->ops->load(src, ring, &rep, &err);
    CHECK_MSG(st == CC_OK, "%s", err.msg);
    CHECK_EQ_INT(rep.loaded, 3);
    CHECK_EQ_INT(rep.failed, 4); /* copied blob, version 2 twice, malformed item */
    CHECK(!cc_keyring_contains(ring, b.pubkey));
    CHECK(!cc_keyring_contains(ring, c.pubkey));
    CHECK(!cc_keyring_contains(ring, d.pubkey));
    CHECK(cc_keyring_contains(ring, a.pubkey));

    /* status_filter all: the inactive key too. */
    CHECK_EQ_INT(cc_key_table_set_status(&ddb, table, a.pubkey, CC_KEY_INACTIVE, &err), CC_OK);
    cc_key_source *all = NULL;
    cfg.status_filter = -1;
    CHECK_EQ_INT(cc_key_source_dynamodb_new(&cfg, &all, &err), CC_OK);
    cc_keyring *ring2 = cc_keyring_new();
    CHECK_EQ_INT(all->ops->load(all, ring2, &rep, &err), CC_OK);
    CHECK_EQ_INT(rep.loaded, 3);
    CHECK(cc_keyring_contains(ring2, a.pubkey));
    CHECK_EQ_INT(src->ops->load(src, ring, &rep, &err), CC_OK);
    CHECK_EQ_INT(rep.loaded, 2);
    CHECK(!cc_keyring_contains(ring, a.pubkey));
    all->ops->free(all);
    src->ops->free(src);
    cc_keyring_free(ring);
    cc_keyring_free(ring2);
}

/* ---- 10,000 records across the shards */

#define BIG 10000

typedef struct writer_arg {
    cc_key_record *recs;
    size_t from, to;
    int failed;
} writer_arg;

static void *writer(void *p)
{
    writer_arg *w = p;
    for (size_t i = w->from; i < w->to && !w->failed; i += 25) {
        json_t *puts = json_array();
        for (size_t j = i; j < i + 25 && j < w->to; j++) {
            json_t *item = NULL;
            cc_key_record_to_item(&w->recs[j], &item, NULL);
            json_array_append_new(puts, json_pack("{s:{s:o}}", "PutRequest", "Item", item));
        }
        json_t *req = json_pack("{s:{s:o}}", "RequestItems", big_table, puts), *resp = NULL;
        cc_error err;
        if (cc_dynamodb_call(&ddb, "BatchWriteItem", req, &resp, &err) != CC_OK) {
            fprintf(stderr, "  BatchWriteItem: %s\n", err.msg);
            w->failed = 1;
        } else if (json_object_size(json_object_get(resp, "UnprocessedItems"))) {
            fprintf(stderr, "  BatchWriteItem left items unprocessed\n");
            w->failed = 1;
        }
        json_decref(req);
        json_decref(resp);
    }
    return NULL;
}

static int cmp_pk(const void *x, const void *y)
{
    return memcmp(((const cc_key_record *)x)->pubkey, ((const cc_key_record *)y)->pubkey, 48);
}

TEST(read_all_ten_thousand_across_shards)
{
    cc_error err;
    int created = 0;
    CHECK_EQ_INT(cc_key_table_create(&ddb, big_table, &created, &err), CC_OK);
    cc_key_record *recs = calloc(BIG, sizeof *recs);
    for (size_t i = 0; i < BIG; i++) {
        RAND_bytes(recs[i].pubkey, 48);
        RAND_bytes(recs[i].sealed, CC_SEALED_KEY_LEN);
        recs[i].sealed_len = CC_SEALED_KEY_LEN;
        recs[i].status = i % 10 == 9 ? CC_KEY_INACTIVE : CC_KEY_ACTIVE; /* 1,000 inactive */
        recs[i].master_version = 1;
        strcpy(recs[i].origin, "generated");
        snprintf(recs[i].path, sizeof recs[i].path, "m/12381/3600/%zu/0/0", i);
        strcpy(recs[i].created_at, "2026-11-26T00:00:00Z");
        strcpy(recs[i].updated_at, "2026-11-26T00:00:00Z");
    }
    writer_arg w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (writer_arg){recs, (size_t)i * BIG / 4, (size_t)(i + 1) * BIG / 4, 0};
        pthread_create(&t[i], NULL, writer, &w[i]);
    }
    int failed = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        failed |= w[i].failed;
    }
    CHECK(!failed);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cc_key_record *got = NULL;
    size_t n = 0;
    cc_status st = cc_key_table_read_all(&ddb, big_table, CC_KEY_ACTIVE, 16, &got, &n, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_MSG(st == CC_OK, "%s", err.msg);
    CHECK_EQ_INT(n, 9000);
    printf("# read_all of 9,000 active records (16 shards, 16 streams): %.3f s\n",
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    /* Exactly the active ones, each intact. */
    cc_key_record *want = malloc(9000 * sizeof *want);
    size_t k = 0;
    unsigned shards[CC_KEY_TABLE_SHARDS] = {0};
    for (size_t i = 0; i < BIG; i++)
        if (recs[i].status == CC_KEY_ACTIVE) {
            want[k++] = recs[i];
            shards[recs[i].pubkey[47] % CC_KEY_TABLE_SHARDS]++;
        }
    for (int s = 0; s < CC_KEY_TABLE_SHARDS; s++)
        CHECK(shards[s] > 400); /* every shard holds a share (expected ≈ 562) */
    if (n == 9000) {
        qsort(got, n, sizeof *got, cmp_pk);
        qsort(want, 9000, sizeof *want, cmp_pk);
        size_t same = 0;
        for (size_t i = 0; i < n; i++)
            same += memcmp(got[i].pubkey, want[i].pubkey, 48) == 0 &&
                    memcmp(got[i].sealed, want[i].sealed, CC_SEALED_KEY_LEN) == 0 &&
                    strcmp(got[i].path, want[i].path) == 0 && got[i].status == CC_KEY_ACTIVE;
        CHECK_EQ_INT(same, 9000);
    }
    for (size_t i = 0; i < n; i++)
        cc_key_record_clear(&got[i]);
    free(got);
    /* Both statuses, with 3 streams (shards are shared among fewer threads). */
    st = cc_key_table_read_all(&ddb, big_table, -1, 3, &got, &n, &err);
    CHECK_MSG(st == CC_OK, "%s", err.msg);
    CHECK_EQ_INT(n, BIG);
    for (size_t i = 0; i < n; i++)
        cc_key_record_clear(&got[i]);
    free(got);
    st = cc_key_table_read_all(&ddb, big_table, CC_KEY_INACTIVE, 1, &got, &n, &err);
    CHECK_EQ_INT(n, 1000);
    free(got);
    free(want);
    free(recs);
}

TEST(unreachable_table_keeps_keys)
{
    /* A load against a missing table fails and leaves the keyring as it was. */
    cc_keyring *ring = cc_keyring_new();
    cc_error err;
    uint8_t sk[32];
    cc_interop_secret(7, sk, NULL);
    CHECK_EQ_INT(cc_keyring_add(ring, sk, CC_KEY_DYNAMODB, NULL, &err), CC_OK);
    cc_key_source_dynamodb_config cfg = {.ddb = &ddb, .table = "no-such-key-table", .status_filter = CC_KEY_ACTIVE,
                                         .refresh_interval_seconds = 1, .max_concurrent_reads = 4,
                                         .with_master = fake_with_master, .with_master_ctx = &fc};
    cc_key_source *src = NULL;
    CHECK_EQ_INT(cc_key_source_dynamodb_new(&cfg, &src, &err), CC_OK);
    cc_key_load_report rep;
    cc_status st = src->ops->load(src, ring, &rep, &err);
    CHECK(st != CC_OK);
    CHECK(strstr(err.msg, "no-such-key-table") != NULL);
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_DYNAMODB), 1);
    src->ops->free(src);
    cc_secret_wipe(sk, 32);
    cc_keyring_free(ring);
}

int main(void)
{
    const char *ep = getenv("CC_DYNALITE_ENDPOINT");
    if (!ep || !*ep) {
        printf("# skip: CC_DYNALITE_ENDPOINT is not set (tests/integration/keys_dynamodb.sh runs this test)\n");
        TEST_MAIN_END();
    }
    cc_log_set_level(CC_LOG_ERROR);
    cc_error err;
    if (cc_aws_http_new(NULL, &http, &err) != CC_OK ||
        cc_aws_credentials_default_new(http, "us-east-1", NULL, &creds, &err) != CC_OK ||
        cc_dynamodb_init(&ddb, http, creds, "us-east-1", ep, &err) != CC_OK) {
        printf("FAIL setup: %s\n0 passed, 1 failed\n", err.msg);
        return 1;
    }
    snprintf(table, sizeof table, "cc-keys-%d", (int)getpid());
    snprintf(big_table, sizeof big_table, "cc-keys-big-%d", (int)getpid());
    pthread_rwlock_init(&fc.lock, NULL);
    fc.master = cc_secret_alloc(32);
    RAND_bytes(fc.master, 32);
    fc.version = 1;

    RUN(create_table_is_idempotent);
    RUN(put_new_get_and_conflicts);
    RUN(source_loads_signs_refreshes_and_wipes);
    RUN(blobs_bound_to_pubkey_and_version_are_refused);
    RUN(read_all_ten_thousand_across_shards);
    RUN(unreachable_table_keeps_keys);

    cc_secret_free(fc.master, 32);
    cc_aws_credentials_provider_free(creds);
    cc_aws_http_free(http);
    TEST_MAIN_END();
}
