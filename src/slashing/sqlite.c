/*
 * sqlite.c — the default anti-slashing backend: one SQLite file, one writer
 * thread, group commit.
 *
 * Durability costs one fsync per COMMIT (WAL, synchronous=FULL).  A signer
 * receiving thousands of requests a second cannot afford one per request, so
 * every check goes through a single writer thread that owns the connection:
 *
 *   caller                         writer
 *   ------                         ------
 *   enqueue request, wait    -->   take every pending request
 *                                  BEGIN IMMEDIATE
 *                                  for each, in order: check, insert if allowed
 *                                  COMMIT                  (one fsync)
 *   wake with own verdict    <--   complete every request
 *
 * Requests of one batch see each other's records (they run in order in one
 * transaction), so of two conflicting requests in a batch the first wins.  No
 * caller gets CC_OK before the COMMIT holding its record has returned; if the
 * transaction fails, everyone in the batch gets CC_EIO and nothing is signed.
 * Several processes on one file stay safe because every check re-reads the
 * database inside a BEGIN IMMEDIATE transaction (the SQLite write lock),
 * waiting up to busy_timeout for another process to finish.
 *
 * Schema (after Lighthouse and Web3Signer):
 *   metadata(genesis_validators_root)            bound on first open
 *   validators(id, public_key UNIQUE)
 *   signed_blocks(validator_id, slot, signing_root)              UNIQUE(validator_id, slot)
 *   signed_attestations(validator_id, source_epoch, target_epoch, signing_root)
 *                                                UNIQUE(validator_id, target_epoch), index on source
 *   low_watermarks(validator_id, slot, source_epoch, target_epoch)  set by imports
 * signing_root NULL is the "imported without a signing root" marker: it
 * conflicts with every new message at that slot or target.  Slots and epochs
 * are stored as SQLite INTEGERs, so values above 2^63-1 are refused.
 *
 * Import merges: existing history is kept, imported records are added (a
 * record that differs from one already held at the same slot/target becomes
 * the NULL marker), and each low watermark is raised to the highest slot /
 * source / target held for the validator after the merge (the "minimal"
 * strategy of the EIP-3076 test suite, as Lighthouse does).  That is at least
 * as strict as EIP-3076's "slot <= min imported slot" and also closes the gap
 * between two imports, which the EIP warns is unsafe to sign in.
 * Import and export take the connection between two batches.
 */
#include "slashing/slashing.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slashing/queue.h"
#include "util/hex.h"
#include "util/log.h"

#define SQ_BUSY_TIMEOUT_MS 5000
#define SQ_MAX_VALUE ((uint64_t)INT64_MAX)

/*
 * Every check, synchronous or not, travels as a cc_slashing_check through one
 * queue (slashing/queue.h) to the writer thread, which takes all that is
 * pending as one batch.
 */

/* pubkey -> validators.id, owned by whoever holds conn_lock. */
typedef struct sq_id_slot {
    uint8_t pubkey[48];
    int64_t id; /* 0 = empty */
} sq_id_slot;

enum {
    ST_VID_GET, ST_VID_INS,
    ST_BLK_GET, ST_BLK_INS, ST_BLK_NULL,
    ST_ATT_GET, ST_ATT_INS, ST_ATT_NULL, ST_ATT_SURROUNDING, ST_ATT_SURROUNDED,
    ST_LW_GET, ST_LW_PUT,
    ST_BLK_MAX, ST_ATT_MAX,
    ST_COUNT
};

static const char *const sq_sql[ST_COUNT] = {
    [ST_VID_GET] = "SELECT id FROM validators WHERE public_key = ?1",
    [ST_VID_INS] = "INSERT INTO validators(public_key) VALUES (?1)",
    [ST_BLK_GET] = "SELECT signing_root FROM signed_blocks WHERE validator_id = ?1 AND slot = ?2",
    [ST_BLK_INS] = "INSERT INTO signed_blocks(validator_id, slot, signing_root) VALUES (?1, ?2, ?3)",
    [ST_BLK_NULL] = "UPDATE signed_blocks SET signing_root = NULL WHERE validator_id = ?1 AND slot = ?2",
    [ST_ATT_GET] = "SELECT source_epoch, signing_root FROM signed_attestations "
                   "WHERE validator_id = ?1 AND target_epoch = ?2",
    [ST_ATT_INS] = "INSERT INTO signed_attestations(validator_id, source_epoch, target_epoch, signing_root) "
                   "VALUES (?1, ?2, ?3, ?4)",
    [ST_ATT_NULL] = "UPDATE signed_attestations SET signing_root = NULL "
                    "WHERE validator_id = ?1 AND target_epoch = ?2",
    /* The new one (?2, ?3) would surround a recorded one: s > source and t < target. */
    [ST_ATT_SURROUNDING] = "SELECT source_epoch, target_epoch FROM signed_attestations "
                           "INDEXED BY signed_attestations_source "
                           "WHERE validator_id = ?1 AND source_epoch > ?2 AND target_epoch < ?3 LIMIT 1",
    /* A recorded one surrounds the new one: s < source and t > target. */
    [ST_ATT_SURROUNDED] = "SELECT source_epoch, target_epoch FROM signed_attestations "
                          "INDEXED BY signed_attestations_target "
                          "WHERE validator_id = ?1 AND target_epoch > ?3 AND source_epoch < ?2 LIMIT 1",
    [ST_LW_GET] = "SELECT slot, source_epoch, target_epoch FROM low_watermarks WHERE validator_id = ?1",
    [ST_LW_PUT] = "INSERT INTO low_watermarks(validator_id, slot, source_epoch, target_epoch) "
                  "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(validator_id) DO UPDATE SET "
                  "slot = excluded.slot, source_epoch = excluded.source_epoch, "
                  "target_epoch = excluded.target_epoch",
    [ST_BLK_MAX] = "SELECT MAX(slot) FROM signed_blocks WHERE validator_id = ?1",
    [ST_ATT_MAX] = "SELECT MAX(source_epoch), MAX(target_epoch) FROM signed_attestations "
                   "WHERE validator_id = ?1",
};

