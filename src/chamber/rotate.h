/*
 * rotate.h — rotation of the chamber's KMS key set / threshold and of the
 * master key itself (issue 7 parts 3 `rotate kms` and 4; docs/chamber.md
 * "Rotation" has the protocol and the crash-point table).
 *
 * KMS rotation re-splits the SAME master key over a new set of KMS keys
 * (new threshold allowed), wraps every share with KMS Encrypt, checks that
 * the new shares really rebuild the key through this replica's unwrapper
 * (so a key set the signer can encrypt to but not decrypt from is refused
 * before anything is written), and replaces the shares in the state item
 * with ONE conditional PutItem.  Before that write the old configuration
 * is untouched; after it, only the new one exists.
 *
 * Master-key rotation (version v → v+1) runs in the background:
 *   (a) a `pending` entry — the new master's shares (same KMS keys and
 *       threshold, EncryptionContext version v+1), check, and next_wrapped
 *       (the new master under the current one, rotate_next.c) — is added to
 *       the state item with a conditional write, the current v shares kept;
 *   (b) every key item at master_version v is re-sealed under v+1 with a
 *       conditional UpdateItem (`master_version = v`), one key at a time;
 *   (c) when a scan finds no key left at v, pending replaces current in one
 *       conditional write (v is dropped from the table).
 * While (a)..(c) are in flight every replica holds BOTH masters (the chamber
 * keeps a second key, the key source opens a record with the key of the
 * record's own version; v+1 is taken from next_wrapped with master v, no
 * KMS call), so no key is ever unreadable.  A replica that unseals while a
 * pending entry exists unseals v, unwraps v+1 and resumes the rotation (any
 * replica may: every write is conditional, so two drivers are merely
 * redundant).  rotate mode --to quorum (rotate_quorum.c) writes its pending
 * entry only after every new operator registered; from then on it is this
 * same rotation, with a promotion that installs mode "quorum".
 *
 * State item attributes added by this module (chamber/state.h has the rest):
 *   revision  N  bumped by every rotation write; rotation writes are
 *                conditional on it (and on version and updated_at)
 *   pending   M  {version N, threshold N, check B, shares L, started_at S,
 *                to_mode S (optional), next_wrapped B, quorum M (optional)}:
 *                shares encoded as the item's own `shares`; to_mode "kms"
 *                (rotate mode) makes the promotion also set mode "kms" and drop
 *                the q_* attributes; to_mode "quorum" makes it set mode
 *                "quorum" and install the q_* attributes kept in `quorum` (the
 *                shares then wrap the new kms_part); next_wrapped is the new
 *                master wrapped under the current one (rotate_next.c), so every
 *                replica holding the current master follows without KMS
 */
#ifndef CC_CHAMBER_ROTATE_H
#define CC_CHAMBER_ROTATE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "aws/kms.h"
#include "chamber/chamber.h"
#include "chamber/state.h"
#include "util/err.h"

typedef struct cc_rotation cc_rotation;

/* ---------------------------------------------------------------- operations (api/chamber.c) */

/*
 * Re-wraps the held master key for kms_key_arns / threshold (KMS-only mode,
 * unsealed, no master-key rotation pending).  Synchronous; the state is
 * awaiting_rotation while it runs.  CC_EINVAL names the bad field;
 * CC_ECONFLICT when another rotation runs or the item changed meanwhile;
 * CC_EUNAVAILABLE when sealed or the new keys cannot rebuild the key.
 */
cc_status cc_chamber_rotate_kms(cc_chamber *ch, const char *const *kms_key_arns, size_t n, unsigned threshold,
                                cc_error *err);

/*
 * Starts a master-key rotation in the background, or resumes the one whose
 * pending entry is in the table; returns at once (*resumed = 1 when a
 * pending entry existed).  CC_ECONFLICT when one is already running here.
 */
cc_status cc_chamber_rotate_master(cc_chamber *ch, int *resumed, cc_error *err);

