/*
 * test_quorum.c — operator-quorum mode without a network: chamber/quorum.c
 * (share sealing, Argon2id, the YubiKey KDF, registration tokens, the item
 * attributes) and chamber/quorum_session.c (submissions, threshold, window).
 *
 * Independent references: libargon2's own Argon2id test vector (its
 * test.c: t=2, m=2^16, p=1, "password"/"somesalt"); RFC 2202's HMAC-SHA1
 * test case 2 for the software YubiKey; HKDF (RFC 5869) recomputed here from
 * HMAC-SHA256 alone.  Argon2id runs with small parameters (m = 8 MiB) except
 * where the defaults themselves are measured.
 */
#include <argon2.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chamber/master.h"
#include "chamber/quorum.h"
#include "chamber/quorum_session.h"
#include "chamber/shamir.h"
#include "chamber/state.h"
#include "util/hex.h"
#include "test.h"

static const cc_quorum_kdf SMALL = {1, 8192, 1};
static const char *PASS_A = "correct horse battery staple";
static const char *PASS_B = "bob's long passphrase 2";

static void hexeq(const uint8_t *got, size_t len, const char *want_hex, int *ok)
{
    char h[256];
    cc_hex_encode(got, len, h);
    *ok = strcmp(h, want_hex) == 0;
    if (!*ok)
        fprintf(stderr, "  got %s\n  want %s\n", h, want_hex);
}

/* A fresh three-operator record (alice, bob, carol; 2-of-3) and the shares of a random operator part. */
static void fixture(cc_quorum_record *q, uint8_t kms_part[32], uint8_t op_part[32], uint8_t shares[3 * 32],
                    char tokens[3][CC_QUORUM_TOKEN_LEN + 1])
{
    const char *names[] = {"alice", "bob", "carol"};
    RAND_bytes(kms_part, 32);
    RAND_bytes(op_part, 32);
    char buf[3 * (CC_QUORUM_TOKEN_LEN + 1)];
    CHECK(cc_quorum_setup(q, names, 3, 2, &SMALL, kms_part, 1, buf, NULL) == CC_OK);
    for (int i = 0; i < 3; i++)
        memcpy(tokens[i], buf + i * (CC_QUORUM_TOKEN_LEN + 1), CC_QUORUM_TOKEN_LEN + 1);
    CHECK(cc_shamir_split(op_part, 32, 2, 3, shares, NULL) == CC_OK);
}

TEST(argon2id_reference_vector)
{
    /* libargon2 test.c, Argon2id v1.3: t=2, m=2^16 KiB, p=1, "password", "somesalt". */
    uint8_t out[32];
    CHECK(argon2id_hash_raw(2, 1 << 16, 1, "password", 8, "somesalt", 8, out, 32) == ARGON2_OK);
    int ok;
    hexeq(out, 32, "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7", &ok);
    CHECK(ok);
}

