/*
 * Tests for keys/sealed_key: seal → open round trips; a blob does not open
 * under another pubkey, master-key version or master key, nor with any single
 * byte flipped, truncated or extended (all CC_ECRYPTO naming the pubkey, the
 * output zeroed); the secret never appears in the blob; two seals of one key
 * differ (fresh nonce); a blob whose secret is not the pubkey's is refused
 * even though it authenticates.
 */
#include "keys/sealed_key.h"
#include "signing/bls.h"
#include "test.h"
#include "util/hex.h"
#include "util/secret.h"

typedef struct fixture {
    uint8_t master[32], sk[32], pk[48];
    uint8_t other_sk[32], other_pk[48];
} fixture;

static void keypair(uint8_t seed, uint8_t sk_be[32], uint8_t pk[48])
{
    memset(sk_be, seed, 32);
    sk_be[0] = 0x1f; /* below r */
    cc_bls_sk *sk = cc_secret_alloc(sizeof *sk);
    CHECK(cc_bls_sk_from_bytes(sk, sk_be, NULL) == CC_OK);
    cc_bls_sk_to_pk(sk, pk);
    cc_secret_free(sk, sizeof *sk);
}

static void setup(fixture *f)
{
    memset(f->master, 0xA5, 32);
    keypair(0x11, f->sk, f->pk);
    keypair(0x22, f->other_sk, f->other_pk);
}

TEST(round_trip)
{
    fixture f;
    setup(&f);
    uint8_t blob[CC_SEALED_KEY_LEN], blob2[CC_SEALED_KEY_LEN], out[32];
    size_t len = 0;
    cc_error err;
    CHECK(cc_sealed_key_seal(f.master, 7, f.pk, f.sk, blob, &len, &err) == CC_OK);
    CHECK_EQ_INT(len, CC_SEALED_KEY_LEN);
    CHECK_EQ_INT(blob[0], CC_SEALED_KEY_FORMAT);
    CHECK_MSG(cc_sealed_key_open(f.master, 7, f.pk, blob, len, out, &err) == CC_OK, "%s", err.msg);
    CHECK(memcmp(out, f.sk, 32) == 0);
    CHECK(cc_sealed_key_seal(f.master, 7, f.pk, f.sk, blob2, &len, &err) == CC_OK);
    CHECK(memcmp(blob, blob2, CC_SEALED_KEY_LEN) != 0);
    CHECK(cc_sealed_key_open(f.master, 7, f.pk, blob2, len, out, &err) == CC_OK);
    CHECK(memcmp(out, f.sk, 32) == 0);
    /* Version 0 and 2^32-1 are ordinary versions. */
    CHECK(cc_sealed_key_seal(f.master, 0xFFFFFFFFu, f.pk, f.sk, blob, &len, &err) == CC_OK);
    CHECK(cc_sealed_key_open(f.master, 0xFFFFFFFFu, f.pk, blob, len, out, &err) == CC_OK);
    CHECK(cc_sealed_key_open(f.master, 0x7FFFFFFFu, f.pk, blob, len, out, &err) == CC_ECRYPTO);
}

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return 1;
    return 0;
}

TEST(plaintext_not_in_blob)
{
    fixture f;
    setup(&f);
    uint8_t blob[CC_SEALED_KEY_LEN];
    size_t len;
    for (int i = 0; i < 50; i++) {
        CHECK(cc_sealed_key_seal(f.master, 1, f.pk, f.sk, blob, &len, NULL) == CC_OK);
        /* Neither the whole secret nor any 8-byte window of it. */
        for (size_t off = 0; off + 8 <= 32; off++)
            CHECK(!contains(blob, len, f.sk + off, 8));
    }
}

static void check_refused(const fixture *f, uint32_t version, const uint8_t *master, const uint8_t *pk,
                          const uint8_t *blob, size_t len, const char *what)
{
    uint8_t out[32];
    memset(out, 0x77, sizeof out);
    cc_error err;
    cc_status st = cc_sealed_key_open(master, version, pk, blob, len, out, &err);
    CHECK_MSG(st == CC_ECRYPTO, "%s: status %d", what, st);
    static const uint8_t zero[32];
    CHECK_MSG(memcmp(out, zero, 32) == 0, "%s: output not zeroed", what);
    char hex[99];
    cc_hex_encode0x(pk, 48, hex);
    CHECK_MSG(strstr(err.msg, hex) != NULL, "%s: message does not name the pubkey: %s", what, err.msg);
    (void)f;
}

TEST(refusals)
{
    fixture f;
    setup(&f);
    uint8_t blob[CC_SEALED_KEY_LEN + 1], bad[CC_SEALED_KEY_LEN + 1];
    size_t len;
    CHECK(cc_sealed_key_seal(f.master, 3, f.pk, f.sk, blob, &len, NULL) == CC_OK);
    blob[CC_SEALED_KEY_LEN] = 0;

    check_refused(&f, 3, f.master, f.other_pk, blob, len, "another pubkey");
    check_refused(&f, 4, f.master, f.pk, blob, len, "another version");
    check_refused(&f, 2, f.master, f.pk, blob, len, "an older version");
    uint8_t master2[32];
    memcpy(master2, f.master, 32);
    master2[31] ^= 1;
    check_refused(&f, 3, master2, f.pk, blob, len, "another master key");
    for (size_t i = 0; i < CC_SEALED_KEY_LEN; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            memcpy(bad, blob, sizeof bad);
            bad[i] ^= (uint8_t)(1u << bit);
            char what[64];
            snprintf(what, sizeof what, "byte %zu bit %d flipped", i, bit);
            check_refused(&f, 3, f.master, f.pk, bad, len, what);
        }
    }
    check_refused(&f, 3, f.master, f.pk, blob, len - 1, "truncated");
    check_refused(&f, 3, f.master, f.pk, blob, len + 1, "extended");
    check_refused(&f, 3, f.master, f.pk, blob, 0, "empty");

    /* Still opens after all that. */
    uint8_t out[32];
    CHECK(cc_sealed_key_open(f.master, 3, f.pk, blob, len, out, NULL) == CC_OK);
}

TEST(secret_must_match_pubkey)
{
    /* A blob sealed (correctly) for pk but holding another key's secret authenticates, yet must not open. */
    fixture f;
    setup(&f);
    uint8_t blob[CC_SEALED_KEY_LEN];
    size_t len;
    CHECK(cc_sealed_key_seal(f.master, 1, f.pk, f.other_sk, blob, &len, NULL) == CC_OK);
    check_refused(&f, 1, f.master, f.pk, blob, len, "secret of another key");
    cc_error err;
    uint8_t out[32];
    cc_sealed_key_open(f.master, 1, f.pk, blob, len, out, &err);
    CHECK(strstr(err.msg, "does not match") != NULL);
    /* And a zero secret is not a scalar. */
    static const uint8_t zero[32];
    CHECK(cc_sealed_key_seal(f.master, 1, f.pk, zero, blob, &len, NULL) == CC_OK);
    check_refused(&f, 1, f.master, f.pk, blob, len, "zero secret");
}

int main(void)
{
    RUN(round_trip);
    RUN(plaintext_not_in_blob);
    RUN(refusals);
    RUN(secret_must_match_pubkey);
    TEST_MAIN_END();
}