/*
 * rotate quorum (alias rotate unseal; chamber/rotate_quorum.c): a new operator
 * set / threshold for the same master key, in operator-quorum mode while
 * unsealed.  Starts it (nothing written) and answers the K one-time
 * registration tokens {name: token}; the switch to the new set is one
 * conditional write once all K registered on this replica.  CC_EINVAL names
 * the field; CC_ECONFLICT in another mode / with another rotation;
 * CC_EUNAVAILABLE when sealed or this replica does not hold the operator part.
 * kdf: Argon2id parameters for the new passphrases (NULL: the current set's).
 * Calling it again while one awaits registration replaces it.
 */
cc_status cc_chamber_rotate_quorum(cc_chamber *ch, const char *const *names, size_t k, unsigned threshold,
                                   const cc_quorum_kdf *kdf, json_t **tokens, cc_error *err);
/* 1 when token is a registration token of the operator-set rotation this replica holds. */
int cc_rotate_quorum_owns_token(cc_rotation *rot, const char *token);
/* Registers a new operator of that rotation (cc_chamber_register's contract); the last one triggers the switch. */
cc_status cc_rotate_quorum_register(cc_chamber *ch, const char *token, cc_quorum_kind kind, const uint8_t *secret,
                                    size_t len, char name[CC_QUORUM_NAME_MAX + 1], cc_error *err);

/*
 * rotate mode --to kms: a quorum chamber moves to KMS-only with a NEW master
 * key (version v+1, KMS-only shares): a master-key rotation whose pending
 * entry carries to_mode "kms"; its promotion also sets mode "kms" and drops
 * the q_* attributes.  Background, as cc_chamber_rotate_master (progress in
 * status.rotation).  CC_EINVAL for another target (KMS-only → quorum is not
 * implemented); CC_ECONFLICT in KMS-only mode or with a rotation pending.
 */
cc_status cc_chamber_rotate_mode(cc_chamber *ch, const char *to, cc_error *err);
/*
 * rotate mode --to quorum (chamber/rotate_quorum.c): a KMS-only chamber moves
 * to operator quorum with a NEW master (v+1) = HKDF(kms_part' ‖
 * operator_part').  Start: everything is made in this replica's memory
 * (kms_part' wrapped by the KMS keys, operator_part' split over the new
 * operators) and the K one-time registration tokens answered; nothing is
 * written.  When every new operator has registered here, the pending entry
 * (to_mode "quorum", q_* of the new set, next_wrapped) is written and the
 * master rotation runs as rotate master.  CC_EINVAL names the field;
 * CC_ECONFLICT not KMS-only / a rotation pending or running; CC_EUNAVAILABLE sealed.
 */
cc_status cc_chamber_rotate_mode_quorum(cc_chamber *ch, const char *const *names, size_t k, unsigned threshold,
                                        const cc_quorum_kdf *kdf, json_t **tokens, cc_error *err);
/* Sets mode "kms" and removes every q_* attribute of a state item (the promotion of a rotation to kms). */
cc_status cc_rotate_item_to_kms_mode(json_t *item, cc_error *err);

/* ---- between rotate.c and rotate_quorum.c */
typedef struct cc_quorum_rotation cc_quorum_rotation;
cc_status cc_quorum_rotation_new(cc_chamber *ch, cc_quorum_rotation **out, cc_error *err);
void cc_quorum_rotation_free(cc_quorum_rotation *q);
/* 1 while a rotate quorum / rotate mode --to quorum awaits its registrations (or its write) here. */
int cc_quorum_rotation_active(cc_quorum_rotation *q);
void cc_quorum_rotation_poll(cc_rotation *rot);
void cc_quorum_rotation_status(cc_quorum_rotation *q, json_t *rotation);
cc_quorum_rotation *cc_rotate_quorum_state(cc_rotation *rot);
/* rot's state-item write lock: 1 when taken. */
int cc_rotate_op_trylock(cc_rotation *rot);
void cc_rotate_op_unlock(cc_rotation *rot);
/* 1 when a master-key rotation runs here or a pending entry was last read. */
int cc_rotate_master_busy(cc_rotation *rot);
/* Bumps revision and sets updated_at of a state item. */
cc_status cc_rotate_item_bump(json_t *item, const char *now, cc_error *err);
/* rot's chamber-independent helpers for rotate_quorum.c (rotate mode --to quorum). */
/* r->shares ← secret split r->threshold-of-n... over arns, KMS-wrapped at r->version, checked through the unwrapper
 * (r->mode "quorum": secret is kms_part and r->quorum.kms_check must be set). */
