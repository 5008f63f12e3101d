/*
 * postgres.c — the anti-slashing backend for many signer processes sharing
 * one PostgreSQL database (libpq).
 *
 * Same rules and messages as sqlite.c; what differs is who serialises.  Every
 * check runs inside a transaction that first takes
 *
 *     pg_advisory_xact_lock(<lock key of the validator>)
 *
 * so two checks of one validator — from two threads, two processes or two
 * machines — run one after the other, the second seeing the first's record.
 * The lock key is the big-endian int64 of pubkey bytes 8..15 (compressed BLS
 * points are uniform there; a collision only serialises two validators).  The
 * verdict reaches the caller only after COMMIT has returned, with
 * synchronous_commit forced on for the session, so a CC_OK record is durable
 * on the server (and on its synchronous standbys, if any).
 *
 *   caller                         worker k (one per pooled connection)
 *   ------                         ------------------------------------
 *   enqueue check, wait   -->      take up to 32 pending checks (CC_PG_BATCH_MAX
 *                                    in the environment overrides it, for benchmarks)
 *                                  sort them by lock key (ascending: no deadlock
 *                                    between batches, across processes too)
 *                                  one round trip:
 *                                    BEGIN; SELECT * FROM cc_check(...); ... ; COMMIT
 *   wake with own verdict  <--     verdicts, once COMMIT returned "COMMIT"
 *
 * Batching several checks in one transaction is group commit (one WAL flush
 * for the batch); checks of one validator in a batch run in arrival order, so
 * the first of two conflicting ones wins.  If anything fails, every check of
 * the batch is answered with an error and nothing is signed.  Lost
 * connections are re-established before the next batch.
 *
 * The rules run in the database, in PL/pgSQL (cc_check below): one round trip
 * per batch instead of four or five per check.  (One statement per batch with
 * array arguments was tried and cost more server CPU per check, ≈ 370 µs
 * against ≈ 320 µs, so each check stays its own statement.)  The SQL functions
 * return a verdict code and the values for the message; the messages are
 * written here, word for word as sqlite.c's.
 *
 * Schema (created if missing under an advisory lock, so signer processes
 * starting together do not race; same tables as sqlite.c):
 *   metadata(id = 1, genesis_validators_root, schema_version)    bound on first open
 *   validators(id, public_key UNIQUE, enabled)
 *   signed_blocks(validator_id, slot, signing_root)              PRIMARY KEY(validator_id, slot)
 *   signed_attestations(validator_id, source_epoch, target_epoch, signing_root)
 *                                         PRIMARY KEY(validator_id, target_epoch), index on source
 *   low_watermarks(validator_id, slot, source_epoch, target_epoch)  set by imports
 * Slots and epochs are BIGINT: values above 2^63-1 are refused, as in sqlite.c.
 * signing_root NULL is the "imported without a signing root" marker.  There
 * are no foreign keys: validators rows are never deleted, and a key-share lock
 * on the validator's row per insert would only add writes.
 *
 * Import (one transaction on its own connection, all or nothing) takes the
 * locks of every validator it touches, in ascending order, then merges and
 * raises the low watermarks exactly as sqlite.c does ("import merges the
 * maxima").  Export reads one REPEATABLE READ snapshot.
 *
 * TLS by default: when anti_slashing.url sets no sslmode (and PGSSLMODE is
 * unset), sslmode=verify-full is used — the server's certificate must chain to
 * sslrootcert (default ~/.postgresql/root.crt) and name the host.  The URL may
 * carry a password, so it is never logged; messages name the database as
 * "postgres host:port/dbname".  connect_timeout defaults to 10 s (the URL's
 * wins); statement_timeout is 30 s and lock_timeout 10 s per session, and a
 * timeout or a lost connection answers the batch 503 (CC_EUNAVAILABLE).
 */
#include "slashing/slashing.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slashing/queue.h"
#include "util/hex.h"
#include "util/log.h"

#define PG_MAX_VALUE ((uint64_t)INT64_MAX)
#define PG_SCHEMA_VERSION 1
#define PG_SCHEMA_LOCK_KEY 0x63632d736368656dLL /* "cc-schem": serialises schema creation */
#define PG_BATCH_MAX_DEFAULT 32
#define PG_POOL_MAX 1024

/* Verdict codes returned by cc_check (see pg_schema). */
enum {
    V_OK = 0,
    V_DOUBLE_BLOCK = 1,   /* old_root */
    V_LW_SLOT = 2,        /* a = low watermark slot */
    V_DOUBLE_VOTE = 3,    /* a = old source, old_root */
    V_LW_SOURCE = 4,      /* a = low watermark source */
    V_LW_TARGET = 5,      /* a = low watermark target */
    V_SURROUNDING = 6,    /* (a, b) is surrounded by the new one */
    V_SURROUNDED = 7      /* (a, b) surrounds the new one */
};

