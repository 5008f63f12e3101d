/*
 * attdoc.c — test attestation documents in the Nitro format (see attdoc.h).
 * CBOR through libcbor, certificates and ES384 through OpenSSL.
 */
#include "kmslocal/attdoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cbor.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

static EVP_PKEY *p384_key(void) { return EVP_EC_gen("secp384r1"); }

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = e && X509_add_ext(cert, e, -1);
    X509_EXTENSION_free(e);
    return ok;
}

/* A certificate for key, signed by issuer_key (self-signed when issuer is NULL). */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, long from_s, long days,
                       int ca, long serial)
{
    X509 *x = X509_new();
    X509_NAME *nm = X509_NAME_new();
    int ok = x && nm && X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), serial) &&
             X509_NAME_add_entry_by_txt(nm, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0) &&
             X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"containment-chamber tests",
                                        -1, -1, 0) &&
             X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) &&
             X509_set_subject_name(x, nm) &&
             X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : nm) &&
             X509_gmtime_adj(X509_getm_notBefore(x), from_s) &&
             X509_gmtime_adj(X509_getm_notAfter(x), from_s + days * 86400L) && X509_set_pubkey(x, key);
    X509 *iss = issuer ? issuer : x;
    ok = ok && add_ext(x, iss, NID_subject_key_identifier, "hash") &&
         add_ext(x, iss, NID_authority_key_identifier, "keyid:always");
    if (ca)
        ok = ok && add_ext(x, iss, NID_basic_constraints, ca > 1 ? "critical,CA:TRUE" : "critical,CA:TRUE,pathlen:0") &&
             add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
    else
        ok = ok && add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE") &&
             add_ext(x, iss, NID_key_usage, "critical,digitalSignature");
    ok = ok && X509_sign(x, issuer_key, EVP_sha384()) > 0;
    X509_NAME_free(nm);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

cc_status attdoc_ca_generate(attdoc_ca *ca, cc_error *err)
{
    memset(ca, 0, sizeof *ca);
    ca->root_key = p384_key();
    ca->inter_key = p384_key();
    ca->leaf_key = p384_key();
    if (!ca->root_key || !ca->inter_key || !ca->leaf_key) {
        attdoc_ca_free(ca);
        return cc_error_set(err, CC_ECRYPTO, "cannot generate P-384 keys");
    }
    ca->root = make_cert("test.nitro-enclaves root", ca->root_key, NULL, ca->root_key, -3600, 3650, 2, 1);
    ca->inter = ca->root ? make_cert("test.nitro-enclaves intermediate", ca->inter_key, ca->root, ca->root_key,
                                     -3600, 365, 1, 2)
                         : NULL;
    ca->leaf = ca->inter ? make_cert("i-0123456789abcdef0-enc0123456789abcdef.test", ca->leaf_key, ca->inter,
                                     ca->inter_key, -3600, 1, 0, 3)
                         : NULL;
    if (!ca->leaf) {
        attdoc_ca_free(ca);
        return cc_error_set(err, CC_ECRYPTO, "cannot make the test certificate chain");
    }
    return CC_OK;
}

static cc_status write_pem(const char *dir, const char *name, X509 *x, EVP_PKEY *k, cc_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return cc_error_set(err, CC_EIO, "%s: cannot write", path);
    int ok = x ? PEM_write_X509(f, x) : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    if (fclose(f) != 0 || !ok)
        return cc_error_set(err, CC_EIO, "%s: cannot write", path);
    return CC_OK;
}

cc_status attdoc_ca_save(const attdoc_ca *ca, const char *dir, cc_error *err)
{
    cc_status s;
    if ((s = write_pem(dir, "root.pem", ca->root, NULL, err)) != CC_OK ||
        (s = write_pem(dir, "inter.pem", ca->inter, NULL, err)) != CC_OK ||
        (s = write_pem(dir, "leaf.pem", ca->leaf, NULL, err)) != CC_OK ||
        (s = write_pem(dir, "root.key", NULL, ca->root_key, err)) != CC_OK ||
        (s = write_pem(dir, "inter.key", NULL, ca->inter_key, err)) != CC_OK ||
        (s = write_pem(dir, "leaf.key", NULL, ca->leaf_key, err)) != CC_OK)
        return s;
    return CC_OK;
}

