/*
 * dynamodb.c — the anti-slashing backend for many signer instances on one
 * DynamoDB table, built only on single-item conditional writes.
 *
 * DynamoDB has no multi-item lock, and dynalite (our local stand-in) has no
 * TransactWriteItems, so every check is two single-item conditional writes,
 * ordered so that a crash or a lost race between them can only make the
 * database stricter.  Surround checks would need a range view of the
 * history; instead the backend keeps the EIP-3076 "minimal" strategy, which
 * is O(1) per check: per validator one high-water-mark item W, and a signed
 * message is new only if it lies strictly above the marks.
 *
 * Table (created by `containment-chamber dynamodb create-tables`):
 *   partition key pk (S), sort key sk (S), on-demand billing.
 *   pk "META", sk "GVR"      genesis_validators_root        the network binding
 *   pk <0x pubkey>, sk "W"   max_block_slot, max_source, max_target (N)
 *   pk <0x pubkey>, sk "B#<slot, 20 digits>"     slot, signing_root
 *   pk <0x pubkey>, sk "A#<target, 20 digits>"   source_epoch, target_epoch, signing_root
 * signing_root is "0x…" (S); a record without it is the "imported without a
 * signing root" marker and conflicts with every new message at that slot or
 * target.  Numbers are DynamoDB N, exact at uint64 size.
 *
 * A block (slot, root):
 *   1. UpdateItem W  SET max_block_slot = slot
 *                    IF max_block_slot absent OR max_block_slot < slot
 *   2. PutItem B#slot {root}  IF absent OR signing_root = root
 *   OK only when both succeed.  If 1 fails, the request may still be an
 *   identical re-request: a consistent GetItem of B#slot holding the same
 *   root answers OK; anything else is refused.
 * An attestation (source, target, root), source <= target:
 *   1. UpdateItem W  SET max_source = source, max_target = target
 *                    IF (max_target absent OR max_target < target)
 *                   AND (max_source absent OR max_source <= source)
 *   2. PutItem A#target {source, root}  IF absent OR (same root AND same source)
 *   and the same identical-re-request fallback on A#target.
 *
 * Why no conflicting pair can both be signed, whatever the interleaving of
 * instances: write 1 is the decision and is atomic on one item.  The marks
 * only rise, and an attestation passes 1 only with target > every target
 * and source >= every source that passed before it (and every imported
 * one: an import raises the marks to its maxima, while signing is stopped),
 * so it can neither double-vote against, surround, nor be surrounded by any
 * earlier one; a block passes only at a slot above every earlier one, so at
 * most one request ever passes 1 for a given slot or target.  A record is
 * written only after its 1 has passed (or by an import), so a record with a
 * root means "this exact message was allowed"; the fallback answers OK only
 * for that exact message, which re-signs nothing new.  ConditionalCheck-
 * FailedException is a refusal, never retried.
 *
 * Crashes and failures between the writes: after 1 and before 2, the mark
 * stands without a record — every later message at or below it is refused,
 * even the identical retry (stricter).  If 2 fails (a record with another
 * root, e.g. an imported one), the answer is a refusal and the raised mark
 * again only refuses more.  A transport retry of 1 that had been applied
 * comes back as a failed condition: refused, stricter.  An identical request
 * racing its twin between the twin's 1 and 2 is refused (it finds no record
 * yet); the validator client's next retry succeeds.
 *
 * Import (EIP-3076 v5) merges: per validator, records first (PutItem IF
 * absent; a differing record at the same slot/target loses its root and
 * becomes the conflict marker), then each mark is raised to the imported
 * maximum (UpdateItem IF lower) — the "minimal" strategy, as the sqlite
 * backend does.  It is not atomic across items: run it while signing is
 * stopped (as the EIP says); a failed import leaves a prefix imported, which
 * only refuses more, and may simply be run again.  Export is a consistent
 * Scan (or Query per listed validator); a mark raised without a record (see
 * above) protects nothing that was signed and is not exported.
 *
 * IAM: dynamodb:DescribeTable, GetItem, PutItem, UpdateItem, Query, Scan on
 * the table (CreateTable only for create-tables).  docs/dynamodb.md.
 *
 * Checks run synchronously on the caller's thread (check_block,
 * check_attestation) or on a pool of worker threads (submit): every check
 * is two round trips, so the server keeps many in flight; conditional
 * writes keep one validator's concurrent checks correct.
 */
#include "slashing/slashing.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws/credentials.h"
#include "aws/dynamodb.h"
#include "slashing/queue.h"
#include "util/hex.h"
#include "util/log.h"

#define DDB_WORKERS 32
#define DDB_ACTIVE_TIMEOUT_MS 60000
#define DDB_META_PK "META"
#define DDB_META_SK "GVR"
#define DDB_W_SK "W"

