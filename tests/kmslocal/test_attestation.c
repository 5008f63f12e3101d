/*
 * test_attestation.c — Nitro attestation documents (COSE_Sign1, ES384, the
 * certificate chain to a pinned root) as kms-local verifies them, and the
 * CiphertextForRecipient CMS EnvelopedData: its shape (as AWS KMS's and as
 * aws-nitro-enclaves-sdk-c parses it) and that OpenSSL's CMS_decrypt opens it
 * with the enclave's RSA key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/cms.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "kmslocal/attdoc.h"
#include "kmslocal/kmslocal.h"
#include "test.h"

static attdoc_ca ca, ca2;
static EVP_PKEY *rsa;
static uint8_t *spki;
static size_t spki_len;

static uint8_t *doc_for(const attdoc_ca *c, const attdoc_fields *f, size_t *len)
{
    uint8_t *d = NULL;
    cc_error err;
    if (attdoc_build(c, f, &d, len, &err) != CC_OK) {
        fprintf(stderr, "  attdoc_build: %s\n", err.msg);
        return NULL;
    }
    return d;
}

static attdoc_fields fields(void)
{
    attdoc_fields f;
    memset(&f, 0, sizeof f);
    for (int i = 0; i < ATTDOC_NPCRS; i++)
        memset(f.pcrs[i], i * 17, 48);
    f.public_key = spki;
    f.public_key_len = spki_len;
    f.user_data = (const uint8_t *)"user-data";
    f.user_data_len = 9;
    f.nonce = (const uint8_t *)"nonce-123";
    f.nonce_len = 9;
    return f;
}

TEST(document_verifies_and_reads_back)
{
    for (int tagged = 0; tagged < 2; tagged++) {
        attdoc_fields f = fields();
        f.tagged = tagged;
        f.module_id = "i-00000000000000001-enc00000000000000001";
        size_t len;
        uint8_t *d = doc_for(&ca, &f, &len);
        CHECK(d != NULL);
        if (!d)
            return;
        if (!tagged) {
            static const uint8_t nsm_start[] = {0x84, 0x44, 0xA1, 0x01, 0x38, 0x22};
            CHECK(memcmp(d, nsm_start, sizeof nsm_start) == 0);
        } else {
            CHECK(d[0] == 0xD2);
        }
        kl_attestation a;
        cc_error err;
        cc_status s = kl_attestation_verify(d, len, ca.root, time(NULL), 300, &a, &err);
        CHECK_MSG(s == CC_OK, "%s", err.msg);
        if (s == CC_OK) {
            CHECK_EQ_STR(a.module_id, "i-00000000000000001-enc00000000000000001");
            CHECK_EQ_STR(a.digest, "SHA384");
            for (int i = 0; i < ATTDOC_NPCRS; i++) {
                CHECK_EQ_INT(a.pcr_len[i], 48);
                CHECK(memcmp(a.pcr[i], f.pcrs[i], 48) == 0);
            }
            CHECK_EQ_INT(a.pcr_len[16], 0);
            CHECK(a.public_key_len == spki_len && memcmp(a.public_key, spki, spki_len) == 0);
            CHECK(a.user_data_len == 9 && memcmp(a.user_data, "user-data", 9) == 0);
            CHECK(a.nonce_len == 9 && memcmp(a.nonce, "nonce-123", 9) == 0);
            kl_attestation_free(&a);
        }
        free(d);
    }
}

TEST(optional_fields_may_be_null)
{
    attdoc_fields f = fields();
    f.public_key = NULL;
    f.user_data = NULL;
    f.nonce = NULL;
    size_t len;
    uint8_t *d = doc_for(&ca, &f, &len);
    kl_attestation a;
    cc_error err;
    CHECK_MSG(kl_attestation_verify(d, len, ca.root, time(NULL), 300, &a, &err) == CC_OK, "%s", err.msg);
    CHECK(a.public_key == NULL && a.user_data == NULL && a.nonce == NULL);
    kl_attestation_free(&a);
    free(d);
}

TEST(untrusted_or_tampered_documents_are_refused)
{
    attdoc_fields f = fields();
    size_t len;
    uint8_t *d = doc_for(&ca, &f, &len);
    kl_attestation a;
    cc_error err;

    /* pinned to another root */
    CHECK(kl_attestation_verify(d, len, ca2.root, time(NULL), 300, &a, &err) != CC_OK);
    CHECK(strstr(err.msg, "trusted root") != NULL);

    /* a flipped bit in the signature, then in the payload (a PCR byte) */
    d[len - 1] ^= 1;
    CHECK(kl_attestation_verify(d, len, ca.root, time(NULL), 300, &a, &err) != CC_OK);
    d[len - 1] ^= 1;
    CHECK(kl_attestation_verify(d, len, ca.root, time(NULL), 300, &a, &err) == CC_OK);
    kl_attestation_free(&a);
    uint8_t want[48];
    memset(want, 8 * 17, 48);
    uint8_t *pcr8 = memmem(d, len, want, 48);
    CHECK(pcr8 != NULL);
    if (pcr8) {
        pcr8[0] ^= 1;
        CHECK(kl_attestation_verify(d, len, ca.root, time(NULL), 300, &a, &err) != CC_OK);
        CHECK(strstr(err.msg, "signature") != NULL);
    }
    /* truncated */
    CHECK(kl_attestation_verify(d, len - 10, ca.root, time(NULL), 300, &a, &err) != CC_OK);
    free(d);

    /* a leaf of another CA presented under our root */
    attdoc_ca mixed = {.root = ca.root, .inter = ca2.inter, .leaf = ca2.leaf, .leaf_key = ca2.leaf_key};
    d = doc_for(&mixed, &f, &len);
    CHECK(kl_attestation_verify(d, len, ca.root, time(NULL), 300, &a, &err) != CC_OK);
    CHECK(strstr(err.msg, "chain") != NULL);
    free(d);

    /* signed by a key that is not the certificate's */
    attdoc_ca wrongkey = ca;
    wrongkey.leaf_key = ca2.leaf_key;
    d = doc_for(&wrongkey, &f, &len);
    CHECK(kl_attestation_verify(d, len, ca.root, time(NULL), 300, &a, &err) != CC_OK);
    free(d);
}

