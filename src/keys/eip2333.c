/*
 * eip2333.c — EIP-2333 derivation (over blst) and EIP-2334 path parsing.
 *
 *   seed ──derive_master_SK──▶ m ──child(12381)──▶ ... ──child(0)──▶ signing key
 *
 * blst 0.3.10 implements both halves of EIP-2333 (HKDF_mod_r and the Lamport
 * tree in blst_derive_master_eip2333 / blst_derive_child_eip2333), so this
 * file only adds what blst leaves to the caller: the 32-byte minimum on the
 * seed, the range check on every scalar, and the path grammar.  Like
 * signing/bls.c it talks to blst directly; nothing else in keys/ does.
 *
 * Intermediate scalars live in secret memory and are wiped.
 */
#include "keys/eip2333.h"

#include <blst.h>
#include <stdio.h>
#include <string.h>

#include "util/secret.h"

cc_status cc_eip2333_master(const uint8_t *seed, size_t seed_len, uint8_t sk_be32[32], cc_error *err)
{
    if (!seed || seed_len < CC_EIP2333_MIN_SEED)
        return cc_error_set(err, CC_EINVAL, "seed: %zu bytes, EIP-2333 needs at least %d", seed ? seed_len : 0,
                            CC_EIP2333_MIN_SEED);
    blst_scalar *sk = cc_secret_alloc(sizeof *sk);
    if (!sk)
        return cc_error_set(err, CC_ENOMEM, "seed: out of memory");
    blst_derive_master_eip2333(sk, seed, seed_len);
    cc_status st = CC_OK;
    if (!blst_sk_check(sk))
        st = cc_error_set(err, CC_EINTERNAL, "seed: derived master key is out of range");
    else
        blst_bendian_from_scalar(sk_be32, sk);
    cc_secret_free(sk, sizeof *sk);
    return st;
}

cc_status cc_eip2333_child(const uint8_t parent_be32[32], uint32_t index, uint8_t child_be32[32], cc_error *err)
{
    blst_scalar *s = cc_secret_alloc(2 * sizeof *s);
    if (!s)
        return cc_error_set(err, CC_ENOMEM, "child key %u: out of memory", index);
    cc_status st = CC_OK;
    blst_scalar_from_bendian(&s[0], parent_be32);
    if (!blst_sk_check(&s[0])) {
        st = cc_error_set(err, CC_EINVAL, "child key %u: parent key is zero or not below the group order", index);
    } else {
        blst_derive_child_eip2333(&s[1], &s[0], index);
        if (!blst_sk_check(&s[1]))
            st = cc_error_set(err, CC_EINTERNAL, "child key %u: derived key is out of range", index);
        else
            blst_bendian_from_scalar(child_be32, &s[1]);
    }
    cc_secret_free(s, 2 * sizeof *s);
    return st;
}

/* One decimal component: digits only, no leading zero unless it is "0", below 2^32. */
static int parse_component(const char *s, size_t len, uint32_t *out)
{
    if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return 0;
    *out = (uint32_t)v;
    return 1;
}

cc_status cc_eip2333_parse_path(const char *path, uint32_t indices[CC_EIP2333_MAX_DEPTH], size_t *depth,
                                cc_error *err)
{
    *depth = 0;
    if (!path)
        return cc_error_set(err, CC_EINVAL, "path: missing");
    if (path[0] != 'm' || (path[1] != '\0' && path[1] != '/'))
        return cc_error_set(err, CC_EINVAL, "path \"%.64s\": must start with \"m\"", path);
    const char *p = path + 1;
    size_t n = 0;
    while (*p == '/') {
        p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (n == CC_EIP2333_MAX_DEPTH)
            return cc_error_set(err, CC_EINVAL, "path \"%.64s\": deeper than %d components", path,
                                CC_EIP2333_MAX_DEPTH);
        if (!parse_component(p, len, &indices[n]))
            return cc_error_set(err, CC_EINVAL,
                                "path \"%.64s\": component %zu is not a decimal index below 2^32", path, n + 1);
        n++;
        p += len;
    }
    if (*p != '\0')
        return cc_error_set(err, CC_EINVAL, "path \"%.64s\": unexpected character", path);
    *depth = n;
    return CC_OK;
}

cc_status cc_eip2333_derive_path(const uint8_t *seed, size_t seed_len, const char *path, uint8_t sk_be32[32],
                                 cc_error *err)
{
    uint32_t idx[CC_EIP2333_MAX_DEPTH];
    size_t depth;
    cc_status st = cc_eip2333_parse_path(path, idx, &depth, err);
    if (st != CC_OK)
        return st;
    uint8_t *sk = cc_secret_alloc(32);
    if (!sk)
        return cc_error_set(err, CC_ENOMEM, "path \"%.64s\": out of memory", path);
    st = cc_eip2333_master(seed, seed_len, sk, err);
    for (size_t i = 0; st == CC_OK && i < depth; i++)
        st = cc_eip2333_child(sk, idx[i], sk, err);
    if (st == CC_OK)
        memcpy(sk_be32, sk, 32);
    else
        cc_error_prefix(err, "path \"%.64s\"", path);
    cc_secret_free(sk, 32);
    return st;
}

void cc_eip2334_signing_path(uint32_t i, char out[CC_EIP2334_PATH_MAX])
{
    snprintf(out, CC_EIP2334_PATH_MAX, "m/12381/3600/%u/0/0", i);
}