typedef struct ddb_db {
    cc_slashing base;
    cc_aws_http *http;
    cc_aws_credentials_provider *creds;
    cc_dynamodb ddb;
    char table[256];

    /* Asynchronous checks: one queue, workers taking one check at a time (started on first submits). */
    cc_check_queue queue;
    pthread_mutex_t workers_lock; /* guards workers, nworkers, closing */
    pthread_t workers[DDB_WORKERS];
    size_t nworkers;
    int closing;
} ddb_db;

/* ---- keys and values ----------------------------------------------------- */

static void pk_hex(const uint8_t pk[48], char out[99]) { cc_hex_encode0x(pk, 48, out); }

static void sk_num(char kind, uint64_t n, char out[24]) { snprintf(out, 24, "%c#%020" PRIu64, kind, n); }

static void num(uint64_t n, char out[24]) { snprintf(out, 24, "%" PRIu64, n); }

static json_t *item_key(const char *pk, const char *sk)
{
    return json_pack("{s:{s:s}, s:{s:s}}", "pk", "S", pk, "sk", "S", sk);
}

/* The N attribute name of item as uint64; 0 if absent or malformed. */
static int get_u64(json_t *item, const char *name, uint64_t *out)
{
    const char *s = json_string_value(json_object_get(json_object_get(item, name), "N"));
    return s && cc_parse_u64(s, out, NULL) == CC_OK;
}

/* The signing root of a record as "0x…" (or the no-root marker text) into out[67]. */
static void get_root(json_t *item, char out[67])
{
    const char *s = json_string_value(json_object_get(json_object_get(item, "signing_root"), "S"));
    snprintf(out, 67, "%s", s ? s : "(none, imported without signing root)");
}

/*
 * An AWS failure other than a failed condition: nothing was decided, nothing
 * may be signed.  The code is what the signer answers: 503 when throttled or
 * timed out, 500 otherwise (a missing table or denied access is the
 * operator's problem, not a 404/403 of the signing request).
 */
static cc_status ddb_fail(ddb_db *db, cc_status st, cc_error *err, const char *what)
{
    cc_status code = (st == CC_EUNAVAILABLE || st == CC_ENOMEM) ? st : CC_EIO;
    if (err) {
        cc_error_prefix(err, "slashing table %s: %s", db->table, what);
        err->code = code;
    }
    return code;
}

/* ---- the two checks --------------------------------------------------------- */

static cc_status get_item(ddb_db *db, const char *pk, const char *sk, json_t **item, cc_error *err)
{
    json_t *key = item_key(pk, sk);
    cc_status st = key ? cc_dynamodb_get_item(&db->ddb, db->table, key, 1, item, err)
                       : cc_error_set(err, CC_ENOMEM, "out of memory");
    json_decref(key);
    return st;
}

static cc_status check_block(ddb_db *db, const uint8_t pubkey[48], uint64_t slot, const uint8_t root[32],
                             cc_error *err)
{
    char pk[99], sk[24], n[24], rh[67];
    pk_hex(pubkey, pk);
    sk_num('B', slot, sk);
    num(slot, n);
    cc_hex_encode0x(root, 32, rh);

    /* 1. The decision: raise the block mark. */
    json_t *key = item_key(pk, DDB_W_SK);
    json_t *names = json_pack("{s:s}", "#m", "max_block_slot");
    json_t *vals = json_pack("{s:{s:s}}", ":s", "N", n);
    cc_status st = key && names && vals
                       ? cc_dynamodb_update_item(&db->ddb, db->table, key, "SET #m = :s",
                                                 "attribute_not_exists(#m) OR #m < :s", names, vals, NULL, NULL, err)
                       : cc_error_set(err, CC_ENOMEM, "out of memory");
    json_decref(key);
    json_decref(names);
    json_decref(vals);
    if (st == CC_OK) {
        /* 2. The record. */
        json_t *item = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "pk", "S", pk, "sk", "S", sk, "slot", "N", n,
                                 "signing_root", "S", rh);
        names = json_pack("{s:s, s:s}", "#k", "sk", "#r", "signing_root");
        vals = json_pack("{s:{s:s}}", ":r", "S", rh);
        st = item && names && vals
                 ? cc_dynamodb_put_item(&db->ddb, db->table, item, "attribute_not_exists(#k) OR #r = :r", names, vals,
                                        NULL, err)
                 : cc_error_set(err, CC_ENOMEM, "out of memory");
        json_decref(item);
        json_decref(names);
        json_decref(vals);
        if (st == CC_OK)
            return CC_OK;
        if (st != CC_ECONFLICT)
            return ddb_fail(db, st, err, "record block (the high-water mark was raised; nothing signed)");
    } else if (st != CC_ECONFLICT) {
        return ddb_fail(db, st, err, "raise block high-water mark");
    }

    /* Refused by a condition: only an identical re-request of a recorded block passes. */
    json_t *rec = NULL, *w = NULL;
    if ((st = get_item(db, pk, sk, &rec, err)) != CC_OK)
        return ddb_fail(db, st, err, "read block record");
    if (rec) {
        char have[67];
        get_root(rec, have);
        json_decref(rec);
        if (strcmp(have, rh) == 0)
            return CC_OK;
        return cc_error_set(err, CC_ESLASHABLE,
                            "double proposal: a block at slot %" PRIu64 " was already signed with signing root %s, "
                            "refusing signing root %s", slot, have, rh);
    }
    if ((st = get_item(db, pk, DDB_W_SK, &w, err)) != CC_OK)
        return ddb_fail(db, st, err, "read high-water marks");
    uint64_t mb = 0;
    int has = get_u64(w, "max_block_slot", &mb);
    json_decref(w);
    if (has)
        return cc_error_set(err, CC_ESLASHABLE,
                            "block at slot %" PRIu64 " is not above the highest block slot %" PRIu64
                            " already signed or imported", slot, mb);
    return cc_error_set(err, CC_ESLASHABLE, "block at slot %" PRIu64 " refused: a concurrent request changed the "
                        "high-water mark", slot);
}