TEST(every_truncation_and_byte_flip_is_refused)
{
    attdoc_fields f = fields();
    size_t len;
    uint8_t *d = doc_for(&ca, &f, &len);
    CHECK(d != NULL);
    if (!d)
        return;
    kl_attestation a;
    int accepted = 0;
    for (size_t n = 0; n < len; n += 3)
        accepted += kl_attestation_verify(d, n, ca.root, time(NULL), 300, &a, NULL) == CC_OK;
    /* flipping any bit the signature covers (or the signature itself) must be caught; bytes of the
     * unprotected header are the only ones outside it, and it is an empty map here */
    for (size_t i = 0; i < len; i += 5) {
        d[i] ^= 0x40;
        if (kl_attestation_verify(d, len, ca.root, time(NULL), 300, &a, NULL) == CC_OK) {
            accepted++;
            kl_attestation_free(&a);
        }
        d[i] ^= 0x40;
    }
    CHECK_EQ_INT(accepted, 0);
    free(d);
}

TEST(age_and_validity)
{
    attdoc_fields f = fields();
    time_t now = time(NULL);
    size_t len;
    kl_attestation a;
    cc_error err;
    /* 10 minutes old: too old for 300 s, fine for 900 s */
    f.timestamp_ms = (uint64_t)(now - 600) * 1000;
    uint8_t *d = doc_for(&ca, &f, &len);
    CHECK(kl_attestation_verify(d, len, ca.root, now, 300, &a, &err) != CC_OK);
    CHECK(strstr(err.msg, "older") != NULL);
    CHECK(kl_attestation_verify(d, len, ca.root, now, 900, &a, &err) == CC_OK);
    kl_attestation_free(&a);
    free(d);
    /* from the future */
    f.timestamp_ms = (uint64_t)(now + 600) * 1000;
    d = doc_for(&ca, &f, &len);
    CHECK(kl_attestation_verify(d, len, ca.root, now, 300, &a, &err) != CC_OK);
    free(d);
    /* timestamped before the leaf certificate was valid (it starts 1 hour ago) */
    f.timestamp_ms = (uint64_t)(now - 2 * 3600) * 1000;
    d = doc_for(&ca, &f, &len);
    CHECK(kl_attestation_verify(d, len, ca.root, now, 3 * 3600, &a, &err) != CC_OK);
    CHECK(strstr(err.msg, "chain") != NULL);
    free(d);
}

