/*
 * ssz.h — SSZ merkleization primitives (consensus-specs ssz/simple-serialize.md).
 *
 * Everything a signing root needs and nothing more: hashing two chunks,
 * merkleizing a run of 32-byte chunks (or packed bytes) up to a limit with the
 * zero-hash table, mix_in_length, and the roots of the basic shapes (uint64,
 * byte vectors, Bitvector, Bitlist, lists).  Containers are built by the
 * callers in types.c from these.
 *
 * No function here allocates: merkleization works in a bounded scratch on the
 * stack, and inputs larger than CC_SSZ_MAX_LEAVES chunks are refused (no
 * message a validator signs comes near it).
 */
#ifndef CC_SSZ_H
#define CC_SSZ_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Largest number of leaf chunks one merkleization accepts (16384 chunks = 512 KiB). */
#define CC_SSZ_MAX_LEAVES 16384u

/* out = SHA256(a ‖ b).  out may alias a or b. */
void cc_ssz_hash_pair(const uint8_t a[32], const uint8_t b[32], uint8_t out[32]);

/* The root of a zero subtree of the given depth (0..64): zero_hashes[depth]. */
const uint8_t *cc_ssz_zero_hash(unsigned depth);

/*
 * Merkleizes `len` bytes read as consecutive 32-byte chunks (the last one
 * zero-padded) into a tree sized for `limit_chunks` leaves (rounded up to a
 * power of two).  Fails with CC_EINVAL when the data exceeds the limit or
 * CC_SSZ_MAX_LEAVES.
 */
cc_status cc_ssz_merkleize(const uint8_t *data, size_t len, uint64_t limit_chunks, uint8_t out[32],
                           cc_error *err);

/* out = SHA256(root ‖ uint256_le(length)).  out may alias root. */
void cc_ssz_mix_in_length(const uint8_t root[32], uint64_t length, uint8_t out[32]);

/* hash_tree_root(uint64). */
void cc_ssz_uint64_root(uint64_t v, uint8_t out[32]);

/* hash_tree_root(ByteVector[len]) for len <= 128 (versions, roots, pubkeys, signatures). */
void cc_ssz_bytes_root(const uint8_t *data, size_t len, uint8_t out[32]);

/*
 * hash_tree_root(Bitvector[nbits]) from its serialization: exactly
 * ceil(nbits/8) bytes, and bits at positions >= nbits must be zero.
 */
cc_status cc_ssz_bitvector_root(const uint8_t *bytes, size_t len, uint64_t nbits, uint8_t out[32],
                                cc_error *err);

/*
 * hash_tree_root(Bitlist[limit]) from its serialization (with the delimiter
 * bit).  bytes is modified: the delimiter bit is cleared.
 */
cc_status cc_ssz_bitlist_root(uint8_t *bytes, size_t len, uint64_t limit, uint8_t out[32], cc_error *err);

/* hash_tree_root(List[uint64, limit]) of count values. */
cc_status cc_ssz_uint64_list_root(const uint64_t *values, size_t count, uint64_t limit, uint8_t out[32],
                                  cc_error *err);

/* hash_tree_root of a List[Container, limit] given its elements' roots (count*32 bytes). */
cc_status cc_ssz_root_list_root(const uint8_t *roots, size_t count, uint64_t limit, uint8_t out[32],
                                cc_error *err);

/* hash_tree_root of a container given its field roots, in field order. */
void cc_ssz_container_root(const uint8_t (*fields)[32], size_t nfields, uint8_t out[32]);

#endif