static cc_status check_attestation(ddb_db *db, const uint8_t pubkey[48], uint64_t source, uint64_t target,
                                   const uint8_t root[32], cc_error *err)
{
    if (source > target)
        return cc_error_set(err, CC_ESLASHABLE,
                            "attestation source epoch %" PRIu64 " is greater than target epoch %" PRIu64, source,
                            target);
    char pk[99], sk[24], ns[24], nt[24], rh[67];
    pk_hex(pubkey, pk);
    sk_num('A', target, sk);
    num(source, ns);
    num(target, nt);
    cc_hex_encode0x(root, 32, rh);

    /* 1. The decision: strictly above the target mark, not below the source mark. */
    json_t *key = item_key(pk, DDB_W_SK);
    json_t *names = json_pack("{s:s, s:s}", "#s", "max_source", "#t", "max_target");
    json_t *vals = json_pack("{s:{s:s}, s:{s:s}}", ":s", "N", ns, ":t", "N", nt);
    cc_status st = key && names && vals
                       ? cc_dynamodb_update_item(&db->ddb, db->table, key, "SET #s = :s, #t = :t",
                                                 "(attribute_not_exists(#t) OR #t < :t) AND "
                                                 "(attribute_not_exists(#s) OR #s <= :s)",
                                                 names, vals, NULL, NULL, err)
                       : cc_error_set(err, CC_ENOMEM, "out of memory");
    json_decref(key);
    json_decref(names);
    json_decref(vals);
    if (st == CC_OK) {
        /* 2. The record. */
        json_t *item = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "pk", "S", pk, "sk", "S", sk,
                                 "source_epoch", "N", ns, "target_epoch", "N", nt, "signing_root", "S", rh);
        names = json_pack("{s:s, s:s, s:s}", "#k", "sk", "#r", "signing_root", "#s", "source_epoch");
        vals = json_pack("{s:{s:s}, s:{s:s}}", ":r", "S", rh, ":s", "N", ns);
        st = item && names && vals
                 ? cc_dynamodb_put_item(&db->ddb, db->table, item, "attribute_not_exists(#k) OR (#r = :r AND #s = :s)",
                                        names, vals, NULL, err)
                 : cc_error_set(err, CC_ENOMEM, "out of memory");
        json_decref(item);
        json_decref(names);
        json_decref(vals);
        if (st == CC_OK)
            return CC_OK;
        if (st != CC_ECONFLICT)
            return ddb_fail(db, st, err, "record attestation (the high-water marks were raised; nothing signed)");
    } else if (st != CC_ECONFLICT) {
        return ddb_fail(db, st, err, "raise attestation high-water marks");
    }

    /* Refused by a condition: only an identical re-request of a recorded attestation passes. */
    json_t *rec = NULL, *w = NULL;
    if ((st = get_item(db, pk, sk, &rec, err)) != CC_OK)
        return ddb_fail(db, st, err, "read attestation record");
    if (rec) {
        char have[67];
        uint64_t os = 0;
        get_root(rec, have);
        int has_source = get_u64(rec, "source_epoch", &os);
        json_decref(rec);
        if (strcmp(have, rh) == 0 && has_source && os == source)
            return CC_OK;
        return cc_error_set(err, CC_ESLASHABLE,
                            "double vote: an attestation with target epoch %" PRIu64 " (source %" PRIu64
                            ") was already signed with signing root %s, refusing signing root %s (source %" PRIu64 ")",
                            target, os, have, rh, source);
    }
    if ((st = get_item(db, pk, DDB_W_SK, &w, err)) != CC_OK)
        return ddb_fail(db, st, err, "read high-water marks");
    uint64_t ms = 0, mt = 0;
    int hs = get_u64(w, "max_source", &ms), ht = get_u64(w, "max_target", &mt);
    json_decref(w);
    if (ht && target <= mt)
        return cc_error_set(err, CC_ESLASHABLE,
                            "attestation (source %" PRIu64 ", target %" PRIu64 ") is not above the highest target "
                            "epoch %" PRIu64 " already signed or imported (a double or surround vote is refused "
                            "by construction)", source, target, mt);
    if (hs && source < ms)
        return cc_error_set(err, CC_ESLASHABLE,
                            "attestation (source %" PRIu64 ", target %" PRIu64 ") has a source below the highest "
                            "source epoch %" PRIu64 " already signed or imported (it could be surrounding)",
                            source, target, ms);
    return cc_error_set(err, CC_ESLASHABLE,
                        "attestation (source %" PRIu64 ", target %" PRIu64 ") refused: a concurrent request raised "
                        "the high-water marks", source, target);
}

