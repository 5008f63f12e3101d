/*
 * cose.c — COSE_Sign1 / ES384 (see cose.h).  CBOR through libcbor, ECDSA
 * through OpenSSL; the only hand-written encoding is the four CBOR headers of
 * Sig_structure, written with libcbor's minimal-length encoders.
 */
#include "enclave/cose.h"

#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/core_names.h>

/* The one protected header we accept and write: {1: -35}. */
static const uint8_t es384_protected[] = {0xA1, 0x01, 0x38, 0x22};

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

/* A definite byte string (libcbor splits indefinite ones into chunks: refused). */
static int is_definite_bstr(const cbor_item_t *it)
{
    return it && cbor_isa_bytestring(it) && cbor_bytestring_is_definite(it);
}

/* Reads one item header at p[*pos]; returns 0 when malformed. */
static int read_head(const uint8_t *p, size_t n, size_t *pos, int *major, uint64_t *val)
{
    if (*pos >= n)
        return 0;
    uint8_t b = p[(*pos)++];
    *major = b >> 5;
    int ai = b & 0x1f;
    if (ai < 24) {
        *val = (uint64_t)ai;
        return 1;
    }
    if (ai > 27)
        return 0; /* indefinite lengths and reserved values */
    size_t len = (size_t)1 << (ai - 24);
    if (n - *pos < len)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++)
        v = v << 8 | p[(*pos)++];
    *val = v;
    return 1;
}

cc_status cc_cbor_check(const uint8_t *p, size_t n, int max_depth, const char *what, cc_error *err)
{
    /* pending[d] = items still to read at depth d */
    uint64_t pending[64];
    int depth = 0;
    size_t pos = 0;
    if (max_depth > 63)
        max_depth = 63;
    pending[0] = 1;
    while (depth >= 0) {
        if (pending[depth] == 0) {
            depth--;
            continue;
        }
        pending[depth]--;
        int major;
        uint64_t v;
        if (!read_head(p, n, &pos, &major, &v))
            return cc_error_set(err, CC_EINVAL, "%s: not valid CBOR (truncated or malformed at byte %zu)", what, pos);
        switch (major) {
        case 0: case 1: break;
        case 2: case 3:
            if (v > n - pos)
                return cc_error_set(err, CC_EINVAL, "%s: not valid CBOR (string longer than the input)", what);
            pos += (size_t)v;
            break;
        case 4: case 5:
            if (major == 5 && v > (n - pos) / 2)
                return cc_error_set(err, CC_EINVAL, "%s: not valid CBOR (map longer than the input)", what);
            if (major == 5)
                v *= 2;
            if (v > n - pos)
                return cc_error_set(err, CC_EINVAL, "%s: not valid CBOR (array longer than the input)", what);
            if (depth + 1 > max_depth)
                return cc_error_set(err, CC_EINVAL, "%s: CBOR nested more than %d deep", what, max_depth);
            pending[++depth] = v;
            break;
        case 6:
            pending[depth]++; /* a tag wraps one more item */
            break;
        case 7: /* simple values and floats: read_head already took their bytes */
            break;
        }
    }
    if (pos != n)
        return cc_error_set(err, CC_EINVAL, "%s: %zu trailing bytes after the document", what, n - pos);
    return CC_OK;
}

static cc_status parse_protected(const uint8_t *p, size_t n, int64_t *alg, cc_error *err)
{
    if (cc_cbor_check(p, n, 4, "COSE protected header", err) != CC_OK)
        return CC_EINVAL;
    struct cbor_load_result r;
    cbor_item_t *m = cbor_load(p, n, &r);
    cc_status s = CC_OK;
    if (!m || r.error.code != CBOR_ERR_NONE || r.read != n) {
        s = cc_error_set(err, CC_EINVAL, "COSE protected header: not one CBOR item");
        goto out;
    }
    if (!cbor_isa_map(m) || !cbor_map_is_definite(m) || cbor_map_size(m) != 1) {
        s = cc_error_set(err, CC_EINVAL, "COSE protected header: must be a map with only alg (key 1)");
        goto out;
    }
    struct cbor_pair *kv = cbor_map_handle(m);
    if (!cbor_isa_uint(kv[0].key) || cbor_get_int(kv[0].key) != 1) {
        s = cc_error_set(err, CC_EINVAL, "COSE protected header: the only key must be 1 (alg)");
        goto out;
    }
    if (cbor_isa_negint(kv[0].value))
        *alg = -1 - (int64_t)(cbor_get_int(kv[0].value) & 0x7fffffffffffffffULL);
    else if (cbor_isa_uint(kv[0].value))
        *alg = (int64_t)(cbor_get_int(kv[0].value) & 0x7fffffffffffffffULL);
    else {
        s = cc_error_set(err, CC_EINVAL, "COSE protected header: alg must be an integer");
        goto out;
    }
    if (*alg != CC_COSE_ALG_ES384)
        s = cc_error_set(err, CC_EINVAL, "COSE protected header: alg is %lld, expected -35 (ES384)", (long long)*alg);
out:
    if (m)
        cbor_decref(&m);
    return s;
}

