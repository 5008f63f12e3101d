/*
 * sealed_key.h — a BLS secret key sealed under the master key, as stored in DynamoDB.
 *
 * Blob (61 bytes):  format 0x01 ‖ nonce (12, random) ‖ AES-256-GCM ciphertext (32) ‖ tag (16)
 * Associated data:  "cc-key-v1" ‖ pubkey (48, compressed) ‖ be32(master-key version)
 *
 * The associated data binds a ciphertext to its item's pubkey and to the
 * master-key version that sealed it, so a blob copied to another item, or
 * read under another master or version, does not open.
 */
#ifndef CC_SEALED_KEY_H
#define CC_SEALED_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define CC_SEALED_KEY_FORMAT 0x01
#define CC_SEALED_KEY_LEN (1 + 12 + 32 + 16)

/*
 * Seals sk_be32 (the 32-byte big-endian secret of pubkey48) under master32 /
 * version into out (CC_SEALED_KEY_LEN bytes; *out_len receives the length).
 * Does not check that sk matches pubkey (the caller derived one from the other).
 */
cc_status cc_sealed_key_seal(const uint8_t master32[32], uint32_t version, const uint8_t pubkey48[48],
                             const uint8_t sk_be32[32], uint8_t out[CC_SEALED_KEY_LEN], size_t *out_len,
                             cc_error *err);

/*
 * Opens a blob into sk_out (caller's secret memory) and checks that the
 * secret is a valid scalar whose public key is pubkey48.  Any mismatch —
 * wrong master, version or pubkey, a changed byte, a wrong length or format —
 * is CC_ECRYPTO naming the pubkey; sk_out is then zeroed.
 */
cc_status cc_sealed_key_open(const uint8_t master32[32], uint32_t version, const uint8_t pubkey48[48],
                             const uint8_t *blob, size_t len, uint8_t sk_out[32], cc_error *err);

#endif
