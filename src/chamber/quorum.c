/*
 * quorum.c — operator-quorum crypto, registration tokens and item attributes
 * (quorum.h).  Every primitive comes from a library: HKDF, HMAC, SHA-256 and
 * AES-256-GCM from OpenSSL 3, Argon2id from libargon2 (which wipes its
 * working memory before freeing it).
 */
#include "chamber/quorum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "aws/base64.h"
#include "util/hex.h"
#include "util/secret.h"

#define MASTER_INFO "cc-master-v1"
#define KMS_CHECK_LABEL "cc-kms-part-check-v1"
#define YUBIKEY_INFO "cc-operator-yubikey-v1"
#define SHARE_AD_LABEL "cc-operator-share-v1"
#define TOKEN_LABEL "cc-registration-token-v1"

const char *cc_quorum_kind_name(cc_quorum_kind k)
{
    switch (k) {
    case CC_QUORUM_KIND_PASSPHRASE: return "passphrase";
    case CC_QUORUM_KIND_YUBIKEY: return "yubikey";
    case CC_QUORUM_KIND_NONE: break;
    }
    return "none";
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

cc_status cc_quorum_kdf_check(const cc_quorum_kdf *kdf, cc_error *err)
{
    if (kdf->t < CC_QUORUM_T_MIN || kdf->t > CC_QUORUM_T_MAX)
        return cc_error_set(err, CC_EINVAL, "argon2.iterations: %u is not between %d and %d", (unsigned)kdf->t,
                            CC_QUORUM_T_MIN, CC_QUORUM_T_MAX);
    if (kdf->m_kib < CC_QUORUM_M_MIN || kdf->m_kib > CC_QUORUM_M_MAX)
        return cc_error_set(err, CC_EINVAL, "argon2.memory_kib: %u is not between %u and %u", (unsigned)kdf->m_kib,
                            CC_QUORUM_M_MIN, CC_QUORUM_M_MAX);
    if (kdf->p < CC_QUORUM_P_MIN || kdf->p > CC_QUORUM_P_MAX)
        return cc_error_set(err, CC_EINVAL, "argon2.parallelism: %u is not between %d and %d", (unsigned)kdf->p,
                            CC_QUORUM_P_MIN, CC_QUORUM_P_MAX);
    return CC_OK;
}

cc_status cc_quorum_name_check(const char *name, cc_error *err)
{
    size_t n = name ? strlen(name) : 0;
    int ok = n >= 1 && n <= CC_QUORUM_NAME_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '_' ||
             name[i] == '-' || name[i] == '.';
    if (!ok)
        return cc_error_set(err, CC_EINVAL, "operator name '%.40s': expected 1 to %d of [a-z0-9_.-]", name ? name : "",
                            CC_QUORUM_NAME_MAX);
    return CC_OK;
}

/* HKDF-SHA256 (extract and expand) of ikm into out (32 bytes). */
static cc_status hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len, const uint8_t *info,
                      size_t info_len, uint8_t out[32], cc_error *err)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (!ctx)
        return cc_error_set(err, CC_ECRYPTO, "HKDF-SHA256 is not available");
    OSSL_PARAM params[5], *p = params;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
    if (salt_len)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    *p = OSSL_PARAM_construct_end();
    int ok = EVP_KDF_derive(ctx, out, 32, params) == 1;
    EVP_KDF_CTX_free(ctx);
    return ok ? CC_OK : cc_error_set(err, CC_ECRYPTO, "HKDF-SHA256 failed");
}

cc_status cc_quorum_derive_master(const uint8_t kms_part[CC_QUORUM_PART_LEN],
                                  const uint8_t operator_part[CC_QUORUM_PART_LEN], uint32_t version,
                                  uint8_t master[CC_QUORUM_PART_LEN], cc_error *err)
{
    uint8_t *ikm = cc_secret_alloc(2 * CC_QUORUM_PART_LEN);
    if (!ikm)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    memcpy(ikm, kms_part, CC_QUORUM_PART_LEN);
    memcpy(ikm + CC_QUORUM_PART_LEN, operator_part, CC_QUORUM_PART_LEN);
    uint8_t info[sizeof MASTER_INFO - 1 + 4];
    memcpy(info, MASTER_INFO, sizeof MASTER_INFO - 1);
    be32(info + sizeof MASTER_INFO - 1, version);
    cc_status st = hkdf(ikm, 2 * CC_QUORUM_PART_LEN, NULL, 0, info, sizeof info, master, err);
    cc_secret_free(ikm, 2 * CC_QUORUM_PART_LEN);
    return st;
}

