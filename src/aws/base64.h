/*
 * base64.h — standard base64 (with padding) for AWS JSON binary fields
 * (KMS CiphertextBlob / Plaintext, DynamoDB "B"), over OpenSSL's
 * EVP_EncodeBlock / EVP_DecodeBlock.
 */
#ifndef CC_AWS_BASE64_H
#define CC_AWS_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* malloc'ed, NUL-terminated; secret != 0 puts it in cc_secret memory (free with cc_secret_free(p, *cap)). */
cc_status cc_aws_b64_encode(const uint8_t *in, size_t len, int secret, char **out, size_t *cap, cc_error *err);

/*
 * Decodes strict base64 (length a multiple of 4, '=' only at the end).
 * secret != 0 puts the bytes in cc_secret memory; *cap is the allocation
 * size to pass to cc_secret_free (or free for non-secret).  field names the
 * JSON field in the error message.
 */
cc_status cc_aws_b64_decode(const char *in, size_t len, int secret, const char *field, uint8_t **out,
                            size_t *out_len, size_t *cap, cc_error *err);

#endif
