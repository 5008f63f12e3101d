/*
 * slashing.h — the anti-slashing interface (EIP-3076) and its backends.
 *
 * A backend is a struct of function pointers (sqlite, noop; later postgres,
 * dynamodb).  check_block and check_attestation are the whole contract of
 * signing: they decide and record atomically and durably, so when one returns
 * CC_OK the record is on stable storage and the signature may leave the
 * process; CC_ESLASHABLE means refused (with the reason in err).  Both are
 * safe to call from many threads at once; a backend serialises one
 * validator's checks itself (and across processes where it can be shared).
 *
 * Rules (SPEC §3): a block is refused at a slot already signed with another
 * root, and at or below the lowest slot recorded by an import (low
 * watermark); an attestation is refused when source > target, on a double
 * vote (same target, other root), when it surrounds or is surrounded by a
 * recorded one, or when below the low watermarks (source < min source,
 * target <= min target).  An identical re-request (same root) succeeds.  A
 * record imported without a signing root conflicts with every new message at
 * that slot or target.
 *
 * The database is bound to one genesis_validators_root, set at open.
 */
#ifndef CC_SLASHING_H
#define CC_SLASHING_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* The EIP-3076 interchange v5, in memory. */
typedef struct cc_ic_block {
    uint64_t slot;
    uint8_t signing_root[32];
    int has_signing_root;
} cc_ic_block;

typedef struct cc_ic_attestation {
    uint64_t source_epoch;
    uint64_t target_epoch;
    uint8_t signing_root[32];
    int has_signing_root;
} cc_ic_attestation;

typedef struct cc_ic_validator {
    uint8_t pubkey[48];
    cc_ic_block *blocks;
    size_t block_count;
    cc_ic_attestation *attestations;
    size_t attestation_count;
} cc_ic_validator;

typedef struct cc_interchange {
    uint8_t genesis_validators_root[32];
    cc_ic_validator *validators;
    size_t validator_count;
} cc_interchange;

/* Parses interchange JSON (format version "5"); CC_EINVAL naming the field on anything malformed. */
cc_status cc_interchange_parse(const char *json, size_t len, cc_interchange **out, cc_error *err);
/* Writes interchange JSON (malloc'ed, NUL-terminated). */
cc_status cc_interchange_write(const cc_interchange *ic, char **json_out, cc_error *err);
void cc_interchange_free(cc_interchange *ic);
/* CC_EFORBIDDEN, naming both roots, unless ic is for the network gvr (every backend's import starts here). */
cc_status cc_interchange_check_root(const cc_interchange *ic, const uint8_t gvr[32], cc_error *err);

typedef struct cc_slashing cc_slashing;

/*
 * An asynchronous check, for callers that must not park a thread while the
 * record is committed (the HTTP server signs on a small pool of threads).
 * The caller fills the message fields, done and arg; the backend fills status
 * and err and then calls done(check) exactly once — on a backend thread, or
 * on the caller's own thread for a synchronous backend.  status CC_OK means
 * the record is durable.  done must not block; check must stay valid until
 * it has been called.
 */
typedef enum cc_slashing_kind { CC_SLASHING_BLOCK = 0, CC_SLASHING_ATTESTATION } cc_slashing_kind;

typedef struct cc_slashing_check {
    cc_slashing_kind kind;
    uint8_t pubkey[48];
    uint64_t slot;         /* CC_SLASHING_BLOCK */
    uint64_t source_epoch; /* CC_SLASHING_ATTESTATION */
    uint64_t target_epoch;
    uint8_t signing_root[32];
    cc_status status;
    cc_error err;
    void (*done)(struct cc_slashing_check *check);
    void *arg;
    struct cc_slashing_check *next; /* the backend's, while queued */
} cc_slashing_check;

typedef struct cc_slashing_ops {
    const char *name;
    cc_status (*check_block)(cc_slashing *db, const uint8_t pubkey[48], uint64_t slot,
                             const uint8_t signing_root[32], cc_error *err);
    cc_status (*check_attestation)(cc_slashing *db, const uint8_t pubkey[48], uint64_t source_epoch,
                                   uint64_t target_epoch, const uint8_t signing_root[32], cc_error *err);
    /*
     * Imports an interchange in one transaction: all or nothing.  Refuses
     * (CC_EFORBIDDEN) an interchange for another genesis_validators_root.
     */
    cc_status (*import)(cc_slashing *db, const cc_interchange *ic, cc_error *err);
    /* Exports every validator (pubkeys == NULL) or just those listed. */
    cc_status (*export_)(cc_slashing *db, const uint8_t (*pubkeys)[48], size_t count, cc_interchange **out,
                         cc_error *err);
    void (*close)(cc_slashing *db);
    /* Optional: queue an asynchronous check (see cc_slashing_check). NULL → the synchronous calls are used. */
    void (*submit)(cc_slashing *db, cc_slashing_check *check);
} cc_slashing_ops;

