/*
 * eip2335.c — EIP-2335 v4 BLS keystores.
 *
 * Decryption is the path every filesystem key takes at start-up:
 *
 *   password ──NFKD, strip controls──▶ scrypt | pbkdf2 ──▶ DK (32 bytes)
 *   checksum = SHA256(DK[16:32] ‖ cipher.message)   (compared in constant time)
 *   secret   = AES-128-CTR(key = DK[0:16], iv).decrypt(cipher.message)
 *
 * The whole keystore is validated before the KDF runs, so a malformed file
 * costs microseconds, not the second (and 256 MiB) a real scrypt takes.  We
 * follow Web3Signer on what is accepted: version 4 or no version at all,
 * only the EIP's modules, dklen 32.
 *
 * Every primitive comes from OpenSSL (EVP_KDF, EVP cipher, EVP digest).  The
 * normalised password, the derived key and the BLS scalar live in secret
 * memory; the decrypted secret is written only to the caller's buffer.
 *
 * Encryption exists for tests and the demo tooling; it writes what the EIP
 * describes, with fresh random salt, iv and a v4 uuid.
 */
#include "keys/eip2335.h"

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>
#include <uninorm.h>

#include "signing/bls.h"
#include "util/hex.h"
#include "util/secret.h"

#define DK_LEN 32
#define IV_LEN 16
#define SALT_MAX 1024
#define CIPHER_MSG_LEN 32

/* scrypt's working set is 128·r·(n+2) + 128·r·p bytes; the EIP's n=2^18, r=8
 * needs 256 MiB, so we allow up to this and pass it as OpenSSL's maxmem. */
#define SCRYPT_MAXMEM ((uint64_t)260 << 20)
/* pbkdf2 iterations above this are refused (64× the EIP) so one hostile
 * keystore cannot stall a loader thread for minutes. */
#define PBKDF2_MAX_ITER ((uint64_t)1 << 24)

#define LIGHT_COST 16384
#define FULL_COST 262144

/* ------------------------------------------------------------------------ */
/* Password normalisation                                                   */

static int is_control(ucs4_t c) { return c <= 0x1F || (c >= 0x7F && c <= 0x9F); }

cc_status cc_eip2335_normalize_password(const char *password, size_t len, uint8_t **out, size_t *out_len,
                                        cc_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (!password && len)
        return cc_error_set(err, CC_EINVAL, "password: missing");
    const uint8_t *in = (const uint8_t *)(password ? password : "");
    if (u8_check(in, len) != NULL)
        return cc_error_set(err, CC_EINVAL, "password: not valid UTF-8");

    /* NFKD rarely grows text by more than 3x; if it does, libunistring
     * returns its own buffer, which we copy and wipe. */
    size_t cap = len * 4 + 16;
    uint8_t *buf = cc_secret_alloc(cap);
    if (!buf)
        return cc_error_set(err, CC_ENOMEM, "password: out of memory");
    size_t n = cap;
    uint8_t *norm = u8_normalize(UNINORM_NFKD, in, len, buf, &n);
    if (!norm) {
        cc_secret_free(buf, cap);
        return cc_error_set(err, CC_EINVAL, "password: NFKD normalisation failed");
    }
    if (norm != buf) {
        cc_secret_free(buf, cap);
        cap = n ? n : 1;
        buf = cc_secret_alloc(cap);
        if (!buf) {
            cc_secret_wipe(norm, n);
            free(norm);
            return cc_error_set(err, CC_ENOMEM, "password: out of memory");
        }
        memcpy(buf, norm, n);
        cc_secret_wipe(norm, n);
        free(norm);
    }

    /* Drop C0, DEL and C1 code points in place (the output only shrinks). */
    size_t r = 0, w = 0;
    while (r < n) {
        ucs4_t c;
        int k = u8_mbtouc(&c, buf + r, n - r);
        if (!is_control(c)) {
            memmove(buf + w, buf + r, (size_t)k);
            w += (size_t)k;
        }
        r += (size_t)k;
    }

    /* Hand back a buffer of exactly the normalised length. */
    uint8_t *res = cc_secret_alloc(w);
    if (!res) {
        cc_secret_free(buf, cap);
        return cc_error_set(err, CC_ENOMEM, "password: out of memory");
    }
    memcpy(res, buf, w);
    cc_secret_free(buf, cap);
    *out = res;
    *out_len = w;
    return CC_OK;
}

