/*
 * auth.h — auth policies and tokens (SPEC §2.4): pure logic, no I/O.
 *
 * A *policy* is a named list of rules
 *
 *     {"effect": "allow"|"deny", "scopes": [...], "keys": ["0x…"|"*"], "operations": ["VOLUNTARY_EXIT"|"*", ...]}
 *
 * A request is described by (scope, pubkey or none, signing type or none).
 * A rule matches it when the scope is one of its scopes, its keys are "*" or
 * hold the pubkey, and its operations are "*" or hold the type (a rule that
 * names keys or operations never matches a request without one).  Deny wins:
 * a token may do what some rule of one of its policies allows and no rule of
 * them denies.  `keys` and `operations` default to ["*"]; `scopes` is
 * required ("*" = every scope below but chamber_auth).
 *
 * A *token* is `cc-<id>.<secret>`: id 16 hex digits (the lookup key, not
 * secret), secret 32 random bytes in hex.  Only HMAC-SHA256(hmac_key,
 * secret) is kept, with the token's policy names, created_at and optional
 * expires_at; a presented token is hashed and compared with cc_ct_equal.
 * Root tokens (issued at init and by generate-root-token) may do everything,
 * chamber_auth (policy and token management) included; no policy can grant
 * chamber_auth.
 *
 * The stored document (one JSON object; auth_store.h keeps it in DynamoDB):
 *
 *     {"policies": {"<name>": {"rules": [<rule>, ...]}, ...},
 *      "tokens": [{"id": "<16 hex>", "hash": "<64 hex>", "root": bool, "policies": ["<name>", ...],
 *                  "created_at": <unix s>, "expires_at": <unix s> | null}, ...]}
 *
 * cc_auth_snapshot_build validates a document and compiles it into an
 * immutable snapshot that cc_auth_check reads without allocating: scopes and
 * operations are bit masks, keys a sorted array (binary search), tokens an
 * open-addressing table on the id.
 */
#ifndef CC_CHAMBER_AUTH_H
#define CC_CHAMBER_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util/err.h"

#define CC_AUTH_ID_HEX 16                 /* hex digits of a token id */
#define CC_AUTH_SECRET_LEN 32             /* random bytes of a token secret */
#define CC_AUTH_HMAC_KEY_LEN 32
#define CC_AUTH_HASH_LEN 32               /* HMAC-SHA256 */
#define CC_AUTH_TOKEN_LEN (3 + CC_AUTH_ID_HEX + 1 + 2 * CC_AUTH_SECRET_LEN) /* "cc-" id "." secret */
#define CC_AUTH_NAME_MAX 64               /* policy names: [A-Za-z0-9_.-]{1,64} */
#define CC_AUTH_MAX_POLICIES 256
#define CC_AUTH_MAX_TOKENS 1024           /* the DynamoDB item is at most 400 KB */
#define CC_AUTH_PUBKEY_LEN 48

typedef enum cc_auth_scope {
    CC_SCOPE_SIGN = 0,
    CC_SCOPE_PUBLIC_KEYS,
    CC_SCOPE_LIST_KEYS,
    CC_SCOPE_IMPORT_KEYSTORES,
    CC_SCOPE_DELETE_KEYS,
    CC_SCOPE_CHAMBER_STATUS,
    CC_SCOPE_CHAMBER_SEAL,
    CC_SCOPE_CHAMBER_ROTATE,
    CC_SCOPE_CHAMBER_KEYS_LIST,
    CC_SCOPE_CHAMBER_KEYS_GENERATE,
    CC_SCOPE_CHAMBER_KEYS_IMPORT,
    CC_SCOPE_CHAMBER_KEYS_PATCH,
    CC_SCOPE_CHAMBER_KEYS_DELETE,
    CC_SCOPE_CHAMBER_AUTH,            /* root tokens only */
    CC_SCOPE_COUNT
} cc_auth_scope;

#define CC_SCOPE_ANY (-1)             /* authentication only: any valid token */
#define CC_AUTH_NO_TYPE (-1)          /* the request has no signing type */

const char *cc_auth_scope_name(cc_auth_scope s);
/* The scope named name, or -1. */
int cc_auth_scope_parse(const char *name);

