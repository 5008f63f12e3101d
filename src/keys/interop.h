/*
 * interop.h — the well-known insecure "interop" validator keys that dev
 * chains (Lodestar dev, the EIP-3076 suite) use:
 *   sk_i = int_LE(SHA256(i as 32-byte little-endian)) mod r.
 * For demos and tests only: anyone can compute these keys.
 */
#ifndef CC_INTEROP_H
#define CC_INTEROP_H

#include <stdint.h>

#include "util/err.h"

/* Writes interop secret key i as 32 big-endian bytes. */
cc_status cc_interop_secret(uint32_t index, uint8_t sk_be32[32], cc_error *err);

#endif