/* Steps into a DER TLV of the expected tag/class; returns the content and advances past it. */
static const unsigned char *der_take(const unsigned char **p, long *left, int want_tag, int want_class, long *clen)
{
    const unsigned char *q = *p;
    int tag, xclass;
    long len;
    int r = ASN1_get_object(&q, &len, &tag, &xclass, *left);
    if ((r & 0x80) || tag != want_tag || xclass != want_class)
        return NULL;
    const unsigned char *content = q;
    *left -= (q - *p) + len;
    *p = q + len;
    *clen = len;
    return content;
}

TEST(cms_envelope_shape_and_round_trip)
{
    const uint8_t secret[] = "thirty-two bytes of secret data!";
    uint8_t *der = NULL;
    size_t dlen = 0;
    cc_error err;
    CHECK_MSG(kl_cms_envelope(spki, spki_len, secret, 32, &der, &dlen, &err) == CC_OK, "%s", err.msg);
    if (!der)
        return;

    /* ContentInfo { envelopedData, [0] EnvelopedData { version 2, recipientInfos { KTRI { version 2,
     * [0] subjectKeyIdentifier, rsaesOaep(sha256, mgf1(sha256)), encryptedKey } }, EncryptedContentInfo } } */
    const unsigned char *p = der, *c;
    long left = (long)dlen, n;
    c = der_take(&p, &left, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &n);
    CHECK(c != NULL);
    if (!c) goto out;
    p = c; left = n;
    c = der_take(&p, &left, V_ASN1_OBJECT, V_ASN1_UNIVERSAL, &n);
    static const unsigned char enveloped_oid[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x03};
    CHECK(c && n == 9 && memcmp(c, enveloped_oid, 9) == 0);
    c = der_take(&p, &left, 0, V_ASN1_CONTEXT_SPECIFIC, &n);
    p = c; left = n;
    c = der_take(&p, &left, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &n);  /* EnvelopedData */
    p = c; left = n;
    c = der_take(&p, &left, V_ASN1_INTEGER, V_ASN1_UNIVERSAL, &n);
    CHECK(c && n == 1 && c[0] == 2);
    const unsigned char *after_ris = p;
    long after_left = left;
    c = der_take(&after_ris, &after_left, V_ASN1_SET, V_ASN1_UNIVERSAL, &n);  /* recipientInfos */
    CHECK(c != NULL);
    if (!c) goto out;
    const unsigned char *rp = c;
    long rl = n;
    c = der_take(&rp, &rl, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &n);  /* the one KTRI */
    CHECK(rl == 0); /* exactly one recipient */
    rp = c; rl = n;
    c = der_take(&rp, &rl, V_ASN1_INTEGER, V_ASN1_UNIVERSAL, &n);
    CHECK(c && n == 1 && c[0] == 2);
    c = der_take(&rp, &rl, 0, V_ASN1_CONTEXT_SPECIFIC, &n);  /* [0] SubjectKeyIdentifier */
    CHECK(c && n == 20);
    /* EncryptedContentInfo { id-data, aes-256-cbc(IV 16 bytes), [0] ciphertext } */
    c = der_take(&after_ris, &after_left, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &n);
    CHECK(c != NULL);
    static const unsigned char aes256cbc_iv[] = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
                                                 0x04, 0x01, 0x2A, 0x04, 0x10};
    CHECK(c && memmem(c, (size_t)n, aes256cbc_iv, sizeof aes256cbc_iv) != NULL);

    /* RSA-OAEP parameters, through OpenSSL's own reading */
    const unsigned char *q = der;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &q, (long)dlen);
    CHECK(cms != NULL);
    if (!cms) goto out;
    STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
    CHECK_EQ_INT(sk_CMS_RecipientInfo_num(ris), 1);
    CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(ris, 0);
    CHECK_EQ_INT(CMS_RecipientInfo_type(ri), CMS_RECIPINFO_TRANS);
    X509_ALGOR *alg = NULL;
    CHECK(CMS_RecipientInfo_ktri_get0_algs(ri, NULL, NULL, &alg) == 1);
    const ASN1_OBJECT *aobj;
    int ptype;
    const void *pval;
    X509_ALGOR_get0(&aobj, &ptype, &pval, alg);
    CHECK_EQ_INT(OBJ_obj2nid(aobj), NID_rsaesOaep);
    RSA_OAEP_PARAMS *oaep = ptype == V_ASN1_SEQUENCE
                                ? ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_OAEP_PARAMS), alg->parameter)
                                : NULL;
    CHECK(oaep != NULL);
    if (oaep) {
        CHECK(oaep->hashFunc && OBJ_obj2nid(oaep->hashFunc->algorithm) == NID_sha256);
        CHECK(oaep->maskGenFunc && OBJ_obj2nid(oaep->maskGenFunc->algorithm) == NID_mgf1);
        X509_ALGOR *mh = oaep->maskGenFunc
                             ? ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR), oaep->maskGenFunc->parameter)
                             : NULL;
        CHECK(mh && OBJ_obj2nid(mh->algorithm) == NID_sha256);
        X509_ALGOR_free(mh);
        RSA_OAEP_PARAMS_free(oaep);
    }

    /* CMS_decrypt with the enclave's private key (no certificate) opens it */
    BIO *outb = BIO_new(BIO_s_mem());
    CHECK(CMS_decrypt(cms, rsa, NULL, NULL, outb, CMS_BINARY) == 1);
    char *got = NULL;
    long gl = BIO_get_mem_data(outb, &got);
    CHECK(gl == 32 && memcmp(got, secret, 32) == 0);
    BIO_free(outb);

    /* and another key does not */
    EVP_PKEY *other = EVP_RSA_gen(2048);
    outb = BIO_new(BIO_s_mem());
    CHECK(CMS_decrypt(cms, other, NULL, NULL, outb, CMS_BINARY | CMS_DEBUG_DECRYPT) != 1);
    BIO_free(outb);
    EVP_PKEY_free(other);
    CMS_ContentInfo_free(cms);