static const char pg_schema[] =
    "SET LOCAL client_min_messages = warning;"
    "CREATE TABLE IF NOT EXISTS metadata ("
    "  id SMALLINT PRIMARY KEY CHECK (id = 1),"
    "  genesis_validators_root BYTEA NOT NULL,"
    "  schema_version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS validators ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  public_key BYTEA NOT NULL UNIQUE,"
    "  enabled BOOLEAN NOT NULL DEFAULT TRUE);"
    "CREATE TABLE IF NOT EXISTS signed_blocks ("
    "  validator_id BIGINT NOT NULL,"
    "  slot BIGINT NOT NULL,"
    "  signing_root BYTEA,"
    "  PRIMARY KEY (validator_id, slot));"
    "CREATE TABLE IF NOT EXISTS signed_attestations ("
    "  validator_id BIGINT NOT NULL,"
    "  source_epoch BIGINT NOT NULL,"
    "  target_epoch BIGINT NOT NULL,"
    "  signing_root BYTEA,"
    "  PRIMARY KEY (validator_id, target_epoch));"
    "CREATE INDEX IF NOT EXISTS signed_attestations_source ON signed_attestations(validator_id, source_epoch);"
    "CREATE TABLE IF NOT EXISTS low_watermarks ("
    "  validator_id BIGINT PRIMARY KEY,"
    "  slot BIGINT,"
    "  source_epoch BIGINT,"
    "  target_epoch BIGINT);"
    /* The validator's id, inserting it if new.  Called with its advisory lock held. */
    "CREATE OR REPLACE FUNCTION cc_validator_id(pk BYTEA) RETURNS BIGINT LANGUAGE plpgsql AS $f$\n"
    "DECLARE vid BIGINT;\n"
    "BEGIN\n"
    "  SELECT v.id INTO vid FROM validators v WHERE v.public_key = pk;\n"
    "  IF vid IS NULL THEN\n"
    "    INSERT INTO validators(public_key) VALUES (pk) ON CONFLICT (public_key) DO NOTHING RETURNING id INTO vid;\n"
    "    IF vid IS NULL THEN SELECT v.id INTO vid FROM validators v WHERE v.public_key = pk; END IF;\n"
    "  END IF;\n"
    "  RETURN vid;\n"
    "END $f$;"
    /* One check (kind 0 block: x = slot; kind 1 attestation: x = source, y = target), the same order
     * of rules as sqlite.c; records the message when allowed.  source > target and ranges are checked
     * by the caller. */
    "CREATE OR REPLACE FUNCTION cc_check(kind INT, pk BYTEA, lock_key BIGINT, x BIGINT, y BIGINT, root BYTEA,\n"
    "    OUT verdict INT, OUT a BIGINT, OUT b BIGINT, OUT old_root BYTEA) LANGUAGE plpgsql AS $f$\n"
    "DECLARE vid BIGINT; lw_slot BIGINT; lw_source BIGINT; lw_target BIGINT;\n"
    "BEGIN\n"
    "  PERFORM pg_advisory_xact_lock(lock_key);\n"
    "  vid := cc_validator_id(pk);\n"
    "  verdict := 0;\n"
    "  SELECT l.slot, l.source_epoch, l.target_epoch INTO lw_slot, lw_source, lw_target\n"
    "    FROM low_watermarks l WHERE l.validator_id = vid;\n"
    "  IF kind = 0 THEN\n"
    "    SELECT s.signing_root INTO old_root FROM signed_blocks s WHERE s.validator_id = vid AND s.slot = x;\n"
    "    IF FOUND THEN\n"
    "      IF old_root IS NULL OR old_root <> root THEN verdict := 1; END IF;\n"
    "      RETURN;\n"
    "    END IF;\n"
    "    IF lw_slot IS NOT NULL AND x <= lw_slot THEN verdict := 2; a := lw_slot; RETURN; END IF;\n"
    "    INSERT INTO signed_blocks(validator_id, slot, signing_root) VALUES (vid, x, root);\n"
    "    RETURN;\n"
    "  END IF;\n"
    "  SELECT s.source_epoch, s.signing_root INTO a, old_root FROM signed_attestations s\n"
    "    WHERE s.validator_id = vid AND s.target_epoch = y;\n"
    "  IF FOUND THEN\n"
    "    IF old_root IS NULL OR old_root <> root THEN verdict := 3; END IF;\n"
    "    RETURN;\n"
    "  END IF;\n"
    "  IF lw_source IS NOT NULL AND x < lw_source THEN verdict := 4; a := lw_source; RETURN; END IF;\n"
    "  IF lw_target IS NOT NULL AND y <= lw_target THEN verdict := 5; a := lw_target; RETURN; END IF;\n"
    "  SELECT s.source_epoch, s.target_epoch INTO a, b FROM signed_attestations s\n"
    "    WHERE s.validator_id = vid AND s.source_epoch > x AND s.target_epoch < y LIMIT 1;\n"
    "  IF FOUND THEN verdict := 6; RETURN; END IF;\n"
    "  SELECT s.source_epoch, s.target_epoch INTO a, b FROM signed_attestations s\n"
    "    WHERE s.validator_id = vid AND s.target_epoch > y AND s.source_epoch < x LIMIT 1;\n"
    "  IF FOUND THEN verdict := 7; RETURN; END IF;\n"
    "  INSERT INTO signed_attestations(validator_id, source_epoch, target_epoch, signing_root)\n"
    "    VALUES (vid, x, y, root);\n"
    "END $f$;"
    /* Import of one interchange entry (its lock already held): merge every record as sqlite.c's
     * merge_record (insert; keep an identical one; a differing one becomes the NULL marker), then raise
     * the low watermarks to the highest records now held. */
    "CREATE OR REPLACE FUNCTION cc_import(pk BYTEA, slots BIGINT[], broots BYTEA[], sources BIGINT[],\n"
    "    targets BIGINT[], aroots BYTEA[]) RETURNS VOID LANGUAGE plpgsql AS $f$\n"
    "DECLARE vid BIGINT; old BYTEA; nb INT; na INT; lw low_watermarks%ROWTYPE; m1 BIGINT; m2 BIGINT;\n"
    "BEGIN\n"
    "  vid := cc_validator_id(pk);\n"
    "  nb := coalesce(array_length(slots, 1), 0);\n"
    "  na := coalesce(array_length(targets, 1), 0);\n"
    "  FOR i IN 1 .. nb LOOP\n"
    "    SELECT s.signing_root INTO old FROM signed_blocks s WHERE s.validator_id = vid AND s.slot = slots[i];\n"
    "    IF NOT FOUND THEN\n"
    "      INSERT INTO signed_blocks(validator_id, slot, signing_root) VALUES (vid, slots[i], broots[i]);\n"
    "    ELSIF broots[i] IS NULL OR old IS NULL OR old <> broots[i] THEN\n"
    "      UPDATE signed_blocks SET signing_root = NULL WHERE validator_id = vid AND slot = slots[i];\n"
    "    END IF;\n"
    "  END LOOP;\n"
    "  FOR i IN 1 .. na LOOP\n"
    "    SELECT s.signing_root INTO old FROM signed_attestations s\n"
    "      WHERE s.validator_id = vid AND s.target_epoch = targets[i];\n"
    "    IF NOT FOUND THEN\n"
    "      INSERT INTO signed_attestations(validator_id, source_epoch, target_epoch, signing_root)\n"
    "        VALUES (vid, sources[i], targets[i], aroots[i]);\n"
    "    ELSIF aroots[i] IS NULL OR old IS NULL OR old <> aroots[i] THEN\n"
    "      UPDATE signed_attestations SET signing_root = NULL WHERE validator_id = vid AND target_epoch = targets[i];\n"
    "    END IF;\n"
    "  END LOOP;\n"
    "  IF nb = 0 AND na = 0 THEN RETURN; END IF;\n"
    "  SELECT * INTO lw FROM low_watermarks l WHERE l.validator_id = vid;\n"
    "  IF nb > 0 THEN\n"
    "    SELECT max(s.slot) INTO m1 FROM signed_blocks s WHERE s.validator_id = vid;\n"
    "    lw.slot := greatest(lw.slot, m1);\n"
    "  END IF;\n"
    "  IF na > 0 THEN\n"
    "    SELECT max(s.source_epoch), max(s.target_epoch) INTO m1, m2 FROM signed_attestations s\n"
    "      WHERE s.validator_id = vid;\n"
    "    lw.source_epoch := greatest(lw.source_epoch, m1);\n"
    "    lw.target_epoch := greatest(lw.target_epoch, m2);\n"
    "  END IF;\n"
    "  INSERT INTO low_watermarks(validator_id, slot, source_epoch, target_epoch)\n"
    "    VALUES (vid, lw.slot, lw.source_epoch, lw.target_epoch)\n"
    "    ON CONFLICT (validator_id) DO UPDATE SET slot = excluded.slot, source_epoch = excluded.source_epoch,\n"
    "      target_epoch = excluded.target_epoch;\n"
    "END $f$;";

