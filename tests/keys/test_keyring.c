/*
 * Tests for keys/keyring: add, contains, sign, remove, snapshot, duplicates,
 * keysets, origin replacement, and signing that stays correct while another
 * thread keeps replacing the keys around it.
 */
#include <pthread.h>

#include "keys/keys.h"
#include "test.h"
#include "util/hex.h"

/* A deterministic valid secret: 31 zero-ish bytes then i (small, below r). */
static void secret_for(unsigned i, uint8_t sk[32])
{
    memset(sk, 0, 32);
    sk[0] = 0x11;
    sk[28] = (uint8_t)(i >> 24);
    sk[29] = (uint8_t)(i >> 16);
    sk[30] = (uint8_t)(i >> 8);
    sk[31] = (uint8_t)(i + 1);
}

static void pubkey_for(unsigned i, uint8_t pk[48])
{
    uint8_t sk[32];
    secret_for(i, sk);
    cc_bls_sk s;
    cc_bls_sk_from_bytes(&s, sk, NULL);
    cc_bls_sk_to_pk(&s, pk);
}

TEST(origin_names)
{
    CHECK_EQ_STR(cc_key_origin_name(CC_KEY_FILESYSTEM), "filesystem");
    CHECK_EQ_STR(cc_key_origin_name(CC_KEY_MEMORY), "memory");
    CHECK_EQ_STR(cc_key_origin_name(CC_KEY_DYNAMODB), "dynamodb");
    CHECK_EQ_STR(cc_key_origin_name(CC_KEY_ORIGIN_COUNT), "unknown");
}

TEST(add_contains_sign_remove)
{
    cc_keyring *ring = cc_keyring_new();
    CHECK(ring != NULL);
    uint8_t sk[32], pk[48], want[48], sig[96];
    cc_error err;
    /* The sign vector's key: its signature must match the published one. */
    cc_hex_decode_exact("0x328388aff0d4a5b7dc9205abd374e7e98f3cd9f3418edb4eafda5fb16473d216", sk, 32, NULL);
    cc_hex_decode_exact("0xb53d21a4cfd562c469cc81514d4ce5a6b577d8403d32a394dc265dd190b47fa9f829fdd7963afdf972e5e7"
                        "7854051f6f",
                        want, 48, NULL);
    CHECK(cc_keyring_add(ring, sk, CC_KEY_MEMORY, pk, &err) == CC_OK);
    CHECK(memcmp(pk, want, 48) == 0);
    CHECK(cc_keyring_contains(ring, pk));
    CHECK_EQ_INT(cc_keyring_count(ring, -1), 1);
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_MEMORY), 1);
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_FILESYSTEM), 0);

    uint8_t msg[32];
    memset(msg, 0xab, sizeof msg);
    CHECK(cc_keyring_sign(ring, pk, msg, sizeof msg, sig, &err) == CC_OK);
    char hex[2 * 96 + 3];
    cc_hex_encode0x(sig, 96, hex);
    CHECK_EQ_STR(hex, "0xae82747ddeefe4fd64cf9cedb9b04ae3e8a43420cd255e3c7cd06a8d88b7c7f8638543719981c5d16fa3527c"
                      "468c25f0026704a6951bde891360c7e8d12ddee0559004ccdbe6046b55bae1b257ee97f7cdb955773d7cf29adf3c"
                      "cbb9975e4eb9");
    CHECK(cc_bls_verify(pk, msg, sizeof msg, sig));

    /* Duplicate, in any origin, is a conflict. */
    CHECK(cc_keyring_add(ring, sk, CC_KEY_FILESYSTEM, NULL, &err) == CC_ECONFLICT);
    CHECK(strstr(err.msg, "memory") != NULL);
    CHECK_EQ_INT(cc_keyring_count(ring, -1), 1);

    /* Invalid secrets are refused. */
    uint8_t zero[32] = {0};
    CHECK(cc_keyring_add(ring, zero, CC_KEY_MEMORY, NULL, &err) == CC_EINVAL);
    CHECK(cc_keyring_add(ring, sk, (cc_key_origin)7, NULL, &err) == CC_EINVAL);

    /* Unknown key: not found, naming the key. */
    uint8_t other[48];
    pubkey_for(5, other);
    CHECK(!cc_keyring_contains(ring, other));
    CHECK(cc_keyring_sign(ring, other, msg, sizeof msg, sig, &err) == CC_ENOTFOUND);
    CHECK(strstr(err.msg, "0x") != NULL);

    CHECK(cc_keyring_remove(ring, pk, &err) == CC_OK);
    CHECK(!cc_keyring_contains(ring, pk));
    CHECK(cc_keyring_remove(ring, pk, &err) == CC_ENOTFOUND);
    CHECK_EQ_INT(cc_keyring_count(ring, -1), 0);
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_MEMORY), 0);
    CHECK(cc_keyring_sign(ring, pk, msg, sizeof msg, sig, &err) == CC_ENOTFOUND);
    cc_keyring_free(ring);
}