static const char sq_schema[] =
    "CREATE TABLE IF NOT EXISTS metadata ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  genesis_validators_root BLOB NOT NULL,"
    "  schema_version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS validators ("
    "  id INTEGER PRIMARY KEY,"
    "  public_key BLOB NOT NULL UNIQUE,"
    "  enabled INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE IF NOT EXISTS signed_blocks ("
    "  validator_id INTEGER NOT NULL REFERENCES validators(id),"
    "  slot INTEGER NOT NULL,"
    "  signing_root BLOB);"
    "CREATE UNIQUE INDEX IF NOT EXISTS signed_blocks_slot ON signed_blocks(validator_id, slot);"
    "CREATE TABLE IF NOT EXISTS signed_attestations ("
    "  validator_id INTEGER NOT NULL REFERENCES validators(id),"
    "  source_epoch INTEGER NOT NULL,"
    "  target_epoch INTEGER NOT NULL,"
    "  signing_root BLOB);"
    "CREATE UNIQUE INDEX IF NOT EXISTS signed_attestations_target "
    "  ON signed_attestations(validator_id, target_epoch);"
    "CREATE INDEX IF NOT EXISTS signed_attestations_source "
    "  ON signed_attestations(validator_id, source_epoch);"
    "CREATE TABLE IF NOT EXISTS low_watermarks ("
    "  validator_id INTEGER PRIMARY KEY REFERENCES validators(id),"
    "  slot INTEGER,"
    "  source_epoch INTEGER,"
    "  target_epoch INTEGER);";

typedef struct sq_db {
    cc_slashing base;
    sqlite3 *conn;
    char *path;
    sqlite3_stmt *st[ST_COUNT];

    /* Held by the writer for a whole batch, and by import/export. */
    pthread_mutex_t conn_lock;
    sq_id_slot *ids;
    size_t id_cap, id_count;

    cc_check_queue queue; /* pending checks, taken whole by the writer */
    pthread_t writer;
    uint64_t batches, checks; /* atomic */
} sq_db;

/* ---- small SQL helpers ---------------------------------------------------- */

static cc_status sql_fail(sq_db *db, cc_error *err, const char *what)
{
    return cc_error_set(err, CC_EIO, "slashing database %s: %s: %s", db->path, what, sqlite3_errmsg(db->conn));
}

static cc_status exec(sq_db *db, const char *sql, cc_error *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db->conn, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        cc_status code = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? CC_EUNAVAILABLE : CC_EIO;
        cc_error_set(err, code, "slashing database %s: %s: %s", db->path, sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return code;
    }
    return CC_OK;
}