cc_status cc_quorum_kms_check(const uint8_t kms_part[CC_QUORUM_PART_LEN], uint32_t version,
                              uint8_t check[CC_QUORUM_HASH_LEN], cc_error *err)
{
    uint8_t msg[sizeof KMS_CHECK_LABEL - 1 + 4];
    memcpy(msg, KMS_CHECK_LABEL, sizeof KMS_CHECK_LABEL - 1);
    be32(msg + sizeof KMS_CHECK_LABEL - 1, version);
    unsigned int n = 0;
    if (!HMAC(EVP_sha256(), kms_part, CC_QUORUM_PART_LEN, msg, sizeof msg, check, &n) || n != CC_QUORUM_HASH_LEN)
        return cc_error_set(err, CC_ECRYPTO, "kms part: HMAC-SHA256 failed");
    return CC_OK;
}

cc_status cc_quorum_kms_verify(const uint8_t kms_part[CC_QUORUM_PART_LEN], uint32_t version,
                               const uint8_t check[CC_QUORUM_HASH_LEN], cc_error *err)
{
    uint8_t have[CC_QUORUM_HASH_LEN];
    cc_status st = cc_quorum_kms_check(kms_part, version, have, err);
    if (st != CC_OK)
        return st;
    int ok = cc_ct_equal(have, check, sizeof have);
    cc_secret_wipe(have, sizeof have);
    return ok ? CC_OK
              : cc_error_set(err, CC_ECRYPTO, "kms part: the rebuilt part does not match its check (version %u)",
                             (unsigned)version);
}

cc_status cc_quorum_passphrase_key(const uint8_t *passphrase, size_t len, const uint8_t salt[CC_QUORUM_SALT_LEN],
                                   const cc_quorum_kdf *kdf, uint8_t key[32], cc_error *err)
{
    cc_status st = cc_quorum_kdf_check(kdf, err);
    if (st != CC_OK)
        return st;
    int rc = argon2id_hash_raw(kdf->t, kdf->m_kib, kdf->p, passphrase, len, salt, CC_QUORUM_SALT_LEN, key, 32);
    if (rc != ARGON2_OK)
        return cc_error_set(err, rc == ARGON2_MEMORY_ALLOCATION_ERROR ? CC_ENOMEM : CC_ECRYPTO, "argon2id: %s",
                            argon2_error_message(rc));
    return CC_OK;
}

cc_status cc_quorum_yubikey_key(const uint8_t response[CC_QUORUM_YUBIKEY_RESPONSE_LEN],
                                const uint8_t challenge[CC_QUORUM_CHALLENGE_LEN], uint8_t key[32], cc_error *err)
{
    return hkdf(response, CC_QUORUM_YUBIKEY_RESPONSE_LEN, challenge, CC_QUORUM_CHALLENGE_LEN,
                (const uint8_t *)YUBIKEY_INFO, sizeof YUBIKEY_INFO - 1, key, err);
}

/* "cc-operator-share-v1" 0 name 0 kind index version: at most 20+1+32+1+1+1+4 bytes. */
static size_t share_ad(const cc_quorum_operator *op, cc_quorum_kind kind, uint32_t version, uint8_t *ad)
{
    size_t n = 0, nl = strlen(op->name);
    memcpy(ad, SHARE_AD_LABEL, sizeof SHARE_AD_LABEL - 1);
    n += sizeof SHARE_AD_LABEL - 1;
    ad[n++] = 0;
    memcpy(ad + n, op->name, nl);
    n += nl;
    ad[n++] = 0;
    ad[n++] = (uint8_t)kind;
    ad[n++] = op->index;
    be32(ad + n, version);
    return n + 4;
}

