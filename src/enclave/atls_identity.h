/*
 * atls_identity.h — the server side of attested TLS (docs/enclave.md): an
 * ephemeral TLS key and a self-signed certificate that carries an NSM
 * attestation document bound to that key.
 *
 *   key         P-384, made fresh for every identity, never written anywhere
 *   document    NSM Attestation with user_data = SHA-256(SubjectPublicKeyInfo DER)
 *   extension   CC_ATLS_OID, non-critical, extnValue = the raw CBOR document
 *   validity    the certificate's own notAfter is the document's leaf
 *               certificate's notAfter (a client must not trust it longer)
 *
 * A client checks it with cc_attestation_verify_certificate (attestation.h).
 */
#ifndef CC_ENCLAVE_ATLS_IDENTITY_H
#define CC_ENCLAVE_ATLS_IDENTITY_H

#include <stddef.h>
#include <time.h>

#include "enclave/nsm.h"
#include "util/err.h"

typedef struct cc_atls_identity {
    char *cert_pem;      /* NUL-terminated, malloc'ed */
    char *key_pem;       /* NUL-terminated, cc_secret memory (key_size bytes) */
    size_t key_size;
    time_t doc_not_after; /* notAfter of the document's signing certificate */
    char spki_sha256[65]; /* hex, for the logs */
} cc_atls_identity;

cc_status cc_atls_identity_make(cc_nsm *nsm, cc_atls_identity *out, cc_error *err);
void cc_atls_identity_free(cc_atls_identity *id);

#endif