static cc_status ddb_check_block(cc_slashing *base, const uint8_t pubkey[48], uint64_t slot,
                                 const uint8_t signing_root[32], cc_error *err)
{
    cc_error local;
    return check_block((ddb_db *)base, pubkey, slot, signing_root, err ? err : &local);
}

static cc_status ddb_check_attestation(cc_slashing *base, const uint8_t pubkey[48], uint64_t source_epoch,
                                       uint64_t target_epoch, const uint8_t signing_root[32], cc_error *err)
{
    cc_error local;
    return check_attestation((ddb_db *)base, pubkey, source_epoch, target_epoch, signing_root, err ? err : &local);
}

/* ---- asynchronous checks: a pool of workers, each one blocking call at a time ---- */

static void *worker_main(void *arg)
{
    ddb_db *db = arg;
    size_t n;
    cc_slashing_check *r;
    /* Each check is two round trips: concurrency across validators is where throughput comes from. */
    while ((r = cc_check_queue_take(&db->queue, 1, &n)) != NULL) {
        cc_error_clear(&r->err);
        if (r->kind == CC_SLASHING_BLOCK)
            r->status = check_block(db, r->pubkey, r->slot, r->signing_root, &r->err);
        else
            r->status = check_attestation(db, r->pubkey, r->source_epoch, r->target_epoch, r->signing_root, &r->err);
        r->done(r);
    }
    return NULL; /* stopping and drained */
}

static void ddb_submit(cc_slashing *base, cc_slashing_check *r)
{
    ddb_db *db = (ddb_db *)base;
    pthread_mutex_lock(&db->workers_lock);
    if (!db->closing && db->nworkers < DDB_WORKERS) {
        /* One more worker per submit until the pool is full: a CLI that never submits starts none. */
        if (pthread_create(&db->workers[db->nworkers], NULL, worker_main, db) == 0)
            db->nworkers++;
    }
    size_t workers = db->nworkers;
    pthread_mutex_unlock(&db->workers_lock);
    if (workers == 0 || !cc_check_queue_push(&db->queue, r)) {
        r->status = cc_error_set(&r->err, CC_EUNAVAILABLE, "slashing table %s: no worker (closing or out of "
                                 "threads)", db->table);
        r->done(r);
    }
}

/* ---- import ---------------------------------------------------------------- */

/*
 * Adds one imported record: PutItem if absent; if a record is already there
 * with another root (or the new one has none), the record loses its root and
 * becomes the conflict marker; an identical one is kept.
 */
static cc_status merge_record(ddb_db *db, const char *pk, const char *sk, json_t *item, const uint8_t *root,
                              int has_root, cc_error *err)
{
    json_t *names = json_pack("{s:s}", "#k", "sk");
    cc_status st = names ? cc_dynamodb_put_item(&db->ddb, db->table, item, "attribute_not_exists(#k)", names, NULL,
                                                NULL, err)
                         : cc_error_set(err, CC_ENOMEM, "out of memory");
    json_decref(names);
    if (st != CC_ECONFLICT)
        return st;
    char rh[67] = "";
    if (has_root)
        cc_hex_encode0x(root, 32, rh);
    json_t *key = item_key(pk, sk);
    names = json_pack("{s:s}", "#r", "signing_root");
    json_t *vals = has_root ? json_pack("{s:{s:s}}", ":r", "S", rh) : NULL;
    st = key && names && (vals || !has_root)
             ? cc_dynamodb_update_item(&db->ddb, db->table, key, "REMOVE #r",
                                       has_root ? "attribute_exists(#r) AND #r <> :r" : NULL, names, vals, NULL, NULL,
                                       err)
             : cc_error_set(err, CC_ENOMEM, "out of memory");
    json_decref(key);
    json_decref(names);
    json_decref(vals);
    return st == CC_ECONFLICT ? CC_OK : st; /* the same root (or already the marker): keep */
}

/* Raises one mark to at least v (no-op if already there). */
static cc_status raise_mark(ddb_db *db, const char *pk, const char *attr, uint64_t v, cc_error *err)
{
    char n[24];
    num(v, n);
    json_t *key = item_key(pk, DDB_W_SK);
    json_t *names = json_pack("{s:s}", "#m", attr);
    json_t *vals = json_pack("{s:{s:s}}", ":v", "N", n);
    cc_status st = key && names && vals
                       ? cc_dynamodb_update_item(&db->ddb, db->table, key, "SET #m = :v",
                                                 "attribute_not_exists(#m) OR #m < :v", names, vals, NULL, NULL, err)
                       : cc_error_set(err, CC_ENOMEM, "out of memory");
    json_decref(key);
    json_decref(names);
    json_decref(vals);
    return st == CC_ECONFLICT ? CC_OK : st;
}

