/*
 * ssz.c — SSZ merkleization (hash_tree_root building blocks).
 *
 * Merkleization streams the leaves left to right keeping one pending node per
 * tree level (at most 65 of them), so any input is hashed in O(1) memory with
 * nothing allocated; the right edge is closed with the zero-hash table.  The
 * hot path (a five-field container) costs a handful of SHA-256 calls on
 * 64-byte stack buffers.
 */
/*
 * The two-chunk hash is the hot path (a dozen calls per attestation).  OpenSSL
 * 3's SHA256() one-shot fetches the algorithm and allocates a context on every
 * call (~0.7 us); the SHA256_Init/Update/Final API hashes 64 bytes from a stack
 * context in ~0.2 us with no allocation or lock.  It is deprecated in 3.0 but
 * kept; a build without deprecated APIs falls back to one reused EVP context
 * per thread.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "signing/ssz.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ssz.c packs uint64 values by memory layout and assumes a little-endian host"
#endif

#define ZERO_DEPTHS 65

static uint8_t zero_hashes[ZERO_DEPTHS][32];
static pthread_once_t zero_once = PTHREAD_ONCE_INIT;

static void zero_init(void)
{
    memset(zero_hashes[0], 0, 32);
    for (unsigned d = 1; d < ZERO_DEPTHS; d++)
        cc_ssz_hash_pair(zero_hashes[d - 1], zero_hashes[d - 1], zero_hashes[d]);
}

void cc_ssz_hash_pair(const uint8_t a[32], const uint8_t b[32], uint8_t out[32])
{
    uint8_t buf[64];
    memcpy(buf, a, 32);
    memcpy(buf + 32, b, 32);
#ifndef OPENSSL_NO_DEPRECATED_3_0
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, buf, sizeof buf);
    SHA256_Final(out, &ctx);
#else
    static _Thread_local EVP_MD_CTX *ctx;
    static _Thread_local EVP_MD *md;
    unsigned int n;
    if (!ctx) {
        md = EVP_MD_fetch(NULL, "SHA256", NULL);
        ctx = EVP_MD_CTX_new();
    }
    if (!ctx || !md || !EVP_DigestInit_ex(ctx, md, NULL) || !EVP_DigestUpdate(ctx, buf, sizeof buf) ||
        !EVP_DigestFinal_ex(ctx, out, &n))
        SHA256(buf, sizeof buf, out); /* cannot fail in practice; never leave out unset */
#endif
}

const uint8_t *cc_ssz_zero_hash(unsigned depth)
{
    pthread_once(&zero_once, zero_init);
    return zero_hashes[depth < ZERO_DEPTHS ? depth : ZERO_DEPTHS - 1];
}

/* ceil(log2(n)) for n >= 1; 0 for n <= 1. */
static unsigned ceil_log2(uint64_t n)
{
    if (n <= 1)
        return 0;
    return 64u - (unsigned)__builtin_clzll(n - 1);
}

cc_status cc_ssz_merkleize(const uint8_t *data, size_t len, uint64_t limit_chunks, uint8_t out[32],
                           cc_error *err)
{
    pthread_once(&zero_once, zero_init);
    uint64_t count = (len + 31) / 32;
    if (count > limit_chunks)
        return cc_error_set(err, CC_EINVAL, "%llu chunks exceed the limit of %llu",
                            (unsigned long long)count, (unsigned long long)limit_chunks);
    if (count > CC_SSZ_MAX_LEAVES)
        return cc_error_set(err, CC_EINVAL, "too large to hash (%llu chunks)", (unsigned long long)count);
    unsigned depth = ceil_log2(limit_chunks);

    if (count == 0) {
        memcpy(out, zero_hashes[depth], 32);
        return CC_OK;
    }

    /* stack[d] holds the pending left node at level d, valid while bit d of i is set. */
    uint8_t stack[ZERO_DEPTHS][32];
    uint8_t h[32];
    for (uint64_t i = 0; i < count; i++) {
        size_t off = (size_t)i * 32;
        if (off + 32 <= len) {
            memcpy(h, data + off, 32);
        } else {
            memset(h, 0, 32);
            memcpy(h, data + off, len - off);
        }
        unsigned d = 0;
        while ((i >> d) & 1) {
            cc_ssz_hash_pair(stack[d], h, h);
            d++;
        }
        memcpy(stack[d], h, 32);
    }

    if (depth == 0 || count == (1ull << depth)) {
        /* A full tree: its root was pushed to the top level by the last leaf. */
        memcpy(out, stack[depth], 32);
        return CC_OK;
    }
    /* Close the right edge: pending left nodes pair with what is to their right. */
    int have = 0;
    for (unsigned d = 0; d < depth; d++) {
        if ((count >> d) & 1) {
            cc_ssz_hash_pair(stack[d], have ? h : zero_hashes[d], h);
            have = 1;
        } else if (have) {
            cc_ssz_hash_pair(h, zero_hashes[d], h);
        }
    }
    memcpy(out, have ? h : zero_hashes[depth], 32);
    return CC_OK;
}

