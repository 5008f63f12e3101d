/*
 * cose.h — COSE_Sign1 with ES384, the envelope of Nitro attestation documents
 * and of EIF PCR signatures (RFC 8152 §4.2; NOTES §8.3).
 *
 *   COSE_Sign1 = [protected: bstr, unprotected: map, payload: bstr, signature: bstr]
 *   optionally wrapped in CBOR tag 18 (the byte D2).
 *
 * The signature is ECDSA P-384 over SHA-384 of the canonical CBOR of
 * Sig_structure ["Signature1", protected, h'', payload], written as r‖s
 * (96 bytes).  Parsing is strict: definite lengths only, exact sizes, no
 * trailing bytes; every refusal names what is wrong.
 */
#ifndef CC_ENCLAVE_COSE_H
#define CC_ENCLAVE_COSE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "util/err.h"

#define CC_COSE_ALG_ES384 (-35)
#define CC_COSE_ES384_SIG_LEN 96

/*
 * Checks, before libcbor allocates anything, that p holds exactly one
 * well-formed CBOR item with definite lengths, nesting at most max_depth,
 * whose every declared length fits in the bytes that remain (libcbor
 * allocates what a header declares: a 9-byte input could ask for gigabytes).
 */
cc_status cc_cbor_check(const uint8_t *p, size_t n, int max_depth, const char *what, cc_error *err);

/* The parts of a parsed COSE_Sign1; every buffer is malloc'ed (cc_cose_sign1_free). */
typedef struct cc_cose_sign1 {
    uint8_t *protected_hdr;
    size_t protected_len;
    uint8_t *payload;
    size_t payload_len;
    uint8_t signature[CC_COSE_ES384_SIG_LEN];
    int64_t alg; /* the protected header's alg (key 1) */
    int tagged;  /* the input carried tag 18 */
} cc_cose_sign1;

/*
 * Parses doc (tagged or untagged) and its protected header, which must be
 * exactly {1: -35}; the unprotected header must be a map.  max_len bounds the input.
 */
cc_status cc_cose_sign1_parse(const uint8_t *doc, size_t len, size_t max_len, cc_cose_sign1 *out, cc_error *err);
void cc_cose_sign1_free(cc_cose_sign1 *c);

/* The canonical CBOR of Sig_structure for protected/payload; *out malloc'ed. */
cc_status cc_cose_sig_structure(const uint8_t *protected_hdr, size_t protected_len, const uint8_t *payload,
                                size_t payload_len, uint8_t **out, size_t *out_len, cc_error *err);

/* Verifies c's r‖s signature with key (EC P-384, SHA-384). CC_ECRYPTO when it does not verify. */
cc_status cc_cose_sign1_verify(const cc_cose_sign1 *c, EVP_PKEY *key, cc_error *err);

/*
 * Signs payload with key (P-384) under the protected header {1: -35} and
 * writes the COSE_Sign1 (tagged with 18 when tagged) to *out (malloc'ed).
 * protected_hdr may be NULL for the standard header, or other bytes (tests
 * of the verifier write wrong headers this way).
 */
cc_status cc_cose_sign1_sign(EVP_PKEY *key, const uint8_t *protected_hdr, size_t protected_len, const uint8_t *payload,
                             size_t payload_len, int tagged, uint8_t **out, size_t *out_len, cc_error *err);

#endif