cc_status cc_rotate_wrap_shares(cc_rotation *rot, const uint8_t *secret, const char *const *arns, size_t n,
                                unsigned m, cc_state_record *r, cc_error *err);
/* Starts the driver on the pending entry in the table (as a resume). */
cc_status cc_rotate_resume(cc_rotation *rot, cc_error *err);
/* Re-reads the state item into rot and the chamber. */
void cc_rotate_refresh(cc_rotation *rot);

/* ---------------------------------------------------------------- hooks called by chamber.c */

/* A rotation context for ch; key_table may be "" (no key table: only the master rotates). */
cc_status cc_rotation_new(cc_chamber *ch, const char *key_table, unsigned test_delay_ms, cc_rotation **out,
                          cc_error *err);
/* Stops a running driver (it leaves its pending entry for a later resume) and frees. */
void cc_rotation_free(cc_rotation *rot);
/* The consistent read of the state item: r as cc_state_load, plus revision and pending kept in rot. */
cc_status cc_rotate_state_load(cc_rotation *rot, cc_state_record *r, int *found, cc_error *err);
/*
 * An unseal with a rotation in flight: before_install rebuilds the pending
 * master (if the last read showed one) while the current one is being
 * rebuilt; after_install (right after the current master is installed, seal
 * generation gen) holds it and schedules the rotation's resumption here.
 */
void cc_rotate_before_install(cc_rotation *rot);
void cc_rotate_after_install(cc_rotation *rot, unsigned long gen);
/* Every poller round, outside the chamber's locks: follow rotations made elsewhere, resume. */
void cc_rotate_poll(cc_rotation *rot);
/* Adds {rotation: {...}} to a status object (no secret). */
void cc_rotate_status_json(cc_rotation *rot, json_t *status);

/* ---------------------------------------------------------------- implemented by chamber.c for this module */

cc_rotation *cc_chamber_rotation(cc_chamber *ch);
const cc_kms *cc_chamber_kms(cc_chamber *ch);
/* Increases at every seal: a rotation step that saw it move stops. */
unsigned long cc_chamber_seal_gen(cc_chamber *ch);
/* Decrypts rec's shares through the chamber's unwrapper and rebuilds its key (checked).  A mode "quorum" record is
 * refused (KMS alone yields kms_part there, never the master). */
cc_status cc_chamber_rebuild_master(cc_chamber *ch, const cc_state_record *rec, uint8_t master[32], cc_error *err);
/* The same for a mode "quorum" record: kms_part, checked against rec->quorum.kms_check. */
cc_status cc_chamber_rebuild_kms_part(cc_chamber *ch, const cc_state_record *rec, uint8_t kms_part[32], cc_error *err);
/*
 * Holds key (copied) as a second master of version, unless a seal happened
 * since gen or the chamber is sealed: the higher version becomes the one
 * cc_chamber_with_master_key hands out (new keys are sealed under it), the
 * other stays for records not yet re-sealed.  Returns 1 when held.
 */
int cc_chamber_hold_master(cc_chamber *ch, const uint8_t key[32], uint32_t version, unsigned long gen);
/* Wipes the held master of version if it is the older of two. */
void cc_chamber_release_master(cc_chamber *ch, uint32_t version);
/* 1 when a master of version is held. */
int cc_chamber_holds_version(cc_chamber *ch, uint32_t version);
/* fn(arg, key of va, key of vb) under the key read lock; CC_EUNAVAILABLE when either is not held. */
cc_status cc_chamber_with_master_pair(cc_chamber *ch, uint32_t va, uint32_t vb,
                                      cc_status (*fn)(void *arg, const uint8_t *ka, const uint8_t *kb), void *arg,
                                      cc_error *err);