cc_status cc_cose_sign1_parse(const uint8_t *doc, size_t len, size_t max_len, cc_cose_sign1 *out, cc_error *err)
{
    memset(out, 0, sizeof *out);
    if (!doc || len == 0)
        return cc_error_set(err, CC_EINVAL, "COSE_Sign1: empty document");
    if (len > max_len)
        return cc_error_set(err, CC_EINVAL, "COSE_Sign1: document is %zu bytes, more than %zu", len, max_len);
    /* libcbor 0.8 cannot load tags: tag 18 (one byte, D2) is taken off by hand. */
    if (doc[0] == 0xD2) {
        out->tagged = 1;
        doc++;
        len--;
    } else if ((doc[0] & 0xE0) == 0xC0) {
        return cc_error_set(err, CC_EINVAL, "COSE_Sign1: CBOR tag other than 18");
    }
    if (cc_cbor_check(doc, len, 16, "COSE_Sign1", err) != CC_OK)
        return CC_EINVAL;
    struct cbor_load_result r;
    cbor_item_t *a = cbor_load(doc, len, &r);
    cc_status s = CC_OK;
    if (!a || r.error.code != CBOR_ERR_NONE) {
        s = cc_error_set(err, CC_EINVAL, "COSE_Sign1: not valid CBOR (truncated or malformed at byte %zu)",
                         r.error.position);
        goto out;
    }
    if (r.read != len) {
        s = cc_error_set(err, CC_EINVAL, "COSE_Sign1: %zu trailing bytes after the document", len - r.read);
        goto out;
    }
    if (!cbor_isa_array(a) || !cbor_array_is_definite(a) || cbor_array_size(a) != 4) {
        s = cc_error_set(err, CC_EINVAL, "COSE_Sign1: must be an array of 4 items");
        goto out;
    }
    cbor_item_t **it = cbor_array_handle(a);
    if (!is_definite_bstr(it[0])) {
        s = cc_error_set(err, CC_EINVAL, "COSE_Sign1: protected header must be a byte string");
        goto out;
    }
    if (!cbor_isa_map(it[1])) {
        s = cc_error_set(err, CC_EINVAL, "COSE_Sign1: unprotected header must be a map");
        goto out;
    }
    if (!is_definite_bstr(it[2]) || cbor_bytestring_length(it[2]) == 0) {
        s = cc_error_set(err, CC_EINVAL, "COSE_Sign1: payload must be a non-empty byte string");
        goto out;
    }
    if (!is_definite_bstr(it[3]) || cbor_bytestring_length(it[3]) != CC_COSE_ES384_SIG_LEN) {
        s = cc_error_set(err, CC_EINVAL, "COSE_Sign1: signature must be a byte string of 96 bytes (r||s)");
        goto out;
    }
    if ((s = parse_protected(cbor_bytestring_handle(it[0]), cbor_bytestring_length(it[0]), &out->alg, err)) != CC_OK)
        goto out;
    out->protected_len = cbor_bytestring_length(it[0]);
    out->payload_len = cbor_bytestring_length(it[2]);
    out->protected_hdr = dup_bytes(cbor_bytestring_handle(it[0]), out->protected_len);
    out->payload = dup_bytes(cbor_bytestring_handle(it[2]), out->payload_len);
    memcpy(out->signature, cbor_bytestring_handle(it[3]), CC_COSE_ES384_SIG_LEN);
    if (!out->protected_hdr || !out->payload)
        s = cc_error_set(err, CC_ENOMEM, "COSE_Sign1: out of memory");
out:
    if (a)
        cbor_decref(&a);
    if (s != CC_OK)
        cc_cose_sign1_free(out);
    return s;
}

void cc_cose_sign1_free(cc_cose_sign1 *c)
{
    if (!c)
        return;
    free(c->protected_hdr);
    free(c->payload);
    memset(c, 0, sizeof *c);
}

cc_status cc_cose_sig_structure(const uint8_t *protected_hdr, size_t protected_len, const uint8_t *payload,
                                size_t payload_len, uint8_t **out, size_t *out_len, cc_error *err)
{
    static const char ctx[] = "Signature1";
    size_t cap = 64 + protected_len + payload_len, n = 0, w;
    uint8_t *b = malloc(cap);
    if (!b)
        return cc_error_set(err, CC_ENOMEM, "Sig_structure: out of memory");
    /* Each encoder writes a minimal-length header; 0 means no room (cannot happen with cap above). */
    if (!(w = cbor_encode_array_start(4, b + n, cap - n))) goto fail;
    n += w;
    if (!(w = cbor_encode_string_start(sizeof ctx - 1, b + n, cap - n))) goto fail;
    n += w;
    memcpy(b + n, ctx, sizeof ctx - 1);
    n += sizeof ctx - 1;
    if (!(w = cbor_encode_bytestring_start(protected_len, b + n, cap - n))) goto fail;
    n += w;
    memcpy(b + n, protected_hdr, protected_len);
    n += protected_len;
    if (!(w = cbor_encode_bytestring_start(0, b + n, cap - n))) goto fail;
    n += w;
    if (!(w = cbor_encode_bytestring_start(payload_len, b + n, cap - n))) goto fail;
    n += w;
    memcpy(b + n, payload, payload_len);
    n += payload_len;
    *out = b;
    *out_len = n;
    return CC_OK;
fail:
    free(b);
    return cc_error_set(err, CC_EINTERNAL, "Sig_structure: encoding failed");
}

