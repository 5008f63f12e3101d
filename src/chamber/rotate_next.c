/*
 * rotate_next.c — `next_wrapped`: the NEW master key of a master-key rotation
 * in flight, wrapped under the CURRENT one (rotate.h; docs/chamber.md
 * "Rotation").
 *
 * Every replica that holds master v can then obtain master v+1 from the
 * pending entry without KMS or operators, check it against the pending
 * `check`, and open keys already re-sealed to v+1.  That is what lets the
 * other replicas keep signing during `rotate mode --to quorum` (a quorum
 * master cannot be rebuilt with KMS alone), and it spares every follower a
 * KMS round for the other rotations.  It is no weaker than the rotation
 * itself: master v protects every key until the promotion anyway, and the
 * promotion removes the pending entry (and next_wrapped with it).
 *
 *   key  = HKDF-SHA256(ikm = master v, info = "cc-next-master-v1" ‖ be32(v) ‖ be32(v+1))
 *   blob = nonce (12 random bytes) ‖ AES-256-GCM(key, nonce, ad, master v+1) ‖ tag (16)
 *   ad   = "cc-next-master-v1" ‖ 0 ‖ be32(v) ‖ be32(v+1) ‖ to_mode ("kms" | "quorum")
 *
 * Primitives from OpenSSL only (EVP_KDF HKDF, EVP_aes_256_gcm, RAND_bytes).
 */
#include "chamber/rotate.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "util/secret.h"

#define NEXT_LABEL "cc-next-master-v1"
#define NEXT_MODE_MAX 15

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The wrapping key of (from, to) under current (cc_secret memory of the caller). */
static cc_status next_key(const uint8_t current[32], uint32_t from, uint32_t to, uint8_t key[32], cc_error *err)
{
    uint8_t info[sizeof NEXT_LABEL - 1 + 8];
    memcpy(info, NEXT_LABEL, sizeof NEXT_LABEL - 1);
    be32(info + sizeof NEXT_LABEL - 1, from);
    be32(info + sizeof NEXT_LABEL - 1 + 4, to);
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (!ctx)
        return cc_error_set(err, CC_ECRYPTO, "next_wrapped: HKDF-SHA256 is not available");
    OSSL_PARAM params[4];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)current, 32);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof info);
    params[3] = OSSL_PARAM_construct_end();
    int ok = EVP_KDF_derive(ctx, key, 32, params) == 1;
    EVP_KDF_CTX_free(ctx);
    return ok ? CC_OK : cc_error_set(err, CC_ECRYPTO, "next_wrapped: HKDF-SHA256 failed");
}

static cc_status next_ad(uint32_t from, uint32_t to, const char *to_mode, uint8_t *ad, size_t *len, cc_error *err)
{
    size_t m = to_mode ? strlen(to_mode) : 0;
    if (to != from + 1 || from == 0 || m == 0 || m > NEXT_MODE_MAX)
        return cc_error_set(err, CC_EINVAL, "next_wrapped: versions %u → %u / mode \"%.16s\" are not a rotation step",
                            (unsigned)from, (unsigned)to, to_mode ? to_mode : "");
    size_t n = 0;
    memcpy(ad, NEXT_LABEL, sizeof NEXT_LABEL); /* with its NUL: the separator */
    n += sizeof NEXT_LABEL;
    be32(ad + n, from);
    be32(ad + n + 4, to);
    n += 8;
    memcpy(ad + n, to_mode, m);
    *len = n + m;
    return CC_OK;
}

#define NEXT_AD_MAX (sizeof NEXT_LABEL + 8 + NEXT_MODE_MAX)

/* The associated data and the wrapping key (in secret memory, *key) of one (from, to, to_mode). */
static cc_status next_ad_and_key(const uint8_t current[32], uint32_t from, uint32_t to, const char *to_mode,
                                 uint8_t ad[NEXT_AD_MAX], size_t *ad_len, uint8_t **key, cc_error *err)
{
    cc_status st = next_ad(from, to, to_mode, ad, ad_len, err);
    if (st != CC_OK)
        return st;
    if (!(*key = cc_secret_alloc(32)))
        return cc_error_set(err, CC_ENOMEM, "out of secret memory");
    return next_key(current, from, to, *key, err);
}

cc_status cc_rotate_next_wrap(const uint8_t current[32], uint32_t from, uint32_t to, const char *to_mode,
                              const uint8_t next[32], uint8_t out[CC_ROTATE_NEXT_WRAPPED_LEN], cc_error *err)
{
    uint8_t ad[NEXT_AD_MAX];
    size_t ad_len = 0;
    uint8_t *key = NULL;
    cc_status st = next_ad_and_key(current, from, to, to_mode, ad, &ad_len, &key, err);
    if (st != CC_OK)
        goto out;
    if (RAND_bytes(out, 12) != 1) {
        st = cc_error_set(err, CC_ECRYPTO, "next_wrapped: no random nonce");
        goto out;
    }
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, ok = c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
                    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
                    EVP_EncryptInit_ex(c, NULL, NULL, key, out) == 1 &&
                    EVP_EncryptUpdate(c, NULL, &n, ad, (int)ad_len) == 1 &&
                    EVP_EncryptUpdate(c, out + 12, &n, next, 32) == 1 && n == 32 &&
                    EVP_EncryptFinal_ex(c, out + 12 + 32, &n) == 1 &&
                    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + 12 + 32) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok)
        st = cc_error_set(err, CC_ECRYPTO, "next_wrapped: AES-256-GCM failed");
out:
    cc_secret_free(key, 32);
    if (st != CC_OK)
        cc_secret_wipe(out, CC_ROTATE_NEXT_WRAPPED_LEN);
    return st;
}

cc_status cc_rotate_next_unwrap(const uint8_t current[32], uint32_t from, uint32_t to, const char *to_mode,
                                const uint8_t *blob, size_t len, uint8_t next[32], cc_error *err)
{
    if (len != CC_ROTATE_NEXT_WRAPPED_LEN)
        return cc_error_set(err, CC_EINVAL, "next_wrapped: %zu bytes, expected %d", len, CC_ROTATE_NEXT_WRAPPED_LEN);
    uint8_t ad[NEXT_AD_MAX];
    size_t ad_len = 0;
    uint8_t *key = NULL;
    cc_status st = next_ad_and_key(current, from, to, to_mode, ad, &ad_len, &key, err);
    if (st != CC_OK)
        goto out;
    uint8_t tag[16];
    memcpy(tag, blob + 12 + 32, 16);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
                    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
                    EVP_DecryptInit_ex(c, NULL, NULL, key, blob) == 1 &&
                    EVP_DecryptUpdate(c, NULL, &n, ad, (int)ad_len) == 1 &&
                    EVP_DecryptUpdate(c, next, &n, blob + 12, 32) == 1 && n == 32 &&
                    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1 &&
                    EVP_DecryptFinal_ex(c, next + 32, &n) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        cc_secret_wipe(next, 32);
        st = cc_error_set(err, CC_ECRYPTO, "next_wrapped: refused (not wrapped under master-key version %u for "
                          "%u → %u, mode %s, or tampered)", (unsigned)from, (unsigned)from, (unsigned)to, to_mode);
    }
out:
    cc_secret_free(key, 32);
    return st;
}