static cc_status import_validator(ddb_db *db, const cc_ic_validator *v, size_t i, cc_error *err)
{
    char pk[99], sk[24], a[24], b[24], rh[67];
    pk_hex(v->pubkey, pk);
    uint64_t max_slot = 0, max_source = 0, max_target = 0;
    cc_status st;
    for (size_t j = 0; j < v->block_count; j++) {
        const cc_ic_block *blk = &v->blocks[j];
        sk_num('B', blk->slot, sk);
        num(blk->slot, a);
        json_t *item = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}}", "pk", "S", pk, "sk", "S", sk, "slot", "N", a);
        if (item && blk->has_signing_root) {
            cc_hex_encode0x(blk->signing_root, 32, rh);
            json_object_set_new(item, "signing_root", json_pack("{s:s}", "S", rh));
        }
        st = item ? merge_record(db, pk, sk, item, blk->signing_root, blk->has_signing_root, err)
                  : cc_error_set(err, CC_ENOMEM, "out of memory");
        json_decref(item);
        if (st != CC_OK)
            return cc_error_prefix(err, "data[%zu].signed_blocks[%zu]", i, j);
        if (blk->slot > max_slot)
            max_slot = blk->slot;
    }
    for (size_t j = 0; j < v->attestation_count; j++) {
        const cc_ic_attestation *at = &v->attestations[j];
        sk_num('A', at->target_epoch, sk);
        num(at->source_epoch, a);
        num(at->target_epoch, b);
        json_t *item = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "pk", "S", pk, "sk", "S", sk,
                                 "source_epoch", "N", a, "target_epoch", "N", b);
        if (item && at->has_signing_root) {
            cc_hex_encode0x(at->signing_root, 32, rh);
            json_object_set_new(item, "signing_root", json_pack("{s:s}", "S", rh));
        }
        st = item ? merge_record(db, pk, sk, item, at->signing_root, at->has_signing_root, err)
                  : cc_error_set(err, CC_ENOMEM, "out of memory");
        json_decref(item);
        if (st != CC_OK)
            return cc_error_prefix(err, "data[%zu].signed_attestations[%zu]", i, j);
        if (at->source_epoch > max_source)
            max_source = at->source_epoch;
        if (at->target_epoch > max_target)
            max_target = at->target_epoch;
    }
    /* Marks after records: a crash in between leaves records above the marks, which only refuse more. */
    if (v->block_count && (st = raise_mark(db, pk, "max_block_slot", max_slot, err)) != CC_OK)
        return cc_error_prefix(err, "data[%zu]: raise block high-water mark", i);
    if (v->attestation_count && ((st = raise_mark(db, pk, "max_source", max_source, err)) != CC_OK ||
                                 (st = raise_mark(db, pk, "max_target", max_target, err)) != CC_OK))
        return cc_error_prefix(err, "data[%zu]: raise attestation high-water marks", i);
    return CC_OK;
}

static cc_status ddb_import(cc_slashing *base, const cc_interchange *ic, cc_error *err)
{
    ddb_db *db = (ddb_db *)base;
    cc_error local;
    if (!err)
        err = &local;
    if (cc_interchange_check_root(ic, base->genesis_validators_root, err) != CC_OK)
        return err->code;
    for (size_t i = 0; i < ic->validator_count; i++) {
        cc_status st = import_validator(db, &ic->validators[i], i, err);
        if (st != CC_OK) {
            char n[24];
            snprintf(n, sizeof n, "%zu", i);
            cc_log(CC_LOG_ERROR, "slashing protection import failed part-way (what was written only refuses more; "
                   "run the import again)", "table", db->table, "validators_done", n, "error", err->msg, NULL);
            return ddb_fail(db, st, err, "import");
        }
    }
    char n[24];
    snprintf(n, sizeof n, "%zu", ic->validator_count);
    cc_log(CC_LOG_INFO, "slashing protection interchange imported", "table", db->table, "validators", n, NULL);
    return CC_OK;
}

/* ---- export ---------------------------------------------------------------- */

typedef struct ddb_rec {
    char pk[99];
    char sk[24];
    json_t *item; /* borrowed from the page */
} ddb_rec;

static int rec_cmp(const void *a, const void *b)
{
    const ddb_rec *x = a, *y = b;
    int c = strcmp(x->pk, y->pk);
    return c ? c : strcmp(x->sk, y->sk);
}

