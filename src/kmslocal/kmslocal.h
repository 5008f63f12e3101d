/*
 * kmslocal.h — kms-local, a local stand-in for AWS KMS (test infrastructure,
 * and a way to try the product without AWS).  It is NOT part of libcc.a: the
 * signer never links it.  It links libcc.a only for util (err, log, hex,
 * secret).
 *
 * The pieces, one concern per file:
 *   main.c          flags → kl_config, start the server, wait for a signal
 *   config.c        credentials (access key id → secret, principal ARN)
 *   server.c        libmicrohttpd glue → kl_request; routing on
 *                   X-Amz-Target: TrentService.<Op>; JSON 1.1 errors
 *   ops.c           the operations (CreateKey, Encrypt, Decrypt, ...)
 *   sigv4_verify.c  recomputes each request's SigV4 signature
 *   keys.c          the key store: one JSON state file, saved atomically
 *   crypto.c        ciphertext blobs (AES-256-GCM), base64, CMS EnvelopedData
 *   policy.c        the key-policy evaluator (IAM subset)
 *   attestation.c   Nitro attestation documents (COSE_Sign1, ES384, chain)
 *
 * Requests reach ops.c as a transport-neutral kl_request, so every operation
 * is testable without a socket.
 */
#ifndef KL_KMSLOCAL_H
#define KL_KMSLOCAL_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "util/err.h"

/* ---- configuration -------------------------------------------------------------------- */

/* One access key the server accepts, and the principal it authenticates as. */
typedef struct kl_cred {
    char *access_key_id;
    char *secret;          /* cc_secret_alloc'ed, NUL-terminated */
    size_t secret_cap;
    char *principal_arn;   /* e.g. arn:aws:iam::000000000000:role/signer */
    char *session_token;   /* optional: when set, X-Amz-Security-Token must equal it */
} kl_cred;

typedef struct kl_config {
    const char *region;          /* us-east-1 */
    const char *account;         /* 000000000000 */
    kl_cred *creds;
    size_t ncreds;
    X509 *attestation_root;      /* NULL: Recipient requests are refused */
    int attestation_max_age_s;   /* how old an attestation document may be (300) */
    int admin_open;              /* key-scoped admin operations bypass the key policy */
    int max_skew_s;              /* SigV4 clock skew (300) */
    const char *service;         /* SigV4 service name; NULL means "kms" (tests use the suite's "service") */
} kl_config;

/* Adds a credential (copies everything; the secret goes to locked memory). */
cc_status kl_config_add_cred(kl_config *cfg, const char *akid, const char *secret, const char *principal,
                             const char *token, cc_error *err);
/* Reads a JSON list [{access_key_id, secret_access_key, principal_arn?, session_token?}]. */
cc_status kl_config_load_credentials(kl_config *cfg, const char *path, cc_error *err);
void kl_config_free(kl_config *cfg);

/* ---- requests ------------------------------------------------------------------------- */

typedef struct kl_header {
    char *name;   /* lower-case */
    char *value;  /* as received */
} kl_header;

typedef struct kl_request {
    const char *method;
    const char *path;         /* raw path as sent (still percent-encoded), without the query */
    const char *query;        /* raw query string without '?', "" if none */
    kl_header *headers;
    size_t nheaders;
    const char *body;
    size_t body_len;
} kl_request;

/* The first header of that (lower-case) name, or NULL. */
const char *kl_request_header(const kl_request *req, const char *lname);

/* A KMS answer: 200 with a JSON body, or an error named as AWS names it. */
typedef struct kl_reply {
    int status;
    char *body;          /* malloc'ed JSON */
    const char *error;   /* exception name when status != 200 (for logs) */
} kl_reply;

