/*
 * auth_store.h — auth policies and token hashes in the signer state table
 * (SPEC §2.4, §5), shared by every replica.
 *
 * One item beside the chamber's "STATE" item:
 *
 *   pk          S  "AUTH"
 *   revision    N  1, 2, ...: every change is one PutItem conditional on the previous
 *                  revision (attribute_not_exists(pk) for the first), retried on conflict
 *   hmac_key    B  32 random bytes, made with the item: tokens are kept as HMAC-SHA256(hmac_key, secret)
 *   doc         S  the JSON document of auth.h: policies and tokens (id, hash, policies, expiry)
 *   updated_at  S  ISO-8601 UTC
 *
 * Every replica re-reads the item every refresh_interval_seconds (a thread of
 * this store) and swaps in a new compiled snapshot, so a change made through
 * one replica is enforced by all within that interval; the replica that made
 * it enforces it at once.  Requests read the snapshot under a read lock.
 *
 * No item, or one without policies, means open (as Web3Signer).  The item
 * never holds a token secret; see docs/chamber.md for why the HMAC key may sit
 * beside the hashes.  Expired tokens are dropped at the next change.
 */
#ifndef CC_CHAMBER_AUTH_STORE_H
#define CC_CHAMBER_AUTH_STORE_H

#include <stdint.h>

#include <jansson.h>

#include "chamber/auth.h"
#include "util/err.h"

#define CC_AUTH_PK "AUTH"

struct cc_dynamodb;
typedef struct cc_auth_store cc_auth_store;

/*
 * Reads the item once (an unreadable table is an error: a replica that
 * cannot know the policies must not serve open) and starts the refresh
 * thread.  ddb is borrowed and must outlive the store.
 */
cc_status cc_auth_store_open(const struct cc_dynamodb *ddb, const char *table, unsigned refresh_seconds,
                             cc_auth_store **out, cc_error *err);
void cc_auth_store_close(cc_auth_store *s);

/* Re-reads the item now (the refresh thread's round). */
cc_status cc_auth_store_refresh(cc_auth_store *s, cc_error *err);

/* 1 once some policy exists (every route but /upcheck needs a token). */
int cc_auth_store_enforcing(cc_auth_store *s);
uint64_t cc_auth_store_revision(cc_auth_store *s);

/* cc_auth_check on the current snapshot, now = time(NULL).  No item: only CC_AUTH_MISSING/INVALID. */
cc_auth_result cc_auth_store_check(cc_auth_store *s, const char *token, int scope, const uint8_t *pubkey, int type,
                                   char *token_id, cc_error *err);

/* The same, but CC_AUTH_OK while no policy exists (open, as Web3Signer): what a route asks. One read lock. */
cc_auth_result cc_auth_store_authorize(cc_auth_store *s, const char *token, int scope, const uint8_t *pubkey,
                                       int type, char *token_id, cc_error *err);

/* ---- management (each a conditional write; the answer never holds a hash or the HMAC key) ---- */

/* Creates or replaces policy name (validated, stored in canonical form); *out (may be NULL) the stored policy. */
cc_status cc_auth_store_put_policy(cc_auth_store *s, const char *name, json_t *policy, json_t **out, cc_error *err);
/* CC_ENOTFOUND when there is no such policy.  Tokens bound to it keep the name but lose its rules. */
cc_status cc_auth_store_delete_policy(cc_auth_store *s, const char *name, cc_error *err);
/* {name: policy, ...} from a consistent read (a new reference), or NULL with err. */
json_t *cc_auth_store_policies(cc_auth_store *s, cc_error *err);

/*
 * Issues a token.  root: a root token (policies ignored); else policies is a
 * non-empty array of existing policy names.  expires_in_seconds 0 = never.
 * token (CC_AUTH_TOKEN_LEN + 1 bytes, the caller's locked memory) receives the
 * secret token, shown once; *info (may be NULL) {id, root, policies,
 * created_at, expires_at}.
 */
cc_status cc_auth_store_create_token(cc_auth_store *s, int root, json_t *policies, int64_t expires_in_seconds,
                                     char *token, json_t **info, cc_error *err);
/* [{id, root, policies, created_at, expires_at, expired}, ...] from a consistent read, or NULL with err. */
json_t *cc_auth_store_tokens(cc_auth_store *s, cc_error *err);
/* CC_ENOTFOUND when there is no such token. */
cc_status cc_auth_store_revoke_token(cc_auth_store *s, const char *id, cc_error *err);

#endif