out:
    free(der);
}

TEST(cms_refuses_non_rsa_keys)
{
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    unsigned char *d = NULL;
    int n = i2d_PUBKEY(ec, &d);
    uint8_t *out = NULL;
    size_t ol;
    cc_error err;
    CHECK(kl_cms_envelope(d, (size_t)n, (const uint8_t *)"x", 1, &out, &ol, &err) == CC_EINVAL);
    CHECK(kl_cms_envelope((const uint8_t *)"junk", 4, (const uint8_t *)"x", 1, &out, &ol, &err) == CC_EINVAL);
    OPENSSL_free(d);
    EVP_PKEY_free(ec);
}

TEST(ca_save_and_load)
{
    char dir[] = "/tmp/cc-attdoc.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    cc_error err;
    CHECK(attdoc_ca_save(&ca, dir, &err) == CC_OK);
    attdoc_ca back;
    CHECK(attdoc_ca_load(&back, dir, &err) == CC_OK);
    attdoc_fields f = fields();
    size_t len;
    uint8_t *d = doc_for(&back, &f, &len);
    kl_attestation a;
    CHECK(d && kl_attestation_verify(d, len, ca.root, time(NULL), 300, &a, &err) == CC_OK);
    kl_attestation_free(&a);
    free(d);
    attdoc_ca_free(&back);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    cc_error err;
    if (attdoc_ca_generate(&ca, &err) != CC_OK || attdoc_ca_generate(&ca2, &err) != CC_OK ||
        attdoc_rsa_key(&rsa, &spki, &spki_len, &err) != CC_OK) {
        printf("set-up failed: %s\n0 passed, 1 failed\n", err.msg);
        return 1;
    }
    RUN(document_verifies_and_reads_back);
    RUN(optional_fields_may_be_null);
    RUN(untrusted_or_tampered_documents_are_refused);
    RUN(every_truncation_and_byte_flip_is_refused);
    RUN(age_and_validity);
    RUN(cms_envelope_shape_and_round_trip);
    RUN(cms_refuses_non_rsa_keys);
    RUN(ca_save_and_load);
    attdoc_ca_free(&ca);
    attdoc_ca_free(&ca2);
    EVP_PKEY_free(rsa);
    free(spki);
    TEST_MAIN_END();
}