typedef struct pg_db pg_db;

typedef struct pg_worker {
    pg_db *db;
    PGconn *conn;
    pthread_t thread;
    int started;
    char *sql; /* the batch's text, reused */
    size_t sql_cap;
} pg_worker;

struct pg_db {
    cc_slashing base;
    char desc[300]; /* "postgres host:port/dbname", never the password */
    /* libpq connection keywords/values (the URL expanded as dbname, plus defaults). */
    const char *kw[5];
    const char *val[5];
    char *url;
    unsigned batch_max;

    pg_worker *workers;
    unsigned nworkers;

    cc_check_queue queue;     /* pending checks; each worker takes up to batch_max */
    uint64_t batches, checks; /* atomic */
};

/* ---- connections ------------------------------------------------------------ */

static void pg_quiet(void *arg, const char *msg)
{
    (void)arg, (void)msg; /* NOTICEs (CREATE ... IF NOT EXISTS) are not errors */
}

/* The SQLSTATE classes that mean "try again" rather than "broken": connection, lock or statement
 * timeout, deadlock or serialisation failure, shutdown, resources. */
static cc_status pg_code(PGconn *conn, const PGresult *res)
{
    if (!conn || PQstatus(conn) != CONNECTION_OK)
        return CC_EUNAVAILABLE;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state && (strncmp(state, "08", 2) == 0 || strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0 ||
                  strncmp(state, "40", 2) == 0 || strncmp(state, "57P", 3) == 0 || strncmp(state, "53", 2) == 0))
        return CC_EUNAVAILABLE;
    return CC_EIO;
}

/* One line of libpq's message (they end in newlines and may carry DETAIL lines). */
static const char *pg_msg(PGconn *conn, const PGresult *res, char *buf, size_t cap)
{
    /* The primary message alone ("injected fault"), not its CONTEXT lines. */
    const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!m || !*m)
        m = res ? PQresultErrorMessage(res) : NULL;
    if (!m || !*m)
        m = conn ? PQerrorMessage(conn) : "out of memory";
    snprintf(buf, cap, "%s", m && *m ? m : "unknown error");
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = (p[1] ? ' ' : '\0');
    return buf;
}

static cc_status pg_fail(pg_db *db, PGconn *conn, const PGresult *res, cc_error *err, const char *what)
{
    char m[400];
    return cc_error_set(err, pg_code(conn, res), "slashing database %s: %s: %s", db->desc, what,
                        pg_msg(conn, res, m, sizeof m));
}

/* Runs sql (no result rows expected); CC_OK or an error naming what. */
static cc_status pg_exec(pg_db *db, PGconn *conn, const char *sql, const char *what, cc_error *err)
{
    PGresult *r = PQexec(conn, sql);
    cc_status st = CC_OK;
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        st = pg_fail(db, conn, r, err, what);
    PQclear(r);
    return st;
}