static void *read_pem(const char *dir, const char *name, int cert)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    void *r = cert ? (void *)PEM_read_X509(f, NULL, NULL, NULL) : (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return r;
}

cc_status attdoc_ca_load(attdoc_ca *ca, const char *dir, cc_error *err)
{
    memset(ca, 0, sizeof *ca);
    ca->root = read_pem(dir, "root.pem", 1);
    ca->inter = read_pem(dir, "inter.pem", 1);
    ca->leaf = read_pem(dir, "leaf.pem", 1);
    ca->root_key = read_pem(dir, "root.key", 0);
    ca->inter_key = read_pem(dir, "inter.key", 0);
    ca->leaf_key = read_pem(dir, "leaf.key", 0);
    if (!ca->root || !ca->inter || !ca->leaf || !ca->root_key || !ca->inter_key || !ca->leaf_key) {
        attdoc_ca_free(ca);
        return cc_error_set(err, CC_EIO, "%s: cannot read the test CA (root/inter/leaf .pem and .key)", dir);
    }
    return CC_OK;
}

void attdoc_ca_free(attdoc_ca *ca)
{
    X509_free(ca->root);
    X509_free(ca->inter);
    X509_free(ca->leaf);
    EVP_PKEY_free(ca->root_key);
    EVP_PKEY_free(ca->inter_key);
    EVP_PKEY_free(ca->leaf_key);
    memset(ca, 0, sizeof *ca);
}

static cbor_item_t *cert_bstr(X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    cbor_item_t *b = n > 0 ? cbor_build_bytestring(der, (size_t)n) : NULL;
    OPENSSL_free(der);
    return b;
}

static cbor_item_t *opt_bstr(const uint8_t *p, size_t n) { return p ? cbor_build_bytestring(p, n) : cbor_new_null(); }

/* Adds key → value to map (consumes value's reference). */
static int put(cbor_item_t *map, const char *key, cbor_item_t *value)
{
    if (!value)
        return 0;
    int ok = cbor_map_add(map, (struct cbor_pair){.key = cbor_move(cbor_build_string(key)), .value = cbor_move(value)});
    return ok;
}

static uint8_t *serialize(cbor_item_t *it, size_t *len)
{
    unsigned char *buf = NULL;
    size_t cap = 0;
    *len = cbor_serialize_alloc(it, &buf, &cap);
    if (!*len) {
        free(buf);
        return NULL;
    }
    return buf;
}

