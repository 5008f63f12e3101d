/*
 * attestation.c — parses and verifies AWS Nitro attestation documents
 * (see attestation.h; NOTES §8.3).
 *
 *   payload = {module_id: tstr, digest: "SHA384", timestamp: uint (ms),
 *              pcrs: {0..31 → bstr 32/48/64}, certificate: bstr (DER),
 *              cabundle: [bstr DER, ...] root first,
 *              public_key: bstr ≤1024 | null, user_data: bstr ≤512 | null, nonce: bstr ≤512 | null}
 *
 * The order of checks is fixed so a refusal always names the first fault:
 * COSE envelope, payload fields, root pin, chain, signature, freshness, PCRs.
 */
#include "enclave/attestation.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "enclave/cose.h"
#include "util/secret.h"

/* AWS_NitroEnclaves_Root-G1, byte for byte the root.pem in AWS's zip (tests compare it with the file). */
const char cc_nitro_root_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTEL\n"
    "MAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYD\n"
    "VQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4\n"
    "MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQL\n"
    "DANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEG\n"
    "BSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb\n"
    "48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZE\n"
    "h8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkF\n"
    "R+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYC\n"
    "MQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPW\n"
    "rfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6N\n"
    "IwLz3/Y=\n"
    "-----END CERTIFICATE-----";

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static int definite_bstr(const cbor_item_t *it)
{
    return cbor_isa_bytestring(it) && cbor_bytestring_is_definite(it);
}

/* A definite byte string of min..max bytes, copied; field names it in the error. */
static cc_status take_bstr(const cbor_item_t *v, const char *field, size_t min, size_t max, uint8_t **out,
                           size_t *out_len, cc_error *err)
{
    if (!definite_bstr(v))
        return cc_error_set(err, CC_EINVAL, "attestation document: %s must be a byte string", field);
    size_t n = cbor_bytestring_length(v);
    if (n < min || n > max)
        return cc_error_set(err, CC_EINVAL, "attestation document: %s is %zu bytes, must be %zu..%zu", field, n,
                            min, max);
    *out = dup_bytes(cbor_bytestring_handle(v), n);
    *out_len = n;
    if (!*out)
        return cc_error_set(err, CC_ENOMEM, "attestation document: out of memory");
    return CC_OK;
}

/* An optional field: a byte string of 0..max bytes, or null. */
static cc_status take_opt(const cbor_item_t *v, const char *field, size_t max, uint8_t **out, size_t *out_len,
                          int *has, cc_error *err)
{
    if (cbor_is_null(v))
        return CC_OK;
    if (!definite_bstr(v))
        return cc_error_set(err, CC_EINVAL, "attestation document: %s must be a byte string or null", field);
    cc_status s = take_bstr(v, field, 0, max, out, out_len, err);
    if (s == CC_OK)
        *has = 1;
    return s;
}

static cc_status take_text(const cbor_item_t *v, const char *field, char *out, size_t cap, cc_error *err)
{
    if (!cbor_isa_string(v) || !cbor_string_is_definite(v))
        return cc_error_set(err, CC_EINVAL, "attestation document: %s must be a text string", field);
    size_t n = cbor_string_length(v);
    if (n == 0 || n >= cap)
        return cc_error_set(err, CC_EINVAL, "attestation document: %s is %zu bytes, must be 1..%zu", field, n,
                            cap - 1);
    const unsigned char *p = cbor_string_handle(v);
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] == 0x7f)
            return cc_error_set(err, CC_EINVAL, "attestation document: %s has a control character", field);
    memcpy(out, p, n);
    out[n] = '\0';
    return CC_OK;
}