static sqlite3_stmt *stmt(sq_db *db, int which)
{
    sqlite3_stmt *s = db->st[which];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

static void rollback(sq_db *db)
{
    if (!sqlite3_get_autocommit(db->conn))
        sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
}

static void root_hex(const uint8_t *root, int len, char out[67])
{
    if (!root || len != 32)
        snprintf(out, 67, "(none, imported without signing root)");
    else
        cc_hex_encode0x(root, 32, out);
}

/* ---- validator id cache --------------------------------------------------- */

static size_t id_hash(const uint8_t pk[48])
{
    /* Compressed BLS points are uniformly distributed past the flag bits. */
    uint64_t h;
    memcpy(&h, pk + 8, sizeof h);
    return (size_t)(h ^ (h >> 29));
}

static void id_cache_clear(sq_db *db)
{
    if (db->ids)
        memset(db->ids, 0, db->id_cap * sizeof *db->ids);
    db->id_count = 0;
}

static int64_t id_cache_get(sq_db *db, const uint8_t pk[48])
{
    if (!db->id_cap)
        return 0;
    for (size_t i = id_hash(pk) & (db->id_cap - 1);; i = (i + 1) & (db->id_cap - 1)) {
        if (!db->ids[i].id)
            return 0;
        if (memcmp(db->ids[i].pubkey, pk, 48) == 0)
            return db->ids[i].id;
    }
}

static void id_cache_put(sq_db *db, const uint8_t pk[48], int64_t id)
{
    if ((db->id_count + 1) * 10 > db->id_cap * 7) {
        size_t cap = db->id_cap ? db->id_cap * 2 : 1024;
        sq_id_slot *n = calloc(cap, sizeof *n);
        if (!n)
            return; /* the cache is only an optimisation */
        for (size_t j = 0; j < db->id_cap; j++) {
            if (!db->ids[j].id)
                continue;
            size_t i = id_hash(db->ids[j].pubkey) & (cap - 1);
            while (n[i].id)
                i = (i + 1) & (cap - 1);
            n[i] = db->ids[j];
        }
        free(db->ids);
        db->ids = n;
        db->id_cap = cap;
    }
    size_t i = id_hash(pk) & (db->id_cap - 1);
    while (db->ids[i].id && memcmp(db->ids[i].pubkey, pk, 48) != 0)
        i = (i + 1) & (db->id_cap - 1);
    if (!db->ids[i].id)
        db->id_count++;
    memcpy(db->ids[i].pubkey, pk, 48);
    db->ids[i].id = id;
}

/* The validator's row id, inserting the validator if new.  Inside a transaction. */
static cc_status validator_id(sq_db *db, const uint8_t pk[48], int64_t *id, cc_error *err)
{
    if ((*id = id_cache_get(db, pk)))
        return CC_OK;
    sqlite3_stmt *s = stmt(db, ST_VID_GET);
    sqlite3_bind_blob(s, 1, pk, 48, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
    } else if (rc == SQLITE_DONE) {
        s = stmt(db, ST_VID_INS);
        sqlite3_bind_blob(s, 1, pk, 48, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE)
            return sql_fail(db, err, "insert validator");
        *id = sqlite3_last_insert_rowid(db->conn);
    } else {
        return sql_fail(db, err, "select validator");
    }
    sqlite3_reset(s);
    /* Cleared on rollback, so an id from an aborted transaction never survives. */
    id_cache_put(db, pk, *id);
    return CC_OK;
}

typedef struct sq_lw {
    int has_slot, has_source, has_target;
    int64_t slot, source, target;
} sq_lw;

static cc_status low_watermark(sq_db *db, int64_t id, sq_lw *lw, cc_error *err)
{
    memset(lw, 0, sizeof *lw);
    sqlite3_stmt *s = stmt(db, ST_LW_GET);
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        if ((lw->has_slot = sqlite3_column_type(s, 0) != SQLITE_NULL))
            lw->slot = sqlite3_column_int64(s, 0);
        if ((lw->has_source = sqlite3_column_type(s, 1) != SQLITE_NULL))
            lw->source = sqlite3_column_int64(s, 1);
        if ((lw->has_target = sqlite3_column_type(s, 2) != SQLITE_NULL))
            lw->target = sqlite3_column_int64(s, 2);
    } else if (rc != SQLITE_DONE) {
        return sql_fail(db, err, "select low watermark");
    }
    sqlite3_reset(s);
    return CC_OK;
}

/* ---- the two checks, run by the writer inside its transaction ---------------
 * They return CC_OK (allowed; recorded unless an identical repeat),
 * CC_ESLASHABLE or CC_EINVAL (refused, nothing written), or CC_EIO (the
 * transaction is broken: the whole batch fails). */

static cc_status check_block_tx(sq_db *db, const uint8_t pk[48], uint64_t slot, const uint8_t root[32],
                                cc_error *err)
{
    if (slot > SQ_MAX_VALUE)
        return cc_error_set(err, CC_EINVAL, "slot %" PRIu64 " is out of range", slot);
    int64_t id;
    cc_status st = validator_id(db, pk, &id, err);
    if (st != CC_OK)
        return st;

    sqlite3_stmt *s = stmt(db, ST_BLK_GET);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, (int64_t)slot);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const void *old = sqlite3_column_blob(s, 0);
        int len = sqlite3_column_bytes(s, 0);
        if (old && len == 32 && memcmp(old, root, 32) == 0) {
            sqlite3_reset(s);
            return CC_OK; /* identical re-request */
        }
        char have[67], want[67];
        root_hex(old, len, have);
        root_hex(root, 32, want);
        sqlite3_reset(s);
        return cc_error_set(err, CC_ESLASHABLE,
                            "double proposal: a block at slot %" PRIu64 " was already signed with signing root %s, "
                            "refusing signing root %s", slot, have, want);
    }
    if (rc != SQLITE_DONE)
        return sql_fail(db, err, "select block");
    sqlite3_reset(s);

    sq_lw lw;
    if ((st = low_watermark(db, id, &lw, err)) != CC_OK)
        return st;
    if (lw.has_slot && (int64_t)slot <= lw.slot)
        return cc_error_set(err, CC_ESLASHABLE,
                            "block at slot %" PRIu64 " is at or below the low watermark slot %" PRId64
                            " set by an interchange import", slot, lw.slot);

    s = stmt(db, ST_BLK_INS);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, (int64_t)slot);
    sqlite3_bind_blob(s, 3, root, 32, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE)
        return sql_fail(db, err, "insert block");
    sqlite3_reset(s);
    return CC_OK;
}