static void pg_rollback(PGconn *conn)
{
    if (conn && PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
}

static cc_status session_setup(pg_db *db, PGconn *conn, cc_error *err)
{
    PQsetNoticeProcessor(conn, pg_quiet, NULL);
    return pg_exec(db, conn,
                   "SET synchronous_commit = on; SET standard_conforming_strings = on; SET bytea_output = hex;"
                   "SET statement_timeout = '30s'; SET lock_timeout = '10s'; SET client_min_messages = warning;"
                   "SET default_transaction_isolation = 'read committed'",
                   "session setup", err);
}

static cc_status pg_connect(pg_db *db, PGconn **out, cc_error *err)
{
    PGconn *conn = PQconnectdbParams(db->kw, db->val, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        char m[400];
        cc_error_set(err, CC_EUNAVAILABLE, "slashing database %s: cannot connect: %s", db->desc,
                     pg_msg(conn, NULL, m, sizeof m));
        PQfinish(conn);
        *out = NULL;
        return CC_EUNAVAILABLE;
    }
    cc_status st = session_setup(db, conn, err);
    if (st != CC_OK) {
        PQfinish(conn);
        conn = NULL;
    }
    *out = conn;
    return st;
}

/* ---- values ----------------------------------------------------------------- */

static int64_t lock_key(const uint8_t pk[48])
{
    uint64_t k = 0;
    for (int i = 8; i < 16; i++)
        k = k << 8 | pk[i];
    return (int64_t)k;
}

static void root_hex(const uint8_t *root, int len, char out[67])
{
    if (!root || len != 32)
        snprintf(out, 67, "(none, imported without signing root)");
    else
        cc_hex_encode0x(root, 32, out);
}

/* A bytea in hex output ("\x..."), 32 bytes; 0 when NULL or malformed. */
static int bytea32(const PGresult *r, int row, int col, uint8_t out[32])
{
    if (PQgetisnull(r, row, col))
        return 0;
    const char *v = PQgetvalue(r, row, col);
    if (strncmp(v, "\\x", 2) != 0 || strlen(v) != 66)
        return 0;
    char h[67] = "0x";
    memcpy(h + 2, v + 2, 65);
    return cc_hex_decode_exact(h, out, 32, NULL) == CC_OK;
}

static int64_t getll(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Checks that need no database: ranges and source <= target.  CC_OK = go ahead. */
static cc_status precheck(cc_slashing_check *c)
{
    if (c->kind == CC_SLASHING_BLOCK) {
        if (c->slot > PG_MAX_VALUE)
            return cc_error_set(&c->err, CC_EINVAL, "slot %" PRIu64 " is out of range", c->slot);
        return CC_OK;
    }
    if (c->source_epoch > PG_MAX_VALUE || c->target_epoch > PG_MAX_VALUE)
        return cc_error_set(&c->err, CC_EINVAL, "epoch out of range (source %" PRIu64 ", target %" PRIu64 ")",
                            c->source_epoch, c->target_epoch);
    if (c->source_epoch > c->target_epoch)
        return cc_error_set(&c->err, CC_ESLASHABLE,
                            "attestation source epoch %" PRIu64 " is greater than target epoch %" PRIu64,
                            c->source_epoch, c->target_epoch);
    return CC_OK;
}

/* The message for a cc_check verdict (row `row` of r), as sqlite.c words it. */
static cc_status verdict(cc_slashing_check *c, const PGresult *r, int row)
{
    int v = atoi(PQgetvalue(r, row, 0));
    int64_t a = getll(r, row, 1), b = getll(r, row, 2);
    uint8_t old[32];
    int has_old = bytea32(r, row, 3, old);
    char have[67], want[67];
    root_hex(has_old ? old : NULL, has_old ? 32 : 0, have);
    root_hex(c->signing_root, 32, want);
    uint64_t s = c->source_epoch, t = c->target_epoch;
    switch (v) {
    case V_OK:
        return CC_OK;
    case V_DOUBLE_BLOCK:
        return cc_error_set(&c->err, CC_ESLASHABLE,
                            "double proposal: a block at slot %" PRIu64 " was already signed with signing root %s, "
                            "refusing signing root %s", c->slot, have, want);
    case V_LW_SLOT:
        return cc_error_set(&c->err, CC_ESLASHABLE,
                            "block at slot %" PRIu64 " is at or below the low watermark slot %" PRId64
                            " set by an interchange import", c->slot, a);
    case V_DOUBLE_VOTE:
        return cc_error_set(&c->err, CC_ESLASHABLE,
                            "double vote: an attestation with target epoch %" PRIu64 " (source %" PRId64
                            ") was already signed with signing root %s, refusing signing root %s",
                            t, a, have, want);
    case V_LW_SOURCE:
        return cc_error_set(&c->err, CC_ESLASHABLE,
                            "attestation source epoch %" PRIu64 " is below the low watermark source epoch %" PRId64
                            " set by an interchange import", s, a);
    case V_LW_TARGET:
        return cc_error_set(&c->err, CC_ESLASHABLE,
                            "attestation target epoch %" PRIu64 " is at or below the low watermark target epoch %"
                            PRId64 " set by an interchange import", t, a);
    case V_SURROUNDING:
    case V_SURROUNDED:
        return cc_error_set(&c->err, CC_ESLASHABLE,
                            "surround vote: attestation (source %" PRIu64 ", target %" PRIu64
                            ") %s the signed attestation (source %" PRId64 ", target %" PRId64 ")",
                            s, t, v == V_SURROUNDING ? "would surround" : "would be surrounded by", a, b);
    default:
        return cc_error_set(&c->err, CC_EINTERNAL, "slashing database: unknown verdict %d", v);
    }
}

/* ---- the workers -------------------------------------------------------------- */

typedef struct pg_item {
    cc_slashing_check *c;
    int64_t key;
    size_t seq;
} pg_item;

static int item_cmp(const void *x, const void *y)
{
    const pg_item *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq); /* arrival order within one validator */
}

static int sql_reserve(pg_worker *w, size_t need)
{
    if (need <= w->sql_cap)
        return 1;
    size_t cap = w->sql_cap ? w->sql_cap : 4096;
    while (cap < need)
        cap *= 2;
    char *n = realloc(w->sql, cap);
    if (!n)
        return 0;
    w->sql = n;
    w->sql_cap = cap;
    return 1;
}

/* Makes sure the worker holds a live connection (after a restart of the server, a network cut). */
static cc_status worker_conn(pg_worker *w, cc_error *err)
{
    if (w->conn && PQstatus(w->conn) == CONNECTION_OK)
        return CC_OK;
    if (w->conn) {
        PQreset(w->conn);
        if (PQstatus(w->conn) == CONNECTION_OK)
            return session_setup(w->db, w->conn, err);
        PQfinish(w->conn);
        w->conn = NULL;
    }
    return pg_connect(w->db, &w->conn, err);
}

/* Runs the batch's checks (items[0..n), sorted) in one transaction, one round trip. */
static cc_status run_sql(pg_worker *w, pg_item *items, size_t n, cc_error *terr)
{
    pg_db *db = w->db;
    cc_status st = worker_conn(w, terr);
    if (st != CC_OK)
        return st;
    if (!sql_reserve(w, 64 + n * 384)) /* one cc_check call is at most 271 bytes */
        return cc_error_set(terr, CC_ENOMEM, "slashing database %s: out of memory", db->desc);
    size_t len = (size_t)snprintf(w->sql, w->sql_cap, "BEGIN;");
    for (size_t i = 0; i < n; i++) {
        cc_slashing_check *c = items[i].c;
        char pk[97], root[65];
        cc_hex_encode(c->pubkey, 48, pk);
        cc_hex_encode(c->signing_root, 32, root);
        int k = c->kind == CC_SLASHING_BLOCK ? 0 : 1;
        int64_t x = (int64_t)(k ? c->source_epoch : c->slot), y = (int64_t)(k ? c->target_epoch : 0);
        len += (size_t)snprintf(w->sql + len, w->sql_cap - len,
                                "SELECT * FROM cc_check(%d,'\\x%s'::bytea,%" PRId64 ",%" PRId64 ",%" PRId64
                                ",'\\x%s'::bytea);",
                                k, pk, items[i].key, x, y, root);
    }
    snprintf(w->sql + len, w->sql_cap - len, "COMMIT");

    if (!PQsendQuery(w->conn, w->sql))
        return pg_fail(db, w->conn, NULL, terr, "send batch");
    /* Results: BEGIN, one per check, COMMIT — in order; collect them all before judging. */
    PGresult **res = calloc(n + 2, sizeof *res);
    if (!res) {
        for (PGresult *r; (r = PQgetResult(w->conn));)
            PQclear(r);
        pg_rollback(w->conn);
        return cc_error_set(terr, CC_ENOMEM, "slashing database %s: out of memory", db->desc);
    }
    size_t got = 0;
    PGresult *bad = NULL, *r;
    while ((r = PQgetResult(w->conn))) {
        ExecStatusType s = PQresultStatus(r);
        if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
            if (!bad)
                bad = r;
            else
                PQclear(r);
            continue;
        }
        if (got < n + 2)
            res[got++] = r;
        else
            PQclear(r);
    }
    if (bad) {
        st = pg_fail(db, w->conn, bad, terr, "check transaction");
        PQclear(bad);
    } else if (got != n + 2 || strcmp(PQcmdStatus(res[n + 1]), "COMMIT") != 0) {
        /* A COMMIT of an aborted transaction answers "ROLLBACK": nothing was recorded. */
        st = cc_error_set(terr, CC_EIO, "slashing database %s: the check transaction did not commit", db->desc);
    } else {
        for (size_t i = 0; i < n; i++) {
            if (PQntuples(res[i + 1]) != 1 || PQnfields(res[i + 1]) != 4) {
                st = cc_error_set(terr, CC_EINTERNAL, "slashing database %s: unexpected cc_check result",
                                  db->desc);
                break;
            }
        }
        if (st == CC_OK) {
            /* Committed: every verdict stands (a refused check wrote nothing). */
            for (size_t i = 0; i < n; i++) {
                cc_error_clear(&items[i].c->err);
                items[i].c->status = verdict(items[i].c, res[i + 1], 0);
            }
        }
    }
    for (size_t i = 0; i < got; i++)
        PQclear(res[i]);
    free(res);
    if (st != CC_OK)
        pg_rollback(w->conn);
    return st;
}

