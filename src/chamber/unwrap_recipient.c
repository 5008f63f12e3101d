/*
 * unwrap_recipient.c — the share unwrapper of tee.platform nitro (unwrap.h):
 * KMS Decrypt with Recipient, so KMS evaluates the key policy's
 * kms:RecipientAttestation:* conditions against the enclave's PCRs and
 * answers a CMS envelope only the session's ephemeral RSA key opens.
 *
 * A session is one cc_recipient (enclave/recipient.h): the key is made and the
 * NSM document asked for at begin, both dropped at end.  The document is
 * reused for every share of the session; KMS bounds its age (kms-local's
 * --attestation-max-age, 300 s by default), far above an unseal's duration.
 */
#include "chamber/unwrap.h"

#include <stdlib.h>
#include <string.h>

#include "enclave/recipient.h"

typedef struct recipient_unwrapper {
    cc_unwrapper base;
    cc_nsm *nsm;
} recipient_unwrapper;

struct cc_unwrap_session {
    cc_recipient *r;
};

static cc_status rec_begin(cc_unwrapper *u, cc_unwrap_session **out, cc_error *err)
{
    recipient_unwrapper *ru = (recipient_unwrapper *)u;
    *out = NULL;
    cc_unwrap_session *s = calloc(1, sizeof *s);
    if (!s)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cc_status st = cc_recipient_new(ru->nsm, &s->r, err);
    if (st != CC_OK) {
        free(s);
        return st;
    }
    *out = s;
    return CC_OK;
}

static cc_status rec_decrypt(cc_unwrap_session *s, const cc_kms *kms, const char *key_arn, const uint8_t *blob,
                             size_t blob_len, json_t *context, cc_kms_bytes *plaintext, cc_error *err)
{
    memset(plaintext, 0, sizeof *plaintext);
    cc_kms_bytes cms = {0};
    cc_status st = cc_kms_decrypt_for_recipient(kms, key_arn, blob, blob_len, context, s->r->doc, s->r->doc_len, &cms,
                                                err);
    if (st == CC_OK)
        st = cc_recipient_open(s->r, cms.data, cms.len, plaintext, err);
    cc_kms_bytes_free(&cms);
    return st;
}

static void rec_end(cc_unwrap_session *s)
{
    if (!s)
        return;
    cc_recipient_free(s->r);
    free(s);
}

static void rec_free(cc_unwrapper *u) { free(u); }

static const cc_unwrapper_ops rec_ops = {"kms-recipient", rec_begin, rec_decrypt, rec_end, rec_free};

cc_status cc_unwrapper_recipient_new(cc_nsm *nsm, cc_unwrapper **out, cc_error *err)
{
    *out = NULL;
    if (!nsm)
        return cc_error_set(err, CC_EINTERNAL, "recipient unwrapper: no NSM device");
    recipient_unwrapper *u = calloc(1, sizeof *u);
    if (!u)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    u->base.ops = &rec_ops;
    u->nsm = nsm;
    *out = &u->base;
    return CC_OK;
}