static cc_status check_attestation_tx(sq_db *db, const uint8_t pk[48], uint64_t source, uint64_t target,
                                      const uint8_t root[32], cc_error *err)
{
    if (source > SQ_MAX_VALUE || target > SQ_MAX_VALUE)
        return cc_error_set(err, CC_EINVAL, "epoch out of range (source %" PRIu64 ", target %" PRIu64 ")",
                            source, target);
    if (source > target)
        return cc_error_set(err, CC_ESLASHABLE,
                            "attestation source epoch %" PRIu64 " is greater than target epoch %" PRIu64,
                            source, target);
    int64_t id;
    cc_status st = validator_id(db, pk, &id, err);
    if (st != CC_OK)
        return st;

    sqlite3_stmt *s = stmt(db, ST_ATT_GET);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, (int64_t)target);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        int64_t old_source = sqlite3_column_int64(s, 0);
        const void *old = sqlite3_column_blob(s, 1);
        int len = sqlite3_column_bytes(s, 1);
        if (old && len == 32 && memcmp(old, root, 32) == 0) {
            sqlite3_reset(s);
            return CC_OK; /* identical re-request */
        }
        char have[67], want[67];
        root_hex(old, len, have);
        root_hex(root, 32, want);
        sqlite3_reset(s);
        return cc_error_set(err, CC_ESLASHABLE,
                            "double vote: an attestation with target epoch %" PRIu64 " (source %" PRId64
                            ") was already signed with signing root %s, refusing signing root %s",
                            target, old_source, have, want);
    }
    if (rc != SQLITE_DONE)
        return sql_fail(db, err, "select attestation");
    sqlite3_reset(s);

    sq_lw lw;
    if ((st = low_watermark(db, id, &lw, err)) != CC_OK)
        return st;
    if (lw.has_source && (int64_t)source < lw.source)
        return cc_error_set(err, CC_ESLASHABLE,
                            "attestation source epoch %" PRIu64 " is below the low watermark source epoch %" PRId64
                            " set by an interchange import", source, lw.source);
    if (lw.has_target && (int64_t)target <= lw.target)
        return cc_error_set(err, CC_ESLASHABLE,
                            "attestation target epoch %" PRIu64 " is at or below the low watermark target epoch %"
                            PRId64 " set by an interchange import", target, lw.target);

    static const struct {
        int which;
        const char *what;
    } surround[2] = {
        {ST_ATT_SURROUNDING, "would surround"},
        {ST_ATT_SURROUNDED, "would be surrounded by"},
    };
    for (int i = 0; i < 2; i++) {
        s = stmt(db, surround[i].which);
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, (int64_t)source);
        sqlite3_bind_int64(s, 3, (int64_t)target);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            int64_t os = sqlite3_column_int64(s, 0), ot = sqlite3_column_int64(s, 1);
            sqlite3_reset(s);
            return cc_error_set(err, CC_ESLASHABLE,
                                "surround vote: attestation (source %" PRIu64 ", target %" PRIu64
                                ") %s the signed attestation (source %" PRId64 ", target %" PRId64 ")",
                                source, target, surround[i].what, os, ot);
        }
        if (rc != SQLITE_DONE)
            return sql_fail(db, err, "select surround");
        sqlite3_reset(s);
    }

    s = stmt(db, ST_ATT_INS);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, (int64_t)source);
    sqlite3_bind_int64(s, 3, (int64_t)target);
    sqlite3_bind_blob(s, 4, root, 32, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE)
        return sql_fail(db, err, "insert attestation");
    sqlite3_reset(s);
    return CC_OK;
}

/* ---- the writer ----------------------------------------------------------- */

static void run_batch(sq_db *db, cc_slashing_check *batch)
{
    cc_error terr;
    cc_status st = exec(db, "BEGIN IMMEDIATE", &terr);
    if (st == CC_OK) {
        for (cc_slashing_check *r = batch; r; r = r->next) {
            cc_error_clear(&r->err);
            if (r->kind == CC_SLASHING_BLOCK)
                r->status = check_block_tx(db, r->pubkey, r->slot, r->signing_root, &r->err);
            else
                r->status = check_attestation_tx(db, r->pubkey, r->source_epoch, r->target_epoch, r->signing_root,
                                                 &r->err);
            if (r->status == CC_EIO || r->status == CC_ENOMEM) {
                st = r->status;
                terr = r->err;
                break;
            }
        }
    }
    if (st == CC_OK)
        st = exec(db, "COMMIT", &terr);
    if (st != CC_OK) {
        rollback(db);
        id_cache_clear(db);
        cc_log(CC_LOG_ERROR, "slashing protection batch failed, nothing signed", "path", db->path, "error",
               terr.msg, NULL);
        for (cc_slashing_check *r = batch; r; r = r->next) {
            r->status = cc_error_set(&r->err, CC_EIO, "not recorded (slashing database transaction failed): %s",
                                     terr.msg);
        }
    }
}

