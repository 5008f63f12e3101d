/*
 * quorum_session.h — the secrets an operator-quorum chamber holds in memory
 * between steps (chamber/quorum.h has the scheme), all in cc_secret memory:
 *
 *   pending    on the replica that ran `init`, until every operator has
 *              registered: the K operator shares and the master key.  Never
 *              stored anywhere else: a restart loses them and the
 *              initialisation must be run again (docs/chamber.md).
 *   kms_part   after the KMS stage of an unseal (state kms_unsealed).
 *   shares     the operator shares submitted so far, with when the first one
 *              came; at `threshold` the master key is derived and checked.
 *              The window opens at the first accepted submission and lasts
 *              the unseal timeout; then every submission is discarded.
 *
 * Every function takes the session's own mutex; none calls into the chamber.
 * The slow part of a submission (Argon2id) runs outside that mutex and
 * submissions are serialised among themselves, so at most one Argon2id
 * instance (its memory) runs per replica.  A wipe bumps a generation, so a
 * submission that finishes after a seal throws its share away.
 */
#ifndef CC_CHAMBER_QUORUM_SESSION_H
#define CC_CHAMBER_QUORUM_SESSION_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "chamber/quorum.h"

typedef struct cc_quorum_session cc_quorum_session;

cc_quorum_session *cc_quorum_session_new(void);
void cc_quorum_session_free(cc_quorum_session *s);

/* Wipes kms_part and every submission (a seal). Pending registration secrets are kept unless also_pending. */
void cc_quorum_session_wipe(cc_quorum_session *s, int also_pending);

/* ---- pending registration (the init replica) */

/* Holds the K shares (K × 32 bytes) and master for init_id (copied). */
cc_status cc_quorum_session_hold_pending(cc_quorum_session *s, const char *init_id, const uint8_t *shares, unsigned k,
                                         const uint8_t master[CC_QUORUM_PART_LEN], cc_error *err);
/* 1 when this session holds the pending secrets of init_id. */
int cc_quorum_session_pending_for(cc_quorum_session *s, const char *init_id);
/* Copies share index (1..K) / the master key into out (secret memory); CC_ENOTFOUND without pending secrets. */
cc_status cc_quorum_session_pending_share(cc_quorum_session *s, const char *init_id, unsigned index,
                                          uint8_t out[CC_QUORUM_PART_LEN], cc_error *err);
cc_status cc_quorum_session_pending_master(cc_quorum_session *s, const char *init_id,
                                           uint8_t out[CC_QUORUM_PART_LEN], cc_error *err);

/* ---- unseal */

void cc_quorum_session_set_kms_part(cc_quorum_session *s, const uint8_t kms_part[CC_QUORUM_PART_LEN]);
int cc_quorum_session_has_kms_part(cc_quorum_session *s);

/*
 * One operator's submission.  Decrypts operator `name`'s share of q with
 * secret (CC_EFORBIDDEN on a wrong credential: counted in failed), keeps it,
 * and once `threshold` distinct operators have submitted derives the master
 * key and checks it against check (the state item's) — *complete = 1 and
 * master filled.  Expired submissions (now − first ≥ timeout_seconds) are
 * discarded first.  CC_ECONFLICT when that operator already submitted in this
 * window; CC_EUNAVAILABLE without kms_part.
 */
cc_status cc_quorum_session_submit(cc_quorum_session *s, const cc_quorum_record *q, uint32_t version,
                                   const uint8_t check[32], const char *name, const uint8_t *secret, size_t len,
                                   unsigned timeout_seconds, uint8_t master[CC_QUORUM_PART_LEN], int *complete,
                                   cc_error *err);

/* Discards the submissions when their window has passed; returns how many were discarded. */
unsigned cc_quorum_session_expire(cc_quorum_session *s, unsigned timeout_seconds);

/* Adds {submissions, submitted_by, failed_submissions, window_seconds_left} to status. */
void cc_quorum_session_status(cc_quorum_session *s, unsigned timeout_seconds, json_t *status);

/*
 * ---- rotation (issue 7): `rotate quorum` re-splits the SAME operator_part
 * over a new operator set, so an unsealed quorum chamber keeps both parts
 * (kms_part, operator_part, of the master version) in cc_secret memory: kept
 * by the submission that completes an unseal, and by the init replica when
 * the last operator registers.  Every wipe (a seal) drops them with the rest.
 * They are no more sensitive than the master key held beside them.
 */
/* At init: keeps kms_part with the pending secrets of init_id (dropped with them). */
void cc_quorum_session_hold_pending_kms_part(cc_quorum_session *s, const char *init_id,
                                            const uint8_t kms_part[CC_QUORUM_PART_LEN]);
/*
 * The last registration of init_id: keep = 1 (the chamber is unsealed)
 * rebuilds operator_part from the first `threshold` pending shares, checks
 * HKDF(kms_part ‖ operator_part) against the pending master and holds both
 * parts; then drops the pending secrets, kms_part and the submissions (a
 * wipe with also_pending otherwise).
 */
void cc_quorum_session_finish_registration(cc_quorum_session *s, const char *init_id, unsigned threshold,
                                           uint32_t version, int keep);
/* Copies the held parts of version (cc_secret memory); CC_EUNAVAILABLE when not held, CC_ECONFLICT for another version. */
cc_status cc_quorum_session_parts(cc_quorum_session *s, uint32_t version, uint8_t kms_part[CC_QUORUM_PART_LEN],
                                  uint8_t operator_part[CC_QUORUM_PART_LEN], cc_error *err);

#endif
