/*
 * age.h — age v1 encryption (age-encryption.org/v1) to X25519 recipients.
 *
 * Used to hand an operator an encrypted backup of a generated mnemonic that
 * only their offline age identity can open (`age -d -i key.txt`).  The signer
 * only ever encrypts: there is no decryption here on purpose.
 */
#ifndef CC_AGE_H
#define CC_AGE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Most recipients in one file, and the largest plaintext accepted. */
#define CC_AGE_MAX_RECIPIENTS 64
#define CC_AGE_MAX_PLAINTEXT ((size_t)16 << 20)

/*
 * Decodes an X25519 recipient ("age1" + Bech32, all lower or all upper
 * case) into its 32-byte public key.  CC_EINVAL naming the recipient when the
 * string is not one (an identity "AGE-SECRET-KEY-1..." is refused without
 * being echoed).
 */
cc_status cc_age_parse_recipient(const char *recipient, uint8_t pk[32], cc_error *err);

/*
 * Encrypts plaintext to every recipient (1..CC_AGE_MAX_RECIPIENTS) as a binary
 * age file (*out, malloc'ed, *out_len bytes).  A malformed recipient is
 * CC_EINVAL naming it ("recipients[i] ...") and nothing is produced.
 */
cc_status cc_age_encrypt(const char *const *recipients, size_t n, const uint8_t *plaintext, size_t len,
                         uint8_t **out, size_t *out_len, cc_error *err);

/* The same, ASCII-armored ("-----BEGIN AGE ENCRYPTED FILE-----" ...), as a malloc'ed NUL-terminated string. */
cc_status cc_age_encrypt_armored(const char *const *recipients, size_t n, const uint8_t *plaintext, size_t len,
                                 char **armored_out, cc_error *err);

#endif
