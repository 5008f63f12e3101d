/*
 * master.h — the chamber master key: 256 random bits, a version, and an
 * integrity check.
 *
 * The master key encrypts every validator key the DynamoDB key source holds
 * (SPEC §4); it lives only in cc_secret memory and in N KMS-wrapped Shamir
 * shares in the signer state table.  The check lets a replica that rebuilt
 * the key from shares know it got the right one, without revealing anything
 * about the key:
 *
 *     check = HMAC-SHA256(master, "cc-master-check-v1" ‖ uint32_be(version))
 *
 * stored beside the shares and compared in constant time.
 */
#ifndef CC_CHAMBER_MASTER_H
#define CC_CHAMBER_MASTER_H

#include <stdint.h>

#include "util/err.h"

#define CC_MASTER_KEY_LEN 32
#define CC_MASTER_CHECK_LEN 32

/* A fresh key from the CSPRNG (RAND_priv_bytes) into key (the caller's cc_secret memory). */
cc_status cc_master_generate(uint8_t key[CC_MASTER_KEY_LEN], cc_error *err);

/* The integrity check of key at version. */
cc_status cc_master_check(const uint8_t key[CC_MASTER_KEY_LEN], uint32_t version, uint8_t check[CC_MASTER_CHECK_LEN],
                          cc_error *err);

/* CC_OK when key matches check at version (constant-time compare); CC_ECRYPTO otherwise. */
cc_status cc_master_verify(const uint8_t key[CC_MASTER_KEY_LEN], uint32_t version,
                           const uint8_t check[CC_MASTER_CHECK_LEN], cc_error *err);

#endif