/* ------------------------------------------------------------------------ */
/* Primitives (OpenSSL)                                                     */

typedef enum { KDF_SCRYPT, KDF_PBKDF2 } kdf_kind;

typedef struct kdf_params {
    kdf_kind kind;
    uint64_t n;    /* scrypt N, or pbkdf2 c */
    uint32_t r, p; /* scrypt only */
    uint8_t salt[SALT_MAX];
    size_t salt_len;
} kdf_params;

static cc_status derive_key(const kdf_params *kp, const uint8_t *pw, size_t pw_len, uint8_t dk[DK_LEN],
                            cc_error *err)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, kp->kind == KDF_SCRYPT ? "SCRYPT" : "PBKDF2", NULL);
    if (!kdf)
        return cc_error_set(err, CC_ECRYPTO, "crypto.kdf: OpenSSL has no %s",
                            kp->kind == KDF_SCRYPT ? "scrypt" : "pbkdf2");
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (!ctx)
        return cc_error_set(err, CC_ENOMEM, "crypto.kdf: out of memory");

    /* OpenSSL copies the password into its own buffer and cleanses it on free. */
    static const uint8_t empty[1];
    uint64_t n = kp->n, maxmem = SCRYPT_MAXMEM;
    uint32_t r = kp->r, p = kp->p;
    char digest[] = "SHA256";
    OSSL_PARAM params[7];
    size_t i = 0;
    params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)(pw_len ? pw : empty),
                                                    pw_len);
    params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)kp->salt, kp->salt_len);
    if (kp->kind == KDF_SCRYPT) {
        params[i++] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
        params[i++] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
        params[i++] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
        params[i++] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
    } else {
        params[i++] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &n);
        params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    }
    params[i] = OSSL_PARAM_construct_end();

    int ok = EVP_KDF_derive(ctx, dk, DK_LEN, params) == 1;
    EVP_KDF_CTX_free(ctx);
    if (!ok)
        return cc_error_set(err, CC_ECRYPTO, "crypto.kdf: %s derivation failed (out of memory?)",
                            kp->kind == KDF_SCRYPT ? "scrypt" : "pbkdf2");
    return CC_OK;
}

/* SHA256(DK[16:32] ‖ message). */
static cc_status checksum(const uint8_t dk[DK_LEN], const uint8_t *msg, size_t msg_len, uint8_t out[32],
                          cc_error *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int len = 0;
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(md, dk + 16, 16) == 1 && EVP_DigestUpdate(md, msg, msg_len) == 1 &&
             EVP_DigestFinal_ex(md, out, &len) == 1 && len == 32;
    EVP_MD_CTX_free(md);
    return ok ? CC_OK : cc_error_set(err, CC_ECRYPTO, "crypto.checksum: SHA-256 failed");
}

/* AES-128-CTR is its own inverse; key = DK[0:16]. */
static cc_status aes128ctr(const uint8_t dk[DK_LEN], const uint8_t iv[IV_LEN], const uint8_t *in, size_t len,
                           uint8_t *out, cc_error *err)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0;
    int ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, dk, iv) == 1 &&
             EVP_EncryptUpdate(c, out, &n1, in, (int)len) == 1 && EVP_EncryptFinal_ex(c, out + n1, &n2) == 1 &&
             (size_t)(n1 + n2) == len;
    EVP_CIPHER_CTX_free(c); /* cleanses the key schedule */
    return ok ? CC_OK : cc_error_set(err, CC_ECRYPTO, "crypto.cipher: AES-128-CTR failed");
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */

