/*
 * quorum.h — operator-quorum mode (SPEC §5): the master key needs both KMS
 * and a threshold of human operators.
 *
 *     master = HKDF-SHA256(ikm = kms_part ‖ operator_part,
 *                          info = "cc-master-v1" ‖ uint32_be(version))
 *
 * kms_part (32 random bytes) is Shamir-split M-of-N over the KMS keys exactly
 * as the KMS-only master key is (chamber.c unwraps it with the same code);
 * operator_part (32 random bytes) is Shamir-split T-of-K over the operators.
 * Operator i's share is sealed with AES-256-GCM under a key derived from
 * their credential:
 *
 *   passphrase  Argon2id(passphrase, salt (16 random bytes), t, m, p) → 32 bytes
 *   yubikey     HKDF-SHA256(ikm = HMAC-SHA1 response (20 bytes, slot 2),
 *                           salt = challenge (32 random bytes, stored),
 *                           info = "cc-operator-yubikey-v1") → 32 bytes
 *
 * with associated data "cc-operator-share-v1" ‖ 0 ‖ name ‖ 0 ‖ kind ‖ index ‖
 * uint32_be(version), so a sealed share cannot be moved to another operator,
 * index, kind or master-key version.  A wrong credential fails the GCM tag
 * (refused before any combination); the master key's own check
 * (chamber/master.h) is over the final key, and kms_check =
 * HMAC-SHA256(kms_part, "cc-kms-part-check-v1" ‖ uint32_be(version)) lets
 * the KMS stage pick a right subset of shares.  Neither check reveals
 * anything about a key.
 *
 * This file is the pure part: crypto, registration tokens and the item
 * attributes.  The in-memory unseal state lives in chamber/quorum_session.h,
 * the state machine in chamber/chamber.c.  docs/chamber.md, "Operator quorum".
 */
#ifndef CC_CHAMBER_QUORUM_H
#define CC_CHAMBER_QUORUM_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util/err.h"

#define CC_QUORUM_MAX_OPERATORS 16
#define CC_QUORUM_NAME_MAX 32          /* [a-z0-9_.-], 1..32 */
#define CC_QUORUM_PART_LEN 32          /* kms_part, operator_part and each operator share */
#define CC_QUORUM_SALT_LEN 16
#define CC_QUORUM_CHALLENGE_LEN 32
#define CC_QUORUM_YUBIKEY_RESPONSE_LEN 20
#define CC_QUORUM_NONCE_LEN 12
#define CC_QUORUM_SEALED_LEN (CC_QUORUM_PART_LEN + 16) /* ciphertext ‖ GCM tag */
#define CC_QUORUM_HASH_LEN 32
#define CC_QUORUM_TOKEN_PREFIX "cc-reg-"
#define CC_QUORUM_TOKEN_LEN (sizeof CC_QUORUM_TOKEN_PREFIX - 1 + 64)
#define CC_QUORUM_INIT_ID_LEN 32       /* hex */
#define CC_QUORUM_PASSPHRASE_MIN 12
#define CC_QUORUM_PASSPHRASE_MAX 1024

/* Argon2id bounds (memory in KiB) and defaults: t = 3, m = 64 MiB, p = 1. */
#define CC_QUORUM_T_MIN 1
#define CC_QUORUM_T_MAX 16
#define CC_QUORUM_M_MIN 8192u          /* 8 MiB */
#define CC_QUORUM_M_MAX 1048576u       /* 1 GiB */
#define CC_QUORUM_P_MIN 1
#define CC_QUORUM_P_MAX 8
#define CC_QUORUM_T_DEFAULT 3
#define CC_QUORUM_M_DEFAULT 65536u
#define CC_QUORUM_P_DEFAULT 1

typedef enum cc_quorum_kind {
    CC_QUORUM_KIND_NONE = 0,           /* not registered yet */
    CC_QUORUM_KIND_PASSPHRASE,
    CC_QUORUM_KIND_YUBIKEY
} cc_quorum_kind;

typedef struct cc_quorum_kdf {
    uint32_t t, m_kib, p;              /* Argon2id iterations, memory (KiB), lanes */
} cc_quorum_kdf;

typedef struct cc_quorum_operator {
    char name[CC_QUORUM_NAME_MAX + 1];
    uint8_t index;                                  /* Shamir x of the share, 1..K (public) */
    int registered;
    cc_quorum_kind kind;
    uint8_t token_hash[CC_QUORUM_HASH_LEN];         /* of the one-time registration token */
    cc_quorum_kdf kdf;                              /* passphrase: the parameters used */
    uint8_t salt[CC_QUORUM_SALT_LEN];               /* passphrase */
    uint8_t challenge[CC_QUORUM_CHALLENGE_LEN];     /* yubikey (made at init, public) */
    uint8_t nonce[CC_QUORUM_NONCE_LEN];
    uint8_t sealed[CC_QUORUM_SEALED_LEN];           /* AES-256-GCM(share) ‖ tag */
} cc_quorum_operator;