static int cmp48(const void *a, const void *b) { return memcmp(a, b, 48); }

TEST(snapshot_sorted_and_growth)
{
    cc_keyring *ring = cc_keyring_new();
    enum { N = 300 }; /* past the initial 64 buckets several times */
    static uint8_t want[N][48];
    for (unsigned i = 0; i < N; i++) {
        uint8_t sk[32];
        secret_for(i, sk);
        CHECK(cc_keyring_add(ring, sk, i % 2 ? CC_KEY_MEMORY : CC_KEY_DYNAMODB, want[i], NULL) == CC_OK);
    }
    CHECK_EQ_INT(cc_keyring_count(ring, -1), N);
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_MEMORY), N / 2);
    qsort(want, N, 48, cmp48);
    uint8_t(*keys)[48] = NULL;
    size_t n = 0;
    CHECK(cc_keyring_pubkeys(ring, &keys, &n, NULL) == CC_OK);
    CHECK_EQ_INT(n, N);
    CHECK(keys && memcmp(keys, want, sizeof want) == 0);
    free(keys);
    for (unsigned i = 0; i < N; i++)
        CHECK(cc_keyring_contains(ring, want[i]));
    cc_keyring_free(ring);

    ring = cc_keyring_new();
    CHECK(cc_keyring_pubkeys(ring, &keys, &n, NULL) == CC_OK);
    CHECK_EQ_INT(n, 0);
    free(keys);
    cc_keyring_free(ring);
}

TEST(keyset_and_replace_origin)
{
    cc_keyring *ring = cc_keyring_new();
    uint8_t sk[32], pk[48];
    cc_error err;
    /* Memory holds key 0; filesystem will hold 0..4. */
    secret_for(0, sk);
    CHECK(cc_keyring_add(ring, sk, CC_KEY_MEMORY, NULL, NULL) == CC_OK);

    cc_keyset *set = cc_keyset_new();
    for (unsigned i = 0; i < 5; i++) {
        secret_for(i, sk);
        CHECK(cc_keyset_add(set, sk, pk, &err) == CC_OK);
    }
    secret_for(3, sk);
    CHECK(cc_keyset_add(set, sk, pk, &err) == CC_ECONFLICT);
    uint8_t pk3[48];
    pubkey_for(3, pk3);
    CHECK(memcmp(pk, pk3, 48) == 0); /* the duplicate's pubkey is still reported */
    uint8_t zero[32] = {0};
    CHECK(cc_keyset_add(set, zero, pk, &err) == CC_EINVAL);
    CHECK_EQ_INT(cc_keyset_count(set), 5);

    cc_keyring_replace_origin(ring, CC_KEY_FILESYSTEM, set);
    CHECK_EQ_INT(cc_keyring_count(ring, -1), 5);
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_MEMORY), 1); /* key 0 stays with memory */
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_FILESYSTEM), 4);

    /* Reload with 3..6: 1 and 2 leave, 5 and 6 arrive, memory's key untouched. */
    set = cc_keyset_new();
    for (unsigned i = 3; i < 7; i++) {
        secret_for(i, sk);
        CHECK(cc_keyset_add(set, sk, NULL, NULL) == CC_OK);
    }
    cc_keyring_replace_origin(ring, CC_KEY_FILESYSTEM, set);
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_FILESYSTEM), 4);
    CHECK_EQ_INT(cc_keyring_count(ring, -1), 5);
    for (unsigned i = 0; i < 7; i++) {
        pubkey_for(i, pk);
        CHECK_MSG(cc_keyring_contains(ring, pk) == (i == 0 || i >= 3), "key %u", i);
    }
    /* Removing memory's key 0 and then replacing with an empty set leaves nothing from filesystem. */
    cc_keyring_replace_origin(ring, CC_KEY_FILESYSTEM, cc_keyset_new());
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_FILESYSTEM), 0);
    CHECK_EQ_INT(cc_keyring_count(ring, -1), 1);
    cc_keyring_replace_origin(ring, CC_KEY_FILESYSTEM, NULL);
    CHECK_EQ_INT(cc_keyring_count(ring, -1), 1);
    cc_keyring_free(ring);
}

