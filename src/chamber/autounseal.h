/*
 * autounseal.h — Nitro auto-unseal (issue 8 part 6): the master key, wrapped
 * by one KMS key whose policy releases it only to an attested enclave, kept
 * in the signer state table so a restarted enclave unseals unattended.
 *
 *   pk          S  "NITRO_AUTO_UNSEAL"
 *   kms_key_arn S  tee.auto_unseal.kms_key_arn at the time of writing
 *   version     N  the master-key version wrapped
 *   blob        B  KMS CiphertextBlob of the 32-byte master key, EncryptionContext
 *                  {"containment-chamber:purpose": "nitro-auto-unseal",
 *                   "containment-chamber:version": "<version>"}
 *   updated_at  S
 *
 * Written (Encrypt: no attestation, as every Encrypt) after an unseal inside
 * the enclave when the item is missing, stale (another version) or under
 * another key; read back with the session's unwrapper (Recipient Decrypt), so
 * KMS checks the enclave's PCRs against the key policy.  A blob that decrypts
 * to a key failing the state item's integrity check is refused, so a blob
 * written by someone who can write the table but not the shares cannot plant
 * a master key.
 *
 * The trade-off (docs/enclave.md): the blob puts the whole master key behind
 * ONE KMS key, so in KMS-only mode with N accounts it narrows the M-of-N
 * separation to that key's account for anyone who can run an enclave with
 * the PCRs its policy lists.  It saves N-1 KMS calls per start; in
 * operator-quorum mode it is what lets an enclave restart without operators.
 */
#ifndef CC_CHAMBER_AUTOUNSEAL_H
#define CC_CHAMBER_AUTOUNSEAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "aws/dynamodb.h"
#include "aws/kms.h"
#include "chamber/state.h"
#include "chamber/unwrap.h"

#define CC_AUTOUNSEAL_PK "NITRO_AUTO_UNSEAL"

/* The EncryptionContext of the blob for version (a new reference). */
json_t *cc_autounseal_context(uint32_t version);

/*
 * Opens the stored blob with u and checks it against rec (version and
 * integrity check); master (cc_secret memory) receives the key.
 * CC_ENOTFOUND when there is no item, or it wraps another version than rec's
 * (stale: the caller falls back to the shares).
 */
cc_status cc_autounseal_open(const cc_dynamodb *ddb, const char *table, const cc_kms *kms, cc_unwrapper *u,
                             const cc_state_record *rec, uint8_t master[CC_MASTER_KEY_LEN], cc_error *err);

/*
 * Makes sure the table holds a blob of master at version under kms_key_arn:
 * unless force, nothing is written when the item already wraps that version
 * under that key (*written = 0); force (the stored blob did not open) always
 * writes a fresh one.  The put is conditional, so it never replaces a blob of
 * a newer version.
 */
cc_status cc_autounseal_store(const cc_dynamodb *ddb, const char *table, const cc_kms *kms, const char *kms_key_arn,
                              const uint8_t master[CC_MASTER_KEY_LEN], uint32_t version, int force, int *written,
                              cc_error *err);

#endif
