/*
 * bls.h — BLS12-381 signing (Ethereum ciphersuite, proof of possession) over blst.
 *
 * A secret key lives in a cc_bls_sk, which must itself sit in secret memory
 * (cc_secret_alloc); the functions here never copy it elsewhere.  Signing
 * allocates nothing.
 */
#ifndef CC_BLS_H
#define CC_BLS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define CC_BLS_PUBKEY_LEN 48
#define CC_BLS_SIG_LEN 96
#define CC_BLS_SK_LEN 32

/* DST of the Ethereum consensus ciphersuite. */
#define CC_BLS_DST "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"

typedef struct cc_bls_sk {
    uint8_t scalar[32]; /* blst_scalar layout: little-endian limbs */
} cc_bls_sk;

/* Loads a 32-byte big-endian secret key; refuses zero and values >= r. */
cc_status cc_bls_sk_from_bytes(cc_bls_sk *sk, const uint8_t be32[32], cc_error *err);
/* Writes the 32-byte big-endian form (for export into secret memory only). */
void cc_bls_sk_to_bytes(const cc_bls_sk *sk, uint8_t be32[32]);
/* Compressed 48-byte public key. */
void cc_bls_sk_to_pk(const cc_bls_sk *sk, uint8_t pk[CC_BLS_PUBKEY_LEN]);
/* Compressed 96-byte signature of msg (normally a 32-byte signing root). */
void cc_bls_sign(const cc_bls_sk *sk, const uint8_t *msg, size_t msg_len, uint8_t sig[CC_BLS_SIG_LEN]);
/* Verifies a compressed signature against a compressed public key: 1 valid, 0 not. */
int cc_bls_verify(const uint8_t pk[CC_BLS_PUBKEY_LEN], const uint8_t *msg, size_t msg_len,
                  const uint8_t sig[CC_BLS_SIG_LEN]);
/* Checks a compressed public key decodes to a valid G1 point in the subgroup. */
int cc_bls_pubkey_valid(const uint8_t pk[CC_BLS_PUBKEY_LEN]);

#endif
