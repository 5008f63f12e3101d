/*
 * attestation.c — reads and verifies an AWS Nitro attestation document, as
 * KMS does before honouring a Recipient (NOTES §8.3).
 *
 *   COSE_Sign1 = [protected: bstr {1: -35}, unprotected: {}, payload: bstr, signature: bstr(96) r‖s]
 *   (optionally wrapped in CBOR tag 18)
 *   payload    = {module_id, digest: "SHA384", timestamp (ms), pcrs {n → bstr},
 *                 certificate (DER), cabundle [root first, ...], public_key?, user_data?, nonce?}
 *
 * Verification: cabundle[0] must be the pinned root byte for byte; the chain
 * root → cabundle[1..] → certificate must verify (validity at the document's
 * timestamp, CA constraints); the leaf must be allowed to sign; then ES384
 * over Sig_structure ["Signature1", protected, h'', payload] with the leaf
 * key; and the document must be recent.
 */
#include "kmslocal/kmslocal.h"

#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

static const cbor_item_t *map_get(const cbor_item_t *map, const char *key)
{
    size_t n = cbor_map_size(map);
    struct cbor_pair *p = cbor_map_handle(map);
    for (size_t i = 0; i < n; i++) {
        const cbor_item_t *k = p[i].key;
        if (cbor_isa_string(k) && cbor_string_is_definite(k) && cbor_string_length(k) == strlen(key) &&
            memcmp(cbor_string_handle(k), key, strlen(key)) == 0)
            return p[i].value;
    }
    return NULL;
}

static int is_bytes(const cbor_item_t *it) { return it && cbor_isa_bytestring(it) && cbor_bytestring_is_definite(it); }
static int is_text(const cbor_item_t *it) { return it && cbor_isa_string(it) && cbor_string_is_definite(it); }
static int is_null(const cbor_item_t *it) { return !it || (cbor_isa_float_ctrl(it) && cbor_is_null(it)); }

/* Copies an optional bstr field (absent or null → NULL). */
static cc_status opt_bytes(const cbor_item_t *payload, const char *name, size_t max, uint8_t **out, size_t *len,
                           cc_error *err)
{
    const cbor_item_t *v = map_get(payload, name);
    *out = NULL;
    *len = 0;
    if (is_null(v))
        return CC_OK;
    if (!is_bytes(v) || cbor_bytestring_length(v) > max)
        return cc_error_set(err, CC_EINVAL, "attestation document: %s must be a byte string of at most %zu bytes", name,
                            max);
    *len = cbor_bytestring_length(v);
    *out = malloc(*len ? *len : 1);
    if (!*out)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    memcpy(*out, cbor_bytestring_handle(v), *len);
    return CC_OK;
}

