/*
 * interop.c — interop key derivation with OpenSSL's bignums (no hand-rolled
 * arithmetic).
 */
#include "keys/interop.h"

#include <openssl/bn.h>
#include <openssl/sha.h>
#include <string.h>

#include "util/secret.h"

static const char CURVE_ORDER_HEX[] = "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001";

cc_status cc_interop_secret(uint32_t index, uint8_t sk_be32[32], cc_error *err)
{
    uint8_t in[32] = {0}, digest[32];
    for (int i = 0; i < 4; i++)
        in[i] = (uint8_t)(index >> (8 * i));
    SHA256(in, sizeof in, digest);
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *x = BN_lebin2bn(digest, sizeof digest, NULL), *r = NULL, *rem = BN_new();
    cc_status st = CC_OK;
    if (!ctx || !x || !rem || !BN_hex2bn(&r, CURVE_ORDER_HEX) || !BN_mod(rem, x, r, ctx) ||
        BN_bn2binpad(rem, sk_be32, 32) != 32)
        st = cc_error_set(err, CC_ECRYPTO, "interop key %u: bignum arithmetic failed", index);
    BN_clear_free(x);
    BN_clear_free(rem);
    BN_free(r);
    BN_CTX_free(ctx);
    cc_secret_wipe(digest, sizeof digest);
    return st;
}