static void *writer_main(void *arg)
{
    sq_db *db = arg;
    size_t n;
    cc_slashing_check *batch;
    while ((batch = cc_check_queue_take(&db->queue, SIZE_MAX, &n)) != NULL) {
        pthread_mutex_lock(&db->conn_lock);
        run_batch(db, batch);
        pthread_mutex_unlock(&db->conn_lock);
        /* Counted first, so a caller that reads the stats after its verdict sees its batch. */
        __atomic_add_fetch(&db->batches, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&db->checks, n, __ATOMIC_RELAXED);
        /* Only now, after COMMIT returned, does any caller hear its verdict. */
        cc_check_batch_done(batch);
    }
    return NULL; /* stopping and drained */
}

static void sq_submit(cc_slashing *base, cc_slashing_check *r)
{
    sq_db *db = (sq_db *)base;
    if (!cc_check_queue_push(&db->queue, r)) {
        r->status = cc_error_set(&r->err, CC_EUNAVAILABLE, "slashing database %s is closing", db->path);
        r->done(r);
    }
}

/* ---- import --------------------------------------------------------------- */

typedef struct sq_touched {
    int64_t id;
    int blocks, attestations;
} sq_touched;

static int touched_cmp(const void *a, const void *b)
{
    int64_t x = ((const sq_touched *)a)->id, y = ((const sq_touched *)b)->id;
    return (x > y) - (x < y);
}

/* Adds one imported record at (id, key): insert it, or keep an identical one,
 * or turn a differing one into the NULL marker (a conflict at that slot or
 * target: every new message there is refused).  The source of a differing
 * attestation is not kept; the raised watermarks cover it. */
static cc_status merge_record(sq_db *db, int get, int ins, int nul, int64_t id, int64_t key, int64_t source,
                              const uint8_t *root, int has_root, cc_error *err)
{
    sqlite3_stmt *s = stmt(db, get);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, key);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        int col = get == ST_ATT_GET ? 1 : 0;
        const void *old = sqlite3_column_blob(s, col);
        int len = sqlite3_column_bytes(s, col);
        int same = has_root && old && len == 32 && memcmp(old, root, 32) == 0;
        sqlite3_reset(s);
        if (same)
            return CC_OK;
        s = stmt(db, nul);
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, key);
        if (sqlite3_step(s) != SQLITE_DONE)
            return sql_fail(db, err, "import: mark conflicting record");
        sqlite3_reset(s);
        return CC_OK;
    }
    if (rc != SQLITE_DONE)
        return sql_fail(db, err, "import: select record");
    sqlite3_reset(s);
    s = stmt(db, ins);
    sqlite3_bind_int64(s, 1, id);
    int n = 2;
    if (ins == ST_ATT_INS)
        sqlite3_bind_int64(s, n++, source);
    sqlite3_bind_int64(s, n++, key);
    if (has_root)
        sqlite3_bind_blob(s, n, root, 32, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, n);
    if (sqlite3_step(s) != SQLITE_DONE)
        return sql_fail(db, err, "import: insert record");
    sqlite3_reset(s);
    return CC_OK;
}

/* Raises one validator's low watermarks to the highest records now held. */
static cc_status raise_watermarks(sq_db *db, const sq_touched *t, cc_error *err)
{
    sq_lw lw;
    cc_status st = low_watermark(db, t->id, &lw, err);
    if (st != CC_OK)
        return st;
    if (t->blocks) {
        sqlite3_stmt *s = stmt(db, ST_BLK_MAX);
        sqlite3_bind_int64(s, 1, t->id);
        if (sqlite3_step(s) != SQLITE_ROW)
            return sql_fail(db, err, "import: max slot");
        int64_t m = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        if (!lw.has_slot || m > lw.slot)
            lw.slot = m;
        lw.has_slot = 1;
    }
    if (t->attestations) {
        sqlite3_stmt *s = stmt(db, ST_ATT_MAX);
        sqlite3_bind_int64(s, 1, t->id);
        if (sqlite3_step(s) != SQLITE_ROW)
            return sql_fail(db, err, "import: max epochs");
        int64_t ms = sqlite3_column_int64(s, 0), mt = sqlite3_column_int64(s, 1);
        sqlite3_reset(s);
        if (!lw.has_source || ms > lw.source)
            lw.source = ms;
        if (!lw.has_target || mt > lw.target)
            lw.target = mt;
        lw.has_source = lw.has_target = 1;
    }
    sqlite3_stmt *s = stmt(db, ST_LW_PUT);
    sqlite3_bind_int64(s, 1, t->id);
    if (lw.has_slot)
        sqlite3_bind_int64(s, 2, lw.slot);
    if (lw.has_source)
        sqlite3_bind_int64(s, 3, lw.source);
    if (lw.has_target)
        sqlite3_bind_int64(s, 4, lw.target);
    if (sqlite3_step(s) != SQLITE_DONE)
        return sql_fail(db, err, "import: set low watermark");
    sqlite3_reset(s);
    return CC_OK;
}