struct cc_slashing {
    const cc_slashing_ops *ops;
    uint8_t genesis_validators_root[32];
};

typedef struct cc_slashing_config {
    const char *backend;   /* "sqlite" | "noop" */
    const char *path;      /* sqlite file */
    const char *url;       /* postgres */
    unsigned pool_size;
    const char *table;     /* dynamodb */
    const char *aws_region;            /* dynamodb: aws.region ("" = AWS_REGION, …, us-east-1) */
    const char *aws_endpoint_dynamodb; /* dynamodb: aws.endpoint_urls.dynamodb ("" = the region's) */
    const char *aws_endpoint_sts;      /* dynamodb: aws.endpoint_urls.sts (web identity credentials) */
} cc_slashing_config;

/*
 * Opens the configured backend bound to gvr.  A database already bound to
 * another root is refused with CC_EFORBIDDEN naming both roots.
 */
cc_status cc_slashing_open(const cc_slashing_config *cfg, const uint8_t gvr[32], cc_slashing **out,
                           cc_error *err);

static inline cc_status cc_slashing_check_block(cc_slashing *db, const uint8_t pk[48], uint64_t slot,
                                                const uint8_t root[32], cc_error *err)
{
    return db->ops->check_block(db, pk, slot, root, err);
}
static inline cc_status cc_slashing_check_attestation(cc_slashing *db, const uint8_t pk[48], uint64_t source,
                                                      uint64_t target, const uint8_t root[32], cc_error *err)
{
    return db->ops->check_attestation(db, pk, source, target, root, err);
}
/* Submits check to the backend, asynchronously where the backend can. */
static inline void cc_slashing_submit(cc_slashing *db, cc_slashing_check *check)
{
    if (db->ops->submit) {
        db->ops->submit(db, check);
        return;
    }
    cc_error_clear(&check->err);
    if (check->kind == CC_SLASHING_BLOCK)
        check->status = db->ops->check_block(db, check->pubkey, check->slot, check->signing_root, &check->err);
    else
        check->status = db->ops->check_attestation(db, check->pubkey, check->source_epoch, check->target_epoch,
                                                   check->signing_root, &check->err);
    check->done(check);
}
static inline void cc_slashing_close(cc_slashing *db)
{
    if (db)
        db->ops->close(db);
}

/* Backend constructors (one file each). */
cc_status cc_slashing_sqlite_open(const char *path, const uint8_t gvr[32], cc_slashing **out, cc_error *err);
cc_status cc_slashing_noop_open(const uint8_t gvr[32], cc_slashing **out, cc_error *err);
/* postgres.c: url is a libpq URI or key=value string (sslmode defaults to verify-full); pool_size connections. */
cc_status cc_slashing_postgres_open(const char *url, unsigned pool_size, const uint8_t gvr[32], cc_slashing **out,
                                    cc_error *err);
/* Group-commit counters of a postgres backend: transactions committed (or failed), checks run. */
void cc_slashing_postgres_stats(cc_slashing *db, uint64_t *batches, uint64_t *checks);
/* dynamodb.c: cfg->table on DynamoDB (region, endpoint and credentials from cfg->aws_* and the default chain). */
cc_status cc_slashing_dynamodb_open(const cc_slashing_config *cfg, const uint8_t gvr[32], cc_slashing **out,
                                    cc_error *err);
struct cc_dynamodb;
/*
 * Creates the dynamodb backend's table (pk S + sk S, on demand) if it is
 * missing, waits until ACTIVE, and checks the key schema (CC_ECONFIG naming
 * the table if wrong).  *created (may be NULL) = 1 if this call created it.
 */
cc_status cc_slashing_dynamodb_create_table(const struct cc_dynamodb *ddb, const char *table, int *created,
                                            cc_error *err);

/* Group-commit counters of a sqlite backend (for benchmarks and metrics): batches committed, checks run. */
void cc_slashing_sqlite_stats(cc_slashing *db, uint64_t *batches, uint64_t *checks);

#endif