static cc_status take_pcrs(const cbor_item_t *v, cc_attestation_doc *d, cc_error *err)
{
    if (!cbor_isa_map(v) || !cbor_map_is_definite(v))
        return cc_error_set(err, CC_EINVAL, "attestation document: pcrs must be a map");
    size_t n = cbor_map_size(v);
    if (n == 0 || n > CC_ATTESTATION_MAX_PCRS)
        return cc_error_set(err, CC_EINVAL, "attestation document: pcrs has %zu entries, must be 1..32", n);
    struct cbor_pair *kv = cbor_map_handle(v);
    for (size_t i = 0; i < n; i++) {
        if (!cbor_isa_uint(kv[i].key) || cbor_get_int(kv[i].key) >= CC_ATTESTATION_MAX_PCRS)
            return cc_error_set(err, CC_EINVAL, "attestation document: pcrs key must be an integer 0..31");
        unsigned idx = (unsigned)cbor_get_int(kv[i].key);
        if (d->pcr_present & (1u << idx))
            return cc_error_set(err, CC_EINVAL, "attestation document: pcrs[%u] appears twice", idx);
        if (!definite_bstr(kv[i].value))
            return cc_error_set(err, CC_EINVAL, "attestation document: pcrs[%u] must be a byte string", idx);
        size_t l = cbor_bytestring_length(kv[i].value);
        if (l != 32 && l != 48 && l != 64)
            return cc_error_set(err, CC_EINVAL, "attestation document: pcrs[%u] is %zu bytes, must be 32, 48 or 64",
                                idx, l);
        memcpy(d->pcrs[idx], cbor_bytestring_handle(kv[i].value), l);
        d->pcr_len[idx] = (uint8_t)l;
        d->pcr_present |= 1u << idx;
    }
    return CC_OK;
}

static cc_status take_cabundle(const cbor_item_t *v, cc_attestation_doc *d, cc_error *err)
{
    if (!cbor_isa_array(v) || !cbor_array_is_definite(v))
        return cc_error_set(err, CC_EINVAL, "attestation document: cabundle must be an array");
    size_t n = cbor_array_size(v);
    if (n == 0 || n > CC_ATTESTATION_MAX_CABUNDLE)
        return cc_error_set(err, CC_EINVAL, "attestation document: cabundle has %zu certificates, must be 1..%d", n,
                            CC_ATTESTATION_MAX_CABUNDLE);
    cbor_item_t **it = cbor_array_handle(v);
    for (size_t i = 0; i < n; i++) {
        char field[32];
        snprintf(field, sizeof field, "cabundle[%zu]", i);
        cc_status s = take_bstr(it[i], field, 1, 1024, &d->cabundle[i], &d->cabundle_len[i], err);
        if (s != CC_OK)
            return s;
        d->cabundle_count = i + 1;
    }
    return CC_OK;
}

/* Field bits, to refuse duplicates and find missing ones. */
enum { F_MODULE = 1, F_DIGEST = 2, F_TS = 4, F_PCRS = 8, F_CERT = 16, F_CAB = 32, F_PK = 64, F_UD = 128, F_NONCE = 256 };
#define F_REQUIRED (F_MODULE | F_DIGEST | F_TS | F_PCRS | F_CERT | F_CAB)

