/*
 * recipient.h — the enclave's side of KMS Decrypt with a Recipient
 * (NOTES §8.4, SPEC §8).
 *
 *   cc_recipient *r;
 *   cc_recipient_new(nsm, &r, &err);      ephemeral RSA-2048 key + an NSM document carrying its SPKI
 *   cc_kms_decrypt_for_recipient(kms, arn, blob, n, ctx, r->doc, r->doc_len, &cms, &err);
 *   cc_recipient_open(r, cms.data, cms.len, &plaintext, &err);   CMS EnvelopedData → secret bytes
 *   cc_recipient_free(r);                 the private key is freed (OpenSSL clears RSA keys)
 *
 * One recipient serves one unseal: every share of that unseal is decrypted
 * for the same document, and the key never outlives it.  The private key
 * never leaves the process; KMS (or kms-local) only ever sees the public key
 * inside the attestation document, so a CiphertextForRecipient captured on
 * the way (by the parent relay, say) opens nowhere else.
 */
#ifndef CC_ENCLAVE_RECIPIENT_H
#define CC_ENCLAVE_RECIPIENT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "aws/kms.h"
#include "enclave/nsm.h"
#include "util/err.h"

#define CC_RECIPIENT_RSA_BITS 2048
/* The largest plaintext we accept out of a CMS envelope (KMS plaintexts are at most 4096 bytes). */
#define CC_RECIPIENT_MAX_PLAINTEXT 4096

typedef struct cc_recipient {
    EVP_PKEY *key;       /* RSA-2048, e = 65537; private, never exported */
    uint8_t *spki;       /* DER SubjectPublicKeyInfo of key (the document's public_key) */
    size_t spki_len;
    uint8_t *doc;        /* the NSM attestation document (COSE_Sign1) */
    size_t doc_len;
} cc_recipient;

/* Makes the key and asks nsm for a document with public_key = its SPKI (nsm is borrowed, not kept). */
cc_status cc_recipient_new(cc_nsm *nsm, cc_recipient **out, cc_error *err);
void cc_recipient_free(cc_recipient *r);

/*
 * Opens a CiphertextForRecipient: a DER/BER CMS EnvelopedData whose
 * key-transport recipient is r's key (RSAES-OAEP SHA-256).  *plaintext is
 * secret memory (cc_kms_bytes with secret = 1).  Any other structure, another
 * recipient, a tampered envelope or a plaintext over
 * CC_RECIPIENT_MAX_PLAINTEXT is CC_ECRYPTO.
 */
cc_status cc_recipient_open(const cc_recipient *r, const uint8_t *cms, size_t cms_len, cc_kms_bytes *plaintext,
                            cc_error *err);

#endif