typedef struct keystore {
    kdf_params kdf;
    uint8_t checksum[32];
    uint8_t iv[IV_LEN];
    uint8_t ciphertext[CIPHER_MSG_LEN];
    uint8_t pubkey[CC_BLS_PUBKEY_LEN];
    int has_pubkey;
} keystore;

static cc_status get_object(json_t *parent, const char *key, const char *path, json_t **out, cc_error *err)
{
    json_t *v = json_object_get(parent, key);
    if (!v)
        return cc_error_set(err, CC_EINVAL, "%s: missing", path);
    if (!json_is_object(v))
        return cc_error_set(err, CC_EINVAL, "%s: not an object", path);
    *out = v;
    return CC_OK;
}

static cc_status get_string(json_t *parent, const char *key, const char *path, const char **out, cc_error *err)
{
    json_t *v = json_object_get(parent, key);
    if (!v)
        return cc_error_set(err, CC_EINVAL, "%s: missing", path);
    if (!json_is_string(v))
        return cc_error_set(err, CC_EINVAL, "%s: not a string", path);
    *out = json_string_value(v);
    return CC_OK;
}

static cc_status get_uint(json_t *parent, const char *key, const char *path, uint64_t max, uint64_t *out,
                          cc_error *err)
{
    json_t *v = json_object_get(parent, key);
    if (!v)
        return cc_error_set(err, CC_EINVAL, "%s: missing", path);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return cc_error_set(err, CC_EINVAL, "%s: not a non-negative integer", path);
    if ((uint64_t)json_integer_value(v) > max)
        return cc_error_set(err, CC_EINVAL, "%s: %lld is too large (at most %llu)", path,
                            (long long)json_integer_value(v), (unsigned long long)max);
    *out = (uint64_t)json_integer_value(v);
    return CC_OK;
}

static cc_status get_hex(json_t *parent, const char *key, const char *path, uint8_t *out, size_t len,
                         cc_error *err)
{
    const char *s;
    cc_status st = get_string(parent, key, path, &s, err);
    if (st != CC_OK)
        return st;
    if (cc_hex_decode_exact(s, out, len, err) != CC_OK)
        return cc_error_prefix(err, "%s", path);
    return CC_OK;
}

