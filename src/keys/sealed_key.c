/*
 * sealed_key.c — AES-256-GCM sealing of BLS secret keys for the DynamoDB key table.
 *
 * Start-up and refresh open every active key, so open is the hot path: one
 * GCM decryption (microseconds) and one sk→pk (about 0.1 ms, the dominant
 * cost), no allocation beyond one small secret buffer for the scalar.
 *
 * The nonce is 96 random bits per seal.  Keys are sealed once (generation,
 * import, rotation), so even millions of seals under one master key stay far
 * below the 2^32 random-nonce bound for GCM.
 */
#include "keys/sealed_key.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "signing/bls.h"
#include "util/hex.h"
#include "util/secret.h"

#define AD_LABEL "cc-key-v1"
#define AD_LEN (sizeof AD_LABEL - 1 + 48 + 4)
#define NONCE_LEN 12
#define SK_LEN 32
#define TAG_LEN 16
#define OFF_NONCE 1
#define OFF_CT (OFF_NONCE + NONCE_LEN)
#define OFF_TAG (OFF_CT + SK_LEN)

_Static_assert(OFF_TAG + TAG_LEN == CC_SEALED_KEY_LEN, "blob layout");

static void build_ad(uint8_t ad[AD_LEN], const uint8_t pubkey48[48], uint32_t version)
{
    memcpy(ad, AD_LABEL, sizeof AD_LABEL - 1);
    memcpy(ad + sizeof AD_LABEL - 1, pubkey48, 48);
    uint8_t *v = ad + sizeof AD_LABEL - 1 + 48;
    v[0] = (uint8_t)(version >> 24);
    v[1] = (uint8_t)(version >> 16);
    v[2] = (uint8_t)(version >> 8);
    v[3] = (uint8_t)version;
}

/* The pubkey as 0x-hex, for messages. */
static void pk_hex(const uint8_t pubkey48[48], char out[2 + 96 + 1]) { cc_hex_encode0x(pubkey48, 48, out); }

cc_status cc_sealed_key_seal(const uint8_t master32[32], uint32_t version, const uint8_t pubkey48[48],
                             const uint8_t sk_be32[32], uint8_t out[CC_SEALED_KEY_LEN], size_t *out_len,
                             cc_error *err)
{
    char pk[2 + 96 + 1];
    pk_hex(pubkey48, pk);
    uint8_t ad[AD_LEN];
    build_ad(ad, pubkey48, version);
    out[0] = CC_SEALED_KEY_FORMAT;
    if (RAND_bytes(out + OFF_NONCE, NONCE_LEN) != 1)
        return cc_error_set(err, CC_ECRYPTO, "sealed key %s: the random generator failed", pk);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, n2 = 0;
    int ok = c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
             EVP_EncryptInit_ex(c, NULL, NULL, master32, out + OFF_NONCE) == 1 &&
             EVP_EncryptUpdate(c, NULL, &n, ad, (int)AD_LEN) == 1 &&
             EVP_EncryptUpdate(c, out + OFF_CT, &n, sk_be32, SK_LEN) == 1 && n == SK_LEN &&
             EVP_EncryptFinal_ex(c, out + OFF_CT + n, &n2) == 1 && n2 == 0 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, out + OFF_TAG) == 1;
    EVP_CIPHER_CTX_free(c); /* cleanses the key schedule */
    if (!ok) {
        memset(out, 0, CC_SEALED_KEY_LEN);
        return cc_error_set(err, CC_ECRYPTO, "sealed key %s: AES-256-GCM encryption failed", pk);
    }
    *out_len = CC_SEALED_KEY_LEN;
    return CC_OK;
}

cc_status cc_sealed_key_open(const uint8_t master32[32], uint32_t version, const uint8_t pubkey48[48],
                             const uint8_t *blob, size_t len, uint8_t sk_out[32], cc_error *err)
{
    char pk[2 + 96 + 1];
    pk_hex(pubkey48, pk);
    memset(sk_out, 0, SK_LEN);
    if (!blob || len != CC_SEALED_KEY_LEN)
        return cc_error_set(err, CC_ECRYPTO, "sealed key %s: blob is %zu bytes, expected %d", pk, blob ? len : 0,
                            CC_SEALED_KEY_LEN);
    if (blob[0] != CC_SEALED_KEY_FORMAT)
        return cc_error_set(err, CC_ECRYPTO, "sealed key %s: unknown format 0x%02x", pk, blob[0]);

    uint8_t ad[AD_LEN], tag[TAG_LEN];
    build_ad(ad, pubkey48, version);
    memcpy(tag, blob + OFF_TAG, TAG_LEN);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, n2 = 0;
    int ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
             EVP_DecryptInit_ex(c, NULL, NULL, master32, blob + OFF_NONCE) == 1 &&
             EVP_DecryptUpdate(c, NULL, &n, ad, (int)AD_LEN) == 1 &&
             EVP_DecryptUpdate(c, sk_out, &n, blob + OFF_CT, SK_LEN) == 1 && n == SK_LEN &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1 &&
             EVP_DecryptFinal_ex(c, sk_out + n, &n2) == 1 && n2 == 0;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        cc_secret_wipe(sk_out, SK_LEN);
        return cc_error_set(err, CC_ECRYPTO,
                            "sealed key %s: does not open (wrong master key or version, or a changed ciphertext)",
                            pk);
    }

    /* Authenticated, but only as a blob: check the secret really is this pubkey's. */
    cc_bls_sk *sk = cc_secret_alloc(sizeof *sk);
    if (!sk) {
        cc_secret_wipe(sk_out, SK_LEN);
        return cc_error_set(err, CC_ENOMEM, "sealed key %s: out of memory", pk);
    }
    uint8_t derived[CC_BLS_PUBKEY_LEN];
    cc_status st = CC_OK;
    if (cc_bls_sk_from_bytes(sk, sk_out, NULL) != CC_OK)
        st = cc_error_set(err, CC_ECRYPTO, "sealed key %s: secret is not a valid BLS scalar", pk);
    else {
        cc_bls_sk_to_pk(sk, derived);
        if (!cc_ct_equal(derived, pubkey48, CC_BLS_PUBKEY_LEN))
            st = cc_error_set(err, CC_ECRYPTO, "sealed key %s: secret does not match the public key", pk);
    }
    cc_secret_free(sk, sizeof *sk);
    if (st != CC_OK)
        cc_secret_wipe(sk_out, SK_LEN);
    return st;
}