static void run_batch(pg_worker *w, cc_slashing_check *batch, size_t count)
{
    pg_item *items = calloc(count ? count : 1, sizeof *items);
    size_t n = 0, seq = 0;
    cc_error terr;
    cc_status st = CC_OK;
    if (!items)
        st = cc_error_set(&terr, CC_ENOMEM, "slashing database %s: out of memory", w->db->desc);
    for (cc_slashing_check *c = batch; c; c = c->next, seq++) {
        cc_error_clear(&c->err);
        if ((c->status = precheck(c)) != CC_OK)
            continue;
        if (items)
            items[n++] = (pg_item){.c = c, .key = lock_key(c->pubkey), .seq = seq};
    }
    if (items && n) {
        qsort(items, n, sizeof *items, item_cmp);
        st = run_sql(w, items, n, &terr);
    }
    if (st != CC_OK) {
        cc_log(CC_LOG_ERROR, "slashing protection batch failed, nothing signed", "database", w->db->desc, "error",
               terr.msg, NULL);
        cc_status code = st == CC_EUNAVAILABLE ? CC_EUNAVAILABLE : CC_EIO;
        for (cc_slashing_check *c = batch; c; c = c->next) {
            if (c->status == CC_OK || !items) /* precheck refusals keep their own answer */
                c->status = cc_error_set(&c->err, code, "not recorded (slashing database transaction failed): %s",
                                         terr.msg);
        }
    }
    free(items);
}

static void *worker_main(void *arg)
{
    pg_worker *w = arg;
    pg_db *db = w->db;
    size_t count;
    cc_slashing_check *batch;
    while ((batch = cc_check_queue_take(&db->queue, db->batch_max, &count)) != NULL) {
        run_batch(w, batch, count);
        /* Counted first, so a caller that reads the stats after its verdict sees its batch. */
        __atomic_add_fetch(&db->batches, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&db->checks, count, __ATOMIC_RELAXED);
        /* Only now, after COMMIT returned, does any caller hear its verdict. */
        cc_check_batch_done(batch);
    }
    return NULL; /* stopping and drained */
}

static void pg_submit(cc_slashing *base, cc_slashing_check *r)
{
    pg_db *db = (pg_db *)base;
    if (!cc_check_queue_push(&db->queue, r)) {
        r->status = cc_error_set(&r->err, CC_EUNAVAILABLE, "slashing database %s is closing", db->desc);
        r->done(r);
    }
}

/* ---- import ----------------------------------------------------------------- */

/* A growing text buffer for array literals. */
typedef struct pg_buf {
    char *p;
    size_t len, cap;
    int oom;
} pg_buf;