static cc_status import_tx(sq_db *db, const cc_interchange *ic, sq_touched *touched, cc_error *err)
{
    cc_status st;
    for (size_t i = 0; i < ic->validator_count; i++) {
        const cc_ic_validator *v = &ic->validators[i];
        sq_touched *t = &touched[i];
        if ((st = validator_id(db, v->pubkey, &t->id, err)) != CC_OK)
            return st;
        t->blocks = v->block_count > 0;
        t->attestations = v->attestation_count > 0;
        for (size_t j = 0; j < v->block_count; j++) {
            const cc_ic_block *b = &v->blocks[j];
            st = merge_record(db, ST_BLK_GET, ST_BLK_INS, ST_BLK_NULL, t->id, (int64_t)b->slot, 0,
                              b->signing_root, b->has_signing_root, err);
            if (st != CC_OK)
                return cc_error_prefix(err, "data[%zu].signed_blocks[%zu]", i, j);
        }
        for (size_t j = 0; j < v->attestation_count; j++) {
            const cc_ic_attestation *a = &v->attestations[j];
            st = merge_record(db, ST_ATT_GET, ST_ATT_INS, ST_ATT_NULL, t->id, (int64_t)a->target_epoch,
                              (int64_t)a->source_epoch, a->signing_root, a->has_signing_root, err);
            if (st != CC_OK)
                return cc_error_prefix(err, "data[%zu].signed_attestations[%zu]", i, j);
        }
    }
    /* One watermark update per validator, after all its entries (a pubkey may repeat). */
    if (ic->validator_count > 1)
        qsort(touched, ic->validator_count, sizeof *touched, touched_cmp);
    for (size_t i = 0; i < ic->validator_count;) {
        sq_touched t = touched[i];
        size_t j = i + 1;
        for (; j < ic->validator_count && touched[j].id == t.id; j++) {
            t.blocks |= touched[j].blocks;
            t.attestations |= touched[j].attestations;
        }
        if ((t.blocks || t.attestations) && (st = raise_watermarks(db, &t, err)) != CC_OK)
            return st;
        i = j;
    }
    return CC_OK;
}

static cc_status check_range(const cc_interchange *ic, cc_error *err)
{
    for (size_t i = 0; i < ic->validator_count; i++) {
        const cc_ic_validator *v = &ic->validators[i];
        for (size_t j = 0; j < v->block_count; j++)
            if (v->blocks[j].slot > SQ_MAX_VALUE)
                return cc_error_set(err, CC_EINVAL, "data[%zu].signed_blocks[%zu].slot: out of range (> 2^63-1)",
                                    i, j);
        for (size_t j = 0; j < v->attestation_count; j++)
            if (v->attestations[j].source_epoch > SQ_MAX_VALUE || v->attestations[j].target_epoch > SQ_MAX_VALUE)
                return cc_error_set(err, CC_EINVAL,
                                    "data[%zu].signed_attestations[%zu]: epoch out of range (> 2^63-1)", i, j);
    }
    return CC_OK;
}

static cc_status sq_import(cc_slashing *base, const cc_interchange *ic, cc_error *err)
{
    sq_db *db = (sq_db *)base;
    cc_error local;
    if (!err)
        err = &local;
    if (cc_interchange_check_root(ic, base->genesis_validators_root, err) != CC_OK)
        return err->code;
    cc_status st = check_range(ic, err);
    if (st != CC_OK)
        return st;
    sq_touched *touched = calloc(ic->validator_count ? ic->validator_count : 1, sizeof *touched);
    if (!touched)
        return cc_error_set(err, CC_ENOMEM, "import: out of memory");

    pthread_mutex_lock(&db->conn_lock);
    st = exec(db, "BEGIN IMMEDIATE", err);
    if (st == CC_OK)
        st = import_tx(db, ic, touched, err);
    if (st == CC_OK)
        st = exec(db, "COMMIT", err);
    if (st != CC_OK) {
        rollback(db);
        id_cache_clear(db);
    }
    pthread_mutex_unlock(&db->conn_lock);
    free(touched);
    if (st == CC_OK) {
        char n[24];
        snprintf(n, sizeof n, "%zu", ic->validator_count);
        cc_log(CC_LOG_INFO, "slashing protection interchange imported", "path", db->path, "validators", n, NULL);
    }
    return st;
}

/* ---- export --------------------------------------------------------------- */