static cc_status parse_payload(const uint8_t *p, size_t n, cc_attestation_doc *d, cc_error *err)
{
    if (cc_cbor_check(p, n, 8, "attestation document: payload", err) != CC_OK)
        return CC_EINVAL;
    struct cbor_load_result r;
    cbor_item_t *m = cbor_load(p, n, &r);
    cc_status s = CC_OK;
    if (!m || r.error.code != CBOR_ERR_NONE || r.read != n) {
        s = cc_error_set(err, CC_EINVAL, "attestation document: payload is not one CBOR item");
        goto out;
    }
    if (!cbor_isa_map(m) || !cbor_map_is_definite(m)) {
        s = cc_error_set(err, CC_EINVAL, "attestation document: payload must be a map");
        goto out;
    }
    size_t count = cbor_map_size(m);
    struct cbor_pair *kv = cbor_map_handle(m);
    unsigned seen = 0;
    for (size_t i = 0; i < count && s == CC_OK; i++) {
        const cbor_item_t *k = kv[i].key, *v = kv[i].value;
        if (!cbor_isa_string(k) || !cbor_string_is_definite(k)) {
            s = cc_error_set(err, CC_EINVAL, "attestation document: payload keys must be text strings");
            break;
        }
        char key[16] = {0};
        size_t kl = cbor_string_length(k);
        if (kl < sizeof key)
            memcpy(key, cbor_string_handle(k), kl);
        if (kl >= sizeof key || memchr(key, '\0', kl)) {
            s = cc_error_set(err, CC_EINVAL, "attestation document: unknown payload field");
            break;
        }
        unsigned bit = strcmp(key, "module_id") == 0 ? F_MODULE : strcmp(key, "digest") == 0 ? F_DIGEST
                     : strcmp(key, "timestamp") == 0 ? F_TS : strcmp(key, "pcrs") == 0 ? F_PCRS
                     : strcmp(key, "certificate") == 0 ? F_CERT : strcmp(key, "cabundle") == 0 ? F_CAB
                     : strcmp(key, "public_key") == 0 ? F_PK : strcmp(key, "user_data") == 0 ? F_UD
                     : strcmp(key, "nonce") == 0 ? F_NONCE : 0;
        if (!bit) {
            s = cc_error_set(err, CC_EINVAL, "attestation document: unknown payload field '%s'", key);
            break;
        }
        if (seen & bit) {
            s = cc_error_set(err, CC_EINVAL, "attestation document: %s appears twice", key);
            break;
        }
        seen |= bit;
        switch (bit) {
        case F_MODULE: s = take_text(v, "module_id", d->module_id, sizeof d->module_id, err); break;
        case F_DIGEST:
            s = take_text(v, "digest", d->digest, sizeof d->digest, err);
            if (s == CC_OK && strcmp(d->digest, "SHA384") != 0)
                s = cc_error_set(err, CC_EINVAL, "attestation document: digest is '%s', must be SHA384", d->digest);
            break;
        case F_TS:
            if (!cbor_isa_uint(v) || cbor_get_int(v) == 0)
                s = cc_error_set(err, CC_EINVAL, "attestation document: timestamp must be a positive integer (ms)");
            else
                d->timestamp_ms = cbor_get_int(v);
            break;
        case F_PCRS: s = take_pcrs(v, d, err); break;
        case F_CERT: s = take_bstr(v, "certificate", 1, 1024, &d->certificate, &d->certificate_len, err); break;
        case F_CAB: s = take_cabundle(v, d, err); break;
        case F_PK: s = take_opt(v, "public_key", 1024, &d->public_key, &d->public_key_len, &d->has_public_key, err); break;
        case F_UD: s = take_opt(v, "user_data", 512, &d->user_data, &d->user_data_len, &d->has_user_data, err); break;
        case F_NONCE: s = take_opt(v, "nonce", 512, &d->nonce, &d->nonce_len, &d->has_nonce, err); break;
        }
    }
    if (s == CC_OK && (seen & F_REQUIRED) != F_REQUIRED) {
        static const char *names[] = {"module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle"};
        for (int b = 0; b < 6; b++)
            if (!(seen & (1u << b))) {
                s = cc_error_set(err, CC_EINVAL, "attestation document: %s is missing", names[b]);
                break;
            }
    }
out:
    if (m)
        cbor_decref(&m);
    return s;
}

cc_status cc_attestation_parse(const uint8_t *doc, size_t len, cc_attestation_doc *out, cc_error *err)
{
    memset(out, 0, sizeof *out);
    cc_cose_sign1 c;
    cc_status s = cc_cose_sign1_parse(doc, len, CC_ATTESTATION_MAX_DOC, &c, err);
    if (s != CC_OK)
        return cc_error_prefix(err, "attestation document");
    out->protected_hdr = c.protected_hdr;
    out->protected_len = c.protected_len;
    out->payload = c.payload;
    out->payload_len = c.payload_len;
    memcpy(out->signature, c.signature, sizeof out->signature);
    out->tagged = c.tagged;
    s = parse_payload(out->payload, out->payload_len, out, err);
    if (s != CC_OK)
        cc_attestation_doc_free(out);
    return s;
}

void cc_attestation_doc_free(cc_attestation_doc *d)
{
    if (!d)
        return;
    free(d->certificate);
    for (size_t i = 0; i < CC_ATTESTATION_MAX_CABUNDLE; i++)
        free(d->cabundle[i]);
    free(d->public_key);
    free(d->user_data);
    free(d->nonce);
    free(d->protected_hdr);
    free(d->payload);
    memset(d, 0, sizeof *d);
}