typedef enum cc_auth_result {
    CC_AUTH_OK = 0,
    CC_AUTH_MISSING,                  /* no token presented                     → 401 */
    CC_AUTH_INVALID,                  /* malformed, unknown id or wrong secret  → 401 */
    CC_AUTH_EXPIRED,                  /* past its expires_at                    → 401 */
    CC_AUTH_DENIED                    /* valid, but no rule allows it / a rule denies it → 403 */
} cc_auth_result;

/* "missing", "invalid", "expired", "forbidden": the reason label of containment_auth_rejections_total. */
const char *cc_auth_result_name(cc_auth_result r);

typedef struct cc_auth_snapshot cc_auth_snapshot;

/*
 * Validates doc and compiles it with hmac_key (copied into locked memory).
 * CC_EINVAL names the bad field ("policies.ops.rules[1].operations[0]: ...").
 * doc is borrowed; NULL is the empty document.
 */
cc_status cc_auth_snapshot_build(const uint8_t hmac_key[CC_AUTH_HMAC_KEY_LEN], uint64_t revision, json_t *doc,
                                 cc_auth_snapshot **out, cc_error *err);
void cc_auth_snapshot_free(cc_auth_snapshot *s);
uint64_t cc_auth_snapshot_revision(const cc_auth_snapshot *s);
/* 1 once at least one policy exists: every route but /upcheck then needs a token. */
int cc_auth_snapshot_enforcing(const cc_auth_snapshot *s);
/* 1 when some root token exists (expired or not: root tokens never expire). */
int cc_auth_snapshot_has_root(const cc_auth_snapshot *s);

/*
 * The decision for one request.  token is the presented token (NULL or ""
 * when none).  scope is a cc_auth_scope or CC_SCOPE_ANY; pubkey (48 bytes)
 * may be NULL; type is a cc_sign_type or CC_AUTH_NO_TYPE.  now is unix
 * seconds.  Not CC_AUTH_OK: err says why (naming the scope, and the pubkey
 * or type when that is what was refused) — never the token's secret.
 * *token_id (may be NULL; 17 bytes) receives the id of a token that was
 * found, for logs.  Allocates nothing.
 */
cc_auth_result cc_auth_check(const cc_auth_snapshot *s, const char *token, int scope, const uint8_t *pubkey,
                             int type, int64_t now, char *token_id, cc_error *err);

/*
 * The token carried by an Authorization header: "Bearer <token>" or "Basic
 * base64(user:token)" (the user is ignored).  out receives at most cap-1
 * characters plus NUL (callers wipe it); returns 0 when the header carries
 * none.
 */
int cc_auth_token_from_header(const char *header, char *out, size_t cap);

/*
 * Splits a presented token: id (17 bytes) and secret (32 bytes).  CC_EINVAL
 * when it is not `cc-<16 hex>.<64 hex>`.
 */
cc_status cc_auth_token_parse(const char *token, char id[CC_AUTH_ID_HEX + 1], uint8_t secret[CC_AUTH_SECRET_LEN],
                              cc_error *err);

/* HMAC-SHA256(hmac_key, secret). */
cc_status cc_auth_token_hash(const uint8_t hmac_key[CC_AUTH_HMAC_KEY_LEN], const uint8_t secret[CC_AUTH_SECRET_LEN],
                             uint8_t hash[CC_AUTH_HASH_LEN], cc_error *err);

/*
 * A fresh token (RAND_priv_bytes): token (CC_AUTH_TOKEN_LEN+1 bytes, the
 * caller's locked memory; shown once), its id and its hash.
 */
cc_status cc_auth_token_generate(const uint8_t hmac_key[CC_AUTH_HMAC_KEY_LEN], char *token,
                                 char id[CC_AUTH_ID_HEX + 1], uint8_t hash[CC_AUTH_HASH_LEN], cc_error *err);

/*
 * Validates one policy {"rules": [...]} (prefix names it in messages) and
 * returns its canonical form (a new reference: effect, scopes, keys
 * lower-case 0x-hex, operations).
 */
cc_status cc_auth_policy_normalize(const char *prefix, json_t *policy, json_t **out, cc_error *err);

/* 1 if name is a valid policy name. */
int cc_auth_policy_name_valid(const char *name);

#endif
