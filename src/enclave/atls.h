/*
 * atls.h — the client side of attested TLS: fetch the certificate an aTLS
 * server presents, so cc_attestation_verify_certificate can check the
 * attestation document embedded in it (docs/enclave.md).
 */
#ifndef CC_ENCLAVE_ATLS_H
#define CC_ENCLAVE_ATLS_H

#include <openssl/x509.h>

#include "util/err.h"

/*
 * Connects to url (https://HOST:PORT[/...]) with TLS 1.2+, without CA
 * verification — trust comes from the attestation document, not a CA — and
 * returns the peer's leaf certificate (*out, X509_free it).  timeout_s bounds
 * the connect and the handshake.
 */
cc_status cc_atls_fetch_certificate(const char *url, int timeout_s, X509 **out, cc_error *err);

#endif
