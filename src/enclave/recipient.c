/*
 * recipient.c — ephemeral RSA key, attestation document and CMS opening for
 * KMS Decrypt with a Recipient (recipient.h).
 *
 * The CMS envelope is opened with OpenSSL's own CMS_decrypt (no hand parser):
 * CMS_decrypt_set1_pkey with no certificate tries the key on the
 * KeyTransRecipientInfo (OpenSSL reads the RSAES-OAEP parameters, SHA-256 and
 * MGF1-SHA-256, from the recipient's algorithm identifier), then the content
 * (AES-256-CBC per NOTES §8.4; any cipher CMS supports) is decrypted into a
 * BIO whose only storage is cc_secret memory, so the plaintext share never
 * touches an ordinary heap buffer on our side.
 */
#include "enclave/recipient.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "util/secret.h"

static const char *ossl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown OpenSSL error";
}

cc_status cc_recipient_new(cc_nsm *nsm, cc_recipient **out, cc_error *err)
{
    *out = NULL;
    if (!nsm)
        return cc_error_set(err, CC_EINTERNAL, "recipient: no NSM device");
    cc_recipient *r = calloc(1, sizeof *r);
    if (!r)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cc_status st = CC_OK;
    ERR_clear_error();
    r->key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)CC_RECIPIENT_RSA_BITS);
    if (!r->key) {
        st = cc_error_set(err, CC_ECRYPTO, "recipient: RSA-%d key generation failed: %s", CC_RECIPIENT_RSA_BITS,
                          ossl_reason());
        goto fail;
    }
    int n = i2d_PUBKEY(r->key, &r->spki); /* allocates */
    if (n <= 0 || (size_t)n > CC_NSM_MAX_PUBLIC_KEY) {
        st = cc_error_set(err, CC_ECRYPTO, "recipient: cannot encode the public key (%d bytes)", n);
        goto fail;
    }
    r->spki_len = (size_t)n;
    if ((st = nsm->ops->attestation(nsm, NULL, 0, NULL, 0, r->spki, r->spki_len, &r->doc, &r->doc_len, err)) != CC_OK) {
        cc_error_prefix(err, "recipient: attestation document (%s)", nsm->ops->name);
        goto fail;
    }
    *out = r;
    return CC_OK;
fail:
    cc_recipient_free(r);
    return st;
}

void cc_recipient_free(cc_recipient *r)
{
    if (!r)
        return;
    EVP_PKEY_free(r->key); /* RSA private components are cleared by OpenSSL (BN_clear_free) */
    OPENSSL_free(r->spki);
    free(r->doc);
    free(r);
}

/* ---------------------------------------------------------------- a BIO sink in secret memory */

typedef struct secret_sink {
    uint8_t *buf; /* cc_secret memory, CC_RECIPIENT_MAX_PLAINTEXT bytes */
    size_t len;
    int overflow;
} secret_sink;

static int sink_write(BIO *b, const char *data, int n)
{
    secret_sink *s = BIO_get_data(b);
    if (!s || n < 0)
        return -1;
    if ((size_t)n > CC_RECIPIENT_MAX_PLAINTEXT - s->len) {
        s->overflow = 1;
        return -1;
    }
    memcpy(s->buf + s->len, data, (size_t)n);
    s->len += (size_t)n;
    return n;
}

static long sink_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int sink_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

cc_status cc_recipient_open(const cc_recipient *r, const uint8_t *cms_der, size_t cms_len, cc_kms_bytes *plaintext,
                            cc_error *err)
{
    memset(plaintext, 0, sizeof *plaintext);
    if (!r || !r->key)
        return cc_error_set(err, CC_EINTERNAL, "recipient: no key");
    if (!cms_der || cms_len == 0 || cms_len > 65536)
        return cc_error_set(err, CC_ECRYPTO, "CiphertextForRecipient: empty or larger than 64 KiB (%zu bytes)",
                            cms_len);
    cc_status st = CC_OK;
    BIO *in = NULL, *sink = NULL;
    BIO_METHOD *meth = NULL;
    CMS_ContentInfo *cms = NULL;
    secret_sink s = {0};
    ERR_clear_error();

    const unsigned char *p = cms_der;
    cms = d2i_CMS_ContentInfo(NULL, &p, (long)cms_len);
    if (!cms) {
        st = cc_error_set(err, CC_ECRYPTO, "CiphertextForRecipient: not a CMS ContentInfo (%s)", ossl_reason());
        goto out;
    }
    if (p != cms_der + cms_len) {
        st = cc_error_set(err, CC_ECRYPTO, "CiphertextForRecipient: %zu trailing bytes after the CMS structure",
                          (size_t)(cms_der + cms_len - p));
        goto out;
    }
    if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_enveloped) {
        st = cc_error_set(err, CC_ECRYPTO, "CiphertextForRecipient: not an EnvelopedData");
        goto out;
    }
    if (OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data) {
        st = cc_error_set(err, CC_ECRYPTO, "CiphertextForRecipient: content type is not id-data");
        goto out;
    }
    STACK_OF(CMS_RecipientInfo) *ris = CMS_get0_RecipientInfos(cms);
    if (!ris || sk_CMS_RecipientInfo_num(ris) != 1 ||
        CMS_RecipientInfo_type(sk_CMS_RecipientInfo_value(ris, 0)) != CMS_RECIPINFO_TRANS) {
        st = cc_error_set(err, CC_ECRYPTO, "CiphertextForRecipient: expected exactly one key-transport recipient");
        goto out;
    }
    s.buf = cc_secret_alloc(CC_RECIPIENT_MAX_PLAINTEXT);
    meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "cc secret sink");
    if (!s.buf || !meth || !BIO_meth_set_write(meth, sink_write) || !BIO_meth_set_ctrl(meth, sink_ctrl) ||
        !BIO_meth_set_create(meth, sink_create) || !(sink = BIO_new(meth))) {
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    BIO_set_data(sink, &s);
    if (CMS_decrypt_set1_pkey(cms, r->key, NULL) != 1) {
        st = cc_error_set(err, CC_ECRYPTO, "CiphertextForRecipient: not for this enclave's key (%s)", ossl_reason());
        goto out;
    }
    if (CMS_decrypt(cms, NULL, NULL, NULL, sink, CMS_BINARY) != 1 || s.overflow) {
        st = cc_error_set(err, CC_ECRYPTO, "CiphertextForRecipient: %s",
                          s.overflow ? "plaintext larger than 4096 bytes" : ossl_reason());
        goto out;
    }
    if (s.len == 0) {
        st = cc_error_set(err, CC_ECRYPTO, "CiphertextForRecipient: empty plaintext");
        goto out;
    }
    plaintext->data = s.buf;
    plaintext->len = s.len;
    plaintext->cap = CC_RECIPIENT_MAX_PLAINTEXT;
    plaintext->secret = 1;
    s.buf = NULL;
out:
    cc_secret_free(s.buf, CC_RECIPIENT_MAX_PLAINTEXT);
    BIO_free(sink);
    BIO_free(in);
    BIO_meth_free(meth);
    CMS_ContentInfo_free(cms);
    ERR_clear_error();
    return st;
}