/* Sets an error reply {"__type":name,"message":...}. */
void kl_reply_error(kl_reply *r, int status, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sets a 200 reply from a JSON object (takes the reference). */
void kl_reply_json(kl_reply *r, json_t *obj);

/* ---- SigV4 ---------------------------------------------------------------------------- */

/* Verifies the request's Authorization header against cfg's credentials at time `now`.
 * On success *cred is the caller.  On failure the reply holds the AWS error
 * (MissingAuthenticationTokenException, IncompleteSignatureException,
 * UnrecognizedClientException, InvalidSignatureException) and 0 is returned. */
int kl_sigv4_verify(const kl_config *cfg, const kl_request *req, time_t now, const kl_cred **cred,
                    kl_reply *reply);

/* SigV4 signature (64 hex + NUL) of a canonical request, for tests and the verifier. */
void kl_sigv4_signature(const char *secret, const char *amz_date, const char *region, const char *service,
                        const char *canonical_request, char out[65]);

/* ---- key store ------------------------------------------------------------------------ */

typedef struct kl_key {
    char key_id[37];            /* uuid */
    char *arn;
    char *description;
    char *policy;               /* JSON text */
    int enabled;
    long long created;          /* unix seconds */
    uint8_t *material;          /* 32 bytes, cc_secret_alloc'ed */
} kl_key;

typedef struct kl_store {
    pthread_mutex_t mu;         /* held for a whole operation */
    char *path;
    char *region, *account;
    kl_key *keys;
    size_t nkeys, cap;
} kl_store;

/* Loads the state file (a missing file is an empty store). */
cc_status kl_store_open(kl_store *st, const char *path, const char *region, const char *account, cc_error *err);
void kl_store_close(kl_store *st);
/* Writes the whole store: temp file, fsync, rename, fsync of the directory. Caller holds mu. */
cc_status kl_store_save(kl_store *st, cc_error *err);
/* By uuid, key ARN (any region/account spelled as ours). Caller holds mu. NULL if unknown. */
kl_key *kl_store_find(kl_store *st, const char *ref);
/* Creates an enabled key with fresh material; policy NULL → the default policy. Caller holds mu. */
cc_status kl_store_create(kl_store *st, const char *description, const char *policy, kl_key **out, cc_error *err);

/* ---- crypto --------------------------------------------------------------------------- */

/* Base64 (standard alphabet, padded). decode: strict, *out malloc'ed. */
char *kl_b64_encode(const uint8_t *in, size_t len);
cc_status kl_b64_decode(const char *in, uint8_t **out, size_t *out_len, cc_error *err);

/* Canonical encryption context: compact JSON with sorted keys ("{}" for none). Values must be strings. */
cc_status kl_context_canonical(json_t *ctx, char **out, cc_error *err);

/* Seals plaintext under the key: blob = "KLC1" ‖ key_id(36) ‖ iv(12) ‖ tag(16) ‖ ciphertext, AAD =
 * the first 40 bytes ‖ canonical context. */
cc_status kl_blob_seal(const kl_key *key, const char *canon_ctx, const uint8_t *pt, size_t pt_len,
                       uint8_t **blob, size_t *blob_len, cc_error *err);
/* The key id a blob names (37 bytes with NUL). CC_EINVAL if the blob is not ours. */
cc_status kl_blob_key_id(const uint8_t *blob, size_t len, char key_id[37], cc_error *err);
/* Opens a blob; CC_ECRYPTO if the tag (key, context or bytes) does not match.  *pt is locked
 * memory: free it with cc_secret_free(*pt, *pt_len + 1). */
cc_status kl_blob_open(const kl_key *key, const char *canon_ctx, const uint8_t *blob, size_t len,
                       uint8_t **pt, size_t *pt_len, cc_error *err);

/* CMS EnvelopedData (DER) of content for the RSA public key (DER SubjectPublicKeyInfo): one
 * KeyTransRecipientInfo (version 2, subjectKeyIdentifier = SHA-1 of the key bits) with RSA-OAEP
 * SHA-256/MGF1-SHA-256, id-data under AES-256-CBC.  As AWS KMS's CiphertextForRecipient. */
cc_status kl_cms_envelope(const uint8_t *spki, size_t spki_len, const uint8_t *content, size_t len,
                          uint8_t **out, size_t *out_len, cc_error *err);

/* ---- attestation documents ----------------------------------------------------------- */

#define KL_MAX_PCRS 32

typedef struct kl_attestation {
    char module_id[256];
    char digest[16];
    uint64_t timestamp_ms;
    uint8_t pcr[KL_MAX_PCRS][64];
    size_t pcr_len[KL_MAX_PCRS];   /* 0: absent */
    uint8_t *public_key;           /* DER SPKI or NULL */
    size_t public_key_len;
    uint8_t *user_data, *nonce;
    size_t user_data_len, nonce_len;
} kl_attestation;

/* Parses and verifies a COSE_Sign1 Nitro attestation document (tagged or untagged): ES384 over
 * Sig_structure with the leaf certificate's key; cabundle[0] must equal `root` byte for byte; the
 * chain cabundle[0] → ... → certificate verified at the document's timestamp; the document must be
 * at most max_age_s old and not more than 5 minutes in the future relative to now. */
cc_status kl_attestation_verify(const uint8_t *doc, size_t len, X509 *root, time_t now, int max_age_s,
                                kl_attestation *out, cc_error *err);
void kl_attestation_free(kl_attestation *a);

/* ---- policy --------------------------------------------------------------------------- */

typedef struct kl_policy_request {
    const char *principal;      /* caller's principal ARN */
    const char *action;         /* "kms:Decrypt" */
    const char *resource;       /* key ARN */
    json_t *context;            /* EncryptionContext object or NULL */
    const kl_attestation *att;  /* the verified Recipient document, or NULL */
} kl_policy_request;

typedef enum kl_decision {
    KL_ALLOW = 0,
    KL_DENY_IMPLICIT,  /* no statement allows */
    KL_DENY_EXPLICIT   /* a Deny statement matched */
} kl_decision;

/* Checks that a policy is in the subset we evaluate (MalformedPolicyDocumentException otherwise). */
cc_status kl_policy_validate(const char *policy, cc_error *err);
/* Evaluates: an explicit Deny wins, else any Allow allows, else implicit deny. */
cc_status kl_policy_evaluate(const char *policy, const kl_policy_request *req, kl_decision *out, cc_error *err);
/* The default key policy: the account root may do everything (malloc'ed). */
char *kl_policy_default(const char *account);

/* ---- operations and server ------------------------------------------------------------ */

typedef struct kl_server_ctx {
    kl_config *cfg;
    kl_store *store;
} kl_server_ctx;

/* Authenticates and answers one request (transport-neutral). */
void kl_handle(kl_server_ctx *ctx, const kl_request *req, kl_reply *reply);
/* Runs one operation for an authenticated caller (ops.c). */
void kl_ops_dispatch(kl_server_ctx *ctx, const kl_cred *caller, const char *op, json_t *in, kl_reply *reply);

typedef struct kl_server kl_server;
cc_status kl_server_start(kl_server_ctx *ctx, const char *host, uint16_t port, kl_server **out, cc_error *err);
uint16_t kl_server_port(const kl_server *srv);
void kl_server_stop(kl_server *srv);

#endif
