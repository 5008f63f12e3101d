/*
 * unwrap.h — how the chamber turns a KMS-wrapped share (or the Nitro
 * auto-unseal blob) back into plaintext: the "share unwrapper".
 *
 *   plain      (unwrap_plain.c)      KMS Decrypt; the plaintext comes back in the answer.
 *   recipient  (unwrap_recipient.c)  KMS Decrypt with Recipient {AttestationDocument,
 *                                    RSAES_OAEP_SHA_256}; KMS answers CiphertextForRecipient,
 *                                    opened inside the enclave (enclave/recipient.h).
 *
 * An unseal opens one session (begin), decrypts every share through it from
 * several threads at once, and ends it when the last share thread is done:
 * the recipient unwrapper makes one ephemeral RSA-2048 key and one
 * attestation document per session, so a key lives for one unseal only.
 * Wrapping (Encrypt, at init) never needs attestation and stays in chamber.c.
 */
#ifndef CC_CHAMBER_UNWRAP_H
#define CC_CHAMBER_UNWRAP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "aws/kms.h"
#include "enclave/nsm.h"
#include "util/err.h"

typedef struct cc_unwrapper cc_unwrapper;
typedef struct cc_unwrap_session cc_unwrap_session;

typedef struct cc_unwrapper_ops {
    const char *name; /* "kms" | "kms-recipient" (logged) */
    cc_status (*begin)(cc_unwrapper *u, cc_unwrap_session **out, cc_error *err);
    /* Thread-safe for one session.  *plaintext is secret memory. */
    cc_status (*decrypt)(cc_unwrap_session *s, const cc_kms *kms, const char *key_arn, const uint8_t *blob,
                         size_t blob_len, json_t *context, cc_kms_bytes *plaintext, cc_error *err);
    void (*end)(cc_unwrap_session *s);
    void (*free)(cc_unwrapper *u);
} cc_unwrapper_ops;

struct cc_unwrapper {
    const cc_unwrapper_ops *ops;
};

/* Plain KMS Decrypt (tee.platform none). */
cc_status cc_unwrapper_plain_new(cc_unwrapper **out, cc_error *err);
/* Recipient Decrypt through nsm (borrowed: it must outlive the unwrapper). */
cc_status cc_unwrapper_recipient_new(cc_nsm *nsm, cc_unwrapper **out, cc_error *err);

static inline void cc_unwrapper_free(cc_unwrapper *u)
{
    if (u)
        u->ops->free(u);
}

/* One-shot helper: begin, decrypt one blob, end. */
cc_status cc_unwrap_once(cc_unwrapper *u, const cc_kms *kms, const char *key_arn, const uint8_t *blob,
                         size_t blob_len, json_t *context, cc_kms_bytes *plaintext, cc_error *err);

#endif