/* Many loader threads adding into one keyset. */
typedef struct adder {
    cc_keyset *set;
    unsigned from, to;
    int failures;
} adder;

static void *adder_run(void *arg)
{
    adder *a = arg;
    for (unsigned i = a->from; i < a->to; i++) {
        uint8_t sk[32];
        secret_for(i % 200, sk); /* overlapping ranges: duplicates across threads */
        cc_status st = cc_keyset_add(a->set, sk, NULL, NULL);
        if (st != CC_OK && st != CC_ECONFLICT)
            a->failures++;
    }
    return NULL;
}

TEST(keyset_parallel_adds)
{
    cc_keyset *set = cc_keyset_new();
    adder a[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (adder){.set = set, .from = (unsigned)i * 50, .to = (unsigned)i * 50 + 100};
        pthread_create(&t[i], NULL, adder_run, &a[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(a[i].failures, 0);
    }
    CHECK_EQ_INT(cc_keyset_count(set), 200);
    cc_keyset_free(set);
}

/* Signers keep signing with a stable key (and a churning one) while the origin is replaced. */
typedef struct signer_ctx {
    cc_keyring *ring;
    volatile int *stop;
    uint8_t stable[48], churn[48];
    int signed_ok, bad, churn_found, churn_missing;
} signer_ctx;

static void *signer_run(void *arg)
{
    signer_ctx *c = arg;
    uint8_t msg[32], sig[96];
    unsigned n = 0;
    while (!__atomic_load_n(c->stop, __ATOMIC_ACQUIRE) || n < 20) {
        memset(msg, (int)(n++ & 0xff), sizeof msg);
        if (cc_keyring_sign(c->ring, c->stable, msg, sizeof msg, sig, NULL) != CC_OK ||
            !cc_bls_verify(c->stable, msg, sizeof msg, sig))
            c->bad++;
        else
            c->signed_ok++;
        cc_status st = cc_keyring_sign(c->ring, c->churn, msg, sizeof msg, sig, NULL);
        if (st == CC_OK) {
            if (!cc_bls_verify(c->churn, msg, sizeof msg, sig))
                c->bad++;
            c->churn_found++;
        } else if (st == CC_ENOTFOUND) {
            c->churn_missing++;
        } else {
            c->bad++;
        }
    }
    return NULL;
}

TEST(concurrent_sign_during_replace)
{
    cc_keyring *ring = cc_keyring_new();
    volatile int stop = 0;
    signer_ctx ctx[3];
    pthread_t t[3];
    uint8_t sk[32];
    /* Key 0 is in every set; key 1 alternates in and out. */
    cc_keyset *set = cc_keyset_new();
    secret_for(0, sk);
    cc_keyset_add(set, sk, NULL, NULL);
    cc_keyring_replace_origin(ring, CC_KEY_FILESYSTEM, set);
    for (int i = 0; i < 3; i++) {
        memset(&ctx[i], 0, sizeof ctx[i]);
        ctx[i].ring = ring;
        ctx[i].stop = &stop;
        pubkey_for(0, ctx[i].stable);
        pubkey_for(1, ctx[i].churn);
        pthread_create(&t[i], NULL, signer_run, &ctx[i]);
    }
    for (unsigned round = 0; round < 60; round++) {
        set = cc_keyset_new();
        for (unsigned k = 0; k < 40; k++) {
            if (k == 1 && round % 2)
                continue;
            secret_for(k, sk);
            cc_keyset_add(set, sk, NULL, NULL);
        }
        cc_keyring_replace_origin(ring, CC_KEY_FILESYSTEM, set);
        CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_FILESYSTEM), round % 2 ? 39 : 40);
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    int total = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(ctx[i].bad, 0);
        total += ctx[i].signed_ok;
    }
    CHECK(total >= 60);
    CHECK_EQ_INT(cc_keyring_count(ring, -1), 39); /* the last round (59) left key 1 out */
    cc_keyring_free(ring);
}

int main(void)
{
    RUN(origin_names);
    RUN(add_contains_sign_remove);
    RUN(snapshot_sorted_and_growth);
    RUN(keyset_and_replace_origin);
    RUN(keyset_parallel_adds);
    RUN(concurrent_sign_during_replace);
    TEST_MAIN_END();
}
