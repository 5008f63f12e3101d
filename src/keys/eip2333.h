/*
 * eip2333.h — EIP-2333 BLS key derivation and EIP-2334 paths.
 *
 * A seed (normally the 64-byte BIP-39 seed of a mnemonic, see keys/bip39.h)
 * is turned into a master secret key, and each path component derives a child
 * through EIP-2333's Lamport tree.  EIP-2334 names the keys of validator i:
 * signing m/12381/3600/i/0/0, withdrawal m/12381/3600/i/0.
 *
 * Secret keys are handed out as 32-byte big-endian scalars (the form
 * cc_bls_sk_from_bytes takes); callers keep them in secret memory.
 */
#ifndef CC_EIP2333_H
#define CC_EIP2333_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* EIP-2333 requires at least 32 bytes of input keying material. */
#define CC_EIP2333_MIN_SEED 32
/* Deepest path accepted (EIP-2334 paths have 5 components). */
#define CC_EIP2333_MAX_DEPTH 16
/* Room for "m/12381/3600/4294967295/0/0" and its NUL. */
#define CC_EIP2334_PATH_MAX 40

/* master_SK = derive_master_SK(seed); seed_len must be >= 32. */
cc_status cc_eip2333_master(const uint8_t *seed, size_t seed_len, uint8_t sk_be32[32], cc_error *err);

/* child_SK = derive_child_SK(parent_SK, index); the parent must be a valid scalar (0 < sk < r). */
cc_status cc_eip2333_child(const uint8_t parent_be32[32], uint32_t index, uint8_t child_be32[32], cc_error *err);

/*
 * Parses "m" or "m/a/b/..." with decimal components 0..2^32-1 (no signs, no
 * leading zeros, no hardened marks) into indices[0..*depth).  At most
 * CC_EIP2333_MAX_DEPTH components.  Errors are CC_EINVAL naming the path.
 */
cc_status cc_eip2333_parse_path(const char *path, uint32_t indices[CC_EIP2333_MAX_DEPTH], size_t *depth,
                                cc_error *err);

/* The secret key at path under seed: master, then one child per component. */
cc_status cc_eip2333_derive_path(const uint8_t *seed, size_t seed_len, const char *path, uint8_t sk_be32[32],
                                 cc_error *err);

/* Writes the EIP-2334 signing-key path of validator index i: "m/12381/3600/<i>/0/0". */
void cc_eip2334_signing_path(uint32_t i, char out[CC_EIP2334_PATH_MAX]);

#endif
