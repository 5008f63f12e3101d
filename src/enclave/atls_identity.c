/*
 * atls_identity.c — ephemeral aTLS key + certificate carrying the attestation
 * document (atls_identity.h).  The PEM of the private key is written through
 * OpenSSL's secure-memory BIO and copied into cc_secret memory.
 */
#include "enclave/atls_identity.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "enclave/attestation.h"
#include "util/hex.h"
#include "util/secret.h"

void cc_atls_identity_free(cc_atls_identity *id)
{
    if (!id)
        return;
    free(id->cert_pem);
    cc_secret_free(id->key_pem, id->key_size);
    memset(id, 0, sizeof *id);
}

/* notAfter of the document's leaf certificate. */
static cc_status doc_not_after(const uint8_t *doc, size_t len, time_t *out, cc_error *err)
{
    cc_attestation_doc d;
    cc_status st = cc_attestation_parse(doc, len, &d, err);
    if (st != CC_OK)
        return st;
    const unsigned char *p = d.certificate;
    X509 *leaf = d2i_X509(NULL, &p, (long)d.certificate_len);
    struct tm tm;
    if (!leaf || ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) != 1)
        st = cc_error_set(err, CC_ECRYPTO, "attestation document: unreadable signing certificate");
    else
        *out = timegm(&tm);
    X509_free(leaf);
    cc_attestation_doc_free(&d);
    return st;
}

cc_status cc_atls_identity_make(cc_nsm *nsm, cc_atls_identity *out, cc_error *err)
{
    memset(out, 0, sizeof *out);
    cc_status st = CC_OK;
    EVP_PKEY *key = EVP_EC_gen("P-384");
    X509 *x = X509_new();
    X509_NAME *nm = X509_NAME_new();
    uint8_t *doc = NULL;
    size_t doc_len = 0;
    BIO *kb = NULL, *cb = NULL;
    ASN1_OBJECT *oid = NULL;
    ASN1_OCTET_STRING *os = NULL;
    X509_EXTENSION *ext = NULL;
    uint8_t serial[16], h[32];
    BIGNUM *sn = NULL;
    if (!key || !x || !nm || RAND_bytes(serial, sizeof serial) != 1) {
        st = cc_error_set(err, CC_ECRYPTO, "aTLS: cannot make a P-384 key");
        goto out;
    }
    serial[0] &= 0x7f;
    sn = BN_bin2bn(serial, sizeof serial, NULL);
    if (!sn || !BN_to_ASN1_INTEGER(sn, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
        !X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"containment-chamber enclave", -1,
                                    -1, 0) ||
        !X509_set_subject_name(x, nm) || !X509_set_issuer_name(x, nm) || !X509_set_pubkey(x, key) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -300)) {
        st = cc_error_set(err, CC_ECRYPTO, "aTLS: cannot build the certificate");
        goto out;
    }
    if ((st = cc_attestation_spki_sha256(x, h, err)) != CC_OK)
        goto out;
    if ((st = nsm->ops->attestation(nsm, h, sizeof h, NULL, 0, NULL, 0, &doc, &doc_len, err)) != CC_OK) {
        cc_error_prefix(err, "aTLS: attestation document (%s)", nsm->ops->name);
        goto out;
    }
    if ((st = doc_not_after(doc, doc_len, &out->doc_not_after, err)) != CC_OK)
        goto out;
    oid = OBJ_txt2obj(CC_ATLS_OID, 1);
    os = ASN1_OCTET_STRING_new();
    if (!oid || !os || !ASN1_OCTET_STRING_set(os, doc, (int)doc_len) ||
        !(ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os)) || !X509_add_ext(x, ext, -1) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), out->doc_not_after) || X509_sign(x, key, EVP_sha384()) <= 0) {
        st = cc_error_set(err, CC_ECRYPTO, "aTLS: cannot sign the certificate");
        goto out;
    }
    char *p = NULL;
    kb = BIO_new(BIO_s_secmem());
    cb = BIO_new(BIO_s_mem());
    long kn, cn;
    if (!kb || !cb || !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) || !PEM_write_bio_X509(cb, x) ||
        (kn = BIO_get_mem_data(kb, &p)) <= 0) {
        st = cc_error_set(err, CC_ECRYPTO, "aTLS: cannot encode the key and certificate");
        goto out;
    }
    out->key_size = (size_t)kn + 1;
    out->key_pem = cc_secret_alloc(out->key_size);
    if (out->key_pem) {
        memcpy(out->key_pem, p, (size_t)kn);
        out->key_pem[kn] = '\0';
    }
    cn = BIO_get_mem_data(cb, &p);
    out->cert_pem = cn > 0 ? malloc((size_t)cn + 1) : NULL;
    if (!out->key_pem || !out->cert_pem) {
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(out->cert_pem, p, (size_t)cn);
    out->cert_pem[cn] = '\0';
    cc_hex_encode(h, sizeof h, out->spki_sha256);
    out->spki_sha256[64] = '\0';
out:
    if (st != CC_OK)
        cc_atls_identity_free(out);
    BIO_free(kb); /* secure memory: cleared on free */
    BIO_free(cb);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(oid);
    BN_free(sn);
    free(doc);
    X509_NAME_free(nm);
    X509_free(x);
    EVP_PKEY_free(key);
    return st;
}