/* The credential's key for op (kind, salt/kdf or challenge as stored in op). */
static cc_status credential_key(const cc_quorum_operator *op, cc_quorum_kind kind, const uint8_t *secret, size_t len,
                                uint8_t key[32], cc_error *err)
{
    if (kind == CC_QUORUM_KIND_PASSPHRASE) {
        if (len < CC_QUORUM_PASSPHRASE_MIN || len > CC_QUORUM_PASSPHRASE_MAX)
            return cc_error_set(err, CC_EINVAL, "passphrase: must be %d to %d bytes", CC_QUORUM_PASSPHRASE_MIN,
                                CC_QUORUM_PASSPHRASE_MAX);
        return cc_quorum_passphrase_key(secret, len, op->salt, &op->kdf, key, err);
    }
    if (kind == CC_QUORUM_KIND_YUBIKEY) {
        if (len != CC_QUORUM_YUBIKEY_RESPONSE_LEN)
            return cc_error_set(err, CC_EINVAL, "yubikey_response: must be %d bytes (40 hex digits), not %zu",
                                CC_QUORUM_YUBIKEY_RESPONSE_LEN, len);
        return cc_quorum_yubikey_key(secret, op->challenge, key, err);
    }
    return cc_error_set(err, CC_EINVAL, "operator %s: not registered", op->name);
}

static cc_status gcm(int enc, const uint8_t key[32], const uint8_t nonce[CC_QUORUM_NONCE_LEN], const uint8_t *ad,
                     size_t ad_len, const uint8_t *in, uint8_t *out, uint8_t tag[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
                    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, CC_QUORUM_NONCE_LEN, NULL) == 1 &&
                    EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) == 1 &&
                    EVP_CipherUpdate(c, NULL, &n, ad, (int)ad_len) == 1 &&
                    EVP_CipherUpdate(c, out, &n, in, CC_QUORUM_PART_LEN) == 1 && n == CC_QUORUM_PART_LEN;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
    ok = ok && EVP_CipherFinal_ex(c, out + n, &n) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? CC_OK : CC_ECRYPTO;
}

cc_status cc_quorum_register(cc_quorum_operator *op, uint32_t version, cc_quorum_kind kind, const cc_quorum_kdf *kdf,
                             const uint8_t *secret, size_t len, const uint8_t share[CC_QUORUM_PART_LEN],
                             cc_error *err)
{
    if (kind != CC_QUORUM_KIND_PASSPHRASE && kind != CC_QUORUM_KIND_YUBIKEY)
        return cc_error_set(err, CC_EINVAL, "operator %s: unknown credential kind", op->name);
    cc_quorum_operator next = *op;
    if (kind == CC_QUORUM_KIND_PASSPHRASE) {
        next.kdf = *kdf;
        if (RAND_bytes(next.salt, sizeof next.salt) != 1)
            return cc_error_set(err, CC_ECRYPTO, "the random generator failed");
    }
    if (RAND_bytes(next.nonce, sizeof next.nonce) != 1)
        return cc_error_set(err, CC_ECRYPTO, "the random generator failed");
    uint8_t *key = cc_secret_alloc(32);
    if (!key)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cc_status st = credential_key(&next, kind, secret, len, key, err);
    if (st == CC_OK) {
        uint8_t ad[80];
        size_t ad_len = share_ad(&next, kind, version, ad);
        if (gcm(1, key, next.nonce, ad, ad_len, share, next.sealed, next.sealed + CC_QUORUM_PART_LEN) != CC_OK)
            st = cc_error_set(err, CC_ECRYPTO, "operator %s: AES-256-GCM failed", op->name);
    }
    cc_secret_free(key, 32);
    if (st != CC_OK)
        return st;
    next.kind = kind;
    next.registered = 1;
    *op = next;
    return CC_OK;
}

