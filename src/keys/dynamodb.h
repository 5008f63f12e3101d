/*
 * dynamodb.h — the DynamoDB key table (key_sources.dynamodb.table) and the
 * key source that reads it (SPEC §4 DynamoDB).
 *
 * One item per validator key:
 *
 *   pk              S  "0x" + 96 lower-case hex digits (the compressed pubkey)
 *   status          S  "active" | "inactive"
 *   status_shard    S  "<status>#<nn>", nn = pubkey[47] % CC_KEY_TABLE_SHARDS as two
 *                      decimal digits: the hash key of the index below
 *   sealed          B  cc_sealed_key blob (keys/sealed_key.h): AES-256-GCM under the
 *                      master key; associated data binds pk and master_version
 *   master_version  N  the master-key version that sealed it
 *   origin          S  "generated" | "imported"
 *   path            S  EIP-2334 path of a generated key (m/12381/3600/i/0/0); absent otherwise
 *   mnemonic_age    S  optional: the age-armored BIP-39 mnemonic a generated key came from
 *                      (age X25519 recipients; the same text on every key of one generate call)
 *   created_at      S  ISO-8601 UTC
 *   updated_at      S  ISO-8601 UTC
 *
 * Global secondary index CC_KEY_TABLE_INDEX: hash key status_shard (S),
 * range key pk (S), projection ALL.  Reading every key of one status is
 * CC_KEY_TABLE_SHARDS independent Query streams, run in parallel
 * (max_concurrent_reads), instead of one Scan.
 *
 * One more item, pk CC_KEY_TABLE_GENERATION_PK, holds a counter `generation`
 * (N) that every write through this interface increments in the same
 * request batch (TransactWriteItems).  The refresh loop GetItems that one
 * item every refresh_interval_seconds and re-reads the index only when it
 * moved (and at least every CC_KEY_TABLE_FULL_READ_SECONDS, for writers that
 * bypass us), so an idle fleet costs one small read per replica per second.
 *
 * Nothing secret is ever in an item in the clear: the secret key only as a
 * sealed blob, the mnemonic only age-encrypted.
 */
#ifndef CC_KEYS_DYNAMODB_H
#define CC_KEYS_DYNAMODB_H

#include <stddef.h>
#include <stdint.h>

#include "aws/dynamodb.h"
#include "keys/keys.h"
#include "keys/sealed_key.h"
#include "util/err.h"

#define CC_KEY_TABLE_INDEX "status-shard-index"
#define CC_KEY_TABLE_SHARDS 16
#define CC_KEY_TABLE_GENERATION_PK "#generation"
#define CC_KEY_TABLE_FULL_READ_SECONDS 300

typedef enum cc_key_status { CC_KEY_INACTIVE = 0, CC_KEY_ACTIVE = 1 } cc_key_status;

const char *cc_key_status_name(cc_key_status s); /* "active" / "inactive" */

/* One item of the key table, decoded.  Holds no secret (sealed is ciphertext). */
typedef struct cc_key_record {
    uint8_t pubkey[48];
    cc_key_status status;
    uint8_t sealed[CC_SEALED_KEY_LEN];
    size_t sealed_len;
    uint32_t master_version;
    char origin[16];        /* "generated" | "imported" */
    char path[64];          /* "" when absent */
    char *mnemonic_age;     /* malloc'ed armored text, or NULL */
    char created_at[32];
    char updated_at[32];
} cc_key_record;

void cc_key_record_clear(cc_key_record *r); /* frees mnemonic_age */

/* The item of r (a new reference) / r from an item; CC_EINVAL names the malformed attribute. */
cc_status cc_key_record_to_item(const cc_key_record *r, json_t **item, cc_error *err);
cc_status cc_key_record_from_item(json_t *item, cc_key_record *r, cc_error *err);

/* Creates the table and its index if missing and checks their key schema; *created = 1 if made now. */
cc_status cc_key_table_create(const cc_dynamodb *ddb, const char *table, int *created, cc_error *err);

/*
 * Writes new records (at most 25 per call, DynamoDB's transaction limit,
 * minus the generation item: so at most 24), each only if no item has its
 * pk, and bumps the generation — all or nothing.  CC_ECONFLICT when a pubkey
 * is already stored (*conflict_index, may be NULL, receives which one).
 */
cc_status cc_key_table_put_new(const cc_dynamodb *ddb, const char *table, const cc_key_record *records,
                               size_t count, size_t *conflict_index, cc_error *err);