static X509 *der_to_x509(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x && p != der + len) { /* trailing bytes after the certificate */
        X509_free(x);
        return NULL;
    }
    return x;
}

/* The pinned root's DER (*out OPENSSL_malloc'ed). */
static cc_status root_der(const char *pem, unsigned char **out, int *out_len, cc_error *err)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!x)
        return cc_error_set(err, CC_ECONFIG, "attestation root: not a PEM certificate");
    *out = NULL;
    *out_len = i2d_X509(x, out);
    X509_free(x);
    if (*out_len <= 0)
        return cc_error_set(err, CC_ECONFIG, "attestation root: cannot encode");
    return CC_OK;
}

/* OpenSSL builds and checks the chain root → cabundle[1..] → certificate at time `at`. */
static cc_status verify_chain(const cc_attestation_doc *d, X509 *root, X509 *leaf, time_t at, cc_error *err)
{
    cc_status s = CC_OK;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    if (!store || !ctx || !untrusted || X509_STORE_add_cert(store, root) != 1) {
        s = cc_error_set(err, CC_ENOMEM, "attestation chain: out of memory");
        goto out;
    }
    for (size_t i = 1; i < d->cabundle_count; i++) {
        X509 *x = der_to_x509(d->cabundle[i], d->cabundle_len[i]);
        if (!x || !sk_X509_push(untrusted, x)) {
            X509_free(x);
            s = cc_error_set(err, CC_EINVAL, "attestation document: cabundle[%zu] is not a DER certificate", i);
            goto out;
        }
    }
    if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        s = cc_error_set(err, CC_ENOMEM, "attestation chain: out of memory");
        goto out;
    }
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(vp, at);
    X509_VERIFY_PARAM_set_depth(vp, CC_ATTESTATION_MAX_CABUNDLE + 1);
    if (X509_verify_cert(ctx) != 1) {
        int e = X509_STORE_CTX_get_error(ctx);
        int depth = X509_STORE_CTX_get_error_depth(ctx);
        s = cc_error_set(err, CC_EFORBIDDEN, "attestation chain: %s (certificate at depth %d, 0 = leaf)",
                         X509_verify_cert_error_string(e), depth);
        goto out;
    }
    /* The chain OpenSSL built must be exactly certificate, cabundle[n-1], ..., cabundle[0]. */
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    if ((size_t)sk_X509_num(chain) != d->cabundle_count + 1) {
        s = cc_error_set(err, CC_EFORBIDDEN, "attestation chain: %d certificates, but cabundle holds %zu + the leaf",
                         sk_X509_num(chain), d->cabundle_count);
        goto out;
    }
    for (size_t i = 1; i < d->cabundle_count; i++) {
        X509 *want = sk_X509_value(untrusted, (int)i - 1);
        X509 *got = sk_X509_value(chain, (int)(d->cabundle_count - i));
        if (X509_cmp(want, got) != 0) {
            s = cc_error_set(err, CC_EFORBIDDEN, "attestation chain: cabundle[%zu] is out of order", i);
            goto out;
        }
    }
out:
    sk_X509_pop_free(untrusted, X509_free);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return s;
}