cc_status cc_quorum_unlock(const cc_quorum_operator *op, uint32_t version, const uint8_t *secret, size_t len,
                           uint8_t share[CC_QUORUM_PART_LEN], cc_error *err)
{
    if (!op->registered)
        return cc_error_set(err, CC_ECONFLICT, "operator %s: not registered", op->name);
    uint8_t *key = cc_secret_alloc(32);
    if (!key)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cc_status st = credential_key(op, op->kind, secret, len, key, err);
    if (st == CC_OK) {
        uint8_t ad[80], tag[16];
        size_t ad_len = share_ad(op, op->kind, version, ad);
        memcpy(tag, op->sealed + CC_QUORUM_PART_LEN, sizeof tag);
        if (gcm(0, key, op->nonce, ad, ad_len, op->sealed, share, tag) != CC_OK) {
            cc_secret_wipe(share, CC_QUORUM_PART_LEN);
            st = cc_error_set(err, CC_EFORBIDDEN, "operator %s: wrong %s (the share does not decrypt)", op->name,
                              op->kind == CC_QUORUM_KIND_YUBIKEY ? "yubikey response" : "passphrase");
        }
    }
    cc_secret_free(key, 32);
    return st;
}

static void token_hash(const char *token, size_t len, uint8_t out[CC_QUORUM_HASH_LEN])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int n = 0;
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(c, TOKEN_LABEL, sizeof TOKEN_LABEL - 1) == 1 && EVP_DigestUpdate(c, token, len) == 1 &&
             EVP_DigestFinal_ex(c, out, &n) == 1;
    EVP_MD_CTX_free(c);
    if (!ok) /* cannot match any stored hash: the token is then simply unknown */
        memset(out, 0xff, CC_QUORUM_HASH_LEN);
}