static void buf_add(pg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_add(pg_buf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap <= b->len + (size_t)n)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

static void buf_root(pg_buf *b, const uint8_t *root, int has)
{
    if (!has) {
        buf_add(b, "NULL");
        return;
    }
    char h[65];
    cc_hex_encode(root, 32, h);
    buf_add(b, "\"\\\\x%s\"", h); /* array element "\\x..": the backslash escaped inside quotes */
}

static int key_cmp(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static cc_status check_range(const cc_interchange *ic, cc_error *err)
{
    for (size_t i = 0; i < ic->validator_count; i++) {
        const cc_ic_validator *v = &ic->validators[i];
        for (size_t j = 0; j < v->block_count; j++)
            if (v->blocks[j].slot > PG_MAX_VALUE)
                return cc_error_set(err, CC_EINVAL, "data[%zu].signed_blocks[%zu].slot: out of range (> 2^63-1)",
                                    i, j);
        for (size_t j = 0; j < v->attestation_count; j++)
            if (v->attestations[j].source_epoch > PG_MAX_VALUE || v->attestations[j].target_epoch > PG_MAX_VALUE)
                return cc_error_set(err, CC_EINVAL,
                                    "data[%zu].signed_attestations[%zu]: epoch out of range (> 2^63-1)", i, j);
    }
    return CC_OK;
}

/* Every validator's advisory lock, ascending (as the workers take them: no deadlock). */
static cc_status lock_all(pg_db *db, PGconn *conn, const cc_interchange *ic, cc_error *err)
{
    if (!ic->validator_count)
        return CC_OK;
    int64_t *keys = malloc(ic->validator_count * sizeof *keys);
    if (!keys)
        return cc_error_set(err, CC_ENOMEM, "import: out of memory");
    for (size_t i = 0; i < ic->validator_count; i++)
        keys[i] = lock_key(ic->validators[i].pubkey);
    qsort(keys, ic->validator_count, sizeof *keys, key_cmp);
    pg_buf b = {0};
    buf_add(&b, "{");
    for (size_t i = 0; i < ic->validator_count; i++)
        if (i == 0 || keys[i] != keys[i - 1])
            buf_add(&b, "%s%" PRId64, i ? "," : "", keys[i]);
    buf_add(&b, "}");
    free(keys);
    if (b.oom) {
        free(b.p);
        return cc_error_set(err, CC_ENOMEM, "import: out of memory");
    }
    const char *params[1] = {b.p};
    PGresult *r = PQexecParams(conn, "SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) AS k", 1,
                               NULL, params, NULL, NULL, 0);
    cc_status st = CC_OK;
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK)
        st = pg_fail(db, conn, r, err, "import: lock validators");
    PQclear(r);
    free(b.p);
    return st;
}

static cc_status import_validator(pg_db *db, PGconn *conn, const cc_ic_validator *v, cc_error *err)
{
    pg_buf pk = {0}, slots = {0}, broots = {0}, sources = {0}, targets = {0}, aroots = {0};
    char h[97];
    cc_hex_encode(v->pubkey, 48, h);
    buf_add(&pk, "\\x%s", h);
    buf_add(&slots, "{");
    buf_add(&broots, "{");
    for (size_t j = 0; j < v->block_count; j++) {
        buf_add(&slots, "%s%" PRIu64, j ? "," : "", v->blocks[j].slot);
        if (j)
            buf_add(&broots, ",");
        buf_root(&broots, v->blocks[j].signing_root, v->blocks[j].has_signing_root);
    }
    buf_add(&slots, "}");
    buf_add(&broots, "}");
    buf_add(&sources, "{");
    buf_add(&targets, "{");
    buf_add(&aroots, "{");
    for (size_t j = 0; j < v->attestation_count; j++) {
        const cc_ic_attestation *a = &v->attestations[j];
        buf_add(&sources, "%s%" PRIu64, j ? "," : "", a->source_epoch);
        buf_add(&targets, "%s%" PRIu64, j ? "," : "", a->target_epoch);
        if (j)
            buf_add(&aroots, ",");
        buf_root(&aroots, a->signing_root, a->has_signing_root);
    }
    buf_add(&sources, "}");
    buf_add(&targets, "}");
    buf_add(&aroots, "}");
    cc_status st = CC_OK;
    if (pk.oom || slots.oom || broots.oom || sources.oom || targets.oom || aroots.oom) {
        st = cc_error_set(err, CC_ENOMEM, "import: out of memory");
    } else {
        const char *params[6] = {pk.p, slots.p, broots.p, sources.p, targets.p, aroots.p};
        PGresult *r = PQexecParams(conn,
                                   "SELECT cc_import($1::bytea, $2::bigint[], $3::bytea[], $4::bigint[], "
                                   "$5::bigint[], $6::bytea[])",
                                   6, NULL, params, NULL, NULL, 0);
        if (!r || PQresultStatus(r) != PGRES_TUPLES_OK)
            st = pg_fail(db, conn, r, err, "import");
        PQclear(r);
    }
    free(pk.p), free(slots.p), free(broots.p), free(sources.p), free(targets.p), free(aroots.p);
    return st;
}

static cc_status pg_import(cc_slashing *base, const cc_interchange *ic, cc_error *err)
{
    pg_db *db = (pg_db *)base;
    cc_error local;
    if (!err)
        err = &local;
    if (cc_interchange_check_root(ic, base->genesis_validators_root, err) != CC_OK)
        return err->code;
    cc_status st = check_range(ic, err);
    if (st != CC_OK)
        return st;
    PGconn *conn;
    if ((st = pg_connect(db, &conn, err)) != CC_OK)
        return st;
    st = pg_exec(db, conn, "BEGIN", "import: begin", err);
    if (st == CC_OK)
        st = lock_all(db, conn, ic, err);
    for (size_t i = 0; st == CC_OK && i < ic->validator_count; i++)
        if ((st = import_validator(db, conn, &ic->validators[i], err)) != CC_OK)
            cc_error_prefix(err, "data[%zu]", i);
    if (st == CC_OK) {
        PGresult *r = PQexec(conn, "COMMIT");
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK || strcmp(PQcmdStatus(r), "COMMIT") != 0)
            st = pg_fail(db, conn, r, err, "import: commit");
        PQclear(r);
    }
    if (st != CC_OK)
        pg_rollback(conn);
    PQfinish(conn);
    if (st == CC_OK) {
        char n[24];
        snprintf(n, sizeof n, "%zu", ic->validator_count);
        cc_log(CC_LOG_INFO, "slashing protection interchange imported", "database", db->desc, "validators", n,
               NULL);
    }
    return st;
}

/* ---- export ----------------------------------------------------------------- */

