/*
 * keys.h — the keyring (every key the signer can sign with) and the key
 * source interface.
 *
 * The keyring maps a 48-byte public key to its secret key, held in secret
 * memory.  It is safe for concurrent use: signers take a read lock for the
 * few hundred microseconds of one signature; a reload builds the new set
 * outside the lock and swaps it in, so signing never waits for keystore
 * decryption.
 *
 * A key source (filesystem, memory, dynamodb) is a struct of function
 * pointers, as SQLite's VFS is; the core never knows which one it holds.
 * Every key records the source it came from, so a source's reload replaces
 * only its own keys.
 */
#ifndef CC_KEYS_H
#define CC_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "signing/bls.h"
#include "util/err.h"

typedef enum cc_key_origin {
    CC_KEY_FILESYSTEM = 0,
    CC_KEY_MEMORY,
    CC_KEY_DYNAMODB,
    CC_KEY_ORIGIN_COUNT
} cc_key_origin;

const char *cc_key_origin_name(cc_key_origin origin);

typedef struct cc_keyring cc_keyring;

/* A batch of loaded keys, built outside the keyring and handed over whole. */
typedef struct cc_keyset cc_keyset;

cc_keyring *cc_keyring_new(void);
void cc_keyring_free(cc_keyring *ring); /* wipes every secret */

/* Signs msg with the key for pubkey. CC_ENOTFOUND if the keyring lacks it. */
cc_status cc_keyring_sign(cc_keyring *ring, const uint8_t pubkey[CC_BLS_PUBKEY_LEN], const uint8_t *msg,
                          size_t msg_len, uint8_t sig[CC_BLS_SIG_LEN], cc_error *err);

/* 1 if the keyring holds pubkey. */
int cc_keyring_contains(cc_keyring *ring, const uint8_t pubkey[CC_BLS_PUBKEY_LEN]);

/* The origin (cc_key_origin) of the key held for pubkey, or -1 if the keyring lacks it. */
int cc_keyring_origin(cc_keyring *ring, const uint8_t pubkey[CC_BLS_PUBKEY_LEN]);

/* Number of keys, total or of one origin (origin < 0 for all). */
size_t cc_keyring_count(cc_keyring *ring, int origin);

/*
 * A snapshot of every public key, sorted; *out is malloc'ed (free it), with
 * *count entries of 48 bytes each.
 */
cc_status cc_keyring_pubkeys(cc_keyring *ring, uint8_t (**out)[CC_BLS_PUBKEY_LEN], size_t *count,
                             cc_error *err);

/* Adds one key from its 32-byte big-endian secret; CC_ECONFLICT if already present. */
cc_status cc_keyring_add(cc_keyring *ring, const uint8_t sk_be32[32], cc_key_origin origin,
                         uint8_t pubkey_out[CC_BLS_PUBKEY_LEN], cc_error *err);

/* Removes one key (wiping it). CC_ENOTFOUND if absent. */
cc_status cc_keyring_remove(cc_keyring *ring, const uint8_t pubkey[CC_BLS_PUBKEY_LEN], cc_error *err);

/* Keysets: thread-safe collection used by parallel loaders. */
cc_keyset *cc_keyset_new(void);
void cc_keyset_free(cc_keyset *set);
/* Adds a key; a duplicate pubkey within the set is reported as CC_ECONFLICT. */
cc_status cc_keyset_add(cc_keyset *set, const uint8_t sk_be32[32], uint8_t pubkey_out[CC_BLS_PUBKEY_LEN],
                        cc_error *err);
/*
 * As cc_keyset_add for a secret whose public key the caller has already
 * derived and checked (cc_sealed_key_open does), skipping the ~0.1 ms
 * secret → public key.  pubkey MUST be sk_be32's: the set trusts it.
 */
cc_status cc_keyset_add_checked(cc_keyset *set, const uint8_t sk_be32[32], const uint8_t pubkey[CC_BLS_PUBKEY_LEN],
                                cc_error *err);
/* Removes (and wipes) pubkey from set: 1 if it was there. */
int cc_keyset_remove(cc_keyset *set, const uint8_t pubkey[CC_BLS_PUBKEY_LEN]);
size_t cc_keyset_count(const cc_keyset *set);

/*
 * Replaces every key of `origin` with the keys of `set` in one step (the
 * set is consumed).  A key already held under another origin is kept there
 * and not duplicated.
 */
void cc_keyring_replace_origin(cc_keyring *ring, cc_key_origin origin, cc_keyset *set);

/* What one load or reload did. */
typedef struct cc_key_load_report {
    size_t loaded;   /* keys now held from this source */
    size_t failed;   /* descriptors or keystores skipped (each logged with its file) */
    double seconds;  /* wall time */
} cc_key_load_report;

typedef struct cc_key_source cc_key_source;

typedef struct cc_key_source_ops {
    const char *name;
    /* (Re)loads this source's keys into ring, replacing those it loaded before. */
    cc_status (*load)(cc_key_source *src, cc_keyring *ring, cc_key_load_report *report, cc_error *err);
    void (*free)(cc_key_source *src);
} cc_key_source_ops;

struct cc_key_source {
    const cc_key_source_ops *ops;
};

/*
 * The filesystem source: every *.yaml / *.yml Web3Signer descriptor directly
 * inside each directory in paths (type file-raw or file-keystore).  Loading
 * uses every core (scrypt needs 256 MiB per derivation, so parallelism is
 * also capped by memory) and logs progress.  A bad descriptor or keystore is
 * logged with its file and skipped.
 */
cc_status cc_key_source_filesystem_new(char *const *paths, size_t count, cc_key_source **out, cc_error *err);

/*
 * Parses and checks one Web3Signer descriptor's text (len bytes) as the
 * filesystem source does, without reading the files it names: *is_keystore
 * (may be NULL) is 1 for file-keystore, 0 for file-raw.  CC_EINVAL naming the
 * field otherwise.  The fuzzing entry point (fuzz/fuzz_descriptor.c).
 */
cc_status cc_key_descriptor_check(const char *text, size_t len, int *is_keystore, cc_error *err);

#endif