/* Appends one validator's record (item) to ic; v is the validator it belongs to. */
static cc_status export_item(const ddb_rec *r, cc_ic_validator *v, cc_error *err)
{
    const char *rs = json_string_value(json_object_get(json_object_get(r->item, "signing_root"), "S"));
    uint8_t root[32];
    int has_root = rs && cc_hex_decode_exact(rs, root, 32, NULL) == CC_OK;
    uint64_t key;
    if (cc_parse_u64(r->sk + 2, &key, NULL) != CC_OK)
        return CC_OK; /* not ours */
    if (r->sk[0] == 'B') {
        cc_ic_block *n = realloc(v->blocks, (v->block_count + 1) * sizeof *n);
        if (!n)
            return cc_error_set(err, CC_ENOMEM, "export: out of memory");
        v->blocks = n;
        cc_ic_block *b = &n[v->block_count++];
        memset(b, 0, sizeof *b);
        b->slot = key;
        if ((b->has_signing_root = has_root))
            memcpy(b->signing_root, root, 32);
    } else {
        cc_ic_attestation *n = realloc(v->attestations, (v->attestation_count + 1) * sizeof *n);
        if (!n)
            return cc_error_set(err, CC_ENOMEM, "export: out of memory");
        v->attestations = n;
        cc_ic_attestation *a = &n[v->attestation_count++];
        memset(a, 0, sizeof *a);
        a->target_epoch = key;
        get_u64(r->item, "source_epoch", &a->source_epoch);
        if ((a->has_signing_root = has_root))
            memcpy(a->signing_root, root, 32);
    }
    return CC_OK;
}

/* Collects the records of one page into *recs. */
static cc_status collect(json_t *items, json_t *keep, ddb_rec **recs, size_t *count, size_t *cap, cc_error *err)
{
    size_t k;
    json_t *it;
    json_array_foreach(items, k, it) {
        const char *pk = json_string_value(json_object_get(json_object_get(it, "pk"), "S"));
        const char *sk = json_string_value(json_object_get(json_object_get(it, "sk"), "S"));
        if (!pk || !sk || strlen(pk) != 98 || (strncmp(sk, "B#", 2) != 0 && strncmp(sk, "A#", 2) != 0) ||
            strlen(sk) != 22)
            continue; /* META, W, and anything not ours */
        if (*count == *cap) {
            *cap = *cap ? *cap * 2 : 256;
            ddb_rec *n = realloc(*recs, *cap * sizeof *n);
            if (!n)
                return cc_error_set(err, CC_ENOMEM, "export: out of memory");
            *recs = n;
        }
        ddb_rec *r = &(*recs)[(*count)++];
        memcpy(r->pk, pk, 99);
        memcpy(r->sk, sk, 23);
        r->item = it;
    }
    json_array_append(keep, items);
    return CC_OK;
}

/* Every record: a consistent Scan, or a consistent Query per listed pubkey. */
static cc_status export_collect(ddb_db *db, const uint8_t (*pubkeys)[48], size_t count, json_t *keep,
                                ddb_rec **recs, size_t *n, cc_error *err)
{
    size_t cap = 0;
    cc_status st = CC_OK;
    size_t rounds = pubkeys ? count : 1;
    for (size_t p = 0; p < rounds && st == CC_OK; p++) {
        json_t *start = NULL;
        do {
            json_t *items = NULL, *last = NULL;
            if (pubkeys) {
                char pk[99];
                pk_hex(pubkeys[p], pk);
                json_t *vals = json_pack("{s:{s:s}}", ":pk", "S", pk);
                json_t *names = json_pack("{s:s}", "#p", "pk");
                st = vals && names ? cc_dynamodb_query(&db->ddb, db->table, NULL, "#p = :pk", names, vals, 1, 0, start,
                                                       &items, &last, err)
                                   : cc_error_set(err, CC_ENOMEM, "out of memory");
                json_decref(vals);
                json_decref(names);
            } else {
                json_t *req = json_pack("{s:s, s:b}", "TableName", db->table, "ConsistentRead", 1);
                if (req && start)
                    json_object_set(req, "ExclusiveStartKey", start);
                json_t *resp = NULL;
                st = req ? cc_dynamodb_call(&db->ddb, "Scan", req, &resp, err)
                         : cc_error_set(err, CC_ENOMEM, "out of memory");
                json_decref(req);
                if (st == CC_OK) {
                    items = json_incref(json_object_get(resp, "Items"));
                    json_t *lk = json_object_get(resp, "LastEvaluatedKey");
                    last = json_is_object(lk) ? json_incref(lk) : NULL;
                }
                json_decref(resp);
            }
            json_decref(start);
            start = last;
            if (st == CC_OK && json_is_array(items))
                st = collect(items, keep, recs, n, &cap, err);
            json_decref(items);
        } while (st == CC_OK && start);
        json_decref(start);
    }
    return st;
}