cc_status cc_attestation_verify(const cc_attestation_doc *d, const cc_attestation_policy *pol, cc_error *err)
{
    static const cc_attestation_policy none = {0};
    if (!pol)
        pol = &none;
    time_t at = pol->has_at ? pol->at : time(NULL);
    unsigned char *rder = NULL;
    int rlen = 0;
    cc_status s = root_der(pol->root_pem ? pol->root_pem : cc_nitro_root_pem, &rder, &rlen, err);
    if (s != CC_OK)
        return s;
    X509 *root = NULL, *leaf = NULL;
    EVP_PKEY *key = NULL;
    if (d->cabundle_count == 0 || d->cabundle_len[0] != (size_t)rlen ||
        CRYPTO_memcmp(d->cabundle[0], rder, (size_t)rlen) != 0) {
        s = cc_error_set(err, CC_EFORBIDDEN, "attestation document: cabundle[0] is not the pinned root certificate");
        goto out;
    }
    root = der_to_x509(d->cabundle[0], d->cabundle_len[0]);
    leaf = der_to_x509(d->certificate, d->certificate_len);
    if (!root) {
        s = cc_error_set(err, CC_EINVAL, "attestation document: cabundle[0] is not a DER certificate");
        goto out;
    }
    if (!leaf) {
        s = cc_error_set(err, CC_EINVAL, "attestation document: certificate is not a DER certificate");
        goto out;
    }
    if ((s = verify_chain(d, root, leaf, at, err)) != CC_OK)
        goto out;
    if (!(X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) || !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE)) {
        s = cc_error_set(err, CC_EFORBIDDEN, "attestation document: certificate's key usage lacks digitalSignature");
        goto out;
    }
    key = X509_get_pubkey(leaf);
    cc_cose_sign1 c = {.protected_hdr = d->protected_hdr, .protected_len = d->protected_len, .payload = d->payload,
                       .payload_len = d->payload_len, .alg = CC_COSE_ALG_ES384};
    memcpy(c.signature, d->signature, sizeof c.signature);
    if (cc_cose_sign1_verify(&c, key, err) != CC_OK) {
        if (err)
            err->code = CC_EFORBIDDEN;
        cc_error_prefix(err, "attestation document");
        s = CC_EFORBIDDEN;
        goto out;
    }
    uint64_t at_ms = (uint64_t)(at < 0 ? 0 : at) * 1000;
    if (d->timestamp_ms > at_ms + (uint64_t)CC_ATTESTATION_MAX_SKEW_S * 1000) {
        s = cc_error_set(err, CC_EFORBIDDEN, "attestation document: timestamp %llu ms is %llu s after the check time",
                         (unsigned long long)d->timestamp_ms, (unsigned long long)((d->timestamp_ms - at_ms) / 1000));
        goto out;
    }
    if (pol->max_age_s && at_ms > d->timestamp_ms && (at_ms - d->timestamp_ms) / 1000 > pol->max_age_s) {
        s = cc_error_set(err, CC_EFORBIDDEN, "attestation document: timestamp is %llu s old, more than max-age %llu s",
                         (unsigned long long)((at_ms - d->timestamp_ms) / 1000), (unsigned long long)pol->max_age_s);
        goto out;
    }
    for (size_t i = 0; i < pol->n_expect; i++) {
        const cc_attestation_pcr *e = &pol->expect[i];
        if (e->index < 0 || e->index >= CC_ATTESTATION_MAX_PCRS || !(d->pcr_present & (1u << e->index))) {
            s = cc_error_set(err, CC_EFORBIDDEN, "attestation document: PCR%d is not in the document", e->index);
            goto out;
        }
        if (e->len != d->pcr_len[e->index] || !cc_ct_equal(e->value, d->pcrs[e->index], e->len)) {
            s = cc_error_set(err, CC_EFORBIDDEN, "attestation document: PCR%d does not match the expected value",
                             e->index);
            goto out;
        }
    }
    if (pol->expect_nonce &&
        (!d->has_nonce || d->nonce_len != pol->expect_nonce_len ||
         !cc_ct_equal(d->nonce, pol->expect_nonce, d->nonce_len))) {
        s = cc_error_set(err, CC_EFORBIDDEN, "attestation document: nonce does not match the expected value");
        goto out;
    }
out:
    EVP_PKEY_free(key);
    X509_free(root);
    X509_free(leaf);
    OPENSSL_free(rder);
    return s;
}

cc_status cc_attestation_check(const uint8_t *doc, size_t len, const cc_attestation_policy *pol,
                               cc_attestation_doc *out, cc_error *err)
{
    cc_attestation_doc local;
    cc_attestation_doc *d = out ? out : &local;
    cc_status s = cc_attestation_parse(doc, len, d, err);
    if (s == CC_OK)
        s = cc_attestation_verify(d, pol, err);
    if (!out)
        cc_attestation_doc_free(&local);
    return s;
}