static cc_status export_tx(pg_db *db, PGconn *conn, const uint8_t (*pubkeys)[48], size_t count,
                           cc_interchange *ic, cc_error *err)
{
    PGresult *vals = NULL, *blks = NULL, *atts = NULL;
    cc_status st = CC_OK;
    pg_buf list = {0};
    const char *params[1] = {NULL};
    int np = 0;
    if (pubkeys) {
        buf_add(&list, "{");
        for (size_t i = 0; i < count; i++) {
            char h[97];
            cc_hex_encode(pubkeys[i], 48, h);
            buf_add(&list, "%s\"\\\\x%s\"", i ? "," : "", h);
        }
        buf_add(&list, "}");
        if (list.oom) {
            free(list.p);
            return cc_error_set(err, CC_ENOMEM, "export: out of memory");
        }
        params[0] = list.p;
        np = 1;
    }
    const char *where = pubkeys ? " WHERE v.public_key = ANY($1::bytea[])" : "";
    char q[512];
    snprintf(q, sizeof q, "SELECT v.id, v.public_key FROM validators v%s ORDER BY v.id", where);
    vals = PQexecParams(conn, q, np, NULL, params, NULL, NULL, 0);
    snprintf(q, sizeof q,
             "SELECT s.validator_id, s.slot, s.signing_root FROM signed_blocks s JOIN validators v "
             "ON v.id = s.validator_id%s ORDER BY s.validator_id, s.slot", where);
    blks = PQexecParams(conn, q, np, NULL, params, NULL, NULL, 0);
    snprintf(q, sizeof q,
             "SELECT s.validator_id, s.source_epoch, s.target_epoch, s.signing_root FROM signed_attestations s "
             "JOIN validators v ON v.id = s.validator_id%s ORDER BY s.validator_id, s.target_epoch", where);
    atts = PQexecParams(conn, q, np, NULL, params, NULL, NULL, 0);
    free(list.p);
    PGresult *each[3] = {vals, blks, atts};
    for (int i = 0; i < 3 && st == CC_OK; i++)
        if (!each[i] || PQresultStatus(each[i]) != PGRES_TUPLES_OK)
            st = pg_fail(db, conn, each[i], err, "export");
    if (st != CC_OK)
        goto done;

    int nv = PQntuples(vals), nb = PQntuples(blks), na = PQntuples(atts);
    ic->validators = calloc(nv ? (size_t)nv : 1, sizeof *ic->validators);
    if (!ic->validators) {
        st = cc_error_set(err, CC_ENOMEM, "export: out of memory");
        goto done;
    }
    int bi = 0, ai = 0;
    for (int i = 0; i < nv; i++) {
        int64_t id = getll(vals, i, 0);
        const char *pkv = PQgetvalue(vals, i, 1);
        if (strncmp(pkv, "\\x", 2) != 0 || strlen(pkv) != 98)
            continue;
        char h[99] = "0x";
        memcpy(h + 2, pkv + 2, 97);
        cc_ic_validator *v = &ic->validators[ic->validator_count];
        memset(v, 0, sizeof *v);
        if (cc_hex_decode_exact(h, v->pubkey, 48, NULL) != CC_OK)
            continue;
        ic->validator_count++;
        /* Rows are ordered by validator id, as the validators are: walk both. */
        while (bi < nb && getll(blks, bi, 0) < id)
            bi++;
        int b0 = bi;
        while (bi < nb && getll(blks, bi, 0) == id)
            bi++;
        while (ai < na && getll(atts, ai, 0) < id)
            ai++;
        int a0 = ai;
        while (ai < na && getll(atts, ai, 0) == id)
            ai++;
        if (bi > b0 && !(v->blocks = calloc((size_t)(bi - b0), sizeof *v->blocks))) {
            st = cc_error_set(err, CC_ENOMEM, "export: out of memory");
            goto done;
        }
        for (int k = b0; k < bi; k++) {
            cc_ic_block *b = &v->blocks[v->block_count++];
            b->slot = (uint64_t)getll(blks, k, 1);
            b->has_signing_root = bytea32(blks, k, 2, b->signing_root);
        }
        if (ai > a0 && !(v->attestations = calloc((size_t)(ai - a0), sizeof *v->attestations))) {
            st = cc_error_set(err, CC_ENOMEM, "export: out of memory");
            goto done;
        }
        for (int k = a0; k < ai; k++) {
            cc_ic_attestation *a = &v->attestations[v->attestation_count++];
            a->source_epoch = (uint64_t)getll(atts, k, 1);
            a->target_epoch = (uint64_t)getll(atts, k, 2);
            a->has_signing_root = bytea32(atts, k, 3, a->signing_root);
        }
    }
done:
    PQclear(vals);
    PQclear(blks);
    PQclear(atts);
    return st;
}

static cc_status pg_export(cc_slashing *base, const uint8_t (*pubkeys)[48], size_t count, cc_interchange **out,
                           cc_error *err)
{
    pg_db *db = (pg_db *)base;
    *out = NULL;
    cc_interchange *ic = calloc(1, sizeof *ic);
    if (!ic)
        return cc_error_set(err, CC_ENOMEM, "export: out of memory");
    memcpy(ic->genesis_validators_root, base->genesis_validators_root, 32);
    PGconn *conn;
    cc_status st = pg_connect(db, &conn, err);
    if (st == CC_OK) {
        /* One consistent snapshot of every table. */
        st = pg_exec(db, conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "export: begin", err);
        if (st == CC_OK)
            st = export_tx(db, conn, pubkeys, count, ic, err);
        pg_rollback(conn);
        PQfinish(conn);
    }
    if (st != CC_OK) {
        cc_interchange_free(ic);
        return st;
    }
    *out = ic;
    return CC_OK;
}

/* ---- open and close ------------------------------------------------------- */

static void pg_free(pg_db *db)
{
    for (unsigned i = 0; i < db->nworkers; i++) {
        PQfinish(db->workers[i].conn);
        free(db->workers[i].sql);
    }
    free(db->workers);
    cc_check_queue_destroy(&db->queue);
    free(db->url);
    free(db);
}

static void pg_close(cc_slashing *base)
{
    pg_db *db = (pg_db *)base;
    cc_check_queue_stop(&db->queue);
    for (unsigned i = 0; i < db->nworkers; i++)
        if (db->workers[i].started)
            pthread_join(db->workers[i].thread, NULL);
    pg_free(db);
}

static const cc_slashing_ops pg_ops = {
    .name = "postgres",
    .check_block = cc_slashing_queued_check_block,
    .check_attestation = cc_slashing_queued_check_attestation,
    .import = pg_import,
    .export_ = pg_export,
    .close = pg_close,
    .submit = pg_submit,
};

/* Creates the schema if missing and binds the database to gvr (or refuses another root). */
static cc_status bind_gvr(pg_db *db, PGconn *conn, const uint8_t gvr[32], cc_error *err)
{
    cc_status st = pg_exec(db, conn, "BEGIN", "begin", err);
    if (st != CC_OK)
        return st;
    char lock[96];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%lld)", (long long)PG_SCHEMA_LOCK_KEY);
    if ((st = pg_exec(db, conn, lock, "schema lock", err)) != CC_OK ||
        (st = pg_exec(db, conn, pg_schema, "create schema", err)) != CC_OK)
        goto out;
    char h[65], ver[16], gvr_param[80];
    cc_hex_encode(gvr, 32, h);
    snprintf(gvr_param, sizeof gvr_param, "\\x%s", h);
    snprintf(ver, sizeof ver, "%d", PG_SCHEMA_VERSION);
    const char *params[2] = {gvr_param, ver};
    PGresult *r = PQexecParams(conn,
                               "INSERT INTO metadata(id, genesis_validators_root, schema_version) "
                               "VALUES (1, $1::bytea, $2::int) ON CONFLICT (id) DO NOTHING",
                               2, NULL, params, NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
        st = pg_fail(db, conn, r, err, "write metadata");
    PQclear(r);
    if (st != CC_OK)
        goto out;
    r = PQexec(conn, "SELECT genesis_validators_root, schema_version FROM metadata WHERE id = 1");
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        st = pg_fail(db, conn, r, err, "read metadata");
        PQclear(r);
        goto out;
    }
    uint8_t have[32];
    int ok = bytea32(r, 0, 0, have);
    int version = atoi(PQgetvalue(r, 0, 1));
    PQclear(r);
    if (!ok || memcmp(have, gvr, 32) != 0) {
        char want[67], got[67] = "(malformed)";
        cc_hex_encode0x(gvr, 32, want);
        if (ok)
            cc_hex_encode0x(have, 32, got);
        st = cc_error_set(err, CC_EFORBIDDEN, "slashing database %s is bound to genesis_validators_root %s, not %s",
                          db->desc, got, want);
        goto out;
    }
    if (version > PG_SCHEMA_VERSION) {
        st = cc_error_set(err, CC_ECONFIG,
                          "slashing database %s has schema version %d; this signer knows up to %d (upgrade it)",
                          db->desc, version, PG_SCHEMA_VERSION);
        goto out;
    }
    r = PQexec(conn, "COMMIT");
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK || strcmp(PQcmdStatus(r), "COMMIT") != 0)
        st = pg_fail(db, conn, r, err, "commit schema");
    PQclear(r);
