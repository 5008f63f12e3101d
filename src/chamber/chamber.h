/*
 * chamber.h — the signer's seal state machine (SPEC §5).
 *
 * KMS-only mode:
 *
 *   uninitialized ──init──▶ unsealed ──seal──▶ sealed ──unseal──▶ unsealed
 *         │                                      ▲
 *         └── (init seen in the table) ──────────┘ then automatic KMS unseal
 *
 * Operator-quorum mode adds awaiting_registration (after init, until every
 * operator registered) and kms_unsealed (KMS gave its part; waiting for a
 * threshold of operator submissions); any rotation runs in awaiting_rotation,
 * where signing continues (chamber/rotate.h).
 *
 * At start the state item (chamber/state.h) is read: none → uninitialized,
 * and a one-time setup token `cc-setup-<hex>` is logged once (warn), kept
 * only in locked memory and compared in constant time; an item → sealed, then
 * a background KMS unseal: the N wrapped shares are decrypted concurrently
 * (one thread per share) and the chamber unseals as soon as any M of them
 * rebuild a key that passes the integrity check.  Unreachable or disabled
 * KMS keys are tolerated; below the threshold the chamber stays sealed and
 * logs which key ARNs failed and why (and retries now and then).
 *
 * A poller re-reads the item every refresh_interval_seconds: an
 * initialisation made by another replica unseals this one.  A seal is local
 * to this process (another replica's seal is not followed); after an
 * operator's seal nothing unseals automatically until `unseal` or a restart.
 *
 * The share decryption itself is pluggable (chamber/unwrap.h): plain KMS
 * Decrypt, or Decrypt with an attested Recipient inside a Nitro Enclave.
 */
#ifndef CC_CHAMBER_CHAMBER_H
#define CC_CHAMBER_CHAMBER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "chamber/quorum.h" /* operator quorum (issue 7) */
#include "util/err.h"

typedef enum cc_chamber_state_t {
    CC_CHAMBER_UNINITIALIZED = 0,
    CC_CHAMBER_AWAITING_REGISTRATION,
    CC_CHAMBER_SEALED,
    CC_CHAMBER_KMS_UNSEALED,
    CC_CHAMBER_UNSEALED,
    CC_CHAMBER_AWAITING_ROTATION
} cc_chamber_state_t;

const char *cc_chamber_state_name(cc_chamber_state_t s);

typedef struct cc_chamber_config {
    const char *table;                 /* signer_state.table */
    unsigned refresh_interval_seconds; /* signer_state.refresh_interval_seconds */
    unsigned unseal_timeout_minutes;   /* signer_state.unseal_timeout_minutes (operator quorum; unused in KMS-only) */
    const char *aws_region;            /* aws.region */
    const char *aws_endpoint_dynamodb;
    const char *aws_endpoint_kms;
    const char *aws_endpoint_sts;
    /* ---- Nitro Enclave (issue 8): chamber/unwrap.h, chamber/autounseal.h ---- */
    struct cc_unwrapper *unwrapper;      /* share decryption; NULL = plain KMS Decrypt (borrowed) */
    const char *auto_unseal_kms_key_arn; /* tee.auto_unseal.kms_key_arn; NULL or "" = no auto-unseal blob */
    /* ---- end Nitro ---- */
    /* ---- operator quorum (issue 7) ---- */
    unsigned unseal_timeout_seconds;     /* signer_state.unseal_timeout_seconds: for tests; 0 = use the minutes */
    /* ---- end operator quorum ---- */
    /* ---- rotation (issue 7; chamber/rotate.h) ---- */
    const char *key_table;               /* key_sources.dynamodb.table: re-sealed by a master-key rotation ("" = none) */
    unsigned rotation_test_delay_ms;     /* signer_state.rotation_test_delay_ms: TEST ONLY, slows each re-seal */
    /* ---- end rotation ---- */
} cc_chamber_config;

typedef struct cc_chamber cc_chamber;

/*
 * Connects to DynamoDB and KMS (default credential chain), reads the state
 * item (a missing table is an error naming `dynamodb create-tables`), and
 * starts the poller, whose first round unseals an initialised chamber.
 */
cc_status cc_chamber_open(const cc_chamber_config *cfg, cc_chamber **out, cc_error *err);
/* Stops the poller, waits for running unseals, wipes the master key. */
void cc_chamber_close(cc_chamber *ch);

cc_chamber_state_t cc_chamber_state(cc_chamber *ch);
/* 1 when signing is allowed: unsealed or awaiting_rotation. */
int cc_chamber_can_sign(cc_chamber *ch);

/*
 * Initialises an uninitialized chamber: checks the setup token, makes a
 * master key (version 1), splits it M-of-N, wraps share i with
 * kms_key_arns[i] (EncryptionContext of cc_state_share_context) and writes
 * the state item conditionally.  CC_EFORBIDDEN for a wrong token; CC_ECONFLICT
 * when already initialised (here or by another replica: this replica then
 * unseals from the stored shares).
 */
