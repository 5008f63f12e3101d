/*
 * state.h — the signer state table (signer_state.table): one DynamoDB item
 * that describes the master key, so every replica can rebuild it.
 *
 *   pk          S  "STATE"
 *   mode        S  "kms" (KMS-only; SPEC §5)
 *   threshold   N  M: how many shares rebuild the master key
 *   version     N  master-key version (1 at initialisation)
 *   check       B  HMAC-SHA256(master, "cc-master-check-v1" ‖ version) (chamber/master.h)
 *   shares      L  N × {M: {index N (the Shamir x, 1..N), kms_key_arn S, blob B}}
 *                  blob = the KMS CiphertextBlob of the share, encrypted under
 *                  kms_key_arn with the EncryptionContext of cc_state_share_context
 *   created_at  S  ISO-8601 UTC
 *   updated_at  S
 *   q_*            mode "quorum" only: the operator quorum (chamber/quorum.h,
 *                  cc_quorum_to_item); the shares above then wrap kms_part
 *
 * The item never holds a secret in the clear.  Initialisation is one
 * conditional PutItem (attribute_not_exists(pk)), so of two replicas
 * initialising at once exactly one wins; the other gets CC_ECONFLICT and
 * reads the winner's item.
 */
#ifndef CC_CHAMBER_STATE_H
#define CC_CHAMBER_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "aws/dynamodb.h"
#include "chamber/master.h"
#include "chamber/quorum.h" /* operator-quorum attributes (q_*), mode "quorum" */

#define CC_STATE_PK "STATE"
#define CC_STATE_MAX_SHARES 32   /* KMS keys per chamber (one unseal thread each) */
#define CC_STATE_ARN_MAX 2048    /* KMS key ARNs are at most 2048 characters */
#define CC_STATE_BLOB_MAX 6144   /* a KMS CiphertextBlob is at most 6144 bytes */

typedef struct cc_state_share {
    uint8_t index;                   /* Shamir x, 1..N */
    char kms_key_arn[CC_STATE_ARN_MAX + 1];
    uint8_t *blob;                   /* malloc'ed; not secret (KMS-encrypted) */
    size_t blob_len;
} cc_state_share;

typedef struct cc_state_record {
    char mode[16];                   /* "kms" or "quorum" (then shares hold kms_part, quorum the rest) */
    unsigned threshold;
    unsigned share_count;
    cc_state_share shares[CC_STATE_MAX_SHARES];
    uint32_t version;
    uint8_t check[CC_MASTER_CHECK_LEN];
    char created_at[32];
    char updated_at[32];
    cc_quorum_record quorum;         /* mode "quorum" only: operators, sealed shares (chamber/quorum.h) */
} cc_state_record;

/* Frees the blobs of r (r itself is the caller's). */
void cc_state_record_clear(cc_state_record *r);

/* The DynamoDB item of r (a new reference) / r from an item; CC_EINVAL names the malformed attribute. */
cc_status cc_state_record_to_item(const cc_state_record *r, json_t **item, cc_error *err);
cc_status cc_state_record_from_item(json_t *item, cc_state_record *r, cc_error *err);

/* The KMS EncryptionContext that names share `index` of master-key `version` (a new reference). */
json_t *cc_state_share_context(unsigned index, uint32_t version);

/* Creates the table (hash key pk S) if missing and checks its key schema; *created = 1 if made now. */
cc_status cc_state_create_table(const cc_dynamodb *ddb, const char *table, int *created, cc_error *err);

/* Consistent GetItem of the state item: *found = 0 (r untouched) when there is none. */
cc_status cc_state_load(const cc_dynamodb *ddb, const char *table, cc_state_record *r, int *found, cc_error *err);

/* Writes r only if no state item exists: CC_ECONFLICT when another writer initialised first. */
cc_status cc_state_put_initial(const cc_dynamodb *ddb, const char *table, const cc_state_record *r, cc_error *err);

/* A KMS key list for the shares: 1..CC_STATE_MAX_SHARES distinct non-empty ARNs of at most
 * CC_STATE_ARN_MAX characters, and 1 ≤ threshold ≤ n; CC_EINVAL naming the entry otherwise. */
cc_status cc_state_check_arns(const char *const *arns, size_t n, unsigned threshold, cc_error *err);

/* "2026-11-26T00:01:02Z" of now into out[32]. */
void cc_state_now(char out[32]);

#endif
