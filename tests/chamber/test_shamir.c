/*
 * test_shamir.c — chamber/shamir.c, chamber/master.c and the state item's
 * encoding (chamber/state.c) without a network.
 *
 * The field: FIPS-197 §4.2's products ({57}•{83} = {c1}, {57}•{13} = {fe},
 * the xtime chain of {57}), Vault's shamir tests' small products, and every
 * one of the 65,536 products against a plain branching reference; every
 * inverse.  The algebra: every threshold-sized subset of every split
 * recombines (n ≤ 7), more shares than the threshold too; fewer than the
 * threshold show no bias (chi-square of one share of a 1-byte secret); a
 * wrong share gives a key the integrity check refuses.
 */
#include <openssl/rand.h>
#include <string.h>

#include "aws/base64.h"
#include "chamber/master.h"
#include "chamber/shamir.h"
#include "chamber/state.h"
#include "test.h"

static uint8_t ref_mul(uint8_t a, uint8_t b)
{
    uint8_t r = 0;
    while (b) {
        if (b & 1)
            r ^= a;
        a = (uint8_t)((a << 1) ^ ((a & 0x80) ? 0x1b : 0));
        b >>= 1;
    }
    return r;
}

TEST(field_fips197)
{
    CHECK_EQ_INT(cc_gf256_mul(0x57, 0x83), 0xc1);
    CHECK_EQ_INT(cc_gf256_mul(0x57, 0x13), 0xfe);
    CHECK_EQ_INT(cc_gf256_mul(0x57, 0x02), 0xae);
    CHECK_EQ_INT(cc_gf256_mul(0x57, 0x04), 0x47);
    CHECK_EQ_INT(cc_gf256_mul(0x57, 0x08), 0x8e);
    CHECK_EQ_INT(cc_gf256_mul(0x57, 0x10), 0x07);
    /* HashiCorp Vault shamir_test.go TestField_Mul */
    CHECK_EQ_INT(cc_gf256_mul(3, 7), 9);
    CHECK_EQ_INT(cc_gf256_mul(3, 0), 0);
    CHECK_EQ_INT(cc_gf256_mul(0, 3), 0);
    int bad = 0;
    for (unsigned a = 0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++)
            bad += cc_gf256_mul((uint8_t)a, (uint8_t)b) != ref_mul((uint8_t)a, (uint8_t)b);
    CHECK_EQ_INT(bad, 0);
}

TEST(field_inverse)
{
    CHECK_EQ_INT(cc_gf256_inv(0), 0);
    int bad = 0;
    for (unsigned a = 1; a < 256; a++)
        bad += cc_gf256_mul((uint8_t)a, cc_gf256_inv((uint8_t)a)) != 1;
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(cc_gf256_inv(0x53), 0xca); /* FIPS-197 §5.1.1 example: {53}^-1 = {ca} */
}

/* Recombines every subset of size >= m of n shares; returns the number that failed. */
static int all_subsets(const uint8_t *secret, size_t len, unsigned m, unsigned n)
{
    uint8_t shares[7 * 32], xs[7], ys[7 * 32], out[32];
    if (cc_shamir_split(secret, len, m, n, shares, NULL) != CC_OK)
        return 1;
    int bad = 0;
    for (unsigned mask = 1; mask < (1u << n); mask++) {
        unsigned k = 0;
        for (unsigned i = 0; i < n; i++)
            if (mask & (1u << i)) {
                xs[k] = (uint8_t)(i + 1);
                memcpy(ys + k * len, shares + i * len, len);
                k++;
            }
        if (cc_shamir_combine(xs, ys, k, len, out, NULL) != CC_OK) {
            bad++;
            continue;
        }
        int same = memcmp(out, secret, len) == 0;
        if (k >= m && !same)
            bad++;
        /* below the threshold the result is (overwhelmingly) not the secret for 32 bytes */
        if (k < m && same && len == 32)
            bad++;
    }
    return bad;
}

TEST(split_combine_all_subsets)
{
    uint8_t secret[32];
    int bad = 0;
    for (unsigned n = 1; n <= 7; n++)
        for (unsigned m = 1; m <= n; m++) {
            RAND_bytes(secret, sizeof secret);
            bad += all_subsets(secret, sizeof secret, m, n);
        }
    CHECK_EQ_INT(bad, 0);
    memset(secret, 0, sizeof secret);
    CHECK_EQ_INT(all_subsets(secret, 32, 2, 3), 0);
    memset(secret, 0xff, sizeof secret);
    CHECK_EQ_INT(all_subsets(secret, 32, 3, 5), 0);
}