cc_status attdoc_build(const attdoc_ca *ca, const attdoc_fields *f, uint8_t **out, size_t *out_len, cc_error *err)
{
    uint64_t ts = f->timestamp_ms;
    if (!ts) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        ts = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
    }
    cc_status s = CC_OK;
    cbor_item_t *payload = cbor_new_definite_map(9), *pcrs = cbor_new_definite_map(ATTDOC_NPCRS),
                *cab = cbor_new_definite_array(2), *prot = cbor_new_definite_map(1), *cose = NULL;
    uint8_t *pl = NULL, *pr = NULL, *tbs = NULL, *doc = NULL;
    size_t pl_len = 0, pr_len = 0, tbs_len = 0, doc_len = 0;
    unsigned char *dersig = NULL;
    int ok = payload && pcrs && cab && prot;
    for (int i = 0; ok && i < ATTDOC_NPCRS; i++)
        ok = cbor_map_add(pcrs, (struct cbor_pair){.key = cbor_move(cbor_build_uint8((uint8_t)i)),
                                                   .value = cbor_move(cbor_build_bytestring(f->pcrs[i], 48))});
    ok = ok && cbor_array_push(cab, cbor_move(cert_bstr(ca->root))) && cbor_array_push(cab, cbor_move(cert_bstr(ca->inter)));
    ok = ok && put(payload, "module_id",
                   cbor_build_string(f->module_id ? f->module_id : "i-0123456789abcdef0-enc0123456789abcdef")) &&
         put(payload, "digest", cbor_build_string("SHA384")) && put(payload, "timestamp", cbor_build_uint64(ts)) &&
         put(payload, "pcrs", cbor_incref(pcrs)) && put(payload, "certificate", cert_bstr(ca->leaf)) &&
         put(payload, "cabundle", cbor_incref(cab)) &&
         put(payload, "public_key", opt_bstr(f->public_key, f->public_key_len)) &&
         put(payload, "user_data", opt_bstr(f->user_data, f->user_data_len)) &&
         put(payload, "nonce", opt_bstr(f->nonce, f->nonce_len));
    ok = ok && cbor_map_add(prot, (struct cbor_pair){.key = cbor_move(cbor_build_uint8(1)),
                                                    .value = cbor_move(cbor_build_negint8(34))});
    ok = ok && (pl = serialize(payload, &pl_len)) != NULL && (pr = serialize(prot, &pr_len)) != NULL;
    if (!ok) {
        s = cc_error_set(err, CC_ENOMEM, "cannot encode the attestation payload");
        goto out;
    }
    /* Sig_structure = ["Signature1", protected, h'', payload] */
    cbor_item_t *ss = cbor_new_definite_array(4);
    ok = ss && cbor_array_push(ss, cbor_move(cbor_build_string("Signature1"))) &&
         cbor_array_push(ss, cbor_move(cbor_build_bytestring(pr, pr_len))) &&
         cbor_array_push(ss, cbor_move(cbor_build_bytestring((cbor_data) "", 0))) &&
         cbor_array_push(ss, cbor_move(cbor_build_bytestring(pl, pl_len)));
    tbs = ok ? serialize(ss, &tbs_len) : NULL;
    if (ss)
        cbor_decref(&ss);
    if (!tbs) {
        s = cc_error_set(err, CC_ENOMEM, "cannot encode the Sig_structure");
        goto out;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t sl = 0;
    ok = md && EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, ca->leaf_key) == 1 &&
         EVP_DigestSign(md, NULL, &sl, tbs, tbs_len) == 1 && (dersig = OPENSSL_malloc(sl)) != NULL &&
         EVP_DigestSign(md, dersig, &sl, tbs, tbs_len) == 1;
    EVP_MD_CTX_free(md);
    uint8_t rs[96];
    if (ok) {
        const unsigned char *p = dersig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sl);
        ok = es && BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 48) == 48 && BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 48, 48) == 48;
        ECDSA_SIG_free(es);
    }
    if (!ok) {
        s = cc_error_set(err, CC_ECRYPTO, "ES384 signing failed");
        goto out;
    }
    cbor_item_t *arr = cbor_new_definite_array(4);
    ok = arr && cbor_array_push(arr, cbor_move(cbor_build_bytestring(pr, pr_len))) &&
         cbor_array_push(arr, cbor_move(cbor_new_definite_map(0))) &&
         cbor_array_push(arr, cbor_move(cbor_build_bytestring(pl, pl_len))) &&
         cbor_array_push(arr, cbor_move(cbor_build_bytestring(rs, 96)));
    if (ok && f->tagged)
        cose = cbor_build_tag(18, arr);
    else if (arr)
        cose = cbor_incref(arr);
    if (arr)
        cbor_decref(&arr);
    doc = ok && cose ? serialize(cose, &doc_len) : NULL;
    if (!doc) {
        s = cc_error_set(err, CC_ENOMEM, "cannot encode the COSE_Sign1");
        goto out;
    }
    *out = doc;
    *out_len = doc_len;
out:
    OPENSSL_free(dersig);
    free(pl);
    free(pr);
    free(tbs);
    if (cose) cbor_decref(&cose);
    if (payload) cbor_decref(&payload);
    if (pcrs) cbor_decref(&pcrs);
    if (cab) cbor_decref(&cab);
    if (prot) cbor_decref(&prot);
    return s;
}

cc_status attdoc_rsa_key(EVP_PKEY **key, uint8_t **spki, size_t *spki_len, cc_error *err)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    if (!k)
        return cc_error_set(err, CC_ECRYPTO, "cannot generate an RSA-2048 key");
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    if (n <= 0) {
        EVP_PKEY_free(k);
        return cc_error_set(err, CC_ECRYPTO, "cannot encode the RSA public key");
    }
    *spki = malloc((size_t)n);
    if (!*spki) {
        OPENSSL_free(der);
        EVP_PKEY_free(k);
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    memcpy(*spki, der, (size_t)n);
    *spki_len = (size_t)n;
    OPENSSL_free(der);
    *key = k;
    return CC_OK;
}

void attdoc_pcr_extend_once(const uint8_t *data, size_t len, uint8_t out[48])
{
    uint8_t buf[96] = {0};
    SHA384(data, len, buf + 48);
    SHA384(buf, sizeof buf, out);
}