static cc_status ddb_export(cc_slashing *base, const uint8_t (*pubkeys)[48], size_t count, cc_interchange **out,
                            cc_error *err)
{
    ddb_db *db = (ddb_db *)base;
    *out = NULL;
    cc_interchange *ic = calloc(1, sizeof *ic);
    json_t *keep = json_array();
    ddb_rec *recs = NULL;
    size_t n = 0;
    if (!ic || !keep) {
        free(ic);
        json_decref(keep);
        return cc_error_set(err, CC_ENOMEM, "export: out of memory");
    }
    memcpy(ic->genesis_validators_root, base->genesis_validators_root, 32);
    cc_status st = export_collect(db, pubkeys, count, keep, &recs, &n, err);
    if (st != CC_OK) {
        st = ddb_fail(db, st, err, "export");
        goto done;
    }
    /* One validator per pubkey, records in slot / target order (the sort keys are zero-padded). */
    if (n > 1) /* recs may be NULL when there is nothing to export */
        qsort(recs, n, sizeof *recs, rec_cmp);
    for (size_t i = 0; i < n && st == CC_OK; i++) {
        if (i == 0 || strcmp(recs[i].pk, recs[i - 1].pk) != 0) {
            cc_ic_validator *nv = realloc(ic->validators, (ic->validator_count + 1) * sizeof *nv);
            if (!nv) {
                st = cc_error_set(err, CC_ENOMEM, "export: out of memory");
                break;
            }
            ic->validators = nv;
            cc_ic_validator *v = &nv[ic->validator_count++];
            memset(v, 0, sizeof *v);
            if (cc_hex_decode_exact(recs[i].pk, v->pubkey, 48, NULL) != CC_OK) {
                st = cc_error_set(err, CC_EIO, "slashing table %s: malformed pk %.100s", db->table, recs[i].pk);
                break;
            }
        }
        st = export_item(&recs[i], &ic->validators[ic->validator_count - 1], err);
    }
done:
    free(recs);
    json_decref(keep);
    if (st != CC_OK) {
        cc_interchange_free(ic);
        return st;
    }
    *out = ic;
    return CC_OK;
}

/* ---- table, open and close --------------------------------------------------- */

/* 1 if desc's key schema is pk (S, HASH) + sk (S, RANGE). */
static int schema_ok(json_t *desc)
{
    json_t *ks = json_object_get(desc, "KeySchema"), *ad = json_object_get(desc, "AttributeDefinitions");
    if (json_array_size(ks) != 2)
        return 0;
    int seen = 0;
    size_t i;
    json_t *e;
    json_array_foreach(ks, i, e) {
        const char *name = json_string_value(json_object_get(e, "AttributeName"));
        const char *type = json_string_value(json_object_get(e, "KeyType"));
        if (!name || !type)
            return 0;
        const char *want = strcmp(type, "HASH") == 0 ? "pk" : strcmp(type, "RANGE") == 0 ? "sk" : NULL;
        if (!want || strcmp(name, want) != 0)
            return 0;
        size_t j;
        json_t *d;
        json_array_foreach(ad, j, d) {
            const char *an = json_string_value(json_object_get(d, "AttributeName"));
            const char *at = json_string_value(json_object_get(d, "AttributeType"));
            if (an && at && strcmp(an, name) == 0 && strcmp(at, "S") == 0)
                seen++;
        }
    }
    return seen == 2;
}

static cc_status check_schema(const cc_dynamodb *ddb, const char *table, char status[16], cc_error *err)
{
    json_t *desc = NULL;
    cc_status st = cc_dynamodb_describe_table(ddb, table, &desc, status, err);
    if (st != CC_OK)
        return st;
    int ok = schema_ok(desc);
    json_decref(desc);
    if (!ok)
        return cc_error_set(err, CC_ECONFIG,
                            "dynamodb table %s: wrong key schema for the anti-slashing table (want partition key "
                            "pk (S) and sort key sk (S))", table);
    return CC_OK;
}

cc_status cc_slashing_dynamodb_create_table(const struct cc_dynamodb *ddb, const char *table, int *created,
                                            cc_error *err)
{
    if (created)
        *created = 0;
    char status[16];
    cc_status st = check_schema(ddb, table, status, err);
    if (st == CC_ENOTFOUND) {
        st = cc_dynamodb_create_table(ddb, table, "pk", "S", "sk", "S", err);
        if (st == CC_OK && created)
            *created = 1;
        if (st == CC_ECONFLICT) /* created by someone else meanwhile */
            st = check_schema(ddb, table, status, err);
        if (st != CC_OK)
            return st;
    } else if (st != CC_OK) {
        return st;
    }
    if ((st = cc_dynamodb_wait_active(ddb, table, DDB_ACTIVE_TIMEOUT_MS, err)) != CC_OK)
        return st;
    return check_schema(ddb, table, status, err);
}

