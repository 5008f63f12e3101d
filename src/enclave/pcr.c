/*
 * pcr.c — PCR extends and the PCR8 of a signing certificate (see pcr.h).
 * SHA-384 from OpenSSL.
 */
#include "enclave/pcr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

void cc_pcr_extend(uint8_t pcr[CC_PCR_LEN], const uint8_t digest[CC_PCR_LEN])
{
    uint8_t buf[2 * CC_PCR_LEN];
    memcpy(buf, pcr, CC_PCR_LEN);
    memcpy(buf + CC_PCR_LEN, digest, CC_PCR_LEN);
    SHA384(buf, sizeof buf, pcr);
}

void cc_pcr_measure(const uint8_t *data, size_t len, uint8_t out[CC_PCR_LEN])
{
    uint8_t d[CC_PCR_LEN];
    SHA384(data, len, d);
    memset(out, 0, CC_PCR_LEN);
    cc_pcr_extend(out, d);
}

void cc_pcr3_from_role_arn(const char *arn, uint8_t out[CC_PCR_LEN])
{
    /* No inner hash: the ARN text is hashed after the zero PCR directly. */
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    static const uint8_t zero[CC_PCR_LEN];
    unsigned int n = 0;
    if (!md || EVP_DigestInit_ex(md, EVP_sha384(), NULL) != 1 || EVP_DigestUpdate(md, zero, sizeof zero) != 1 ||
        EVP_DigestUpdate(md, arn, strlen(arn)) != 1 || EVP_DigestFinal_ex(md, out, &n) != 1)
        memset(out, 0, CC_PCR_LEN);
    EVP_MD_CTX_free(md);
}

cc_status cc_pcr8_from_certificate(const uint8_t *cert, size_t len, uint8_t out[CC_PCR_LEN], cc_error *err)
{
    X509 *x = NULL;
    if (len > 10 && memmem(cert, len, "-----BEGIN CERTIFICATE-----", 27)) {
        BIO *b = BIO_new_mem_buf(cert, (int)len);
        x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    } else {
        const unsigned char *p = cert;
        x = d2i_X509(NULL, &p, (long)len);
        if (x && p != cert + len) {
            X509_free(x);
            x = NULL;
        }
    }
    if (!x)
        return cc_error_set(err, CC_EINVAL, "signing certificate: not a PEM or DER X.509 certificate");
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    X509_free(x);
    if (n <= 0)
        return cc_error_set(err, CC_EINVAL, "signing certificate: cannot encode as DER");
    cc_pcr_measure(der, (size_t)n, out);
    OPENSSL_free(der);
    return CC_OK;
}

cc_status cc_pcr8_from_certificate_file(const char *path, uint8_t out[CC_PCR_LEN], cc_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cc_error_set(err, CC_EIO, "%s: %s", path, strerror(errno));
    uint8_t *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    if (!buf)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cc_status s = n == (1 << 20) ? cc_error_set(err, CC_EINVAL, "file too large")
                                 : cc_pcr8_from_certificate(buf, n, out, err);
    free(buf);
    if (s != CC_OK)
        cc_error_prefix(err, "%s", path);
    return s;
}