cc_status cc_quorum_setup(cc_quorum_record *q, const char *const *names, size_t k, unsigned threshold,
                          const cc_quorum_kdf *kdf, const uint8_t kms_part[CC_QUORUM_PART_LEN], uint32_t version,
                          char *tokens, cc_error *err)
{
    memset(q, 0, sizeof *q);
    if (k < 1 || k > CC_QUORUM_MAX_OPERATORS)
        return cc_error_set(err, CC_EINVAL, "operators: need 1 to %d operators, not %zu", CC_QUORUM_MAX_OPERATORS, k);
    if (threshold < 1 || threshold > k)
        return cc_error_set(err, CC_EINVAL, "operator_threshold: %u is not between 1 and the number of operators (%zu)",
                            threshold, k);
    cc_status st = cc_quorum_kdf_check(kdf, err);
    if (st != CC_OK)
        return st;
    for (size_t i = 0; i < k; i++) {
        if ((st = cc_quorum_name_check(names[i], err)) != CC_OK)
            return cc_error_prefix(err, "operators[%zu]", i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return cc_error_set(err, CC_EINVAL, "operators[%zu]: %s is listed twice", i, names[i]);
    }
    uint8_t id[CC_QUORUM_INIT_ID_LEN / 2], rnd[32];
    if (RAND_bytes(id, sizeof id) != 1)
        return cc_error_set(err, CC_ECRYPTO, "the random generator failed");
    cc_hex_encode(id, sizeof id, q->init_id);
    q->init_id[CC_QUORUM_INIT_ID_LEN] = '\0';
    q->threshold = threshold;
    q->count = (unsigned)k;
    q->kdf = *kdf;
    if ((st = cc_quorum_kms_check(kms_part, version, q->kms_check, err)) != CC_OK)
        return st;
    for (size_t i = 0; i < k; i++) {
        cc_quorum_operator *op = &q->ops[i];
        snprintf(op->name, sizeof op->name, "%s", names[i]);
        op->index = (uint8_t)(i + 1);
        op->kdf = *kdf;
        char *tok = tokens + i * (CC_QUORUM_TOKEN_LEN + 1);
        if (RAND_bytes(op->challenge, sizeof op->challenge) != 1 || RAND_priv_bytes(rnd, sizeof rnd) != 1) {
            cc_secret_wipe(rnd, sizeof rnd);
            return cc_error_set(err, CC_ECRYPTO, "the random generator failed");
        }
        memcpy(tok, CC_QUORUM_TOKEN_PREFIX, sizeof CC_QUORUM_TOKEN_PREFIX - 1);
        cc_hex_encode(rnd, sizeof rnd, tok + sizeof CC_QUORUM_TOKEN_PREFIX - 1);
        tok[CC_QUORUM_TOKEN_LEN] = '\0';
        token_hash(tok, CC_QUORUM_TOKEN_LEN, op->token_hash);
    }
    cc_secret_wipe(rnd, sizeof rnd);
    return CC_OK;
}

int cc_quorum_find_token(const cc_quorum_record *q, const char *token)
{
    if (!token || strlen(token) != CC_QUORUM_TOKEN_LEN)
        return -1;
    uint8_t h[CC_QUORUM_HASH_LEN];
    token_hash(token, CC_QUORUM_TOKEN_LEN, h);
    int found = -1;
    for (unsigned i = 0; i < q->count; i++) /* every hash is compared: no early exit */
        if (cc_ct_equal(h, q->ops[i].token_hash, sizeof h) && found < 0)
            found = (int)i;
    return found;
}

int cc_quorum_find_operator(const cc_quorum_record *q, const char *name)
{
    for (unsigned i = 0; name && i < q->count; i++)
        if (strcmp(q->ops[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* ---------------------------------------------------------------- item attributes */

static json_t *b_attr(const uint8_t *data, size_t len)
{
    char *s = NULL;
    size_t cap = 0;
    if (cc_aws_b64_encode(data, len, 0, &s, &cap, NULL) != CC_OK)
        return NULL;
    json_t *v = json_pack("{s:s}", "B", s);
    free(s);
    return v;
}

static json_t *n_attr(unsigned v)
{
    char b[16];
    snprintf(b, sizeof b, "%u", v);
    return json_pack("{s:s}", "N", b);
}

/* Sets name to value (stolen); returns 0 when value is NULL or cannot be set. */
static int put(json_t *obj, const char *name, json_t *value)
{
    return value && json_object_set_new(obj, name, value) == 0;
}

cc_status cc_quorum_to_item(const cc_quorum_record *q, json_t *item, cc_error *err)
{
    json_t *ops = json_array();
    int ok = ops && put(item, "q_init_id", json_pack("{s:s}", "S", q->init_id)) &&
             put(item, "q_revision", n_attr(q->revision)) &&
             put(item, "q_complete", json_pack("{s:b}", "BOOL", q->complete)) &&
             put(item, "q_threshold", n_attr(q->threshold)) && put(item, "q_argon2_t", n_attr(q->kdf.t)) &&
             put(item, "q_argon2_m_kib", n_attr(q->kdf.m_kib)) && put(item, "q_argon2_p", n_attr(q->kdf.p)) &&
             put(item, "q_kms_check", b_attr(q->kms_check, sizeof q->kms_check));
    for (unsigned i = 0; ok && i < q->count; i++) {
        const cc_quorum_operator *op = &q->ops[i];
        json_t *m = json_object();
        ok = m && put(m, "name", json_pack("{s:s}", "S", op->name)) && put(m, "index", n_attr(op->index)) &&
             put(m, "registered", json_pack("{s:b}", "BOOL", op->registered)) &&
             put(m, "kind", json_pack("{s:s}", "S", cc_quorum_kind_name(op->kind))) &&
             put(m, "token_hash", b_attr(op->token_hash, sizeof op->token_hash)) &&
             put(m, "challenge", b_attr(op->challenge, sizeof op->challenge));
        if (ok && op->registered)
            ok = put(m, "nonce", b_attr(op->nonce, sizeof op->nonce)) &&
                 put(m, "sealed", b_attr(op->sealed, sizeof op->sealed));
        if (ok && op->registered && op->kind == CC_QUORUM_KIND_PASSPHRASE) /* the Argon2id input, as used */
            ok = put(m, "argon2_t", n_attr(op->kdf.t)) && put(m, "argon2_m_kib", n_attr(op->kdf.m_kib)) &&
                 put(m, "argon2_p", n_attr(op->kdf.p)) && put(m, "salt", b_attr(op->salt, sizeof op->salt));
        ok = ok && json_array_append_new(ops, json_pack("{s:o}", "M", m)) == 0;
        if (!ok)
            json_decref(m);
    }
    ok = ok && put(item, "q_operators", json_pack("{s:O}", "L", ops));
    json_decref(ops);
    return ok ? CC_OK : cc_error_set(err, CC_ENOMEM, "signer state: out of memory encoding the quorum attributes");
}

static const char *attr(json_t *obj, const char *name, const char *type)
{
    return json_string_value(json_object_get(json_object_get(obj, name), type));
}

static cc_status get_u32(json_t *obj, const char *name, uint32_t lo, uint32_t hi, uint32_t *out, cc_error *err)
{
    const char *s = attr(obj, name, "N");
    char *end = NULL;
    unsigned long long x = s ? strtoull(s, &end, 10) : 0;
    if (!s || !*s || *end || x < lo || x > hi)
        return cc_error_set(err, CC_EINVAL, "signer state item: attribute %s is missing or not a number in %u..%u",
                            name, (unsigned)lo, (unsigned)hi);
    *out = (uint32_t)x;
    return CC_OK;
}

static cc_status get_bool(json_t *obj, const char *name, int *out, cc_error *err)
{
    json_t *v = json_object_get(json_object_get(obj, name), "BOOL");
    if (!json_is_boolean(v))
        return cc_error_set(err, CC_EINVAL, "signer state item: attribute %s is missing or not a boolean", name);
    *out = json_is_true(v);
    return CC_OK;
}

static cc_status get_fixed(json_t *obj, const char *name, uint8_t *out, size_t want, cc_error *err)
{
    const char *s = attr(obj, name, "B");
    uint8_t *d = NULL;
    size_t len = 0, cap = 0;
    if (!s || cc_aws_b64_decode(s, strlen(s), 0, name, &d, &len, &cap, NULL) != CC_OK || len != want) {
        free(d);
        return cc_error_set(err, CC_EINVAL, "signer state item: attribute %s is missing or not %zu bytes", name, want);
    }
    memcpy(out, d, want);
    free(d);
    return CC_OK;
}

cc_status cc_quorum_from_item(json_t *item, cc_quorum_record *q, cc_error *err)
{
    memset(q, 0, sizeof *q);
    const char *id = attr(item, "q_init_id", "S");
    if (!id || strlen(id) != CC_QUORUM_INIT_ID_LEN)
        return cc_error_set(err, CC_EINVAL, "signer state item: attribute q_init_id is missing or malformed");
    memcpy(q->init_id, id, CC_QUORUM_INIT_ID_LEN + 1);
    uint32_t thr = 0;
    cc_status st;
    if ((st = get_u32(item, "q_revision", 0, UINT32_MAX, &q->revision, err)) != CC_OK ||
        (st = get_bool(item, "q_complete", &q->complete, err)) != CC_OK ||
        (st = get_u32(item, "q_threshold", 1, CC_QUORUM_MAX_OPERATORS, &thr, err)) != CC_OK ||
        (st = get_u32(item, "q_argon2_t", CC_QUORUM_T_MIN, CC_QUORUM_T_MAX, &q->kdf.t, err)) != CC_OK ||
        (st = get_u32(item, "q_argon2_m_kib", CC_QUORUM_M_MIN, CC_QUORUM_M_MAX, &q->kdf.m_kib, err)) != CC_OK ||
        (st = get_u32(item, "q_argon2_p", CC_QUORUM_P_MIN, CC_QUORUM_P_MAX, &q->kdf.p, err)) != CC_OK ||
        (st = get_fixed(item, "q_kms_check", q->kms_check, sizeof q->kms_check, err)) != CC_OK)
        return st;
    q->threshold = thr;
    json_t *list = json_object_get(json_object_get(item, "q_operators"), "L");
    size_t n = json_array_size(list);
    if (!json_is_array(list) || n < q->threshold || n > CC_QUORUM_MAX_OPERATORS)
        return cc_error_set(err, CC_EINVAL, "signer state item: q_operators must list %u to %d operators, not %zu",
                            q->threshold, CC_QUORUM_MAX_OPERATORS, n);
    unsigned registered = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_object_get(json_array_get(list, i), "M");
        cc_quorum_operator *op = &q->ops[i];
        const char *name = attr(m, "name", "S"), *kind = attr(m, "kind", "S");
        uint32_t idx = 0;
        if ((st = cc_quorum_name_check(name, err)) != CC_OK ||
            (st = get_u32(m, "index", 1, CC_QUORUM_MAX_OPERATORS, &idx, err)) != CC_OK ||
            (st = get_bool(m, "registered", &op->registered, err)) != CC_OK ||
            (st = get_fixed(m, "token_hash", op->token_hash, sizeof op->token_hash, err)) != CC_OK ||
            (st = get_fixed(m, "challenge", op->challenge, sizeof op->challenge, err)) != CC_OK)
            return cc_error_prefix(err, "q_operators[%zu]", i);
        for (size_t j = 0; j < i; j++)
            if (q->ops[j].index == idx || strcmp(q->ops[j].name, name) == 0)
                return cc_error_set(err, CC_EINVAL, "signer state item: q_operators[%zu] repeats a name or index", i);
        snprintf(op->name, sizeof op->name, "%s", name);
        op->index = (uint8_t)idx;
        op->kind = kind && strcmp(kind, "passphrase") == 0 ? CC_QUORUM_KIND_PASSPHRASE
                   : kind && strcmp(kind, "yubikey") == 0  ? CC_QUORUM_KIND_YUBIKEY
                                                           : CC_QUORUM_KIND_NONE;
        op->kdf = q->kdf; /* what a passphrase registration will use */
        if (op->registered) {
            registered++;
            if (op->kind == CC_QUORUM_KIND_NONE)
                return cc_error_set(err, CC_EINVAL, "signer state item: q_operators[%zu].kind is not passphrase or yubikey",
                                    i);
            if ((st = get_fixed(m, "nonce", op->nonce, sizeof op->nonce, err)) != CC_OK ||
                (st = get_fixed(m, "sealed", op->sealed, sizeof op->sealed, err)) != CC_OK)
                return cc_error_prefix(err, "q_operators[%zu]", i);
        }
        if (op->registered && op->kind == CC_QUORUM_KIND_PASSPHRASE &&
            ((st = get_u32(m, "argon2_t", CC_QUORUM_T_MIN, CC_QUORUM_T_MAX, &op->kdf.t, err)) != CC_OK ||
             (st = get_u32(m, "argon2_m_kib", CC_QUORUM_M_MIN, CC_QUORUM_M_MAX, &op->kdf.m_kib, err)) != CC_OK ||
             (st = get_u32(m, "argon2_p", CC_QUORUM_P_MIN, CC_QUORUM_P_MAX, &op->kdf.p, err)) != CC_OK ||
             (st = get_fixed(m, "salt", op->salt, sizeof op->salt, err)) != CC_OK))
            return cc_error_prefix(err, "q_operators[%zu]", i);
        q->count = (unsigned)i + 1;
    }
    if (q->complete && registered != q->count)
        return cc_error_set(err, CC_EINVAL, "signer state item: q_complete is true but only %u of %u operators are "
                            "registered", registered, q->count);
    return CC_OK;
}

void cc_quorum_status(const cc_quorum_record *q, json_t *status)
{
    json_t *ops = json_array();
    for (unsigned i = 0; ops && i < q->count; i++) {
        const cc_quorum_operator *op = &q->ops[i];
        char ch[2 * CC_QUORUM_CHALLENGE_LEN + 1];
        cc_hex_encode(op->challenge, sizeof op->challenge, ch);
        ch[sizeof ch - 1] = '\0';
        json_t *o = json_pack("{s:s, s:i, s:s, s:b, s:s}", "name", op->name, "index", op->index, "kind",
                              cc_quorum_kind_name(op->kind), "registered", op->registered, "yubikey_challenge", ch);
        if (o && op->registered && op->kind == CC_QUORUM_KIND_PASSPHRASE)
            json_object_set_new(o, "argon2", json_pack("{s:i, s:i, s:i}", "iterations", (int)op->kdf.t, "memory_kib",
                                                       (int)op->kdf.m_kib, "parallelism", (int)op->kdf.p));
        json_array_append_new(ops, o);
    }
    json_object_set_new(status, "operator_threshold", json_integer(q->threshold));
    json_object_set_new(status, "operators", ops ? ops : json_array());
    json_object_set_new(status, "registration_complete", json_boolean(q->complete));
}
