/*
 * test_recipient.c — the enclave side of KMS Decrypt with Recipient
 * (src/enclave/recipient.c): the ephemeral key and its attestation document
 * from the simulated NSM, and CMS EnvelopedData (RSAES-OAEP SHA-256 key
 * transport, AES-256-CBC content, as KMS sends it) opened with
 * OpenSSL's CMS_decrypt; tampered, foreign and oversized envelopes refused.
 * The envelopes are made here with OpenSSL's CMS_encrypt, the way kms-local
 * and AWS KMS shape them (tests/integration/enclave_unseal.sh runs the
 * real exchange against kms-local).
 */
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "enclave/attestation.h"
#include "enclave/nsm.h"
#include "enclave/recipient.h"
#include "test.h"

/* An envelope for pk (a throwaway certificate around it; KEYID recipient), content under cipher. */
static uint8_t *envelope(EVP_PKEY *pk, const uint8_t *content, size_t len, const EVP_CIPHER *cipher, int oaep,
                         size_t *out_len)
{
    EVP_PKEY *signer = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *nm = X509_NAME_new();
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_set_subject_name(x, nm);
    X509_set_issuer_name(x, nm);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pk);
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_key_identifier, "hash");
    X509_add_ext(x, ext, -1);
    X509_sign(x, signer, EVP_sha256());
    CMS_ContentInfo *cms = CMS_encrypt(NULL, NULL, cipher, CMS_BINARY | CMS_PARTIAL);
    CMS_RecipientInfo *ri = CMS_add1_recipient_cert(cms, x, CMS_KEY_PARAM | CMS_USE_KEYID);
    EVP_PKEY_CTX *pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
    if (oaep) {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING);
        EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256());
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256());
    }
    BIO *in = BIO_new_mem_buf(content, (int)len);
    uint8_t *der = NULL;
    int n = CMS_final(cms, in, NULL, CMS_BINARY) == 1 ? i2d_CMS_ContentInfo(cms, &der) : -1;
    BIO_free(in);
    CMS_ContentInfo_free(cms);
    X509_EXTENSION_free(ext);
    X509_NAME_free(nm);
    X509_free(x);
    EVP_PKEY_free(signer);
    *out_len = n > 0 ? (size_t)n : 0;
    return n > 0 ? der : NULL;
}

static cc_nsm *sim(void)
{
    cc_nsm_sim_options o = {0};
    memset(o.pcrs[0], 0xa5, 48);
    memset(o.pcrs[8], 0x08, 48);
    cc_nsm *dev = NULL;
    cc_error err;
    CHECK(cc_nsm_sim_new(&o, &dev, &err) == CC_OK);
    return dev;
}

TEST(key_and_document)
{
    cc_nsm *dev = sim();
    cc_recipient *r = NULL;
    cc_error err;
    CHECK(cc_recipient_new(dev, &r, &err) == CC_OK);
    if (!r) {
        cc_nsm_close(dev);
        return;
    }
    CHECK(EVP_PKEY_is_a(r->key, "RSA"));
    CHECK_EQ_INT(EVP_PKEY_get_bits(r->key), 2048);
    BIGNUM *e = NULL;
    CHECK(EVP_PKEY_get_bn_param(r->key, "e", &e) == 1 && BN_get_word(e) == 65537);
    BN_free(e);
    /* the document verifies with the simulator's root and carries exactly the key's SPKI */
    cc_attestation_policy pol = {0};
    pol.root_pem = cc_nsm_sim_root_pem(dev);
    pol.max_age_s = 60;
    uint8_t pcr8[48];
    memset(pcr8, 0x08, 48);
    pol.expect[0] = (cc_attestation_pcr){8, pcr8, 48};
    pol.n_expect = 1;
    cc_attestation_doc d;
    CHECK_MSG(cc_attestation_check(r->doc, r->doc_len, &pol, &d, &err) == CC_OK, "%s", err.msg);
    CHECK(d.has_public_key && d.public_key_len == r->spki_len && memcmp(d.public_key, r->spki, r->spki_len) == 0);
    CHECK(!d.has_user_data && !d.has_nonce);
    cc_attestation_doc_free(&d);
    /* two recipients never share a key */
    cc_recipient *r2 = NULL;
    CHECK(cc_recipient_new(dev, &r2, &err) == CC_OK);
    CHECK(r2 && (r2->spki_len != r->spki_len || memcmp(r2->spki, r->spki, r->spki_len) != 0));
    cc_recipient_free(r2);
    cc_recipient_free(r);
    cc_nsm_close(dev);
}