cc_status cc_attestation_spki_sha256(X509 *cert, uint8_t out[32], cc_error *err)
{
    unsigned char *der = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
    if (n <= 0)
        return cc_error_set(err, CC_EINVAL, "aTLS certificate: cannot encode its SubjectPublicKeyInfo");
    SHA256(der, (size_t)n, out);
    OPENSSL_free(der);
    return CC_OK;
}

cc_status cc_attestation_verify_certificate(X509 *cert, const cc_attestation_policy *pol, cc_attestation_doc *out,
                                            cc_error *err)
{
    ASN1_OBJECT *oid = OBJ_txt2obj(CC_ATLS_OID, 1);
    if (!oid)
        return cc_error_set(err, CC_EINTERNAL, "aTLS: cannot make the extension OID");
    int idx = X509_get_ext_by_OBJ(cert, oid, -1);
    int again = idx >= 0 ? X509_get_ext_by_OBJ(cert, oid, idx) : -1;
    ASN1_OBJECT_free(oid);
    if (idx < 0)
        return cc_error_set(err, CC_EFORBIDDEN, "aTLS certificate: no attestation document extension (%s)",
                            CC_ATLS_OID);
    if (again >= 0)
        return cc_error_set(err, CC_EFORBIDDEN, "aTLS certificate: the attestation extension appears twice");
    ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
    cc_attestation_doc local;
    cc_attestation_doc *d = out ? out : &local;
    cc_status s = cc_attestation_check(ASN1_STRING_get0_data(data), (size_t)ASN1_STRING_length(data), pol, d, err);
    if (s != CC_OK) {
        cc_error_prefix(err, "aTLS certificate");
        goto out;
    }
    uint8_t h[32];
    if ((s = cc_attestation_spki_sha256(cert, h, err)) != CC_OK)
        goto out;
    if (!d->has_user_data || d->user_data_len != sizeof h || !cc_ct_equal(d->user_data, h, sizeof h))
        s = cc_error_set(err, CC_EFORBIDDEN,
                         "aTLS certificate: the document's user_data is not SHA-256 of the certificate's public key");
out:
    if (!out)
        cc_attestation_doc_free(&local);
    return s;
}

/* ---- input: raw CBOR or base64 ---- */

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

cc_status cc_attestation_decode_input(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, cc_error *err)
{
    if (len == 0)
        return cc_error_set(err, CC_EINVAL, "attestation document: empty input");
    /* CBOR documents begin with an array of 4 (0x84) or tag 18 (0xD2); base64 text never does. */
    if (in[0] == 0x84 || in[0] == 0xD2) {
        *out = dup_bytes(in, len);
        *out_len = len;
        return *out ? CC_OK : cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    uint8_t *b = malloc(len / 4 * 3 + 3);
    if (!b)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    uint32_t acc = 0;
    size_t n = 0, bits = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        int c = in[i];
        if (isspace(c))
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64_value(c);
        if (v < 0 || pad) {
            free(b);
            return cc_error_set(err, CC_EINVAL, "attestation document: neither CBOR nor base64 (byte %zu)", i);
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            b[n++] = (uint8_t)(acc >> bits);
        }
    }
    if (pad > 2 || bits >= 6 || (acc & ((1u << bits) - 1)) != 0 || n == 0) {
        free(b);
        return cc_error_set(err, CC_EINVAL, "attestation document: malformed base64");
    }
    *out = b;
    *out_len = n;
    return CC_OK;
}

cc_status cc_attestation_read_file(const char *path, uint8_t **out, size_t *out_len, cc_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cc_error_set(err, CC_EIO, "%s: %s", path, strerror(errno));
    size_t cap = CC_ATTESTATION_MAX_DOC * 2 + 1024, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    n = fread(buf, 1, cap, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n == cap) {
        free(buf);
        return cc_error_set(err, bad ? CC_EIO : CC_EINVAL, "%s: %s", path, bad ? "read error" : "file too large");
    }
    cc_status s = cc_attestation_decode_input(buf, n, out, out_len, err);
    free(buf);
    if (s != CC_OK)
        cc_error_prefix(err, "%s", path);
    return s;
}
