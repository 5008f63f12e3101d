/*
 * crypto.c — kms-local's cryptography, all of it OpenSSL:
 *
 *  - ciphertext blobs: AES-256-GCM under the key's 256-bit material.  Our own
 *    framing (not AWS's) names the key, so Decrypt finds it without KeyId:
 *        "KLC1" ‖ key_id (36 ASCII) ‖ iv (12) ‖ tag (16) ‖ ciphertext
 *    The AAD is the first 40 bytes followed by the canonical encryption
 *    context (compact JSON, keys sorted), so a blob opens only under its own
 *    key and exactly its own context.
 *  - CiphertextForRecipient: a CMS EnvelopedData for the RSA key of a Nitro
 *    attestation document, shaped like AWS KMS's (EnvelopedData v2, one
 *    KeyTransRecipientInfo v2 identified by subjectKeyIdentifier, RSA-OAEP
 *    SHA-256 with MGF1-SHA-256, id-data under AES-256-CBC).
 *  - base64 for the JSON wire.
 */
#include "kmslocal/kmslocal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "util/secret.h"

#define BLOB_MAGIC "KLC1"
#define BLOB_HDR (4 + 36)
#define BLOB_IV 12
#define BLOB_TAG 16
#define BLOB_MIN (BLOB_HDR + BLOB_IV + BLOB_TAG)

char *kl_b64_encode(const uint8_t *in, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (!out)
        return NULL;
    EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    return out;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

cc_status kl_b64_decode(const char *in, uint8_t **out, size_t *out_len, cc_error *err)
{
    size_t n = strlen(in);
    if (n % 4)
        return cc_error_set(err, CC_EINVAL, "base64 length %zu is not a multiple of 4", n);
    size_t pad = 0;
    if (n && in[n - 1] == '=') pad++;
    if (n > 1 && in[n - 2] == '=') pad++;
    for (size_t i = 0; i < n - pad; i++)
        if (b64val(in[i]) < 0)
            return cc_error_set(err, CC_EINVAL, "invalid base64 character at offset %zu", i);
    uint8_t *o = malloc(n / 4 * 3 + 1);
    if (!o)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    int got = n ? EVP_DecodeBlock(o, (const unsigned char *)in, (int)n) : 0;
    if (got < 0 || (size_t)got < pad) {
        free(o);
        return cc_error_set(err, CC_EINVAL, "invalid base64");
    }
    *out = o;
    *out_len = (size_t)got - pad;
    return CC_OK;
}

cc_status kl_context_canonical(json_t *ctx, char **out, cc_error *err)
{
    if (!ctx || json_is_null(ctx)) {
        *out = strdup("{}");
        return *out ? CC_OK : cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    if (!json_is_object(ctx))
        return cc_error_set(err, CC_EINVAL, "EncryptionContext must be an object of strings");
    const char *k;
    json_t *v;
    json_object_foreach(ctx, k, v) {
        if (!json_is_string(v))
            return cc_error_set(err, CC_EINVAL, "EncryptionContext.%s must be a string", k);
    }
    *out = json_dumps(ctx, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    return *out ? CC_OK : cc_error_set(err, CC_ENOMEM, "out of memory");
}

static cc_status gcm(int enc, const uint8_t *key, const uint8_t *iv, const uint8_t *aad1, size_t aad1_len,
                     const char *aad2, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag, cc_error *err)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ok = c != NULL, n = 0;
    ok = ok && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc);
    ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, BLOB_IV, NULL);
    ok = ok && EVP_CipherInit_ex(c, NULL, NULL, key, iv, enc);
    ok = ok && EVP_CipherUpdate(c, NULL, &n, aad1, (int)aad1_len);
    ok = ok && EVP_CipherUpdate(c, NULL, &n, (const uint8_t *)aad2, (int)strlen(aad2));
    ok = ok && (len == 0 || EVP_CipherUpdate(c, out, &n, in, (int)len));
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, BLOB_TAG, tag);
    if (!ok) {
        EVP_CIPHER_CTX_free(c);
        return cc_error_set(err, CC_EINTERNAL, "AES-256-GCM set-up failed");
    }
    uint8_t fin[16];
    int f = 0;
    ok = EVP_CipherFinal_ex(c, fin, &f);
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, BLOB_TAG, tag);
    EVP_CIPHER_CTX_free(c);
    if (!ok)
        return cc_error_set(err, CC_ECRYPTO, "ciphertext does not open under this key and encryption context");
    return CC_OK;
}

cc_status kl_blob_seal(const kl_key *key, const char *canon_ctx, const uint8_t *pt, size_t pt_len, uint8_t **blob,
                       size_t *blob_len, cc_error *err)
{
    size_t n = BLOB_MIN + pt_len;
    uint8_t *b = malloc(n);
    if (!b)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    memcpy(b, BLOB_MAGIC, 4);
    memcpy(b + 4, key->key_id, 36);
    uint8_t *iv = b + BLOB_HDR, *tag = iv + BLOB_IV, *ct = tag + BLOB_TAG;
    if (RAND_bytes(iv, BLOB_IV) != 1) {
        free(b);
        return cc_error_set(err, CC_ECRYPTO, "no randomness for the IV");
    }
    cc_status s = gcm(1, key->material, iv, b, BLOB_HDR, canon_ctx, pt, pt_len, ct, tag, err);
    if (s != CC_OK) {
        free(b);
        return s;
    }
    *blob = b;
    *blob_len = n;
    return CC_OK;
}