/* Only inside cc_chamber_with_master_key's fn: the other held master and its version, or NULL. */
const uint8_t *cc_chamber_other_master_locked(cc_chamber *ch, uint32_t *version);
/* on: unsealed → awaiting_rotation; off: awaiting_rotation → unsealed (a seal meanwhile wins). */
void cc_chamber_set_rotating(cc_chamber *ch, int on);
/* Replaces the chamber's copy of the state record (after this module wrote the item). */
void cc_chamber_replace_record(cc_chamber *ch, const cc_state_record *rec);
/* The chamber's operator-quorum session (the held parts, chamber/quorum_session.h). */
struct cc_quorum_session *cc_chamber_quorum_session(cc_chamber *ch);

/* ---------------------------------------------------------------- pure parts (tests/chamber/test_rotate.c) */

/*
 * Splits master m-of-n into shares (n × 32 bytes, cc_secret memory) and
 * checks that the first m and the last m shares both rebuild master.
 */
cc_status cc_rotate_split_checked(const uint8_t master[32], unsigned m, unsigned n, uint8_t *shares, cc_error *err);

/* The `pending` attribute ({"M": {...}}) of p (a new reference) / p from it; CC_EINVAL names the field. */
cc_status cc_rotate_pending_encode(const cc_state_record *p, json_t **attr, cc_error *err);
cc_status cc_rotate_pending_decode(json_t *attr, cc_state_record *p, cc_error *err);

/*
 * next_wrapped (chamber/rotate_next.c): the new master (version to = from + 1)
 * wrapped under the current one (version from) with AES-256-GCM under
 * HKDF(current, "cc-next-master-v1" ‖ be32(from) ‖ be32(to)), associated data
 * naming both versions and to_mode.  Unwrap: CC_ECRYPTO for a wrong current
 * master, version, mode or a tampered blob; CC_EINVAL for a bad length / step.
 */
#define CC_ROTATE_NEXT_WRAPPED_LEN (12 + 32 + 16)
cc_status cc_rotate_next_wrap(const uint8_t current[32], uint32_t from, uint32_t to, const char *to_mode,
                              const uint8_t next[32], uint8_t out[CC_ROTATE_NEXT_WRAPPED_LEN], cc_error *err);
cc_status cc_rotate_next_unwrap(const uint8_t current[32], uint32_t from, uint32_t to, const char *to_mode,
                                const uint8_t *blob, size_t len, uint8_t next[32], cc_error *err);
/* next_wrapped of a `pending` attribute into out: 1 when present with the right length. */
int cc_rotate_pending_next(json_t *attr, uint8_t out[CC_ROTATE_NEXT_WRAPPED_LEN]);
/* The mode of the NEW master of a pending entry: its to_mode, or "kms". */
const char *cc_rotate_pending_to_mode(json_t *attr);
/*
 * Sets pending from p (p->mode "quorum": with its q_* set) plus to_mode (NULL:
 * none) and next_wrapped = next wrapped under current (version from), bumps
 * revision, sets updated_at.
 */
cc_status cc_rotate_item_set_pending_next(json_t *item, const cc_state_record *p, const char *to_mode,
                                          const uint8_t current[32], uint32_t from, const uint8_t next[32],
                                          const char *now, cc_error *err);

/* The revision of a state item (0 when it has none). */
uint64_t cc_rotate_item_revision(json_t *item);

/*
 * The condition of a rotation write over the item as read: ConditionExpression
 * into cond (256 bytes), names and values (new references).
 */
cc_status cc_rotate_item_condition(json_t *item, char cond[256], json_t **names, json_t **values, cc_error *err);

/* Sets threshold, version, check and shares of item from r, removes pending, bumps revision, sets updated_at. */
cc_status cc_rotate_item_install(json_t *item, const cc_state_record *r, const char *now, cc_error *err);
/* Sets pending from p, bumps revision, sets updated_at. */
cc_status cc_rotate_item_set_pending(json_t *item, const cc_state_record *p, const char *now, cc_error *err);

typedef enum cc_rotate_key_action {
    CC_ROTATE_KEY_DONE = 0, /* already at the new version */
    CC_ROTATE_KEY_RESEAL,   /* at the old version: re-seal */
    CC_ROTATE_KEY_STRANDED  /* at neither: cannot be opened by this rotation (logged) */
} cc_rotate_key_action;

cc_rotate_key_action cc_rotate_key_action_for(uint32_t key_version, uint32_t from, uint32_t to);

#endif
