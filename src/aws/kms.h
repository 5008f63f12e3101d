/*
 * kms.h — a thin AWS KMS client (JSON 1.1 over the aws/http layer).
 *
 *     POST /   Content-Type: application/x-amz-json-1.1
 *              X-Amz-Target: TrentService.<Operation>
 *
 * Binary fields travel as base64 (aws/base64.h).  Plaintexts that come back
 * (Decrypt, GenerateRandom) land in cc_secret memory: free them with
 * cc_kms_plaintext_free.  Decrypt with a Recipient (a Nitro Enclave's
 * attestation document, whose public key is RSA-2048) returns
 * CiphertextForRecipient instead of Plaintext: a CMS EnvelopedData only the
 * enclave can open (NOTES §8.4).
 *
 * Errors name the operation and the AWS error
 * ("kms Decrypt: InvalidCiphertextException: …"); a wrong
 * EncryptionContext is CC_ECRYPTO.
 */
#ifndef CC_AWS_KMS_H
#define CC_AWS_KMS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "aws/http.h"

typedef struct cc_kms {
    cc_aws_service svc;
} cc_kms;

/* A buffer of bytes: secret ones are in cc_secret memory (cap is its allocation size). */
typedef struct cc_kms_bytes {
    uint8_t *data;
    size_t len;
    size_t cap;
    int secret;
} cc_kms_bytes;

/* Frees either kind of cc_kms_bytes (wiping secret ones). */
void cc_kms_bytes_free(cc_kms_bytes *b);

/* region / endpoint NULL or "" = defaults (aws.region, aws.endpoint_urls.kms).  http and creds are borrowed. */
cc_status cc_kms_init(cc_kms *kms, cc_aws_http *http, cc_aws_credentials_provider *creds, const char *region,
                      const char *endpoint, cc_error *err);

/* Any operation; info (may be NULL) receives the AWS error name of a failure. */
cc_status cc_kms_call(const cc_kms *kms, const char *operation, json_t *request, json_t **response,
                      cc_aws_call_info *info, cc_error *err);

/*
 * Encrypt (SYMMETRIC_DEFAULT).  context (may be NULL) is the
 * EncryptionContext object of string values.  *blob is not secret.
 */
cc_status cc_kms_encrypt(const cc_kms *kms, const char *key_id, const uint8_t *plaintext, size_t len,
                         json_t *context, cc_kms_bytes *blob, cc_error *err);

/* Decrypt: *plaintext in secret memory.  key_id may be NULL (KMS reads it from the blob). */
cc_status cc_kms_decrypt(const cc_kms *kms, const char *key_id, const uint8_t *blob, size_t blob_len,
                         json_t *context, cc_kms_bytes *plaintext, cc_error *err);

/*
 * Decrypt with Recipient {AttestationDocument, KeyEncryptionAlgorithm:
 * RSAES_OAEP_SHA_256}: *cms receives CiphertextForRecipient (the DER/BER CMS
 * EnvelopedData, not secret outside the enclave).  An answer with a
 * Plaintext field instead is refused (CC_ECRYPTO) and wiped.
 */
cc_status cc_kms_decrypt_for_recipient(const cc_kms *kms, const char *key_id, const uint8_t *blob, size_t blob_len,
                                       json_t *context, const uint8_t *attestation_doc, size_t doc_len,
                                       cc_kms_bytes *cms, cc_error *err);

/* GenerateRandom: n bytes (1..1024) into secret memory. */
cc_status cc_kms_generate_random(const cc_kms *kms, size_t n, cc_kms_bytes *out, cc_error *err);

/* DescribeKey: *metadata receives the KeyMetadata object. */
cc_status cc_kms_describe_key(const cc_kms *kms, const char *key_id, json_t **metadata, cc_error *err);

#endif