void cc_ssz_mix_in_length(const uint8_t root[32], uint64_t length, uint8_t out[32])
{
    uint8_t len_chunk[32] = {0};
    for (int i = 0; i < 8; i++)
        len_chunk[i] = (uint8_t)(length >> (8 * i));
    cc_ssz_hash_pair(root, len_chunk, out);
}

void cc_ssz_uint64_root(uint64_t v, uint8_t out[32])
{
    memset(out, 0, 32);
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

void cc_ssz_bytes_root(const uint8_t *data, size_t len, uint8_t out[32])
{
    if (len <= 32) {
        memset(out, 0, 32);
        memcpy(out, data, len);
        return;
    }
    /* Cannot fail: the chunk count equals its own limit and is tiny. */
    (void)cc_ssz_merkleize(data, len, (len + 31) / 32, out, NULL);
}

cc_status cc_ssz_bitvector_root(const uint8_t *bytes, size_t len, uint64_t nbits, uint8_t out[32],
                                cc_error *err)
{
    uint64_t want = (nbits + 7) / 8;
    if (len != want)
        return cc_error_set(err, CC_EINVAL, "expected %llu bytes for a %llu-bit bitvector, got %zu",
                            (unsigned long long)want, (unsigned long long)nbits, len);
    if (nbits % 8 && len && (bytes[len - 1] >> (nbits % 8)))
        return cc_error_set(err, CC_EINVAL, "bits set beyond the bitvector's %llu bits",
                            (unsigned long long)nbits);
    return cc_ssz_merkleize(bytes, len, (nbits + 255) / 256, out, err);
}

cc_status cc_ssz_bitlist_root(uint8_t *bytes, size_t len, uint64_t limit, uint8_t out[32], cc_error *err)
{
    if (len == 0)
        return cc_error_set(err, CC_EINVAL, "empty bitlist (missing the delimiter bit)");
    uint8_t last = bytes[len - 1];
    if (last == 0)
        return cc_error_set(err, CC_EINVAL, "bitlist's last byte is zero (missing the delimiter bit)");
    unsigned msb = 31u - (unsigned)__builtin_clz(last);
    uint64_t nbits = 8 * (uint64_t)(len - 1) + msb;
    if (nbits > limit)
        return cc_error_set(err, CC_EINVAL, "bitlist of %llu bits exceeds its limit of %llu",
                            (unsigned long long)nbits, (unsigned long long)limit);
    bytes[len - 1] = (uint8_t)(last & ~(1u << msb));
    uint8_t root[32];
    cc_status st = cc_ssz_merkleize(bytes, (size_t)((nbits + 7) / 8), (limit + 255) / 256, root, err);
    if (st != CC_OK)
        return st;
    cc_ssz_mix_in_length(root, nbits, out);
    return CC_OK;
}

cc_status cc_ssz_uint64_list_root(const uint64_t *values, size_t count, uint64_t limit, uint8_t out[32],
                                  cc_error *err)
{
    if (count > limit)
        return cc_error_set(err, CC_EINVAL, "%zu items exceed the limit of %llu", count,
                            (unsigned long long)limit);
    uint8_t root[32];
    /* On a little-endian host the array's memory is its SSZ packing. */
    cc_status st = cc_ssz_merkleize((const uint8_t *)values, count * 8, (limit * 8 + 31) / 32, root, err);
    if (st != CC_OK)
        return st;
    cc_ssz_mix_in_length(root, count, out);
    return CC_OK;
}

cc_status cc_ssz_root_list_root(const uint8_t *roots, size_t count, uint64_t limit, uint8_t out[32],
                                cc_error *err)
{
    uint8_t root[32];
    cc_status st = cc_ssz_merkleize(roots, count * 32, limit, root, err);
    if (st != CC_OK)
        return st;
    cc_ssz_mix_in_length(root, count, out);
    return CC_OK;
}

void cc_ssz_container_root(const uint8_t (*fields)[32], size_t nfields, uint8_t out[32])
{
    (void)cc_ssz_merkleize(&fields[0][0], nfields * 32, nfields, out, NULL);
}