/* The quorum attributes of the signer state item (mode "quorum"); no secret in the clear. */
typedef struct cc_quorum_record {
    char init_id[CC_QUORUM_INIT_ID_LEN + 1];        /* this initialisation (random) */
    uint32_t revision;                              /* bumped by every registration (conditional writes) */
    int complete;                                   /* every operator registered */
    unsigned threshold;                             /* T */
    unsigned count;                                 /* K */
    cc_quorum_kdf kdf;                              /* for passphrase registrations */
    uint8_t kms_check[CC_QUORUM_HASH_LEN];
    cc_quorum_operator ops[CC_QUORUM_MAX_OPERATORS];
} cc_quorum_record;

const char *cc_quorum_kind_name(cc_quorum_kind k);

/* CC_EINVAL naming the field when outside the bounds above. */
cc_status cc_quorum_kdf_check(const cc_quorum_kdf *kdf, cc_error *err);
cc_status cc_quorum_name_check(const char *name, cc_error *err);

/* master = HKDF-SHA256(kms_part ‖ operator_part, "cc-master-v1" ‖ uint32_be(version)). */
cc_status cc_quorum_derive_master(const uint8_t kms_part[CC_QUORUM_PART_LEN],
                                  const uint8_t operator_part[CC_QUORUM_PART_LEN], uint32_t version,
                                  uint8_t master[CC_QUORUM_PART_LEN], cc_error *err);

/* kms_check of kms_part / CC_OK when it matches (constant time), CC_ECRYPTO otherwise. */
cc_status cc_quorum_kms_check(const uint8_t kms_part[CC_QUORUM_PART_LEN], uint32_t version,
                              uint8_t check[CC_QUORUM_HASH_LEN], cc_error *err);
cc_status cc_quorum_kms_verify(const uint8_t kms_part[CC_QUORUM_PART_LEN], uint32_t version,
                               const uint8_t check[CC_QUORUM_HASH_LEN], cc_error *err);

/* Argon2id(passphrase, salt, kdf) → key (32 bytes, the caller's cc_secret memory). */
cc_status cc_quorum_passphrase_key(const uint8_t *passphrase, size_t len, const uint8_t salt[CC_QUORUM_SALT_LEN],
                                   const cc_quorum_kdf *kdf, uint8_t key[32], cc_error *err);
/* HKDF-SHA256(response, salt = challenge, "cc-operator-yubikey-v1") → key. */
cc_status cc_quorum_yubikey_key(const uint8_t response[CC_QUORUM_YUBIKEY_RESPONSE_LEN],
                                const uint8_t challenge[CC_QUORUM_CHALLENGE_LEN], uint8_t key[32], cc_error *err);

/*
 * Registers op: kind passphrase (secret = the passphrase, 12..1024 bytes,
 * taken as given: no normalisation; a fresh salt and kdf are stored) or
 * yubikey (secret = the 20-byte response to op->challenge); seals share under
 * the derived key and sets op->registered.  CC_EINVAL names a bad secret.
 */
cc_status cc_quorum_register(cc_quorum_operator *op, uint32_t version, cc_quorum_kind kind, const cc_quorum_kdf *kdf,
                             const uint8_t *secret, size_t len, const uint8_t share[CC_QUORUM_PART_LEN],
                             cc_error *err);

/* Opens op's share with secret: CC_EFORBIDDEN "wrong passphrase" when the tag fails; share is secret memory. */
cc_status cc_quorum_unlock(const cc_quorum_operator *op, uint32_t version, const uint8_t *secret, size_t len,
                           uint8_t share[CC_QUORUM_PART_LEN], cc_error *err);

/*
 * A new initialisation: checks the names (distinct) and thresholds, fills q
 * (init_id, indexes 1..K, yubikey challenges, token hashes, kms_check of
 * kms_part at version), and writes the K one-time registration tokens
 * (CC_QUORUM_TOKEN_LEN + 1 bytes each, NUL-terminated) into tokens, which the
 * caller puts in cc_secret memory.  The caller splits operator_part.
 */
cc_status cc_quorum_setup(cc_quorum_record *q, const char *const *names, size_t k, unsigned threshold,
                          const cc_quorum_kdf *kdf, const uint8_t kms_part[CC_QUORUM_PART_LEN], uint32_t version,
                          char *tokens, cc_error *err);

/* The operator a registration token belongs to (constant-time over every operator), or -1. */
int cc_quorum_find_token(const cc_quorum_record *q, const char *token);
/* The operator named name, or -1. */
int cc_quorum_find_operator(const cc_quorum_record *q, const char *name);

/* Adds q's attributes (q_*) to a state item / reads them back (CC_EINVAL names the attribute). */
cc_status cc_quorum_to_item(const cc_quorum_record *q, json_t *item, cc_error *err);
cc_status cc_quorum_from_item(json_t *item, cc_quorum_record *q, cc_error *err);

/* Adds the public quorum fields to a status object: operator_threshold, operators [{name, kind, registered, ...}]. */
void cc_quorum_status(const cc_quorum_record *q, json_t *status);

#endif