static cc_status export_validator(sq_db *db, sqlite3_stmt *blk, sqlite3_stmt *att, int64_t id,
                                  cc_ic_validator *v, cc_error *err)
{
    size_t cap = 0;
    sqlite3_reset(blk);
    sqlite3_bind_int64(blk, 1, id);
    int rc;
    while ((rc = sqlite3_step(blk)) == SQLITE_ROW) {
        if (v->block_count == cap) {
            cap = cap ? cap * 2 : 16;
            cc_ic_block *n = realloc(v->blocks, cap * sizeof *n);
            if (!n)
                return cc_error_set(err, CC_ENOMEM, "export: out of memory");
            v->blocks = n;
        }
        cc_ic_block *b = &v->blocks[v->block_count++];
        memset(b, 0, sizeof *b);
        b->slot = (uint64_t)sqlite3_column_int64(blk, 0);
        if (sqlite3_column_type(blk, 1) == SQLITE_BLOB && sqlite3_column_bytes(blk, 1) == 32) {
            memcpy(b->signing_root, sqlite3_column_blob(blk, 1), 32);
            b->has_signing_root = 1;
        }
    }
    if (rc != SQLITE_DONE)
        return sql_fail(db, err, "export blocks");
    cap = 0;
    sqlite3_reset(att);
    sqlite3_bind_int64(att, 1, id);
    while ((rc = sqlite3_step(att)) == SQLITE_ROW) {
        if (v->attestation_count == cap) {
            cap = cap ? cap * 2 : 16;
            cc_ic_attestation *n = realloc(v->attestations, cap * sizeof *n);
            if (!n)
                return cc_error_set(err, CC_ENOMEM, "export: out of memory");
            v->attestations = n;
        }
        cc_ic_attestation *a = &v->attestations[v->attestation_count++];
        memset(a, 0, sizeof *a);
        a->source_epoch = (uint64_t)sqlite3_column_int64(att, 0);
        a->target_epoch = (uint64_t)sqlite3_column_int64(att, 1);
        if (sqlite3_column_type(att, 2) == SQLITE_BLOB && sqlite3_column_bytes(att, 2) == 32) {
            memcpy(a->signing_root, sqlite3_column_blob(att, 2), 32);
            a->has_signing_root = 1;
        }
    }
    if (rc != SQLITE_DONE)
        return sql_fail(db, err, "export attestations");
    return CC_OK;
}

static cc_status export_tx(sq_db *db, const uint8_t (*pubkeys)[48], size_t count, cc_interchange *ic,
                           cc_error *err)
{
    sqlite3_stmt *vals = NULL, *blk = NULL, *att = NULL;
    cc_status st = CC_OK;
    if (sqlite3_prepare_v2(db->conn, "SELECT id, public_key FROM validators ORDER BY id", -1, &vals, NULL) ||
        sqlite3_prepare_v2(db->conn,
                           "SELECT slot, signing_root FROM signed_blocks WHERE validator_id = ?1 ORDER BY slot", -1,
                           &blk, NULL) ||
        sqlite3_prepare_v2(db->conn,
                           "SELECT source_epoch, target_epoch, signing_root FROM signed_attestations "
                           "WHERE validator_id = ?1 ORDER BY target_epoch",
                           -1, &att, NULL)) {
        st = sql_fail(db, err, "export: prepare");
        goto done;
    }
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(vals)) == SQLITE_ROW) {
        const void *pk = sqlite3_column_blob(vals, 1);
        if (!pk || sqlite3_column_bytes(vals, 1) != 48)
            continue;
        if (pubkeys) {
            size_t k = 0;
            while (k < count && memcmp(pubkeys[k], pk, 48) != 0)
                k++;
            if (k == count)
                continue;
        }
        if (ic->validator_count == cap) {
            cap = cap ? cap * 2 : 64;
            cc_ic_validator *n = realloc(ic->validators, cap * sizeof *n);
            if (!n) {
                st = cc_error_set(err, CC_ENOMEM, "export: out of memory");
                goto done;
            }
            ic->validators = n;
        }
        cc_ic_validator *v = &ic->validators[ic->validator_count++];
        memset(v, 0, sizeof *v);
        memcpy(v->pubkey, pk, 48);
        if ((st = export_validator(db, blk, att, sqlite3_column_int64(vals, 0), v, err)) != CC_OK)
            goto done;
    }
    if (rc != SQLITE_DONE)
        st = sql_fail(db, err, "export validators");
done:
    sqlite3_finalize(vals);
    sqlite3_finalize(blk);
    sqlite3_finalize(att);
    return st;
}

static cc_status sq_export(cc_slashing *base, const uint8_t (*pubkeys)[48], size_t count, cc_interchange **out,
                           cc_error *err)
{
    sq_db *db = (sq_db *)base;
    *out = NULL;
    cc_interchange *ic = calloc(1, sizeof *ic);
    if (!ic)
        return cc_error_set(err, CC_ENOMEM, "export: out of memory");
    memcpy(ic->genesis_validators_root, base->genesis_validators_root, 32);
    pthread_mutex_lock(&db->conn_lock);
    /* A read transaction: one consistent snapshot of every table. */
    cc_status st = exec(db, "BEGIN", err);
    if (st == CC_OK)
        st = export_tx(db, pubkeys, count, ic, err);
    rollback(db);
    pthread_mutex_unlock(&db->conn_lock);
    if (st != CC_OK) {
        cc_interchange_free(ic);
        return st;
    }
    *out = ic;
    return CC_OK;
}

/* ---- open and close ------------------------------------------------------- */

static void sq_free(sq_db *db)
{
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(db->st[i]);
    if (db->conn)
        sqlite3_close(db->conn);
    pthread_mutex_destroy(&db->conn_lock);
    cc_check_queue_destroy(&db->queue);
    free(db->ids);
    free(db->path);
    free(db);
}