cc_status cc_chamber_init(cc_chamber *ch, const char *setup_token, const char *const *kms_key_arns, size_t n,
                          unsigned threshold, cc_error *err);

/*
 * Checks setup_token against this replica's one-time setup token without
 * using it (auth issues the first root token just before cc_chamber_init).
 * CC_EFORBIDDEN for a wrong token; CC_ECONFLICT when already initialised.
 */
cc_status cc_chamber_check_setup_token(cc_chamber *ch, const char *setup_token, cc_error *err);

/* The signer state table's DynamoDB client and name (borrowed; they live as long as ch). */
const struct cc_dynamodb *cc_chamber_dynamodb(cc_chamber *ch);
const char *cc_chamber_table(cc_chamber *ch);
unsigned cc_chamber_refresh_seconds(cc_chamber *ch);

/* Emergency seal: zeroizes the master key at once, runs the on-seal hooks; this process only. */
cc_status cc_chamber_seal(cc_chamber *ch, cc_error *err);

/* KMS unseal now (sealed → unsealed); waits for it.  CC_EUNAVAILABLE below threshold. */
cc_status cc_chamber_unseal(cc_chamber *ch, cc_error *err);

/* {state, mode, threshold, kms_key_arns, version, ...} — never a secret (a new reference). */
json_t *cc_chamber_status_json(cc_chamber *ch);

/*
 * Runs fn(arg) after every seal, under the chamber's lock and after the
 * master key is wiped, so a key source can wipe every key it decrypted.  fn
 * must not call back into the chamber.  At most 8 hooks.
 */
cc_status cc_chamber_on_seal(cc_chamber *ch, void (*fn)(void *arg), void *arg, cc_error *err);

/*
 * Calls fn(arg, master, version) with the master key under a read lock (a
 * seal waits for it).  CC_EUNAVAILABLE when sealed.  fn must not keep the
 * pointer nor call back into the chamber; it returns its own status.
 */
cc_status cc_chamber_with_master_key(cc_chamber *ch,
                                     cc_status (*fn)(void *arg, const uint8_t master[32], uint32_t version),
                                     void *arg, cc_error *err);

/* ---- operator quorum (issue 7): chamber/quorum.h, docs/chamber.md "Operator quorum" ----
 *
 *   init (quorum) ─▶ awaiting_registration ─(K registrations)─▶ unsealed
 *   restart / seal ─▶ sealed ─(KMS: kms_part)─▶ kms_unsealed ─(T submissions
 *   within the unseal timeout)─▶ unsealed
 */
typedef struct cc_chamber_quorum_params {
    const char *const *operators;      /* K names, [a-z0-9_.-]{1,32} */
    size_t count;
    unsigned threshold;                /* T */
    cc_quorum_kdf kdf;                 /* Argon2id parameters for passphrase registrations */
} cc_chamber_quorum_params;

/*
 * cc_chamber_init in operator-quorum mode: makes kms_part (wrapped by the KMS
 * keys M-of-N), operator_part (split T-of-K, the shares kept in this
 * process's locked memory until registered) and the master key; writes the
 * item (awaiting_registration).  *tokens = {name: "cc-reg-…"}, the one-time
 * registration tokens (shown once; only their hashes are stored).  Also
 * allowed over an unfinished quorum initialisation that this replica does
 * not hold (it then offers a setup token): that initialisation is replaced.
 */
cc_status cc_chamber_init_quorum(cc_chamber *ch, const char *setup_token, const char *const *kms_key_arns, size_t n,
                                 unsigned kms_threshold, const cc_chamber_quorum_params *q, json_t **tokens,
                                 cc_error *err);

/*
 * Registers the operator whose one-time token this is: their share is sealed
 * under the credential (kind passphrase or yubikey, secret = passphrase bytes
 * or the 20-byte response) and stored.  The last registration unseals.
 * CC_EFORBIDDEN unknown token; CC_ECONFLICT token already used;
 * CC_EUNAVAILABLE when this replica does not hold the pending initialisation.
 * *name receives the operator's name (33 bytes).
 */
cc_status cc_chamber_register(cc_chamber *ch, const char *registration_token, cc_quorum_kind kind,
                              const uint8_t *secret, size_t len, char name[CC_QUORUM_NAME_MAX + 1], cc_error *err);

/*
 * One operator's unseal submission (quorum mode): runs the KMS stage first
 * when sealed; at the threshold the chamber unseals.  CC_EFORBIDDEN wrong
 * credential (counted); CC_ECONFLICT not in quorum mode, already unsealed, or
 * that operator already submitted in this window.
 */
cc_status cc_chamber_unseal_submit(cc_chamber *ch, const char *operator_name, const uint8_t *secret, size_t len,
                                   cc_error *err);
/* ---- end operator quorum ---- */

#endif
