/*
 * shamir.h — Shamir secret sharing over GF(2^8), byte by byte.
 *
 * The field is AES's: GF(2)[x] / (x^8 + x^4 + x^3 + x + 1) (0x11b), the one
 * HashiCorp Vault's shamir package uses.  Each byte of the secret is the
 * constant term of its own random polynomial of degree threshold−1; share i
 * (x = 1..n) holds the polynomial values at x.  Any `threshold` shares give
 * the secret back by Lagrange interpolation at 0; fewer reveal nothing.
 *
 * Everything that touches secret values runs in constant time: the field
 * multiply is a masked shift-and-add (no log/exp tables, whose lookups are
 * indexed by secret bytes and leak through the cache), the inverse is
 * a^254.  The x coordinates are public and may branch.
 *
 * Nothing here can tell a wrong share from a right one: the caller checks
 * the result (chamber/master.h has the integrity check).
 */
#ifndef CC_CHAMBER_SHAMIR_H
#define CC_CHAMBER_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define CC_SHAMIR_MAX_SHARES 255

/* Field operations (exposed for tests): a·b and a^-1 (0 for 0) in GF(2^8) mod 0x11b, constant time. */
uint8_t cc_gf256_mul(uint8_t a, uint8_t b);
uint8_t cc_gf256_inv(uint8_t a);

/*
 * Splits secret (len bytes, 1..4096) into n shares with threshold m
 * (1 ≤ m ≤ n ≤ 255).  shares receives n·len bytes: share i (x = i + 1) at
 * shares + i·len.  Coefficients come from RAND_priv_bytes and are wiped.
 * Put shares in cc_secret memory.
 */
cc_status cc_shamir_split(const uint8_t *secret, size_t len, unsigned m, unsigned n, uint8_t *shares,
                          cc_error *err);

/*
 * Rebuilds the secret from count shares: xs[k] is share k's x (1..255, all
 * distinct), ys + k·len its bytes.  With fewer than the split's threshold the
 * result is garbage, not an error: check it.  CC_EINVAL for count 0, a zero
 * or repeated x.
 */
cc_status cc_shamir_combine(const uint8_t *xs, const uint8_t *ys, size_t count, size_t len, uint8_t *secret,
                            cc_error *err);

#endif
