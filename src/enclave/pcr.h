/*
 * pcr.h — Nitro PCR arithmetic (NOTES §8.1).  A PCR starts as 48 zero bytes
 * and is extended with SHA-384: PCR = SHA384(PCR ‖ digest).
 *
 *   PCR8 = SHA384(0⁴⁸ ‖ SHA384(DER of the EIF signing certificate))
 *   PCR3 = SHA384(0⁴⁸ ‖ UTF-8 of the parent's IAM role ARN)   (no inner hash)
 */
#ifndef CC_ENCLAVE_PCR_H
#define CC_ENCLAVE_PCR_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define CC_PCR_LEN 48

/* pcr = SHA384(pcr ‖ digest48). */
void cc_pcr_extend(uint8_t pcr[CC_PCR_LEN], const uint8_t digest[CC_PCR_LEN]);
/* SHA384(0⁴⁸ ‖ SHA384(data)): a fresh PCR extended once with data's hash (PCR0/1/2/8). */
void cc_pcr_measure(const uint8_t *data, size_t len, uint8_t out[CC_PCR_LEN]);
/* PCR8 of a signing certificate given as PEM or DER bytes. */
cc_status cc_pcr8_from_certificate(const uint8_t *cert, size_t len, uint8_t out[CC_PCR_LEN], cc_error *err);
/* PCR8 of the certificate in a PEM or DER file. */
cc_status cc_pcr8_from_certificate_file(const char *path, uint8_t out[CC_PCR_LEN], cc_error *err);
/* PCR3 of a role ARN: SHA384(0⁴⁸ ‖ arn). */
void cc_pcr3_from_role_arn(const char *arn, uint8_t out[CC_PCR_LEN]);

#endif