TEST(argon2id_parameters_honoured)
{
    uint8_t salt[16], k1[32], k2[32], ref[32];
    RAND_bytes(salt, sizeof salt);
    cc_quorum_kdf a = {2, 8192, 1}, b = {3, 8192, 1}, c = {2, 16384, 1}, d = {2, 8192, 2};
    CHECK(cc_quorum_passphrase_key((const uint8_t *)PASS_A, strlen(PASS_A), salt, &a, k1, NULL) == CC_OK);
    CHECK(argon2id_hash_raw(2, 8192, 1, PASS_A, strlen(PASS_A), salt, 16, ref, 32) == ARGON2_OK);
    CHECK(memcmp(k1, ref, 32) == 0);
    const cc_quorum_kdf *others[] = {&b, &c, &d};
    for (int i = 0; i < 3; i++) {
        CHECK(cc_quorum_passphrase_key((const uint8_t *)PASS_A, strlen(PASS_A), salt, others[i], k2, NULL) == CC_OK);
        CHECK(memcmp(k1, k2, 32) != 0);
    }
    /* bounds */
    cc_quorum_kdf bad[] = {{0, 8192, 1}, {17, 8192, 1}, {1, 8191, 1}, {1, 1048577, 1}, {1, 8192, 0}, {1, 8192, 9}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cc_error e;
        CHECK(cc_quorum_kdf_check(&bad[i], &e) == CC_EINVAL);
        CHECK(strstr(e.msg, "argon2.") != NULL);
    }
    /* the defaults: measured, so the docs' figure is real */
    cc_quorum_kdf def = {CC_QUORUM_T_DEFAULT, CC_QUORUM_M_DEFAULT, CC_QUORUM_P_DEFAULT};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(cc_quorum_passphrase_key((const uint8_t *)PASS_A, strlen(PASS_A), salt, &def, k2, NULL) == CC_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("  argon2id t=3 m=64MiB p=1: %.0f ms\n",
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
}

TEST(stored_parameters_are_the_ones_used)
{
    cc_quorum_record q;
    uint8_t kms[32], op[32], shares[96], out[32];
    char tok[3][CC_QUORUM_TOKEN_LEN + 1];
    fixture(&q, kms, op, shares, tok);
    cc_quorum_kdf k = {2, 8192, 1};
    CHECK(cc_quorum_register(&q.ops[0], 1, CC_QUORUM_KIND_PASSPHRASE, &k, (const uint8_t *)PASS_A, strlen(PASS_A),
                             shares, NULL) == CC_OK);
    CHECK_EQ_INT(q.ops[0].kdf.t, 2);
    CHECK_EQ_INT(q.ops[0].kdf.m_kib, 8192);
    /* through the item and back: the same parameters, and they open the share */
    cc_state_record r, back;
    memset(&r, 0, sizeof r);
    snprintf(r.mode, sizeof r.mode, "quorum");
    r.threshold = 1;
    r.version = 1;
    r.quorum = q;
    json_t *item = NULL;
    CHECK(cc_state_record_to_item(&r, &item, NULL) == CC_OK);
    /* a state item needs ≥ threshold shares: add one fake KMS share */
    json_object_set_new(item, "shares", json_pack("{s:[{s:{s:{s:s}, s:{s:s}, s:{s:s}}}]}", "L", "M", "index", "N",
                                                  "1", "kms_key_arn", "S", "arn:x", "blob", "B", "AA=="));
    CHECK(cc_state_record_from_item(item, &back, NULL) == CC_OK);
    CHECK_EQ_INT(back.quorum.ops[0].kdf.t, 2);
    CHECK(memcmp(back.quorum.ops[0].salt, q.ops[0].salt, 16) == 0);
    CHECK(cc_quorum_unlock(&back.quorum.ops[0], 1, (const uint8_t *)PASS_A, strlen(PASS_A), out, NULL) == CC_OK);
    CHECK(memcmp(out, shares, 32) == 0);
    /* other parameters than the stored ones do not open it */
    back.quorum.ops[0].kdf.t = 1;
    cc_error e;
    CHECK(cc_quorum_unlock(&back.quorum.ops[0], 1, (const uint8_t *)PASS_A, strlen(PASS_A), out, &e) == CC_EFORBIDDEN);
    cc_state_record_clear(&back);
    json_decref(item);
}

TEST(passphrase_round_trip_and_wrong_refused)
{
    cc_quorum_record q;
    uint8_t kms[32], op[32], shares[96], out[32];
    char tok[3][CC_QUORUM_TOKEN_LEN + 1];
    fixture(&q, kms, op, shares, tok);
    CHECK(cc_quorum_register(&q.ops[0], 1, CC_QUORUM_KIND_PASSPHRASE, &SMALL, (const uint8_t *)PASS_A,
                             strlen(PASS_A), shares, NULL) == CC_OK);
    CHECK(q.ops[0].registered);
    CHECK(memmem(q.ops[0].sealed, sizeof q.ops[0].sealed, shares, 32) == NULL);
    CHECK(cc_quorum_unlock(&q.ops[0], 1, (const uint8_t *)PASS_A, strlen(PASS_A), out, NULL) == CC_OK);
    CHECK(memcmp(out, shares, 32) == 0);
    cc_error e;
    const char *wrong = "correct horse battery stapl3";
    CHECK(cc_quorum_unlock(&q.ops[0], 1, (const uint8_t *)wrong, strlen(wrong), out, &e) == CC_EFORBIDDEN);
    CHECK(strstr(e.msg, "wrong passphrase") != NULL && strstr(e.msg, "alice") != NULL);
    CHECK(strstr(e.msg, wrong) == NULL);
    /* too short a passphrase is refused at registration */
    CHECK(cc_quorum_register(&q.ops[1], 1, CC_QUORUM_KIND_PASSPHRASE, &SMALL, (const uint8_t *)"short", 5,
                             shares + 32, &e) == CC_EINVAL);
    CHECK(!q.ops[1].registered);
    /* the associated data binds name, index, kind and version */
    cc_quorum_operator moved = q.ops[0];
    snprintf(moved.name, sizeof moved.name, "mallory");
    CHECK(cc_quorum_unlock(&moved, 1, (const uint8_t *)PASS_A, strlen(PASS_A), out, NULL) == CC_EFORBIDDEN);
    moved = q.ops[0];
    moved.index = 2;
    CHECK(cc_quorum_unlock(&moved, 1, (const uint8_t *)PASS_A, strlen(PASS_A), out, NULL) == CC_EFORBIDDEN);
    CHECK(cc_quorum_unlock(&q.ops[0], 2, (const uint8_t *)PASS_A, strlen(PASS_A), out, NULL) == CC_EFORBIDDEN);
    moved = q.ops[0];
    moved.sealed[3] ^= 1;
    CHECK(cc_quorum_unlock(&moved, 1, (const uint8_t *)PASS_A, strlen(PASS_A), out, NULL) == CC_EFORBIDDEN);
}

/* HKDF-SHA256 from HMAC alone (RFC 5869 §2), for one 32-byte block. */
static void ref_hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len, const char *info,
                     uint8_t out[32])
{
    uint8_t prk[32], msg[64];
    unsigned int n = 0;
    HMAC(EVP_sha256(), salt, (int)salt_len, ikm, ikm_len, prk, &n);
    size_t il = strlen(info);
    memcpy(msg, info, il);
    msg[il] = 1;
    HMAC(EVP_sha256(), prk, 32, msg, il + 1, out, &n);
}

TEST(yubikey_kdf_software_hmac_sha1)
{
    /* RFC 2202 test case 2: the software stand-in for the YubiKey computes the right HMAC-SHA1. */
    uint8_t resp[20];
    unsigned int n = 0;
    HMAC(EVP_sha1(), "Jefe", 4, (const uint8_t *)"what do ya want for nothing?", 28, resp, &n);
    int ok;
    hexeq(resp, 20, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", &ok);
    CHECK(ok);
    /* The slot-2 secret is 20 bytes; the response to the stored challenge → HKDF → the share key. */
    uint8_t secret[20], challenge[32], key[32], ref[32];
    RAND_bytes(secret, sizeof secret);
    RAND_bytes(challenge, sizeof challenge);
    HMAC(EVP_sha1(), secret, 20, challenge, 32, resp, &n);
    CHECK_EQ_INT(n, 20);
    CHECK(cc_quorum_yubikey_key(resp, challenge, key, NULL) == CC_OK);
    ref_hkdf(resp, 20, challenge, 32, "cc-operator-yubikey-v1", ref);
    CHECK(memcmp(key, ref, 32) == 0);

    cc_quorum_record q;
    uint8_t kms[32], op[32], shares[96], out[32];
    char tok[3][CC_QUORUM_TOKEN_LEN + 1];
    fixture(&q, kms, op, shares, tok);
    HMAC(EVP_sha1(), secret, 20, q.ops[2].challenge, 32, resp, &n);
    CHECK(cc_quorum_register(&q.ops[2], 1, CC_QUORUM_KIND_YUBIKEY, &SMALL, resp, 20, shares + 64, NULL) == CC_OK);
    CHECK(q.ops[2].kind == CC_QUORUM_KIND_YUBIKEY);
    CHECK(cc_quorum_unlock(&q.ops[2], 1, resp, 20, out, NULL) == CC_OK);
    CHECK(memcmp(out, shares + 64, 32) == 0);
    /* through the item and back (a YubiKey operator stores no Argon2id parameters), twice */
    for (int round = 0; round < 2; round++) {
        json_t *item = json_object();
        cc_quorum_record back;
        cc_error e;
        CHECK(cc_quorum_to_item(&q, item, NULL) == CC_OK);
        CHECK_MSG(cc_quorum_from_item(item, &back, &e) == CC_OK, "%s", e.msg);
        CHECK(back.ops[2].kind == CC_QUORUM_KIND_YUBIKEY && back.ops[0].kdf.m_kib == SMALL.m_kib);
        CHECK(cc_quorum_unlock(&back.ops[2], 1, resp, 20, out, NULL) == CC_OK && memcmp(out, shares + 64, 32) == 0);
        q = back;
        json_decref(item);
    }
    /* registered after a load from the item (as the signer does), then stored and loaded again */
    {
        cc_quorum_record q3, loaded;
        uint8_t k3[32], o3[32], sh3[96];
        char t3[3][CC_QUORUM_TOKEN_LEN + 1];
        fixture(&q3, k3, o3, sh3, t3);
        json_t *i1 = json_object(), *i2 = json_object();
        cc_error e;
        CHECK(cc_quorum_to_item(&q3, i1, NULL) == CC_OK && cc_quorum_from_item(i1, &loaded, NULL) == CC_OK);
        uint8_t r3[20];
        HMAC(EVP_sha1(), secret, 20, loaded.ops[2].challenge, 32, r3, &n);
        CHECK(cc_quorum_register(&loaded.ops[2], 1, CC_QUORUM_KIND_YUBIKEY, &loaded.kdf, r3, 20, sh3 + 64, NULL) ==
              CC_OK);
        CHECK(cc_quorum_register(&loaded.ops[0], 1, CC_QUORUM_KIND_PASSPHRASE, &loaded.kdf, (const uint8_t *)PASS_A,
                                 strlen(PASS_A), sh3, NULL) == CC_OK);
        CHECK(cc_quorum_to_item(&loaded, i2, NULL) == CC_OK);
        CHECK_MSG(cc_quorum_from_item(i2, &q3, &e) == CC_OK, "%s", e.msg);
        CHECK(q3.ops[0].kdf.t == SMALL.t && q3.ops[0].kdf.m_kib == SMALL.m_kib);
        CHECK(cc_quorum_unlock(&q3.ops[2], 1, r3, 20, out, NULL) == CC_OK && memcmp(out, sh3 + 64, 32) == 0);
        json_decref(i1);
        json_decref(i2);
    }
    resp[0] ^= 1; /* another YubiKey */
    CHECK(cc_quorum_unlock(&q.ops[2], 1, resp, 20, out, NULL) == CC_EFORBIDDEN);
    CHECK(cc_quorum_unlock(&q.ops[2], 1, resp, 19, out, NULL) == CC_EINVAL);
}

TEST(registration_tokens)
{
    cc_quorum_record q;
    uint8_t kms[32], op[32], shares[96];
    char tok[3][CC_QUORUM_TOKEN_LEN + 1];
    fixture(&q, kms, op, shares, tok);
    for (int i = 0; i < 3; i++) {
        CHECK(strncmp(tok[i], "cc-reg-", 7) == 0 && strlen(tok[i]) == CC_QUORUM_TOKEN_LEN);
        CHECK_EQ_INT(cc_quorum_find_token(&q, tok[i]), i);
    }
    CHECK(strcmp(tok[0], tok[1]) != 0);
    char bad[CC_QUORUM_TOKEN_LEN + 1];
    memcpy(bad, tok[0], sizeof bad);
    bad[20] = bad[20] == 'a' ? 'b' : 'a';
    CHECK_EQ_INT(cc_quorum_find_token(&q, bad), -1);
    CHECK_EQ_INT(cc_quorum_find_token(&q, "cc-reg-"), -1);
    CHECK_EQ_INT(cc_quorum_find_token(&q, NULL), -1);
    /* single use: a registered operator's token still finds the operator, marked registered (the chamber refuses
     * the reuse with 409); the item keeps only the hash */
    CHECK(cc_quorum_register(&q.ops[0], 1, CC_QUORUM_KIND_PASSPHRASE, &SMALL, (const uint8_t *)PASS_A,
                             strlen(PASS_A), shares, NULL) == CC_OK);
    int idx = cc_quorum_find_token(&q, tok[0]);
    CHECK(idx == 0 && q.ops[idx].registered);
    json_t *item = json_object();
    CHECK(cc_quorum_to_item(&q, item, NULL) == CC_OK);
    char *text = json_dumps(item, 0);
    CHECK(text && strstr(text, tok[0]) == NULL && strstr(text, tok[0] + 7) == NULL);
    CHECK(text && strstr(text, PASS_A) == NULL);
    free(text);
    cc_quorum_record back;
    CHECK(cc_quorum_from_item(item, &back, NULL) == CC_OK);
    CHECK_EQ_INT(cc_quorum_find_token(&back, tok[1]), 1);
    CHECK(back.ops[0].registered && !back.ops[1].registered);
    CHECK(memcmp(back.ops[0].sealed, q.ops[0].sealed, sizeof q.ops[0].sealed) == 0);
    json_decref(item);
    /* names */
    const char *dup[] = {"alice", "alice"}, *upper[] = {"Alice"};
    char buf[2 * (CC_QUORUM_TOKEN_LEN + 1)];
    cc_quorum_record q2;
    cc_error e;
    CHECK(cc_quorum_setup(&q2, dup, 2, 1, &SMALL, kms, 1, buf, &e) == CC_EINVAL);
    CHECK(strstr(e.msg, "twice") != NULL);
    CHECK(cc_quorum_setup(&q2, upper, 1, 1, &SMALL, kms, 1, buf, &e) == CC_EINVAL);
    CHECK(cc_quorum_setup(&q2, dup, 1, 2, &SMALL, kms, 1, buf, &e) == CC_EINVAL);
}

TEST(neither_part_alone_gives_the_master)
{
    uint8_t kms[32], op[32], master[32], check[32], cand[32], zero[32] = {0};
    RAND_bytes(kms, 32);
    RAND_bytes(op, 32);
    CHECK(cc_quorum_derive_master(kms, op, 1, master, NULL) == CC_OK);
    CHECK(cc_master_check(master, 1, check, NULL) == CC_OK);
    CHECK(cc_master_verify(master, 1, check, NULL) == CC_OK);
    /* the parts themselves */
    CHECK(cc_master_verify(kms, 1, check, NULL) == CC_ECRYPTO);
    CHECK(cc_master_verify(op, 1, check, NULL) == CC_ECRYPTO);
    /* one part with the other missing (zeros) or guessed at random */
    CHECK(cc_quorum_derive_master(kms, zero, 1, cand, NULL) == CC_OK);
    CHECK(cc_master_verify(cand, 1, check, NULL) == CC_ECRYPTO);
    CHECK(cc_quorum_derive_master(zero, op, 1, cand, NULL) == CC_OK);
    CHECK(cc_master_verify(cand, 1, check, NULL) == CC_ECRYPTO);
    uint8_t guess[32];
    RAND_bytes(guess, 32);
    CHECK(cc_quorum_derive_master(kms, guess, 1, cand, NULL) == CC_OK);
    CHECK(cc_master_verify(cand, 1, check, NULL) == CC_ECRYPTO);
    CHECK(cc_quorum_derive_master(guess, op, 1, cand, NULL) == CC_OK);
    CHECK(cc_master_verify(cand, 1, check, NULL) == CC_ECRYPTO);
    /* the order and the version matter */
    CHECK(cc_quorum_derive_master(op, kms, 1, cand, NULL) == CC_OK);
    CHECK(cc_master_verify(cand, 1, check, NULL) == CC_ECRYPTO);
    CHECK(cc_quorum_derive_master(kms, op, 2, cand, NULL) == CC_OK);
    CHECK(memcmp(cand, master, 32) != 0);
    /* HKDF as RFC 5869 defines it (no salt = 32 zero bytes), info "cc-master-v1" ‖ be32(1) */
    uint8_t ikm[64], ref[32], prk[32], msg[17];
    memcpy(ikm, kms, 32);
    memcpy(ikm + 32, op, 32);
    unsigned int n = 0;
    HMAC(EVP_sha256(), zero, 32, ikm, 64, prk, &n);
    memcpy(msg, "cc-master-v1\0\0\0\1\1", 17);
    HMAC(EVP_sha256(), prk, 32, msg, 17, ref, &n);
    CHECK(memcmp(ref, master, 32) == 0);
    /* the KMS part's own check accepts kms_part and nothing else */
    uint8_t kc[32];
    CHECK(cc_quorum_kms_check(kms, 1, kc, NULL) == CC_OK);
    CHECK(cc_quorum_kms_verify(kms, 1, kc, NULL) == CC_OK);
    CHECK(cc_quorum_kms_verify(master, 1, kc, NULL) == CC_ECRYPTO);
    CHECK(cc_quorum_kms_verify(op, 1, kc, NULL) == CC_ECRYPTO);
}

TEST(session_threshold_wrong_and_window)
{
    cc_quorum_record q;
    uint8_t kms[32], op[32], shares[96], master[32], check[32], got[32];
    char tok[3][CC_QUORUM_TOKEN_LEN + 1];
    fixture(&q, kms, op, shares, tok);
    CHECK(cc_quorum_derive_master(kms, op, 1, master, NULL) == CC_OK);
    CHECK(cc_master_check(master, 1, check, NULL) == CC_OK);
    const char *carol = "carol passphrase 33";
    CHECK(cc_quorum_register(&q.ops[0], 1, CC_QUORUM_KIND_PASSPHRASE, &SMALL, (const uint8_t *)PASS_A,
                             strlen(PASS_A), shares, NULL) == CC_OK);
    CHECK(cc_quorum_register(&q.ops[1], 1, CC_QUORUM_KIND_PASSPHRASE, &SMALL, (const uint8_t *)PASS_B,
                             strlen(PASS_B), shares + 32, NULL) == CC_OK);
    CHECK(cc_quorum_register(&q.ops[2], 1, CC_QUORUM_KIND_PASSPHRASE, &SMALL, (const uint8_t *)carol, strlen(carol),
                             shares + 64, NULL) == CC_OK);
    cc_quorum_session *s = cc_quorum_session_new();
    int complete = 0;
    cc_error e;
    /* before the KMS stage: nothing to combine with */
    CHECK(cc_quorum_session_submit(s, &q, 1, check, "alice", (const uint8_t *)PASS_A, strlen(PASS_A), 60, got,
                                   &complete, &e) == CC_EUNAVAILABLE);
    cc_quorum_session_set_kms_part(s, kms);
    /* the operator part alone (all three operators' shares) with a wrong KMS part: refused by the check */
    cc_quorum_session *s2 = cc_quorum_session_new();
    uint8_t wrong_kms[32];
    RAND_bytes(wrong_kms, 32);
    cc_quorum_session_set_kms_part(s2, wrong_kms);
    CHECK(cc_quorum_session_submit(s2, &q, 1, check, "alice", (const uint8_t *)PASS_A, strlen(PASS_A), 60, got,
                                   &complete, NULL) == CC_OK && !complete);
    CHECK(cc_quorum_session_submit(s2, &q, 1, check, "bob", (const uint8_t *)PASS_B, strlen(PASS_B), 60, got,
                                   &complete, &e) == CC_ECRYPTO && !complete);
    cc_quorum_session_free(s2);

    CHECK(cc_quorum_session_submit(s, &q, 1, check, "alice", (const uint8_t *)PASS_A, strlen(PASS_A), 60, got,
                                   &complete, NULL) == CC_OK);
    CHECK(!complete);
    CHECK(cc_quorum_session_submit(s, &q, 1, check, "alice", (const uint8_t *)PASS_A, strlen(PASS_A), 60, got,
                                   &complete, &e) == CC_ECONFLICT);
    CHECK(cc_quorum_session_submit(s, &q, 1, check, "bob", (const uint8_t *)PASS_A, strlen(PASS_A), 60, got,
                                   &complete, &e) == CC_EFORBIDDEN);
    CHECK(!complete);
    CHECK(cc_quorum_session_submit(s, &q, 1, check, "dave", (const uint8_t *)PASS_A, strlen(PASS_A), 60, got,
                                   &complete, &e) == CC_ENOTFOUND);
    json_t *st = json_object();
    cc_quorum_session_status(s, 60, st);
    CHECK_EQ_INT(json_integer_value(json_object_get(st, "submissions")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(st, "failed_submissions")), 1);
    json_decref(st);
    CHECK(cc_quorum_session_submit(s, &q, 1, check, "carol", (const uint8_t *)carol, strlen(carol), 60, got,
                                   &complete, NULL) == CC_OK);
    CHECK(complete);
    CHECK(memcmp(got, master, 32) == 0);
    CHECK(!cc_quorum_session_has_kms_part(s)); /* consumed */

    /* the window: one submission, then the timeout passes: discarded */
    cc_quorum_session_set_kms_part(s, kms);
    CHECK(cc_quorum_session_submit(s, &q, 1, check, "bob", (const uint8_t *)PASS_B, strlen(PASS_B), 1, got, &complete,
                                   NULL) == CC_OK && !complete);
    CHECK_EQ_INT(cc_quorum_session_expire(s, 1), 0);
    usleep(1100 * 1000);
    CHECK_EQ_INT(cc_quorum_session_expire(s, 1), 1);
    /* bob again counts as the first of a new window, so one more is needed */
    CHECK(cc_quorum_session_submit(s, &q, 1, check, "bob", (const uint8_t *)PASS_B, strlen(PASS_B), 60, got,
                                   &complete, NULL) == CC_OK && !complete);
    /* a wipe (seal) drops kms_part and the submissions */
    cc_quorum_session_wipe(s, 0);
    CHECK(!cc_quorum_session_has_kms_part(s));
    CHECK(cc_quorum_session_submit(s, &q, 1, check, "alice", (const uint8_t *)PASS_A, strlen(PASS_A), 60, got,
                                   &complete, NULL) == CC_EUNAVAILABLE);
    cc_quorum_session_free(s);
}

TEST(pending_registration_held_in_session)
{
    cc_quorum_session *s = cc_quorum_session_new();
    uint8_t shares[96], master[32], out[32];
    RAND_bytes(shares, sizeof shares);
    RAND_bytes(master, sizeof master);
    const char *id = "00112233445566778899aabbccddeeff";
    CHECK(cc_quorum_session_hold_pending(s, id, shares, 3, master, NULL) == CC_OK);
    CHECK(cc_quorum_session_pending_for(s, id));
    CHECK(!cc_quorum_session_pending_for(s, "ffffffffffffffffffffffffffffffff"));
    CHECK(cc_quorum_session_pending_share(s, id, 2, out, NULL) == CC_OK && memcmp(out, shares + 32, 32) == 0);
    CHECK(cc_quorum_session_pending_share(s, id, 4, out, NULL) == CC_ENOTFOUND);
    CHECK(cc_quorum_session_pending_master(s, id, out, NULL) == CC_OK && memcmp(out, master, 32) == 0);
    cc_quorum_session_wipe(s, 0); /* a seal of the unseal state keeps nothing but pending */
    CHECK(cc_quorum_session_pending_for(s, id));
    cc_quorum_session_wipe(s, 1);
    CHECK(!cc_quorum_session_pending_for(s, id));
    CHECK(cc_quorum_session_pending_master(s, id, out, NULL) == CC_ENOTFOUND);
    cc_quorum_session_free(s);
}

/* rotation (issue 7): the parts an unsealed session holds for `rotate quorum`, and their wipe */
TEST(parts_held_while_unsealed)
{
    cc_quorum_record q;
    uint8_t kms[32], op[32], shares[96], master[32], check[32], got[32], pk[32], po[32];
    char tok[3][CC_QUORUM_TOKEN_LEN + 1];
    fixture(&q, kms, op, shares, tok);
    CHECK(cc_quorum_derive_master(kms, op, 1, master, NULL) == CC_OK);
    CHECK(cc_master_check(master, 1, check, NULL) == CC_OK);
    CHECK(cc_quorum_register(&q.ops[0], 1, CC_QUORUM_KIND_PASSPHRASE, &SMALL, (const uint8_t *)PASS_A,
                             strlen(PASS_A), shares, NULL) == CC_OK);
    CHECK(cc_quorum_register(&q.ops[1], 1, CC_QUORUM_KIND_PASSPHRASE, &SMALL, (const uint8_t *)PASS_B,
                             strlen(PASS_B), shares + 32, NULL) == CC_OK);
    cc_quorum_session *s = cc_quorum_session_new();
    cc_error e;
    int complete = 0;
    CHECK(cc_quorum_session_parts(s, 1, pk, po, &e) == CC_EUNAVAILABLE); /* sealed: nothing held */
    cc_quorum_session_set_kms_part(s, kms);
    CHECK(cc_quorum_session_submit(s, &q, 1, check, "alice", (const uint8_t *)PASS_A, strlen(PASS_A), 60, got,
                                   &complete, NULL) == CC_OK && !complete);
    CHECK(cc_quorum_session_parts(s, 1, pk, po, &e) == CC_EUNAVAILABLE); /* not before the unseal completes */
    CHECK(cc_quorum_session_submit(s, &q, 1, check, "bob", (const uint8_t *)PASS_B, strlen(PASS_B), 60, got,
                                   &complete, NULL) == CC_OK && complete);
    CHECK(cc_quorum_session_parts(s, 1, pk, po, NULL) == CC_OK);
    CHECK(memcmp(pk, kms, 32) == 0 && memcmp(po, op, 32) == 0);
    CHECK(cc_quorum_session_parts(s, 2, pk, po, &e) == CC_ECONFLICT); /* another master version */
    cc_quorum_session_wipe(s, 0);                                      /* a seal drops them */
    CHECK(cc_quorum_session_parts(s, 1, pk, po, &e) == CC_EUNAVAILABLE);

    /* a wrong KMS part: the unseal fails, nothing is held */
    uint8_t wrong[32];
    RAND_bytes(wrong, 32);
    cc_quorum_session_set_kms_part(s, wrong);
    CHECK(cc_quorum_session_submit(s, &q, 1, check, "alice", (const uint8_t *)PASS_A, strlen(PASS_A), 60, got,
                                   &complete, NULL) == CC_OK);
    CHECK(cc_quorum_session_submit(s, &q, 1, check, "bob", (const uint8_t *)PASS_B, strlen(PASS_B), 60, got,
                                   &complete, &e) == CC_ECRYPTO && !complete);
    CHECK(cc_quorum_session_parts(s, 1, pk, po, &e) == CC_EUNAVAILABLE);

    /* the init replica: the last registration rebuilds operator_part from the pending shares */
    const char *id = "00112233445566778899aabbccddeeff";
    CHECK(cc_quorum_session_hold_pending(s, id, shares, 3, master, NULL) == CC_OK);
    cc_quorum_session_hold_pending_kms_part(s, id, kms);
    cc_quorum_session_finish_registration(s, id, 2, 1, 1);
    CHECK(!cc_quorum_session_pending_for(s, id));
    CHECK(cc_quorum_session_parts(s, 1, pk, po, NULL) == CC_OK);
    CHECK(memcmp(pk, kms, 32) == 0 && memcmp(po, op, 32) == 0);
    /* keep = 0 (sealed meanwhile): nothing held */
    CHECK(cc_quorum_session_hold_pending(s, id, shares, 3, master, NULL) == CC_OK);
    cc_quorum_session_hold_pending_kms_part(s, id, kms);
    cc_quorum_session_finish_registration(s, id, 2, 1, 0);
    CHECK(cc_quorum_session_parts(s, 1, pk, po, &e) == CC_EUNAVAILABLE);
    /* pending secrets that do not derive the pending master: nothing held */
    CHECK(cc_quorum_session_hold_pending(s, id, shares, 3, master, NULL) == CC_OK);
    cc_quorum_session_hold_pending_kms_part(s, id, wrong);
    cc_quorum_session_finish_registration(s, id, 2, 1, 1);
    CHECK(cc_quorum_session_parts(s, 1, pk, po, &e) == CC_EUNAVAILABLE);
    cc_quorum_session_free(s);
}

int main(void)
{
    RUN(argon2id_reference_vector);
    RUN(argon2id_parameters_honoured);
    RUN(stored_parameters_are_the_ones_used);
    RUN(passphrase_round_trip_and_wrong_refused);
    RUN(yubikey_kdf_software_hmac_sha1);
    RUN(registration_tokens);
    RUN(neither_part_alone_gives_the_master);
    RUN(session_threshold_wrong_and_window);
    RUN(pending_registration_held_in_session);
    RUN(parts_held_while_unsealed);
    TEST_MAIN_END();
}
