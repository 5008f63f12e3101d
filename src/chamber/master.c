/*
 * master.c — the master key's generation and integrity check (master.h).
 */
#include "chamber/master.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "util/secret.h"

#define CHECK_LABEL "cc-master-check-v1"

cc_status cc_master_generate(uint8_t key[CC_MASTER_KEY_LEN], cc_error *err)
{
    if (RAND_priv_bytes(key, CC_MASTER_KEY_LEN) != 1)
        return cc_error_set(err, CC_ECRYPTO, "master key: the random generator failed");
    return CC_OK;
}

cc_status cc_master_check(const uint8_t key[CC_MASTER_KEY_LEN], uint32_t version, uint8_t check[CC_MASTER_CHECK_LEN],
                          cc_error *err)
{
    uint8_t msg[sizeof CHECK_LABEL - 1 + 4];
    memcpy(msg, CHECK_LABEL, sizeof CHECK_LABEL - 1);
    msg[sizeof CHECK_LABEL - 1] = (uint8_t)(version >> 24);
    msg[sizeof CHECK_LABEL] = (uint8_t)(version >> 16);
    msg[sizeof CHECK_LABEL + 1] = (uint8_t)(version >> 8);
    msg[sizeof CHECK_LABEL + 2] = (uint8_t)version;
    unsigned int out_len = 0;
    if (!HMAC(EVP_sha256(), key, CC_MASTER_KEY_LEN, msg, sizeof msg, check, &out_len) ||
        out_len != CC_MASTER_CHECK_LEN)
        return cc_error_set(err, CC_ECRYPTO, "master key: HMAC-SHA256 failed");
    return CC_OK;
}

cc_status cc_master_verify(const uint8_t key[CC_MASTER_KEY_LEN], uint32_t version,
                           const uint8_t check[CC_MASTER_CHECK_LEN], cc_error *err)
{
    uint8_t have[CC_MASTER_CHECK_LEN];
    cc_status st = cc_master_check(key, version, have, err);
    if (st != CC_OK)
        return st;
    int ok = cc_ct_equal(have, check, sizeof have);
    cc_secret_wipe(have, sizeof have);
    if (!ok)
        return cc_error_set(err, CC_ECRYPTO, "master key: the rebuilt key does not match the integrity check of version %u",
                            (unsigned)version);
    return CC_OK;
}
