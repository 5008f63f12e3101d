/*
 * atls_pin.c — verify an aTLS server, return its key pin (atls_pin.h).
 */
#include "enclave/atls_pin.h"

#include <string.h>

#include <openssl/evp.h>

#include "enclave/atls.h"

cc_status cc_atls_verify_url(const char *url, const cc_attestation_policy *pol, int timeout_s,
                             char pin[CC_ATLS_PIN_MAX], cc_error *err)
{
    pin[0] = '\0';
    X509 *cert = NULL;
    cc_status st = cc_atls_fetch_certificate(url, timeout_s, &cert, err);
    if (st != CC_OK)
        return st;
    uint8_t h[32];
    cc_error why;
    cc_error_clear(&why);
    st = cc_attestation_verify_certificate(cert, pol, NULL, &why);
    if (st != CC_OK) {
        X509_free(cert);
        return cc_error_set(err, CC_EFORBIDDEN, "aTLS: %.200s refused: %s", url, why.msg);
    }
    st = cc_attestation_spki_sha256(cert, h, err);
    X509_free(cert);
    if (st != CC_OK)
        return st;
    memcpy(pin, "sha256//", 8);
    EVP_EncodeBlock((unsigned char *)pin + 8, h, sizeof h); /* 44 characters + NUL */
    return CC_OK;
}