cc_status kl_blob_key_id(const uint8_t *blob, size_t len, char key_id[37], cc_error *err)
{
    if (len < BLOB_MIN || memcmp(blob, BLOB_MAGIC, 4) != 0)
        return cc_error_set(err, CC_EINVAL, "CiphertextBlob was not made by kms-local");
    memcpy(key_id, blob + 4, 36);
    key_id[36] = '\0';
    return CC_OK;
}

cc_status kl_blob_open(const kl_key *key, const char *canon_ctx, const uint8_t *blob, size_t len, uint8_t **pt,
                       size_t *pt_len, cc_error *err)
{
    char id[37];
    cc_status s = kl_blob_key_id(blob, len, id, err);
    if (s != CC_OK)
        return s;
    if (strcmp(id, key->key_id) != 0)
        return cc_error_set(err, CC_ECRYPTO, "CiphertextBlob belongs to another key");
    size_t n = len - BLOB_MIN;
    uint8_t *out = cc_secret_alloc(n + 1);
    if (!out)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    uint8_t tag[BLOB_TAG];
    memcpy(tag, blob + BLOB_HDR + BLOB_IV, BLOB_TAG);
    s = gcm(0, key->material, blob + BLOB_HDR, blob, BLOB_HDR, canon_ctx, blob + BLOB_MIN, n, out, tag, err);
    if (s != CC_OK) {
        cc_secret_free(out, n + 1);
        return s;
    }
    *pt = out;  /* caller frees with cc_secret_free(pt, pt_len + 1) */
    *pt_len = n;
    return CC_OK;
}

/* The throwaway certificates below must be signed (OpenSSL encodes a certificate
 * to cache its extensions); one P-256 key per process signs them all. */
static EVP_PKEY *wrap_signer;
static pthread_once_t wrap_signer_once = PTHREAD_ONCE_INIT;
static void make_wrap_signer(void) { wrap_signer = EVP_EC_gen("P-256"); }

/* A throwaway certificate around a bare public key: OpenSSL 3.0's CMS API adds
 * key-transport recipients only from certificates.  With CMS_USE_KEYID only its
 * subjectKeyIdentifier (SHA-1 of the key bits, RFC 5280 method 1) reaches the
 * output, so the EnvelopedData is what a bare-key API would have produced. */
static X509 *wrap_key(EVP_PKEY *pk)
{
    pthread_once(&wrap_signer_once, make_wrap_signer);
    if (!wrap_signer)
        return NULL;
    X509 *x = X509_new();
    if (!x)
        return NULL;
    X509V3_CTX v3;
    X509_EXTENSION *ext = NULL;
    X509_NAME *nm = X509_NAME_new();
    int ok = nm && X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), 1) &&
             X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"kms-local recipient", -1,
                                        -1, 0) &&
             X509_set_subject_name(x, nm) && X509_set_issuer_name(x, nm) && X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
             X509_gmtime_adj(X509_getm_notAfter(x), 3600) && X509_set_pubkey(x, pk);
    if (ok) {
        X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_key_identifier, "hash");
        ok = ext && X509_add_ext(x, ext, -1) && X509_sign(x, wrap_signer, EVP_sha256()) > 0;
    }
    X509_EXTENSION_free(ext);
    X509_NAME_free(nm);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

cc_status kl_cms_envelope(const uint8_t *spki, size_t spki_len, const uint8_t *content, size_t len, uint8_t **out,
                          size_t *out_len, cc_error *err)
{
    const unsigned char *p = spki;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)spki_len);
    if (!pk || p != spki + spki_len) {
        EVP_PKEY_free(pk);
        return cc_error_set(err, CC_EINVAL, "attestation document public_key is not a DER SubjectPublicKeyInfo");
    }
    if (!EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_get_bits(pk) < 2048) {
        EVP_PKEY_free(pk);
        return cc_error_set(err, CC_EINVAL, "attestation document public_key must be an RSA key of at least 2048 bits");
    }
    cc_status s = CC_OK;
    X509 *x = wrap_key(pk);
    CMS_ContentInfo *cms = NULL;
    BIO *in = NULL;
    unsigned char *der = NULL;
    if (!x) {
        s = cc_error_set(err, CC_EINTERNAL, "cannot wrap the recipient key");
        goto done;
    }
    cms = CMS_encrypt(NULL, NULL, EVP_aes_256_cbc(), CMS_BINARY | CMS_PARTIAL);
    CMS_RecipientInfo *ri = cms ? CMS_add1_recipient_cert(cms, x, CMS_KEY_PARAM | CMS_USE_KEYID) : NULL;
    EVP_PKEY_CTX *pctx = ri ? CMS_RecipientInfo_get0_pkey_ctx(ri) : NULL;
    if (!pctx || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0) {
        s = cc_error_set(err, CC_EINTERNAL, "cannot set up CMS RSA-OAEP-SHA256 key transport");
        goto done;
    }
    in = BIO_new_mem_buf(content, (int)len);
    if (!in || CMS_final(cms, in, NULL, CMS_BINARY) != 1) {
        s = cc_error_set(err, CC_EINTERNAL, "CMS EnvelopedData encryption failed");
        goto done;
    }
    int n = i2d_CMS_ContentInfo(cms, &der);
    if (n <= 0) {
        s = cc_error_set(err, CC_EINTERNAL, "cannot encode the CMS EnvelopedData");
        goto done;
    }
    *out = malloc((size_t)n);
    if (!*out) {
        s = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(*out, der, (size_t)n);
    *out_len = (size_t)n;
done:
    OPENSSL_free(der);
    BIO_free(in);
    CMS_ContentInfo_free(cms);
    X509_free(x);
    EVP_PKEY_free(pk);
    return s;
}