static cc_status parse_kdf(json_t *crypto, kdf_params *kp, cc_error *err)
{
    json_t *kdf, *params;
    const char *fn;
    uint64_t dklen;
    cc_status st;
    if ((st = get_object(crypto, "kdf", "crypto.kdf", &kdf, err)) != CC_OK ||
        (st = get_string(kdf, "function", "crypto.kdf.function", &fn, err)) != CC_OK)
        return st;
    if (strcmp(fn, "scrypt") == 0)
        kp->kind = KDF_SCRYPT;
    else if (strcmp(fn, "pbkdf2") == 0)
        kp->kind = KDF_PBKDF2;
    else
        return cc_error_set(err, CC_EINVAL, "crypto.kdf.function: unsupported \"%.64s\" (scrypt or pbkdf2)", fn);
    if ((st = get_object(kdf, "params", "crypto.kdf.params", &params, err)) != CC_OK ||
        (st = get_uint(params, "dklen", "crypto.kdf.params.dklen", UINT32_MAX, &dklen, err)) != CC_OK)
        return st;
    if (dklen != DK_LEN)
        return cc_error_set(err, CC_EINVAL, "crypto.kdf.params.dklen: %llu is not supported (must be 32)",
                            (unsigned long long)dklen);

    const char *salt;
    if ((st = get_string(params, "salt", "crypto.kdf.params.salt", &salt, err)) != CC_OK)
        return st;
    if (cc_hex_decode(salt, kp->salt, sizeof kp->salt, &kp->salt_len, err) != CC_OK)
        return cc_error_prefix(err, "crypto.kdf.params.salt");
    if (kp->salt_len == 0)
        return cc_error_set(err, CC_EINVAL, "crypto.kdf.params.salt: empty");

    if (kp->kind == KDF_SCRYPT) {
        uint64_t n, r, p;
        if ((st = get_uint(params, "n", "crypto.kdf.params.n", UINT32_MAX, &n, err)) != CC_OK ||
            (st = get_uint(params, "r", "crypto.kdf.params.r", 1024, &r, err)) != CC_OK ||
            (st = get_uint(params, "p", "crypto.kdf.params.p", 16, &p, err)) != CC_OK)
            return st;
        if (n < 2 || (n & (n - 1)) != 0)
            return cc_error_set(err, CC_EINVAL, "crypto.kdf.params.n: %llu is not a power of two above 1",
                                (unsigned long long)n);
        if (r == 0 || p == 0)
            return cc_error_set(err, CC_EINVAL, "crypto.kdf.params: scrypt r and p must be positive");
        if (128 * r * (n + 2) + 128 * r * p > SCRYPT_MAXMEM)
            return cc_error_set(err, CC_EINVAL,
                                "crypto.kdf.params: scrypt n=%llu r=%llu needs more than 260 MiB",
                                (unsigned long long)n, (unsigned long long)r);
        kp->n = n;
        kp->r = (uint32_t)r;
        kp->p = (uint32_t)p;
    } else {
        const char *prf;
        uint64_t c;
        if ((st = get_uint(params, "c", "crypto.kdf.params.c", PBKDF2_MAX_ITER, &c, err)) != CC_OK ||
            (st = get_string(params, "prf", "crypto.kdf.params.prf", &prf, err)) != CC_OK)
            return st;
        if (c == 0)
            return cc_error_set(err, CC_EINVAL, "crypto.kdf.params.c: must be positive");
        if (strcmp(prf, "hmac-sha256") != 0)
            return cc_error_set(err, CC_EINVAL, "crypto.kdf.params.prf: unsupported \"%.64s\" (hmac-sha256)",
                                prf);
        kp->n = c;
    }
    return CC_OK;
}

static cc_status parse_keystore(json_t *root, keystore *ks, cc_error *err)
{
    cc_status st;
    if (!json_is_object(root))
        return cc_error_set(err, CC_EINVAL, "keystore: not a JSON object");

    /* Web3Signer accepts a keystore without "version"; anything but 4 is refused. */
    json_t *ver = json_object_get(root, "version");
    if (ver) {
        if (!json_is_integer(ver))
            return cc_error_set(err, CC_EINVAL, "version: not an integer");
        if (json_integer_value(ver) != 4)
            return cc_error_set(err, CC_EINVAL, "version: %lld is not supported (only 4)",
                                (long long)json_integer_value(ver));
    }

    json_t *crypto, *cs, *cipher, *cparams;
    const char *fn;
    if ((st = get_object(root, "crypto", "crypto", &crypto, err)) != CC_OK ||
        (st = parse_kdf(crypto, &ks->kdf, err)) != CC_OK)
        return st;

    if ((st = get_object(crypto, "checksum", "crypto.checksum", &cs, err)) != CC_OK ||
        (st = get_string(cs, "function", "crypto.checksum.function", &fn, err)) != CC_OK)
        return st;
    if (strcmp(fn, "sha256") != 0)
        return cc_error_set(err, CC_EINVAL, "crypto.checksum.function: unsupported \"%.64s\" (sha256)", fn);
    if ((st = get_hex(cs, "message", "crypto.checksum.message", ks->checksum, 32, err)) != CC_OK)
        return st;

    if ((st = get_object(crypto, "cipher", "crypto.cipher", &cipher, err)) != CC_OK ||
        (st = get_string(cipher, "function", "crypto.cipher.function", &fn, err)) != CC_OK)
        return st;
    if (strcmp(fn, "aes-128-ctr") != 0)
        return cc_error_set(err, CC_EINVAL, "crypto.cipher.function: unsupported \"%.64s\" (aes-128-ctr)", fn);
    if ((st = get_object(cipher, "params", "crypto.cipher.params", &cparams, err)) != CC_OK ||
        (st = get_hex(cparams, "iv", "crypto.cipher.params.iv", ks->iv, IV_LEN, err)) != CC_OK ||
        (st = get_hex(cipher, "message", "crypto.cipher.message", ks->ciphertext, CIPHER_MSG_LEN, err)) != CC_OK)
        return st;

    ks->has_pubkey = 0;
    json_t *pk = json_object_get(root, "pubkey");
    if (pk && !json_is_null(pk)) {
        if ((st = get_hex(root, "pubkey", "pubkey", ks->pubkey, CC_BLS_PUBKEY_LEN, err)) != CC_OK)
            return st;
        ks->has_pubkey = 1;
    }
    return CC_OK;
}

