/*
 * atls_pin.h — "verify before sending anything" for clients of an aTLS
 * server (the operator CLI): fetch the server's certificate, verify its
 * attestation document (root, chain, freshness, expected PCRs) and the
 * user_data binding, and return the certificate's public-key pin so the
 * real request's connection is held to exactly that key (libcurl
 * CURLOPT_PINNEDPUBLICKEY "sha256//<base64>").  A server that swaps its key
 * between the check and the request (a renewal) fails the pin: run again.
 */
#ifndef CC_ENCLAVE_ATLS_PIN_H
#define CC_ENCLAVE_ATLS_PIN_H

#include "enclave/attestation.h"
#include "util/err.h"

/* "sha256//" + base64 of 32 bytes + NUL */
#define CC_ATLS_PIN_MAX 64

/* CC_EFORBIDDEN when the certificate or its document is refused (the message says why). */
cc_status cc_atls_verify_url(const char *url, const cc_attestation_policy *pol, int timeout_s,
                             char pin[CC_ATLS_PIN_MAX], cc_error *err);

#endif