TEST(split_255_shares)
{
    static uint8_t shares[255 * 32], xs[255], ys[255 * 32];
    uint8_t secret[32], out[32];
    RAND_bytes(secret, sizeof secret);
    CHECK(cc_shamir_split(secret, 32, 255, 255, shares, NULL) == CC_OK);
    for (unsigned i = 0; i < 255; i++) { /* in reverse order */
        xs[i] = (uint8_t)(255 - i);
        memcpy(ys + i * 32, shares + (254 - i) * 32, 32);
    }
    CHECK(cc_shamir_combine(xs, ys, 255, 32, out, NULL) == CC_OK);
    CHECK(memcmp(out, secret, 32) == 0);
    CHECK(cc_shamir_combine(xs, ys, 254, 32, out, NULL) == CC_OK);
    CHECK(memcmp(out, secret, 32) != 0);
}

TEST(refusals)
{
    uint8_t secret[32] = {1}, shares[256 * 32], out[32];
    cc_error err;
    CHECK(cc_shamir_split(secret, 32, 0, 3, shares, &err) == CC_EINVAL);
    CHECK(cc_shamir_split(secret, 32, 4, 3, shares, &err) == CC_EINVAL);
    CHECK(cc_shamir_split(secret, 32, 2, 256, shares, &err) == CC_EINVAL);
    CHECK(cc_shamir_split(secret, 0, 2, 3, shares, &err) == CC_EINVAL);
    CHECK(cc_shamir_split(secret, 32, 2, 3, shares, &err) == CC_OK);
    uint8_t dup[2] = {1, 1}, zero[2] = {0, 2};
    CHECK(cc_shamir_combine(dup, shares, 2, 32, out, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "same x") != NULL);
    CHECK(cc_shamir_combine(zero, shares, 2, 32, out, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "x = 0") != NULL);
    CHECK(cc_shamir_combine(dup, shares, 0, 32, out, &err) == CC_EINVAL);
}

/* Chi-square of one share's byte over many splits of a fixed 1-byte secret: uniform whatever the secret. */
TEST(below_threshold_reveals_nothing)
{
    enum { RUNS = 25600 };
    static const uint8_t secrets[] = {0x00, 0xff, 0x5a};
    static const unsigned ms[] = {2, 3};
    for (size_t si = 0; si < sizeof secrets; si++)
        for (size_t mi = 0; mi < 2; mi++) {
            unsigned counts[256] = {0};
            uint8_t shares[3];
            for (int r = 0; r < RUNS; r++) {
                cc_shamir_split(&secrets[si], 1, ms[mi], 3, shares, NULL);
                counts[shares[1]]++; /* share x = 2 */
            }
            double expect = RUNS / 256.0, chi = 0;
            for (int b = 0; b < 256; b++)
                chi += (counts[b] - expect) * (counts[b] - expect) / expect;
            /* 255 degrees of freedom: mean 255, sd ~22.6; 400 is beyond 6 sd */
            CHECK_MSG(chi < 400, "secret %02x m %u: chi-square %.1f", secrets[si], ms[mi], chi);
        }
}

TEST(master_check)
{
    uint8_t key[32], key2[32], check[32], shares[3 * 32], xs[2] = {1, 3}, ys[2 * 32], out[32];
    CHECK(cc_master_generate(key, NULL) == CC_OK);
    CHECK(cc_master_generate(key2, NULL) == CC_OK);
    CHECK(memcmp(key, key2, 32) != 0);
    CHECK(cc_master_check(key, 1, check, NULL) == CC_OK);
    CHECK(cc_master_verify(key, 1, check, NULL) == CC_OK);
    cc_error err;
    CHECK(cc_master_verify(key, 2, check, &err) == CC_ECRYPTO);
    CHECK(cc_master_verify(key2, 1, check, &err) == CC_ECRYPTO);
    CHECK(memcmp(check, key, 32) != 0);
    /* a wrong share rebuilds a wrong key, which the check refuses */
    CHECK(cc_shamir_split(key, 32, 2, 3, shares, NULL) == CC_OK);
    memcpy(ys, shares, 32);
    memcpy(ys + 32, shares + 64, 32);
    CHECK(cc_shamir_combine(xs, ys, 2, 32, out, NULL) == CC_OK);
    CHECK(cc_master_verify(out, 1, check, NULL) == CC_OK);
    ys[40] ^= 0x01;
    CHECK(cc_shamir_combine(xs, ys, 2, 32, out, NULL) == CC_OK);
    CHECK(cc_master_verify(out, 1, check, NULL) == CC_ECRYPTO);
    /* a share presented under another x also fails */
    ys[40] ^= 0x01;
    xs[1] = 2;
    CHECK(cc_shamir_combine(xs, ys, 2, 32, out, NULL) == CC_OK);
    CHECK(cc_master_verify(out, 1, check, NULL) == CC_ECRYPTO);
}