static X509 *der_cert(const cbor_item_t *v)
{
    if (!is_bytes(v))
        return NULL;
    const unsigned char *p = cbor_bytestring_handle(v);
    size_t n = cbor_bytestring_length(v);
    X509 *x = d2i_X509(NULL, &p, (long)n);
    if (x && p != cbor_bytestring_handle(v) + n) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static cc_status verify_chain(const cbor_item_t *payload, X509 *root, uint64_t ts_ms, X509 **leaf_out, cc_error *err)
{
    const cbor_item_t *cab = map_get(payload, "cabundle");
    if (!cab || !cbor_isa_array(cab) || cbor_array_size(cab) < 1)
        return cc_error_set(err, CC_EINVAL, "attestation document: cabundle must be a non-empty array");
    cbor_item_t **certs = cbor_array_handle(cab);
    size_t ncerts = cbor_array_size(cab);

    /* cabundle[0] must be the pinned root, byte for byte. */
    unsigned char *rder = NULL;
    int rlen = i2d_X509(root, &rder);
    int same = rlen > 0 && is_bytes(certs[0]) && cbor_bytestring_length(certs[0]) == (size_t)rlen &&
               memcmp(cbor_bytestring_handle(certs[0]), rder, (size_t)rlen) == 0;
    OPENSSL_free(rder);
    if (!same)
        return cc_error_set(err, CC_EFORBIDDEN, "attestation document: cabundle[0] is not the trusted root");

    X509 *leaf = der_cert(map_get(payload, "certificate"));
    if (!leaf)
        return cc_error_set(err, CC_EINVAL, "attestation document: certificate is not a DER certificate");
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    cc_status s = CC_OK;
    if (!untrusted || !store || !ctx || X509_STORE_add_cert(store, root) != 1) {
        s = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 1; i < ncerts; i++) {
        X509 *c = der_cert(certs[i]);
        if (!c) {
            s = cc_error_set(err, CC_EINVAL, "attestation document: cabundle[%zu] is not a DER certificate", i);
            goto out;
        }
        if (!sk_X509_push(untrusted, c)) {
            X509_free(c);
            s = cc_error_set(err, CC_ENOMEM, "out of memory");
            goto out;
        }
    }
    if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        s = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    X509_STORE_CTX_set_time(ctx, 0, (time_t)(ts_ms / 1000));
    if (X509_verify_cert(ctx) != 1) {
        s = cc_error_set(err, CC_EFORBIDDEN, "attestation document: certificate chain does not verify: %s",
                         X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        goto out;
    }
    uint32_t ku = X509_get_key_usage(leaf);
    if (ku != UINT32_MAX && !(ku & KU_DIGITAL_SIGNATURE)) {
        s = cc_error_set(err, CC_EFORBIDDEN, "attestation document: leaf certificate may not sign (keyUsage)");
        goto out;
    }
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_pop_free(untrusted, X509_free);
    if (s == CC_OK)
        *leaf_out = leaf;
    else
        X509_free(leaf);
    return s;
}

/* ES384 over the COSE Sig_structure with the leaf key; sig is r‖s (96 bytes). */
static cc_status verify_signature(X509 *leaf, const cbor_item_t *prot, const cbor_item_t *payload_bstr,
                                  const cbor_item_t *sig, cc_error *err)
{
    if (!is_bytes(sig) || cbor_bytestring_length(sig) != 96)
        return cc_error_set(err, CC_EINVAL, "attestation document: signature must be 96 bytes (r‖s)");
    EVP_PKEY *pk = X509_get0_pubkey(leaf);
    char group[64] = "";
    size_t gl = 0;
    if (!pk || !EVP_PKEY_is_a(pk, "EC") || !EVP_PKEY_get_utf8_string_param(pk, "group", group, sizeof group, &gl) ||
        strcmp(group, "secp384r1") != 0)
        return cc_error_set(err, CC_EINVAL, "attestation document: leaf key is not P-384");

    cbor_item_t *ss = cbor_new_definite_array(4);
    cbor_item_t *ctx_s = cbor_build_string("Signature1");
    cbor_item_t *p = cbor_build_bytestring(cbor_bytestring_handle(prot), cbor_bytestring_length(prot));
    cbor_item_t *aad = cbor_build_bytestring((cbor_data) "", 0);
    cbor_item_t *pl = cbor_build_bytestring(cbor_bytestring_handle(payload_bstr), cbor_bytestring_length(payload_bstr));
    int ok = ss && ctx_s && p && aad && pl && cbor_array_push(ss, ctx_s) && cbor_array_push(ss, p) &&
             cbor_array_push(ss, aad) && cbor_array_push(ss, pl);
    unsigned char *tbs = NULL;
    size_t tbs_cap = 0, tbs_len = ok ? cbor_serialize_alloc(ss, &tbs, &tbs_cap) : 0;
    if (ctx_s) cbor_decref(&ctx_s);
    if (p) cbor_decref(&p);
    if (aad) cbor_decref(&aad);
    if (pl) cbor_decref(&pl);
    if (ss) cbor_decref(&ss);
    if (!tbs_len) {
        free(tbs);
        return cc_error_set(err, CC_ENOMEM, "cannot encode the COSE Sig_structure");
    }

    const uint8_t *raw = cbor_bytestring_handle(sig);
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, 48, NULL), *s = BN_bin2bn(raw + 48, 48, NULL);
    unsigned char *der = NULL;
    int derlen = -1;
    if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL;
        derlen = i2d_ECDSA_SIG(es, &der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int good = derlen > 0 && md && EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, pk) == 1 &&
               EVP_DigestVerify(md, der, (size_t)derlen, tbs, tbs_len) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    free(tbs);
    if (!good)
        return cc_error_set(err, CC_EFORBIDDEN, "attestation document: ES384 signature does not verify");
    return CC_OK;
}

static cc_status read_payload(const cbor_item_t *payload, kl_attestation *out, cc_error *err)
{
    const cbor_item_t *mid = map_get(payload, "module_id"), *dig = map_get(payload, "digest"),
                      *ts = map_get(payload, "timestamp"), *pcrs = map_get(payload, "pcrs");
    if (!is_text(mid) || cbor_string_length(mid) >= sizeof out->module_id)
        return cc_error_set(err, CC_EINVAL, "attestation document: module_id must be text");
    memcpy(out->module_id, cbor_string_handle(mid), cbor_string_length(mid));
    if (!is_text(dig) || cbor_string_length(dig) != 6 || memcmp(cbor_string_handle(dig), "SHA384", 6) != 0)
        return cc_error_set(err, CC_EINVAL, "attestation document: digest must be \"SHA384\"");
    strcpy(out->digest, "SHA384");
    if (!ts || !cbor_isa_uint(ts))
        return cc_error_set(err, CC_EINVAL, "attestation document: timestamp must be an unsigned integer");
    out->timestamp_ms = cbor_get_int(ts);
    if (!pcrs || !cbor_isa_map(pcrs) || !cbor_map_is_definite(pcrs))
        return cc_error_set(err, CC_EINVAL, "attestation document: pcrs must be a map");
    struct cbor_pair *pp = cbor_map_handle(pcrs);
    for (size_t i = 0; i < cbor_map_size(pcrs); i++) {
        if (!cbor_isa_uint(pp[i].key) || cbor_get_int(pp[i].key) >= KL_MAX_PCRS || !is_bytes(pp[i].value))
            return cc_error_set(err, CC_EINVAL, "attestation document: pcrs keys must be 0..31 with byte-string values");
        size_t n = cbor_bytestring_length(pp[i].value), idx = (size_t)cbor_get_int(pp[i].key);
        if (n != 32 && n != 48 && n != 64)
            return cc_error_set(err, CC_EINVAL, "attestation document: pcrs[%zu] must be 32, 48 or 64 bytes", idx);
        memcpy(out->pcr[idx], cbor_bytestring_handle(pp[i].value), n);
        out->pcr_len[idx] = n;
    }
    cc_status s;
    if ((s = opt_bytes(payload, "public_key", 1024, &out->public_key, &out->public_key_len, err)) != CC_OK ||
        (s = opt_bytes(payload, "user_data", 512, &out->user_data, &out->user_data_len, err)) != CC_OK ||
        (s = opt_bytes(payload, "nonce", 512, &out->nonce, &out->nonce_len, err)) != CC_OK)
        return s;
    return CC_OK;
}

cc_status kl_attestation_verify(const uint8_t *doc, size_t len, X509 *root, time_t now, int max_age_s,
                                kl_attestation *out, cc_error *err)
{
    memset(out, 0, sizeof *out);
    if (!root)
        return cc_error_set(err, CC_ECONFIG, "no trusted attestation root configured (--attestation-root)");
    /* Tag 18 is the one byte 0xD2 before the array.  We strip it by hand: libcbor 0.8
     * (Debian 12) fails to load tagged items (CBOR_ERR_MALFORMATED). */
    if (len && doc[0] == 0xD2) {
        doc++;
        len--;
    }
    struct cbor_load_result lr;
    cbor_item_t *cose = cbor_load(doc, len, &lr);
    cbor_item_t *payload = NULL, *prot_map = NULL;
    X509 *leaf = NULL;
    cc_status s = CC_OK;
    if (!cose || lr.error.code != CBOR_ERR_NONE || lr.read != len) {
        s = cc_error_set(err, CC_EINVAL, "attestation document is not one CBOR item");
        goto out;
    }
    if (!cbor_isa_array(cose) || cbor_array_size(cose) != 4) {
        s = cc_error_set(err, CC_EINVAL, "attestation document is not a COSE_Sign1 array of 4");
        goto out;
    }
    cbor_item_t **f = cbor_array_handle(cose);
    if (!is_bytes(f[0]) || !cbor_isa_map(f[1]) || !is_bytes(f[2]) || !is_bytes(f[3])) {
        s = cc_error_set(err, CC_EINVAL, "attestation document: COSE_Sign1 fields have the wrong types");
        goto out;
    }
    /* protected header: {1: -35} (alg ES384) */
    prot_map = cbor_load(cbor_bytestring_handle(f[0]), cbor_bytestring_length(f[0]), &lr);
    int alg_ok = 0;
    if (prot_map && cbor_isa_map(prot_map)) {
        struct cbor_pair *pp = cbor_map_handle(prot_map);
        for (size_t i = 0; i < cbor_map_size(prot_map); i++)
            if (cbor_isa_uint(pp[i].key) && cbor_get_int(pp[i].key) == 1)
                alg_ok = cbor_isa_negint(pp[i].value) && cbor_get_int(pp[i].value) == 34;
    }
    if (!alg_ok) {
        s = cc_error_set(err, CC_EINVAL, "attestation document: protected header must name ES384 (1: -35)");
        goto out;
    }
    payload = cbor_load(cbor_bytestring_handle(f[2]), cbor_bytestring_length(f[2]), &lr);
    if (!payload || lr.error.code != CBOR_ERR_NONE || !cbor_isa_map(payload) || !cbor_map_is_definite(payload)) {
        s = cc_error_set(err, CC_EINVAL, "attestation document: payload is not a CBOR map");
        goto out;
    }
    if ((s = read_payload(payload, out, err)) != CC_OK)
        goto out;
    if ((s = verify_chain(payload, root, out->timestamp_ms, &leaf, err)) != CC_OK)
        goto out;
    if ((s = verify_signature(leaf, f[0], f[2], f[3], err)) != CC_OK)
        goto out;
    long long now_ms = (long long)now * 1000, ts = (long long)out->timestamp_ms;
    if (ts > now_ms + 300000LL) {
        s = cc_error_set(err, CC_EFORBIDDEN, "attestation document: timestamp is in the future");
        goto out;
    }
    if (now_ms - ts > (long long)max_age_s * 1000) {
        s = cc_error_set(err, CC_EFORBIDDEN, "attestation document is older than %d seconds", max_age_s);
        goto out;
    }
out:
    X509_free(leaf);
    if (payload) cbor_decref(&payload);
    if (prot_map) cbor_decref(&prot_map);
    if (cose) cbor_decref(&cose);
    if (s != CC_OK)
        kl_attestation_free(out);
    return s;
}

void kl_attestation_free(kl_attestation *a)
{
    free(a->public_key);
    free(a->user_data);
    free(a->nonce);
    memset(a, 0, sizeof *a);
}
