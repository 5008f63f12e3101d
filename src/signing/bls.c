/*
 * bls.c — the only file that talks to blst.
 */
#include "signing/bls.h"

#include <blst.h>
#include <string.h>

#include "util/secret.h"

_Static_assert(sizeof(blst_scalar) == sizeof(((cc_bls_sk *)0)->scalar), "blst_scalar size");

cc_status cc_bls_sk_from_bytes(cc_bls_sk *sk, const uint8_t be32[32], cc_error *err)
{
    blst_scalar s;
    blst_scalar_from_bendian(&s, be32);
    /* blst_sk_check rejects zero and anything not below the group order r. */
    if (!blst_sk_check(&s)) {
        cc_secret_wipe(&s, sizeof s);
        return cc_error_set(err, CC_EINVAL, "secret key is zero or not below the group order");
    }
    memcpy(sk->scalar, &s, sizeof s);
    cc_secret_wipe(&s, sizeof s);
    return CC_OK;
}

void cc_bls_sk_to_bytes(const cc_bls_sk *sk, uint8_t be32[32])
{
    blst_bendian_from_scalar(be32, (const blst_scalar *)sk->scalar);
}

void cc_bls_sk_to_pk(const cc_bls_sk *sk, uint8_t pk[CC_BLS_PUBKEY_LEN])
{
    blst_p1 p;
    blst_sk_to_pk_in_g1(&p, (const blst_scalar *)sk->scalar);
    blst_p1_compress(pk, &p);
}

void cc_bls_sign(const cc_bls_sk *sk, const uint8_t *msg, size_t msg_len, uint8_t sig[CC_BLS_SIG_LEN])
{
    blst_p2 h, s;
    blst_hash_to_g2(&h, msg, msg_len, (const byte *)CC_BLS_DST, sizeof CC_BLS_DST - 1, NULL, 0);
    blst_sign_pk_in_g1(&s, &h, (const blst_scalar *)sk->scalar);
    blst_p2_compress(sig, &s);
}

int cc_bls_verify(const uint8_t pk[CC_BLS_PUBKEY_LEN], const uint8_t *msg, size_t msg_len,
                  const uint8_t sig[CC_BLS_SIG_LEN])
{
    blst_p1_affine p;
    blst_p2_affine s;
    if (blst_p1_uncompress(&p, pk) != BLST_SUCCESS || !blst_p1_affine_in_g1(&p) ||
        blst_p1_affine_is_inf(&p))
        return 0;
    if (blst_p2_uncompress(&s, sig) != BLST_SUCCESS || !blst_p2_affine_in_g2(&s))
        return 0;
    return blst_core_verify_pk_in_g1(&p, &s, 1, msg, msg_len, (const byte *)CC_BLS_DST,
                                     sizeof CC_BLS_DST - 1, NULL, 0) == BLST_SUCCESS;
}

int cc_bls_pubkey_valid(const uint8_t pk[CC_BLS_PUBKEY_LEN])
{
    blst_p1_affine p;
    return blst_p1_uncompress(&p, pk) == BLST_SUCCESS && blst_p1_affine_in_g1(&p) &&
           !blst_p1_affine_is_inf(&p);
}