/* Sets one key's status (and status_shard, updated_at); CC_ENOTFOUND when absent. */
cc_status cc_key_table_set_status(const cc_dynamodb *ddb, const char *table, const uint8_t pubkey[48],
                                  cc_key_status status, cc_error *err);

/* Deletes one key's item; CC_ENOTFOUND when absent. */
cc_status cc_key_table_delete(const cc_dynamodb *ddb, const char *table, const uint8_t pubkey[48], cc_error *err);

/* Consistent GetItem of one key: *found = 0 (r untouched) when absent. */
cc_status cc_key_table_get(const cc_dynamodb *ddb, const char *table, const uint8_t pubkey[48], cc_key_record *r,
                           int *found, cc_error *err);

/* The current generation counter (0 when the item does not exist yet). */
cc_status cc_key_table_generation(const cc_dynamodb *ddb, const char *table, uint64_t *generation,
                                  cc_error *err);

/*
 * Every record with `status` (both when status < 0), read from the index's
 * shards with at most max_concurrent_reads Query streams at once.
 * *records is a malloc'ed array of *count records (free each with
 * cc_key_record_clear, then the array).
 */
cc_status cc_key_table_read_all(const cc_dynamodb *ddb, const char *table, int status, unsigned max_concurrent_reads,
                                cc_key_record **records, size_t *count, cc_error *err);

/*
 * The key source.  The master key is not the source's: it asks for it
 * through with_master (chamber/chamber.h's cc_chamber_with_master_key, bound
 * by the caller), which answers CC_EUNAVAILABLE while sealed.
 */
typedef cc_status (*cc_with_master_fn)(void *ctx, cc_status (*fn)(void *arg, const uint8_t master[32], uint32_t version),
                                       void *arg, cc_error *err);

/*
 * Optional (master-key rotation in flight, chamber/rotate.h): called only
 * inside with_master's fn, answers the OTHER master key the chamber holds and
 * its version (NULL when none), so a record sealed under either opens.
 */
typedef const uint8_t *(*cc_other_master_fn)(void *ctx, uint32_t *version);

typedef struct cc_key_source_dynamodb_config {
    const cc_dynamodb *ddb;          /* borrowed, outlives the source */
    const char *table;               /* key_sources.dynamodb.table */
    int status_filter;               /* key_sources.dynamodb.status_filter: CC_KEY_ACTIVE, or -1 for all */
    unsigned refresh_interval_seconds;
    unsigned max_concurrent_reads;
    cc_with_master_fn with_master;
    void *with_master_ctx;
    cc_other_master_fn other_master; /* may be NULL; called with with_master_ctx */
} cc_key_source_dynamodb_config;

/*
 * load (cc_key_source_ops) reads every item of status_filter, opens each
 * sealed blob with the master key on every core, and replaces the keyring's
 * CC_KEY_DYNAMODB keys with them; a blob that does not open is logged with
 * its pubkey, counted as failed and skipped.  Sealed: CC_EUNAVAILABLE and
 * the keyring's DynamoDB keys are removed.
 */
cc_status cc_key_source_dynamodb_new(const cc_key_source_dynamodb_config *cfg, cc_key_source **out, cc_error *err);

/*
 * Starts the background refresh of src into ring (every
 * refresh_interval_seconds: reload when the generation moved, the chamber
 * was unsealed since the last load, or CC_KEY_TABLE_FULL_READ_SECONDS
 * passed).  Stopped by the source's free.
 */
cc_status cc_key_source_dynamodb_start_refresh(cc_key_source *src, cc_keyring *ring, cc_error *err);

/* Asks the refresh loop to reload now (after a write through the Chamber key API); does not wait. */
void cc_key_source_dynamodb_poke(cc_key_source *src);

/*
 * After this replica deactivated or deleted pubkey in the table: removes it
 * from the ring now and keeps every refresh for the next 10 s from adding it
 * back (a refresh may have read the eventually consistent index before the
 * write); then pokes.  remember undoes that after a local activation.
 */
void cc_key_source_dynamodb_forget(cc_key_source *src, const uint8_t pubkey[48]);
void cc_key_source_dynamodb_remember(cc_key_source *src, const uint8_t pubkey[48]);

/* Removes (and wipes) every DynamoDB key from the ring given to start_refresh, at once: the chamber's on-seal hook (fn(void *src)). */
void cc_key_source_dynamodb_wipe(cc_key_source *src);

#endif