static void sq_close(cc_slashing *base)
{
    sq_db *db = (sq_db *)base;
    cc_check_queue_stop(&db->queue);
    pthread_join(db->writer, NULL);
    sq_free(db);
}

static const cc_slashing_ops sq_ops = {
    .name = "sqlite",
    .check_block = cc_slashing_queued_check_block,
    .check_attestation = cc_slashing_queued_check_attestation,
    .import = sq_import,
    .export_ = sq_export,
    .close = sq_close,
    .submit = sq_submit,
};

/* Binds the database to gvr on first open; refuses another root afterwards. */
static cc_status bind_gvr(sq_db *db, const uint8_t gvr[32], cc_error *err)
{
    sqlite3_stmt *s = NULL;
    cc_status st = exec(db, "BEGIN IMMEDIATE", err);
    if (st != CC_OK)
        return st;
    if ((st = exec(db, sq_schema, err)) != CC_OK)
        goto out;
    if (sqlite3_prepare_v2(db->conn, "SELECT genesis_validators_root FROM metadata WHERE id = 1", -1, &s, NULL)) {
        st = sql_fail(db, err, "read metadata");
        goto out;
    }
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const void *have = sqlite3_column_blob(s, 0);
        if (!have || sqlite3_column_bytes(s, 0) != 32 || memcmp(have, gvr, 32) != 0) {
            char want[67], got[67] = "(malformed)";
            cc_hex_encode0x(gvr, 32, want);
            if (have && sqlite3_column_bytes(s, 0) == 32)
                cc_hex_encode0x(have, 32, got);
            st = cc_error_set(err, CC_EFORBIDDEN,
                              "slashing database %s is bound to genesis_validators_root %s, not %s", db->path, got,
                              want);
            goto out;
        }
    } else if (rc == SQLITE_DONE) {
        sqlite3_finalize(s);
        s = NULL;
        if (sqlite3_prepare_v2(db->conn,
                               "INSERT INTO metadata(id, genesis_validators_root, schema_version) VALUES (1, ?1, 1)",
                               -1, &s, NULL)) {
            st = sql_fail(db, err, "write metadata");
            goto out;
        }
        sqlite3_bind_blob(s, 1, gvr, 32, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE) {
            st = sql_fail(db, err, "write metadata");
            goto out;
        }
    } else {
        st = sql_fail(db, err, "read metadata");
        goto out;
    }
    st = exec(db, "COMMIT", err);
out:
    sqlite3_finalize(s);
    if (st != CC_OK)
        rollback(db);
    return st;
}

cc_status cc_slashing_sqlite_open(const char *path, const uint8_t gvr[32], cc_slashing **out, cc_error *err)
{
    *out = NULL;
    if (!path || !*path)
        return cc_error_set(err, CC_ECONFIG, "anti_slashing.path: empty");

    /* Create the file ourselves so it is 0600 from the first byte (SQLite gives -wal/-shm the same mode). */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return cc_error_set(err, CC_EIO, "slashing database %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) == 0 && (sb.st_mode & 077))
        cc_log(CC_LOG_WARN, "slashing database is readable by group or others", "path", path, NULL);
    close(fd);

    sq_db *db = calloc(1, sizeof *db);
    if (!db || !(db->path = strdup(path))) {
        free(db);
        return cc_error_set(err, CC_ENOMEM, "slashing database: out of memory");
    }
    db->base.ops = &sq_ops;
    memcpy(db->base.genesis_validators_root, gvr, 32);
    pthread_mutex_init(&db->conn_lock, NULL);
    cc_check_queue_init(&db->queue);

    cc_status st;
    int rc = sqlite3_open_v2(path, &db->conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        st = cc_error_set(err, CC_EIO, "slashing database %s: %s", path,
                          db->conn ? sqlite3_errmsg(db->conn) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(db->conn, SQ_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(db->conn, 0);
    if ((st = exec(db, "PRAGMA journal_mode=WAL", err)) != CC_OK ||
        (st = exec(db, "PRAGMA synchronous=FULL", err)) != CC_OK ||
        (st = exec(db, "PRAGMA foreign_keys=ON", err)) != CC_OK)
        goto fail;
    if ((st = bind_gvr(db, gvr, err)) != CC_OK)
        goto fail;
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(db->conn, sq_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &db->st[i], NULL)) {
            st = sql_fail(db, err, "prepare");
            goto fail;
        }
    }
    if (pthread_create(&db->writer, NULL, writer_main, db) != 0) {
        st = cc_error_set(err, CC_EINTERNAL, "slashing database %s: cannot start the writer thread", path);
        goto fail;
    }
    *out = &db->base;
    return CC_OK;
fail:
    sq_free(db);
    return st;
}

void cc_slashing_sqlite_stats(cc_slashing *base, uint64_t *batches, uint64_t *checks)
{
    sq_db *db = (sq_db *)base;
    if (batches)
        *batches = __atomic_load_n(&db->batches, __ATOMIC_RELAXED);
    if (checks)
        *checks = __atomic_load_n(&db->checks, __ATOMIC_RELAXED);
}
