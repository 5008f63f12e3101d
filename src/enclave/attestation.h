/*
 * attestation.h — AWS Nitro attestation documents: parse, verify, and the
 * aTLS certificate binding (NOTES §8.3, docs/enclave.md).
 *
 *   cc_attestation_doc doc;
 *   cc_attestation_parse(bytes, n, &doc, &err);       strict CBOR / COSE_Sign1, every field typed and sized
 *   cc_attestation_policy pol = {0};                  built-in AWS root, now, no age bound
 *   pol.at = ts; pol.has_at = 1; pol.max_age_s = 300;
 *   pol.expect[0] = (cc_attestation_pcr){0, pcr0, 48}; pol.n_expect = 1;
 *   cc_attestation_verify(&doc, &pol, &err);          root pin, chain, ES384, freshness, PCRs
 *   cc_attestation_doc_free(&doc);
 *
 * The verifier is independent of kms-local's own checker (src/kmslocal),
 * so one bug cannot hide on both sides of the KMS exchange.
 */
#ifndef CC_ENCLAVE_ATTESTATION_H
#define CC_ENCLAVE_ATTESTATION_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "util/err.h"

/* The largest document we read: the NSM's response buffer is 0x3000 bytes. */
#define CC_ATTESTATION_MAX_DOC 16384
#define CC_ATTESTATION_MAX_PCRS 32
#define CC_ATTESTATION_MAX_CABUNDLE 8
/* A document may be stamped this far after the check time (clock skew, --at rounded to seconds). */
#define CC_ATTESTATION_MAX_SKEW_S 60

/*
 * The aTLS extension: a non-critical X.509v3 extension whose extnValue
 * OCTET STRING holds the raw CBOR attestation document (no further ASN.1).
 * The document's user_data is SHA-256 of the certificate's
 * SubjectPublicKeyInfo DER (32 bytes).  OID under the UUID arc 2.25 (X.667),
 * which needs no registration.
 */
/*
 * Issue 8 (aTLS server): the arc must fit in 64 bits — GnuTLS's libtasn1, which
 * libmicrohttpd's HTTPS listener uses, refuses a certificate holding a longer
 * one ("ASN1 parser: Error in DER parsing"), so the full 128-bit UUID arc
 * 2.25.201255069632694298530012649809856717917 could never be served.  This is
 * its top 63 bits (v >> 65): still a random, unregistered 2.25 arc.
 */
#define CC_ATLS_OID "2.25.5455029592987215733"

/* The pinned root, AWS_NitroEnclaves_Root-G1: the PEM exactly as AWS ships it (no trailing newline). */
extern const char cc_nitro_root_pem[];
/* SHA-256 of its DER, the fingerprint AWS publishes (lower-case hex). */
#define CC_NITRO_ROOT_SHA256 "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"

typedef struct cc_attestation_doc {
    char module_id[256];
    char digest[16];
    uint64_t timestamp_ms;
    uint32_t pcr_present;                            /* bit i: PCR i is in the document */
    uint8_t pcr_len[CC_ATTESTATION_MAX_PCRS];        /* 32, 48 or 64 */
    uint8_t pcrs[CC_ATTESTATION_MAX_PCRS][64];
    uint8_t *certificate;                            /* leaf DER */
    size_t certificate_len;
    size_t cabundle_count;                           /* root first */
    uint8_t *cabundle[CC_ATTESTATION_MAX_CABUNDLE];
    size_t cabundle_len[CC_ATTESTATION_MAX_CABUNDLE];
    uint8_t *public_key, *user_data, *nonce;         /* NULL when absent or null */
    size_t public_key_len, user_data_len, nonce_len;
    int has_public_key, has_user_data, has_nonce;    /* present and not null (may be empty) */
    /* the COSE parts the signature covers */
    uint8_t *protected_hdr, *payload;
    size_t protected_len, payload_len;
    uint8_t signature[96];
    int tagged;
} cc_attestation_doc;

typedef struct cc_attestation_pcr {
    int index;
    const uint8_t *value;
    size_t len;
} cc_attestation_pcr;

typedef struct cc_attestation_policy {
    const char *root_pem;        /* trusted root (PEM text); NULL → the built-in AWS root */
    time_t at;                   /* the check time (seconds), when has_at; else now */
    int has_at;
    uint64_t max_age_s;          /* 0: no bound beyond the certificates' validity */
    cc_attestation_pcr expect[CC_ATTESTATION_MAX_PCRS];
    size_t n_expect;
    const uint8_t *expect_nonce; /* when set, the document's nonce must equal it */
    size_t expect_nonce_len;
} cc_attestation_policy;

/* Parses a document (raw CBOR, COSE_Sign1 tagged or not); every field checked for type and size. */
cc_status cc_attestation_parse(const uint8_t *doc, size_t len, cc_attestation_doc *out, cc_error *err);
void cc_attestation_doc_free(cc_attestation_doc *d);

/*
 * Verifies a parsed document: cabundle[0] equals the pinned root byte for
 * byte; OpenSSL builds root → cabundle[1..] → certificate with every
 * certificate valid at the check time; the leaf is P-384 and may sign
 * (digitalSignature); the ES384 signature verifies with the leaf key; the
 * timestamp is not in the future (beyond CC_ATTESTATION_MAX_SKEW_S) nor older
 * than max_age_s; the expected PCRs (and nonce) match, compared in constant time.
 */
cc_status cc_attestation_verify(const cc_attestation_doc *d, const cc_attestation_policy *pol, cc_error *err);

/* Parse + verify in one call (out may be NULL; when not NULL the caller frees it, even on failure). */
cc_status cc_attestation_check(const uint8_t *doc, size_t len, const cc_attestation_policy *pol,
                               cc_attestation_doc *out, cc_error *err);

/*
 * aTLS: finds the CC_ATLS_OID extension in cert, verifies its document with
 * pol, and requires the document's user_data to equal SHA-256 of cert's
 * SubjectPublicKeyInfo DER.  out (optional) receives the document.
 */
cc_status cc_attestation_verify_certificate(X509 *cert, const cc_attestation_policy *pol, cc_attestation_doc *out,
                                            cc_error *err);

/* SHA-256 of cert's SubjectPublicKeyInfo DER: the user_data an aTLS document must carry. */
cc_status cc_attestation_spki_sha256(X509 *cert, uint8_t out[32], cc_error *err);

/*
 * Reads a document file: raw CBOR, or base64 of it (standard or URL-safe,
 * whitespace ignored), detected by content.  *out malloc'ed.
 */
cc_status cc_attestation_read_file(const char *path, uint8_t **out, size_t *out_len, cc_error *err);
/* The same detection over a buffer already in memory. */
cc_status cc_attestation_decode_input(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, cc_error *err);

#endif