/* Binds the table to gvr on first use (one conditional PutItem); refuses another root afterwards. */
static cc_status bind_gvr(ddb_db *db, const uint8_t gvr[32], cc_error *err)
{
    char g[67];
    cc_hex_encode0x(gvr, 32, g);
    json_t *item = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}}", "pk", "S", DDB_META_PK, "sk", "S", DDB_META_SK,
                             "genesis_validators_root", "S", g);
    json_t *names = json_pack("{s:s, s:s}", "#k", "pk", "#g", "genesis_validators_root");
    json_t *vals = json_pack("{s:{s:s}}", ":g", "S", g);
    cc_status st = item && names && vals
                       ? cc_dynamodb_put_item(&db->ddb, db->table, item, "attribute_not_exists(#k) OR #g = :g",
                                              names, vals, NULL, err)
                       : cc_error_set(err, CC_ENOMEM, "out of memory");
    json_decref(item);
    json_decref(names);
    json_decref(vals);
    if (st != CC_ECONFLICT)
        return st;
    json_t *have = NULL;
    if ((st = get_item(db, DDB_META_PK, DDB_META_SK, &have, err)) != CC_OK)
        return st;
    const char *h = json_string_value(json_object_get(json_object_get(have, "genesis_validators_root"), "S"));
    st = cc_error_set(err, CC_EFORBIDDEN, "slashing table %s is bound to genesis_validators_root %.80s, not %s",
                      db->table, h ? h : "(malformed)", g);
    json_decref(have);
    return st;
}

static void ddb_free(ddb_db *db)
{
    cc_aws_credentials_provider_free(db->creds);
    cc_aws_http_free(db->http);
    cc_check_queue_destroy(&db->queue);
    pthread_mutex_destroy(&db->workers_lock);
    free(db);
}

static void ddb_close(cc_slashing *base)
{
    ddb_db *db = (ddb_db *)base;
    cc_check_queue_stop(&db->queue);
    pthread_mutex_lock(&db->workers_lock);
    db->closing = 1;
    for (size_t i = 0; i < db->nworkers; i++)
        pthread_join(db->workers[i], NULL);
    pthread_mutex_unlock(&db->workers_lock);
    ddb_free(db);
}

static const cc_slashing_ops ddb_ops = {
    .name = "dynamodb",
    .check_block = ddb_check_block,
    .check_attestation = ddb_check_attestation,
    .import = ddb_import,
    .export_ = ddb_export,
    .close = ddb_close,
    .submit = ddb_submit,
};

cc_status cc_slashing_dynamodb_open(const cc_slashing_config *cfg, const uint8_t gvr[32], cc_slashing **out,
                                    cc_error *err)
{
    *out = NULL;
    if (!cfg->table || !*cfg->table)
        return cc_error_set(err, CC_ECONFIG, "anti_slashing.table: required when anti_slashing.backend is dynamodb");
    if (strlen(cfg->table) >= sizeof ((ddb_db *)0)->table)
        return cc_error_set(err, CC_ECONFIG, "anti_slashing.table: too long");
    ddb_db *db = calloc(1, sizeof *db);
    if (!db)
        return cc_error_set(err, CC_ENOMEM, "slashing table: out of memory");
    db->base.ops = &ddb_ops;
    memcpy(db->base.genesis_validators_root, gvr, 32);
    snprintf(db->table, sizeof db->table, "%s", cfg->table);
    cc_check_queue_init(&db->queue);
    pthread_mutex_init(&db->workers_lock, NULL);

    cc_aws_http_options ho;
    cc_aws_http_options_default(&ho);
    ho.pool_size = DDB_WORKERS + 8; /* one warm connection per worker, plus synchronous callers */
    char status[16];
    cc_status st = cc_aws_http_new(&ho, &db->http, err);
    if (st == CC_OK)
        st = cc_aws_credentials_default_new(db->http, cfg->aws_region, cfg->aws_endpoint_sts, &db->creds, err);
    if (st == CC_OK)
        st = cc_dynamodb_init(&db->ddb, db->http, db->creds, cfg->aws_region, cfg->aws_endpoint_dynamodb, err);
    if (st == CC_OK) {
        st = check_schema(&db->ddb, db->table, status, err);
        if (st == CC_ENOTFOUND)
            cc_error_set(err, st = CC_ECONFIG,
                         "anti_slashing.table: dynamodb table %s does not exist (create it with "
                         "`containment-chamber dynamodb create-tables -c config.yaml`)", db->table);
        else if (st == CC_OK && strcmp(status, "ACTIVE") != 0 && strcmp(status, "UPDATING") != 0)
            st = cc_dynamodb_wait_active(&db->ddb, db->table, DDB_ACTIVE_TIMEOUT_MS, err);
    }
    if (st == CC_OK)
        st = bind_gvr(db, gvr, err);
    if (st != CC_OK) {
        if (st != CC_ECONFIG && st != CC_EFORBIDDEN)
            cc_error_prefix(err, "anti_slashing.table %s", db->table);
        ddb_free(db);
        return st;
    }
    cc_log(CC_LOG_INFO, "anti-slashing backend dynamodb", "table", db->table, "endpoint", db->ddb.svc.endpoint,
           "region", db->ddb.svc.region, NULL);
    *out = &db->base;
    return CC_OK;
}