/* Whether key is an EC key on P-384. */
static int is_p384(EVP_PKEY *key)
{
    char group[64];
    size_t gl = 0;
    return key && EVP_PKEY_base_id(key) == EVP_PKEY_EC &&
           EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &gl) == 1 &&
           strcmp(group, "secp384r1") == 0;
}

cc_status cc_cose_sign1_verify(const cc_cose_sign1 *c, EVP_PKEY *key, cc_error *err)
{
    if (c->alg != CC_COSE_ALG_ES384)
        return cc_error_set(err, CC_EINVAL, "COSE_Sign1: alg is not ES384");
    if (!is_p384(key))
        return cc_error_set(err, CC_ECRYPTO, "COSE_Sign1: the signing key is not an EC P-384 key");
    uint8_t *tbs = NULL, *der = NULL;
    size_t tbs_len = 0;
    cc_status s = cc_cose_sig_structure(c->protected_hdr, c->protected_len, c->payload, c->payload_len, &tbs,
                                        &tbs_len, err);
    if (s != CC_OK)
        return s;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(c->signature, 48, NULL), *sv = BN_bin2bn(c->signature + 48, 48, NULL);
    int der_len = 0, ok = 0;
    if (sig && r && sv && ECDSA_SIG_set0(sig, r, sv) == 1) {
        r = sv = NULL; /* owned by sig now */
        der_len = i2d_ECDSA_SIG(sig, &der);
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (der_len > 0 && md && EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, key) == 1)
        ok = EVP_DigestVerify(md, der, (size_t)der_len, tbs, tbs_len) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    BN_free(r);
    BN_free(sv);
    ECDSA_SIG_free(sig);
    free(tbs);
    if (!ok)
        return cc_error_set(err, CC_ECRYPTO, "COSE_Sign1: the ES384 signature does not verify with the certificate's key");
    return CC_OK;
}

cc_status cc_cose_sign1_sign(EVP_PKEY *key, const uint8_t *protected_hdr, size_t protected_len, const uint8_t *payload,
                             size_t payload_len, int tagged, uint8_t **out, size_t *out_len, cc_error *err)
{
    if (!protected_hdr) {
        protected_hdr = es384_protected;
        protected_len = sizeof es384_protected;
    }
    uint8_t *tbs = NULL;
    size_t tbs_len = 0, sl = 0;
    cc_status s = cc_cose_sig_structure(protected_hdr, protected_len, payload, payload_len, &tbs, &tbs_len, err);
    if (s != CC_OK)
        return s;
    unsigned char *der = NULL;
    uint8_t rs[CC_COSE_ES384_SIG_LEN];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
             EVP_DigestSign(md, NULL, &sl, tbs, tbs_len) == 1 && (der = OPENSSL_malloc(sl)) != NULL &&
             EVP_DigestSign(md, der, &sl, tbs, tbs_len) == 1;
    EVP_MD_CTX_free(md);
    free(tbs);
    if (ok) {
        const unsigned char *p = der;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sl);
        ok = es && BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 48) == 48 &&
             BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 48, 48) == 48;
        ECDSA_SIG_free(es);
    }
    OPENSSL_free(der);
    if (!ok)
        return cc_error_set(err, CC_ECRYPTO, "COSE_Sign1: ES384 signing failed (is the key P-384?)");
    size_t cap = 32 + protected_len + payload_len + CC_COSE_ES384_SIG_LEN, n = 0;
    uint8_t *b = malloc(cap);
    if (!b)
        return cc_error_set(err, CC_ENOMEM, "COSE_Sign1: out of memory");
    if (tagged)
        n += cbor_encode_tag(18, b + n, cap - n);
    n += cbor_encode_array_start(4, b + n, cap - n);
    n += cbor_encode_bytestring_start(protected_len, b + n, cap - n);
    memcpy(b + n, protected_hdr, protected_len);
    n += protected_len;
    n += cbor_encode_map_start(0, b + n, cap - n);
    n += cbor_encode_bytestring_start(payload_len, b + n, cap - n);
    memcpy(b + n, payload, payload_len);
    n += payload_len;
    n += cbor_encode_bytestring_start(CC_COSE_ES384_SIG_LEN, b + n, cap - n);
    memcpy(b + n, rs, CC_COSE_ES384_SIG_LEN);
    n += CC_COSE_ES384_SIG_LEN;
    *out = b;
    *out_len = n;
    return CC_OK;
}
