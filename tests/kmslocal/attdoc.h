/*
 * attdoc.h — builds AWS Nitro attestation documents in the real format for
 * tests (NOTES §8.3), signed by a test certificate chain instead of AWS's.
 *
 *   attdoc_ca ca;
 *   attdoc_ca_generate(&ca, &err);                 root → intermediate → leaf, all P-384
 *   attdoc_fields f = {0};
 *   f.pcr_set[8] = 1; memcpy(f.pcrs[8], pcr8, 48);  PCRs 0..15 are present; unset ones are zero
 *   f.public_key = spki_der; f.public_key_len = n;
 *   attdoc_build(&ca, &f, &doc, &doc_len, &err);   COSE_Sign1, ES384, r‖s
 *
 * The document is COSE_Sign1 [protected {1:-35}, {}, payload, signature] with
 * payload {module_id, digest "SHA384", timestamp, pcrs {0..15 → 48 B},
 * certificate, cabundle [root, intermediate], public_key, user_data, nonce}
 * (absent optional fields are CBOR null, as the NSM writes them).  Reusable by
 * a simulated NSM device: nothing here is specific to kms-local.
 */
#ifndef CC_TEST_ATTDOC_H
#define CC_TEST_ATTDOC_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "util/err.h"

typedef struct attdoc_ca {
    EVP_PKEY *root_key, *inter_key, *leaf_key;
    X509 *root, *inter, *leaf;
} attdoc_ca;

/* A fresh chain: root (10 years), intermediate (1 year), leaf (valid from 1 hour ago for 1 day). */
cc_status attdoc_ca_generate(attdoc_ca *ca, cc_error *err);
/* Writes root.pem, inter.pem, leaf.pem and root.key, inter.key, leaf.key (PEM) into dir. */
cc_status attdoc_ca_save(const attdoc_ca *ca, const char *dir, cc_error *err);
/* Reads what attdoc_ca_save wrote. */
cc_status attdoc_ca_load(attdoc_ca *ca, const char *dir, cc_error *err);
void attdoc_ca_free(attdoc_ca *ca);

#define ATTDOC_NPCRS 16

typedef struct attdoc_fields {
    const char *module_id;             /* NULL → "i-0123456789abcdef0-enc0123456789abcdef" */
    uint64_t timestamp_ms;             /* 0 → now */
    uint8_t pcrs[ATTDOC_NPCRS][48];    /* PCR values (zero unless written) */
    const uint8_t *public_key;         /* optional DER SPKI */
    size_t public_key_len;
    const uint8_t *user_data;          /* optional */
    size_t user_data_len;
    const uint8_t *nonce;              /* optional */
    size_t nonce_len;
    int tagged;                        /* wrap in CBOR tag 18 */
} attdoc_fields;

/* Builds and signs a document with ca's leaf key; *out is malloc'ed. */
cc_status attdoc_build(const attdoc_ca *ca, const attdoc_fields *f, uint8_t **out, size_t *out_len, cc_error *err);

/* A fresh RSA-2048 key (e = 65537) and its DER SubjectPublicKeyInfo (*spki malloc'ed). */
cc_status attdoc_rsa_key(EVP_PKEY **key, uint8_t **spki, size_t *spki_len, cc_error *err);

/* SHA384(48 zero bytes ‖ SHA384(data)): one extend of a fresh PCR (PCR3, PCR8 style). */
void attdoc_pcr_extend_once(const uint8_t *data, size_t len, uint8_t out[48]);

#endif
