/*
 * unwrap_plain.c — the share unwrapper of tee.platform none: KMS Decrypt,
 * the plaintext in the answer (unwrap.h).  Sessions carry nothing.
 */
#include "chamber/unwrap.h"

#include <stdlib.h>

struct cc_unwrap_session {
    int unused;
};

static cc_status plain_begin(cc_unwrapper *u, cc_unwrap_session **out, cc_error *err)
{
    (void)u;
    *out = calloc(1, sizeof **out);
    return *out ? CC_OK : cc_error_set(err, CC_ENOMEM, "out of memory");
}

static cc_status plain_decrypt(cc_unwrap_session *s, const cc_kms *kms, const char *key_arn, const uint8_t *blob,
                               size_t blob_len, json_t *context, cc_kms_bytes *plaintext, cc_error *err)
{
    (void)s;
    return cc_kms_decrypt(kms, key_arn, blob, blob_len, context, plaintext, err);
}

static void plain_end(cc_unwrap_session *s) { free(s); }

static void plain_free(cc_unwrapper *u) { free(u); }

static const cc_unwrapper_ops plain_ops = {"kms", plain_begin, plain_decrypt, plain_end, plain_free};

cc_status cc_unwrapper_plain_new(cc_unwrapper **out, cc_error *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    (*out)->ops = &plain_ops;
    return CC_OK;
}

cc_status cc_unwrap_once(cc_unwrapper *u, const cc_kms *kms, const char *key_arn, const uint8_t *blob,
                         size_t blob_len, json_t *context, cc_kms_bytes *plaintext, cc_error *err)
{
    cc_unwrap_session *s = NULL;
    cc_status st = u->ops->begin(u, &s, err);
    if (st == CC_OK)
        st = u->ops->decrypt(s, kms, key_arn, blob, blob_len, context, plaintext, err);
    if (s)
        u->ops->end(s);
    return st;
}