TEST(open_envelopes)
{
    cc_nsm *dev = sim();
    cc_recipient *r = NULL, *other = NULL;
    cc_error err;
    CHECK(cc_recipient_new(dev, &r, &err) == CC_OK && cc_recipient_new(dev, &other, &err) == CC_OK);
    if (!r || !other)
        goto out;
    uint8_t share[32];
    for (int i = 0; i < 32; i++)
        share[i] = (uint8_t)(i * 7 + 1);
    size_t n = 0;
    uint8_t *env = envelope(r->key, share, 32, EVP_aes_256_cbc(), 1, &n);
    CHECK(env != NULL);
    cc_kms_bytes pt;
    CHECK_MSG(cc_recipient_open(r, env, n, &pt, &err) == CC_OK, "%s", err.msg);
    CHECK(pt.len == 32 && pt.secret && memcmp(pt.data, share, 32) == 0);
    cc_kms_bytes_free(&pt);

    /* another enclave's key cannot open it */
    CHECK(cc_recipient_open(other, env, n, &pt, &err) == CC_ECRYPTO);
    CHECK(pt.data == NULL);
    /* trailing bytes, truncation, a flipped byte in the wrapped key (the last 300 bytes hold it and the content) */
    uint8_t *big = malloc(n + 1);
    memcpy(big, env, n);
    big[n] = 0;
    CHECK(cc_recipient_open(r, big, n + 1, &pt, &err) == CC_ECRYPTO);
    CHECK(cc_recipient_open(r, env, n - 10, &pt, &err) == CC_ECRYPTO);
    /* a flip in the RSA-OAEP encryptedKey (the 256-byte OCTET STRING 04 82 01 00) never yields the share.
     * OpenSSL's countermeasure against padding oracles (no CMS_DEBUG_DECRYPT) then decrypts the content with
     * a random key, so about 1 in 256 flips "opens" to garbage that passes the CBC padding: never the share,
     * and the master key's integrity check refuses it (tests/integration/enclave_unseal.sh). */
    size_t ek = 0;
    for (size_t i = 0; i + 4 + 256 <= n; i++)
        if (env[i] == 0x04 && env[i + 1] == 0x82 && env[i + 2] == 0x01 && env[i + 3] == 0x00) {
            ek = i + 4;
            break;
        }
    CHECK(ek != 0);
    int refused = 0, leaked = 0;
    for (size_t off = ek; ek && off < ek + 256; off += 5) {
        memcpy(big, env, n);
        big[off] ^= 0x40;
        if (cc_recipient_open(r, big, n, &pt, &err) == CC_ECRYPTO && pt.data == NULL)
            refused++;
        else if (pt.len == 32 && memcmp(pt.data, share, 32) == 0)
            leaked++;
        cc_kms_bytes_free(&pt);
    }
    CHECK_EQ_INT(leaked, 0);
    CHECK_MSG(refused >= 46, "only %d of 52 flips refused", refused); /* P(fail) < 1e-6 */
    free(big);
    OPENSSL_free(env);

    /* a plaintext over 4096 bytes is refused */
    uint8_t *huge = calloc(1, 5000);
    env = envelope(r->key, huge, 5000, EVP_aes_256_cbc(), 1, &n);
    CHECK(env && cc_recipient_open(r, env, n, &pt, &err) == CC_ECRYPTO);
    OPENSSL_free(env);
    free(huge);
    /* not CMS at all */
    CHECK(cc_recipient_open(r, share, 32, &pt, &err) == CC_ECRYPTO);
    CHECK(cc_recipient_open(r, NULL, 0, &pt, &err) == CC_ECRYPTO);
out:
    cc_recipient_free(r);
    cc_recipient_free(other);
    cc_nsm_close(dev);
}

int main(void)
{
    RUN(key_and_document);
    RUN(open_envelopes);
    TEST_MAIN_END();
}
