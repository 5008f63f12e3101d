/*
 * shamir.c — Shamir secret sharing over GF(2^8) (see shamir.h).
 *
 * Why hand-written: OpenSSL has no secret sharing, and the libraries that do
 * (libgfshare, Vault's Go package) use log/exp tables indexed by secret data.
 * The arithmetic is a few lines; what matters is that it runs in constant
 * time and is tested against the field's published products (FIPS-197 §4.2)
 * and exhaustively for the algebra (tests/chamber/test_shamir.c).
 */
#include "chamber/shamir.h"

#include <openssl/rand.h>

#include "util/secret.h"

uint8_t cc_gf256_mul(uint8_t a, uint8_t b)
{
    /* Russian-peasant multiply, every step masked instead of branched. */
    unsigned r = 0, x = a, y = b;
    for (int i = 0; i < 8; i++) {
        r ^= x & (0u - (y & 1u));
        y >>= 1;
        unsigned carry = 0u - ((x >> 7) & 1u);
        x = ((x << 1) ^ (0x1bu & carry)) & 0xffu;
    }
    return (uint8_t)r;
}

uint8_t cc_gf256_inv(uint8_t a)
{
    /* a^254 = a^-1 (and 0 for 0): square-and-multiply over the fixed exponent. */
    uint8_t a2 = cc_gf256_mul(a, a);      /* a^2 */
    uint8_t a3 = cc_gf256_mul(a2, a);     /* a^3 */
    uint8_t a6 = cc_gf256_mul(a3, a3);    /* a^6 */
    uint8_t a12 = cc_gf256_mul(a6, a6);   /* a^12 */
    uint8_t a15 = cc_gf256_mul(a12, a3);  /* a^15 */
    uint8_t a30 = cc_gf256_mul(a15, a15); /* a^30 */
    uint8_t a60 = cc_gf256_mul(a30, a30);
    uint8_t a63 = cc_gf256_mul(a60, a3);
    uint8_t a126 = cc_gf256_mul(a63, a63);
    uint8_t a127 = cc_gf256_mul(a126, a);
    return cc_gf256_mul(a127, a127); /* a^254 */
}

cc_status cc_shamir_split(const uint8_t *secret, size_t len, unsigned m, unsigned n, uint8_t *shares,
                          cc_error *err)
{
    if (!secret || !shares || len == 0 || len > 4096)
        return cc_error_set(err, CC_EINVAL, "shamir: secret length %zu is not 1..4096", len);
    if (m < 1 || n < m || n > CC_SHAMIR_MAX_SHARES)
        return cc_error_set(err, CC_EINVAL, "shamir: threshold %u of %u shares is not 1 <= threshold <= shares <= 255",
                            m, n);
    size_t ncoef = (size_t)(m - 1) * len;
    uint8_t *coef = NULL;
    if (ncoef) {
        if (!(coef = cc_secret_alloc(ncoef)))
            return cc_error_set(err, CC_ENOMEM, "shamir: out of memory");
        if (RAND_priv_bytes(coef, (int)ncoef) != 1) {
            cc_secret_free(coef, ncoef);
            return cc_error_set(err, CC_ECRYPTO, "shamir: the random generator failed");
        }
    }
    /* Byte b of share x: secret[b] + c1·x + … + c(m−1)·x^(m−1), by Horner from the top. */
    for (unsigned i = 0; i < n; i++) {
        uint8_t x = (uint8_t)(i + 1);
        for (size_t b = 0; b < len; b++) {
            uint8_t acc = 0;
            for (unsigned k = m - 1; k >= 1; k--)
                acc = cc_gf256_mul(acc, x) ^ coef[(size_t)(k - 1) * len + b];
            shares[(size_t)i * len + b] = cc_gf256_mul(acc, x) ^ secret[b];
        }
    }
    cc_secret_free(coef, ncoef);
    return CC_OK;
}

cc_status cc_shamir_combine(const uint8_t *xs, const uint8_t *ys, size_t count, size_t len, uint8_t *secret,
                            cc_error *err)
{
    if (!xs || !ys || !secret || count == 0 || count > CC_SHAMIR_MAX_SHARES || len == 0)
        return cc_error_set(err, CC_EINVAL, "shamir: need 1..255 shares of at least one byte");
    for (size_t i = 0; i < count; i++) {
        if (xs[i] == 0)
            return cc_error_set(err, CC_EINVAL, "shamir: share %zu has x = 0", i);
        for (size_t j = 0; j < i; j++)
            if (xs[i] == xs[j])
                return cc_error_set(err, CC_EINVAL, "shamir: shares %zu and %zu have the same x (%u)", j, i,
                                    (unsigned)xs[i]);
    }
    for (size_t b = 0; b < len; b++)
        secret[b] = 0;
    for (size_t i = 0; i < count; i++) {
        /* Lagrange basis at 0: l_i = Π_{j≠i} x_j / (x_j − x_i); subtraction is xor. */
        uint8_t num = 1, den = 1;
        for (size_t j = 0; j < count; j++) {
            if (j == i)
                continue;
            num = cc_gf256_mul(num, xs[j]);
            den = cc_gf256_mul(den, xs[j] ^ xs[i]);
        }
        uint8_t l = cc_gf256_mul(num, cc_gf256_inv(den));
        for (size_t b = 0; b < len; b++)
            secret[b] ^= cc_gf256_mul(ys[i * len + b], l);
    }
    return CC_OK;
}