out:
    if (st != CC_OK)
        pg_rollback(conn);
    return st;
}

/* "postgres host:port/dbname" from the URL, without anything secret in it. */
static void describe(pg_db *db, PQconninfoOption *opts)
{
    const char *host = NULL, *port = NULL, *dbname = NULL, *user = NULL;
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (!o->val || !*o->val)
            continue;
        if (strcmp(o->keyword, "host") == 0 || (strcmp(o->keyword, "hostaddr") == 0 && !host))
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0)
            dbname = o->val;
        else if (strcmp(o->keyword, "user") == 0)
            user = o->val;
    }
    snprintf(db->desc, sizeof db->desc, "postgres %s:%s/%s", host ? host : "(default host)",
             port ? port : "5432", dbname ? dbname : user ? user : "(default database)");
}

cc_status cc_slashing_postgres_open(const char *url, unsigned pool_size, const uint8_t gvr[32], cc_slashing **out,
                                    cc_error *err)
{
    *out = NULL;
    if (!url || !*url)
        return cc_error_set(err, CC_ECONFIG, "anti_slashing.url: empty (a libpq URL, postgres://user@host/db)");
    if (pool_size == 0)
        pool_size = 8;
    if (pool_size > PG_POOL_MAX)
        return cc_error_set(err, CC_ECONFIG, "anti_slashing.pool_size: %u is more than %d", pool_size, PG_POOL_MAX);
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    if (!opts) {
        /* libpq's message quotes the offending part, never a whole URL with its password... but be safe. */
        cc_status st = cc_error_set(err, CC_ECONFIG, "anti_slashing.url: not a libpq connection string or URI%s",
                                    perr ? " (syntax error)" : "");
        PQfreemem(perr);
        return st;
    }
    int has_sslmode = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "sslmode") == 0 && o->val && *o->val)
            has_sslmode = 1;

    pg_db *db = calloc(1, sizeof *db);
    if (!db || !(db->url = strdup(url))) {
        free(db);
        PQconninfoFree(opts);
        return cc_error_set(err, CC_ENOMEM, "slashing database: out of memory");
    }
    describe(db, opts);
    PQconninfoFree(opts);
    db->base.ops = &pg_ops;
    memcpy(db->base.genesis_validators_root, gvr, 32);
    cc_check_queue_init(&db->queue);
    int k = 0;
    /* Before the URL, so a connect_timeout in it wins: a dead host must not park a worker for minutes. */
    db->kw[k] = "connect_timeout", db->val[k++] = "10";
    db->kw[k] = "dbname", db->val[k++] = db->url; /* expanded: the URL's settings */
    db->kw[k] = "fallback_application_name", db->val[k++] = "containment-chamber";
    if (!has_sslmode && !getenv("PGSSLMODE"))
        db->kw[k] = "sslmode", db->val[k++] = "verify-full"; /* TLS by default */
    db->kw[k] = NULL, db->val[k] = NULL;
    db->batch_max = PG_BATCH_MAX_DEFAULT;
    const char *bm = getenv("CC_PG_BATCH_MAX"); /* benchmarks: 1 = one check per transaction */
    if (bm && atoi(bm) > 0 && atoi(bm) <= 4096)
        db->batch_max = (unsigned)atoi(bm);

    cc_status st;
    db->workers = calloc(pool_size, sizeof *db->workers);
    if (!db->workers) {
        st = cc_error_set(err, CC_ENOMEM, "slashing database: out of memory");
        goto fail;
    }
    db->nworkers = pool_size;
    for (unsigned i = 0; i < pool_size; i++) {
        db->workers[i].db = db;
        if ((st = pg_connect(db, &db->workers[i].conn, err)) != CC_OK)
            goto fail;
        if (i == 0 && (st = bind_gvr(db, db->workers[0].conn, gvr, err)) != CC_OK)
            goto fail;
    }
    for (unsigned i = 0; i < pool_size; i++) {
        if (pthread_create(&db->workers[i].thread, NULL, worker_main, &db->workers[i]) != 0) {
            st = cc_error_set(err, CC_EINTERNAL, "slashing database %s: cannot start worker threads", db->desc);
            pg_close(&db->base);
            return st;
        }
        db->workers[i].started = 1;
    }
    char n[16], b[16];
    snprintf(n, sizeof n, "%u", pool_size);
    snprintf(b, sizeof b, "%u", db->batch_max);
    cc_log(CC_LOG_INFO, "slashing database open", "database", db->desc, "pool_size", n, "batch_max", b, "sslmode",
           has_sslmode ? "(from url)" : getenv("PGSSLMODE") ? "(from PGSSLMODE)" : "verify-full", NULL);
    *out = &db->base;
    return CC_OK;
fail:
    pg_free(db);
    return st;
}

void cc_slashing_postgres_stats(cc_slashing *base, uint64_t *batches, uint64_t *checks)
{
    pg_db *db = (pg_db *)base;
    if (batches)
        *batches = __atomic_load_n(&db->batches, __ATOMIC_RELAXED);
    if (checks)
        *checks = __atomic_load_n(&db->checks, __ATOMIC_RELAXED);
}