/* ------------------------------------------------------------------------ */
/* Decrypt                                                                  */

cc_status cc_eip2335_decrypt(const char *json, size_t json_len, const char *password, size_t password_len,
                             uint8_t sk_be32[32], uint8_t pubkey_out[48], cc_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, json_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return cc_error_set(err, CC_EINVAL, "keystore: invalid JSON at line %d: %s", jerr.line, jerr.text);
    keystore ks;
    cc_status st = parse_keystore(root, &ks, err);
    json_decref(root);
    if (st != CC_OK)
        return st;

    uint8_t *pw = NULL, *dk = NULL;
    size_t pw_len = 0;
    cc_bls_sk *sk = NULL;
    if ((st = cc_eip2335_normalize_password(password, password_len, &pw, &pw_len, err)) != CC_OK)
        return st;
    dk = cc_secret_alloc(DK_LEN);
    sk = cc_secret_alloc(sizeof *sk);
    if (!dk || !sk) {
        st = cc_error_set(err, CC_ENOMEM, "keystore: out of memory");
        goto out;
    }
    if ((st = derive_key(&ks.kdf, pw, pw_len, dk, err)) != CC_OK)
        goto out;

    uint8_t sum[32];
    if ((st = checksum(dk, ks.ciphertext, sizeof ks.ciphertext, sum, err)) != CC_OK)
        goto out;
    if (!cc_ct_equal(sum, ks.checksum, 32)) {
        st = cc_error_set(err, CC_ECRYPTO, "crypto.checksum: wrong password or corrupt keystore");
        goto out;
    }
    if ((st = aes128ctr(dk, ks.iv, ks.ciphertext, sizeof ks.ciphertext, sk_be32, err)) != CC_OK)
        goto out;
    if (cc_bls_sk_from_bytes(sk, sk_be32, err) != CC_OK) {
        st = cc_error_prefix(err, "crypto.cipher.message: decrypted secret");
        goto out;
    }
    uint8_t pk[CC_BLS_PUBKEY_LEN];
    cc_bls_sk_to_pk(sk, pk);
    if (ks.has_pubkey && memcmp(pk, ks.pubkey, sizeof pk) != 0) {
        st = cc_error_set(err, CC_ECRYPTO, "pubkey: does not match the decrypted secret key");
        goto out;
    }
    if (pubkey_out)
        memcpy(pubkey_out, pk, sizeof pk);
    st = CC_OK;
out:
    if (st != CC_OK)
        cc_secret_wipe(sk_be32, 32);
    cc_secret_free(sk, sizeof *sk);
    cc_secret_free(dk, DK_LEN);
    cc_secret_free(pw, pw_len);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Encrypt                                                                  */

static void uuid_v4(char out[37])
{
    uint8_t b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        memset(b, 0, sizeof b); /* the uuid is a label, not a secret */
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80);
    char h[33];
    cc_hex_encode(b, sizeof b, h);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

static json_t *hex_json(const uint8_t *b, size_t len)
{
    char buf[2 * 64 + 1];
    cc_hex_encode(b, len, buf);
    return json_string(buf);
}

cc_status cc_eip2335_encrypt(const uint8_t sk_be32[32], const char *password, const char *kdf, int light,
                             const char *path, char **json_out, cc_error *err)
{
    *json_out = NULL;
    kdf_params kp = {0};
    uint64_t cost = light ? LIGHT_COST : FULL_COST;
    if (kdf && strcmp(kdf, "scrypt") == 0) {
        kp.kind = KDF_SCRYPT;
        kp.n = cost;
        kp.r = 8;
        kp.p = 1;
    } else if (kdf && strcmp(kdf, "pbkdf2") == 0) {
        kp.kind = KDF_PBKDF2;
        kp.n = cost;
    } else {
        return cc_error_set(err, CC_EINVAL, "kdf: unsupported \"%.64s\" (scrypt or pbkdf2)", kdf ? kdf : "");
    }
    kp.salt_len = 32;
    uint8_t iv[IV_LEN], ct[32], sum[32], pk[CC_BLS_PUBKEY_LEN];
    if (RAND_bytes(kp.salt, (int)kp.salt_len) != 1 || RAND_bytes(iv, sizeof iv) != 1)
        return cc_error_set(err, CC_ECRYPTO, "keystore: no randomness for salt and iv");

    uint8_t *pw = NULL, *dk = NULL;
    size_t pw_len = 0;
    cc_bls_sk *sk = NULL;
    json_t *root = NULL;
    cc_status st;
    if ((st = cc_eip2335_normalize_password(password, password ? strlen(password) : 0, &pw, &pw_len, err)) !=
        CC_OK)
        return st;
    dk = cc_secret_alloc(DK_LEN);
    sk = cc_secret_alloc(sizeof *sk);
    if (!dk || !sk) {
        st = cc_error_set(err, CC_ENOMEM, "keystore: out of memory");
        goto out;
    }
    if ((st = cc_bls_sk_from_bytes(sk, sk_be32, err)) != CC_OK)
        goto out;
    cc_bls_sk_to_pk(sk, pk);
    if ((st = derive_key(&kp, pw, pw_len, dk, err)) != CC_OK ||
        (st = aes128ctr(dk, iv, sk_be32, 32, ct, err)) != CC_OK ||
        (st = checksum(dk, ct, sizeof ct, sum, err)) != CC_OK)
        goto out;

    json_t *params = json_object();
    json_object_set_new(params, "dklen", json_integer(DK_LEN));
    if (kp.kind == KDF_SCRYPT) {
        json_object_set_new(params, "n", json_integer((json_int_t)kp.n));
        json_object_set_new(params, "r", json_integer(kp.r));
        json_object_set_new(params, "p", json_integer(kp.p));
    } else {
        json_object_set_new(params, "c", json_integer((json_int_t)kp.n));
        json_object_set_new(params, "prf", json_string("hmac-sha256"));
    }
    json_object_set_new(params, "salt", hex_json(kp.salt, kp.salt_len));
    char uuid[37];
    uuid_v4(uuid);
    root = json_pack("{s:{s:{s:s, s:o, s:s}, s:{s:s, s:{}, s:o}, s:{s:s, s:{s:o}, s:o}}, s:s, s:o, s:s, s:s, s:i}",
                     "crypto", "kdf", "function", kp.kind == KDF_SCRYPT ? "scrypt" : "pbkdf2", "params", params,
                     "message", "", "checksum", "function", "sha256", "params", "message", hex_json(sum, 32),
                     "cipher", "function", "aes-128-ctr", "params", "iv", hex_json(iv, IV_LEN), "message",
                     hex_json(ct, sizeof ct), "description", "", "pubkey", hex_json(pk, sizeof pk), "path",
                     path ? path : "", "uuid", uuid, "version", 4);
    if (!root || !(*json_out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
        st = cc_error_set(err, CC_ENOMEM, "keystore: out of memory building JSON");
        goto out;
    }
    st = CC_OK;
out:
    json_decref(root);
    cc_secret_free(sk, sizeof *sk);
    cc_secret_free(dk, DK_LEN);
    cc_secret_free(pw, pw_len);
    return st;
}