static void fill_record(cc_state_record *r, unsigned n)
{
    memset(r, 0, sizeof *r);
    strcpy(r->mode, "kms");
    r->threshold = 2;
    r->share_count = n;
    r->version = 7;
    memset(r->check, 0xab, sizeof r->check);
    strcpy(r->created_at, "2026-11-26T00:00:00Z");
    strcpy(r->updated_at, "2026-11-26T00:00:01Z");
    for (unsigned i = 0; i < n; i++) {
        r->shares[i].index = (uint8_t)(i + 1);
        snprintf(r->shares[i].kms_key_arn, sizeof r->shares[i].kms_key_arn,
                 "arn:aws:kms:us-east-1:00000000000%u:key/k%u", i, i);
        r->shares[i].blob_len = 100 + i;
        r->shares[i].blob = malloc(r->shares[i].blob_len);
        memset(r->shares[i].blob, (int)i, r->shares[i].blob_len);
    }
}

TEST(state_item_roundtrip)
{
    cc_state_record r, back;
    fill_record(&r, 3);
    json_t *item = NULL;
    CHECK(cc_state_record_to_item(&r, &item, NULL) == CC_OK);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(item, "pk"), "S")), "STATE");
    CHECK(cc_state_record_from_item(item, &back, NULL) == CC_OK);
    CHECK_EQ_STR(back.mode, "kms");
    CHECK_EQ_INT(back.threshold, 2);
    CHECK_EQ_INT(back.share_count, 3);
    CHECK_EQ_INT(back.version, 7);
    CHECK(memcmp(back.check, r.check, 32) == 0);
    CHECK_EQ_STR(back.created_at, r.created_at);
    for (unsigned i = 0; i < 3; i++) {
        CHECK_EQ_INT(back.shares[i].index, i + 1);
        CHECK_EQ_STR(back.shares[i].kms_key_arn, r.shares[i].kms_key_arn);
        CHECK(back.shares[i].blob_len == r.shares[i].blob_len &&
              memcmp(back.shares[i].blob, r.shares[i].blob, r.shares[i].blob_len) == 0);
    }
    cc_state_record_clear(&back);

    /* malformed items are refused, naming the attribute */
    cc_error err;
    json_t *bad = json_deep_copy(item);
    json_object_del(bad, "check");
    CHECK(cc_state_record_from_item(bad, &back, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "check") != NULL);
    json_decref(bad);
    bad = json_deep_copy(item);
    json_object_set_new(bad, "threshold", json_pack("{s:s}", "N", "4"));
    CHECK(cc_state_record_from_item(bad, &back, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "shares") != NULL);
    json_decref(bad);
    bad = json_deep_copy(item);
    json_t *l = json_object_get(json_object_get(bad, "shares"), "L");
    json_object_set_new(json_object_get(json_array_get(l, 1), "M"), "index", json_pack("{s:s}", "N", "1"));
    CHECK(cc_state_record_from_item(bad, &back, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "twice") != NULL);
    json_decref(bad);
    json_decref(item);
    cc_state_record_clear(&r);

    json_t *ctx = cc_state_share_context(2, 7);
    CHECK_EQ_STR(json_string_value(json_object_get(ctx, "containment-chamber:share")), "2");
    CHECK_EQ_STR(json_string_value(json_object_get(ctx, "containment-chamber:version")), "7");
    json_decref(ctx);
}

int main(void)
{
    RUN(field_fips197);
    RUN(field_inverse);
    RUN(split_combine_all_subsets);
    RUN(split_255_shares);
    RUN(refusals);
    RUN(below_threshold_reveals_nothing);
    RUN(master_check);
    RUN(state_item_roundtrip);
    TEST_MAIN_END();
}
