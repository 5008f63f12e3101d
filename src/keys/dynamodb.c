/*
 * dynamodb.c — the DynamoDB key table and the key source that reads it
 * (keys/dynamodb.h has the item schema and the contract).
 *
 * Table side.  Every write through this file is one TransactWriteItems: the
 * key items with their conditions plus `ADD generation :1` on the generation
 * item, so a reader that sees the counter unchanged knows no write through
 * this interface happened in between.  Reads of the whole table are
 * CC_KEY_TABLE_SHARDS Query streams over the status-shard index (one per
 * shard and status), run by at most max_concurrent_reads threads, each
 * following LastEvaluatedKey to the end of its shard.
 *
 * Source side.  load = read the records (outside any lock), then ONE
 * with_master call whose fn opens every blob on every core, builds a keyset
 * and swaps it into the keyring — all under the chamber's read lock, so a
 * seal (which takes that lock for writing and then runs our wipe hook)
 * happens either before (with_master answers CC_EUNAVAILABLE: nothing
 * installed) or after (the hook removes what was installed).  Nothing that
 * was opened outlives the fn except inside the keyring.
 *
 * Lock order: the chamber's key lock → src->lock → the keyring's lock.  The
 * source never holds src->lock while calling into the chamber.
 *
 * Refresh.  One thread per source wakes every refresh_interval_seconds (or
 * at once on poke / free), asks the chamber for its master version (cheap;
 * CC_EUNAVAILABLE while sealed), GetItems the generation, and reloads when
 * the keys were wiped or never loaded, the master version changed, the
 * generation moved, a poke asked for it, or CC_KEY_TABLE_FULL_READ_SECONDS
 * passed — and again on the next CC_KEY_TABLE_SETTLE_ROUNDS rounds after any such
 * reload, because the index is eventually consistent and a read right after
 * a write can miss it.  A reload whose records (pubkey, blob, master version) hash to the
 * same digest as the keys already held skips the opening.  A failed read
 * keeps the keys already held: DynamoDB being unreachable must not stop
 * signing with keys that were valid a second ago.
 */
#include "keys/dynamodb.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "aws/base64.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/secret.h"

static double mono_now(void);
#define TOMBSTONES_MAX 256
#define TOMBSTONE_SECONDS 10.0 /* well past the index's propagation delay (typically under a second) */
#define ACTIVE_TIMEOUT_MS 60000
#define MAX_PUT 24
#define REFRESH_ERROR_LOG_SECONDS 60
#define CC_KEY_TABLE_SETTLE_ROUNDS 2

const char *cc_key_status_name(cc_key_status s) { return s == CC_KEY_ACTIVE ? "active" : "inactive"; }

void cc_key_record_clear(cc_key_record *r)
{
    if (!r)
        return;
    free(r->mnemonic_age);
    r->mnemonic_age = NULL;
}

static unsigned shard_of(const uint8_t pubkey[48]) { return pubkey[47] % CC_KEY_TABLE_SHARDS; }

static void shard_name(cc_key_status status, unsigned shard, char out[32])
{
    snprintf(out, 32, "%s#%02u", cc_key_status_name(status), shard);
}

static void now_iso(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *pk_key(const uint8_t pubkey[48])
{
    char hex[2 + 96 + 1];
    cc_hex_encode0x(pubkey, 48, hex);
    return json_pack("{s:{s:s}}", "pk", "S", hex);
}

/* ---------------------------------------------------------------- record <-> item */

cc_status cc_key_record_to_item(const cc_key_record *r, json_t **item, cc_error *err)
{
    *item = NULL;
    char hex[2 + 96 + 1], shard[32], ver[16];
    cc_hex_encode0x(r->pubkey, 48, hex);
    if (r->status != CC_KEY_ACTIVE && r->status != CC_KEY_INACTIVE)
        return cc_error_set(err, CC_EINVAL, "key %s: status %d is neither active nor inactive", hex, (int)r->status);
    if (r->sealed_len != CC_SEALED_KEY_LEN)
        return cc_error_set(err, CC_EINVAL, "key %s: sealed blob is %zu bytes, not %d", hex, r->sealed_len,
                            CC_SEALED_KEY_LEN);
    if (r->master_version == 0)
        return cc_error_set(err, CC_EINVAL, "key %s: master_version must be at least 1", hex);
    if (strcmp(r->origin, "generated") != 0 && strcmp(r->origin, "imported") != 0)
        return cc_error_set(err, CC_EINVAL, "key %s: origin must be generated or imported", hex);
    if (!r->created_at[0] || !r->updated_at[0])
        return cc_error_set(err, CC_EINVAL, "key %s: created_at and updated_at are required", hex);
    shard_name(r->status, shard_of(r->pubkey), shard);
    snprintf(ver, sizeof ver, "%u", (unsigned)r->master_version);
    char *b64 = NULL;
    size_t cap = 0;
    if (cc_aws_b64_encode(r->sealed, r->sealed_len, 0, &b64, &cap, err) != CC_OK)
        return err ? err->code : CC_ENOMEM;
    json_t *it = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "pk", "S", hex,
                           "status", "S", cc_key_status_name(r->status), "status_shard", "S", shard, "sealed", "B",
                           b64, "master_version", "N", ver, "origin", "S", r->origin, "created_at", "S", r->created_at,
                           "updated_at", "S", r->updated_at);
    free(b64);
    if (it && r->path[0])
        json_object_set_new(it, "path", json_pack("{s:s}", "S", r->path));
    if (it && r->mnemonic_age)
        json_object_set_new(it, "mnemonic_age", json_pack("{s:s}", "S", r->mnemonic_age));
    if (!it)
        return cc_error_set(err, CC_ENOMEM, "key %s: out of memory encoding the item", hex);
    *item = it;
    return CC_OK;
}

static const char *attr(json_t *item, const char *name, const char *type)
{
    return json_string_value(json_object_get(json_object_get(item, name), type));
}

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[n] == '\0';
}

/* Copies attribute name (type S) into out[cap]: required → CC_EINVAL when missing; too long is always CC_EINVAL. */
static cc_status copy_s(json_t *item, const char *name, int required, char *out, size_t cap, const char *pk,
                        cc_error *err)
{
    const char *v = attr(item, name, "S");
    out[0] = '\0';
    if (!v) {
        if (json_object_get(item, name) || required)
            return cc_error_set(err, CC_EINVAL, "key item %s: attribute %s is missing or not a string", pk, name);
        return CC_OK;
    }
    if (strlen(v) >= cap)
        return cc_error_set(err, CC_EINVAL, "key item %s: attribute %s is longer than %zu characters", pk, name,
                            cap - 1);
    memcpy(out, v, strlen(v) + 1);
    return CC_OK;
}

cc_status cc_key_record_from_item(json_t *item, cc_key_record *r, cc_error *err)
{
    memset(r, 0, sizeof *r);
    const char *pk = attr(item, "pk", "S");
    if (!pk || strncmp(pk, "0x", 2) != 0 || strlen(pk) != 2 + 96 || !is_lower_hex(pk + 2, 96))
        return cc_error_set(err, CC_EINVAL, "key item: attribute pk is not 0x + 96 lower-case hex digits (%.120s)",
                            pk ? pk : "missing");
    if (cc_hex_decode_exact(pk, r->pubkey, 48, err) != CC_OK)
        return cc_error_prefix(err, "key item: attribute pk");

    const char *status = attr(item, "status", "S");
    if (status && strcmp(status, "active") == 0)
        r->status = CC_KEY_ACTIVE;
    else if (status && strcmp(status, "inactive") == 0)
        r->status = CC_KEY_INACTIVE;
    else
        return cc_error_set(err, CC_EINVAL, "key item %s: attribute status is not active or inactive", pk);
    char want[32];
    shard_name(r->status, shard_of(r->pubkey), want);
    const char *shard = attr(item, "status_shard", "S");
    if (!shard || strcmp(shard, want) != 0)
        return cc_error_set(err, CC_EINVAL, "key item %s: attribute status_shard is %.40s, expected %s", pk,
                            shard ? shard : "missing", want);

    const char *b64 = attr(item, "sealed", "B");
    if (!b64)
        return cc_error_set(err, CC_EINVAL, "key item %s: attribute sealed is missing or not binary", pk);
    uint8_t *blob = NULL;
    size_t len = 0, cap = 0;
    if (cc_aws_b64_decode(b64, strlen(b64), 0, "sealed", &blob, &len, &cap, err) != CC_OK)
        return cc_error_prefix(err, "key item %s", pk);
    if (len != CC_SEALED_KEY_LEN) {
        free(blob);
        return cc_error_set(err, CC_EINVAL, "key item %s: attribute sealed is %zu bytes, not %d", pk, len,
                            CC_SEALED_KEY_LEN);
    }
    memcpy(r->sealed, blob, len);
    r->sealed_len = len;
    free(blob);

    const char *ver = attr(item, "master_version", "N");
    char *end = NULL;
    unsigned long long v = ver ? strtoull(ver, &end, 10) : 0;
    if (!ver || !*ver || *end || v < 1 || v > UINT32_MAX)
        return cc_error_set(err, CC_EINVAL, "key item %s: attribute master_version is missing or not in 1..%u", pk,
                            (unsigned)UINT32_MAX);
    r->master_version = (uint32_t)v;

    cc_status st;
    if ((st = copy_s(item, "origin", 1, r->origin, sizeof r->origin, pk, err)) != CC_OK)
        return st;
    if (strcmp(r->origin, "generated") != 0 && strcmp(r->origin, "imported") != 0)
        return cc_error_set(err, CC_EINVAL, "key item %s: attribute origin is not generated or imported", pk);
    if ((st = copy_s(item, "path", 0, r->path, sizeof r->path, pk, err)) != CC_OK ||
        (st = copy_s(item, "created_at", 1, r->created_at, sizeof r->created_at, pk, err)) != CC_OK ||
        (st = copy_s(item, "updated_at", 1, r->updated_at, sizeof r->updated_at, pk, err)) != CC_OK)
        return st;
    if (json_object_get(item, "mnemonic_age")) {
        const char *m = attr(item, "mnemonic_age", "S");
        if (!m)
            return cc_error_set(err, CC_EINVAL, "key item %s: attribute mnemonic_age is not a string", pk);
        if (!(r->mnemonic_age = strdup(m)))
            return cc_error_set(err, CC_ENOMEM, "key item %s: out of memory", pk);
    }
    return CC_OK;
}

/* ---------------------------------------------------------------- the table */

static int has_key(json_t *schema, const char *name, const char *type)
{
    size_t i;
    json_t *e;
    json_array_foreach(schema, i, e) {
        const char *n = json_string_value(json_object_get(e, "AttributeName"));
        const char *t = json_string_value(json_object_get(e, "KeyType"));
        if (n && t && strcmp(n, name) == 0 && strcmp(t, type) == 0)
            return 1;
    }
    return 0;
}

static cc_status check_schema(const cc_dynamodb *ddb, const char *table, cc_error *err)
{
    json_t *desc = NULL;
    char status[16];
    cc_status st = cc_dynamodb_describe_table(ddb, table, &desc, status, err);
    if (st != CC_OK)
        return st;
    json_t *ks = json_object_get(desc, "KeySchema");
    int ok = json_array_size(ks) == 1 && has_key(ks, "pk", "HASH");
    int index_ok = 0;
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(desc, "GlobalSecondaryIndexes"), i, g) {
        const char *name = json_string_value(json_object_get(g, "IndexName"));
        json_t *gks = json_object_get(g, "KeySchema");
        const char *proj = json_string_value(json_object_get(json_object_get(g, "Projection"), "ProjectionType"));
        if (name && strcmp(name, CC_KEY_TABLE_INDEX) == 0 && json_array_size(gks) == 2 &&
            has_key(gks, "status_shard", "HASH") && has_key(gks, "pk", "RANGE") && proj && strcmp(proj, "ALL") == 0)
            index_ok = 1;
    }
    json_decref(desc);
    if (!ok)
        return cc_error_set(err, CC_ECONFIG,
                            "dynamodb table %s: wrong key schema for the key table (want partition key pk (S) and no "
                            "sort key)", table);
    if (!index_ok)
        return cc_error_set(err, CC_ECONFIG,
                            "dynamodb table %s: no global secondary index %s (hash status_shard, range pk, projection "
                            "ALL); the key table needs it", table, CC_KEY_TABLE_INDEX);
    return CC_OK;
}

cc_status cc_key_table_create(const cc_dynamodb *ddb, const char *table, int *created, cc_error *err)
{
    if (created)
        *created = 0;
    cc_status st = check_schema(ddb, table, err);
    if (st == CC_ENOTFOUND) {
        json_t *attrs = json_pack("[{s:s, s:s}, {s:s, s:s}]", "AttributeName", "pk", "AttributeType", "S",
                                  "AttributeName", "status_shard", "AttributeType", "S");
        json_t *schema = json_pack("[{s:s, s:s}]", "AttributeName", "pk", "KeyType", "HASH");
        json_t *gsi = json_pack("[{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:{s:s}}]", "IndexName", CC_KEY_TABLE_INDEX,
                                "KeySchema", "AttributeName", "status_shard", "KeyType", "HASH", "AttributeName",
                                "pk", "KeyType", "RANGE", "Projection", "ProjectionType", "ALL");
        st = attrs && schema && gsi ? cc_dynamodb_create_table_indexed(ddb, table, attrs, schema, gsi, err)
                                    : cc_error_set(err, CC_ENOMEM, "out of memory");
        json_decref(attrs);
        json_decref(schema);
        json_decref(gsi);
        if (st == CC_OK && created)
            *created = 1;
        if (st == CC_ECONFLICT) /* created by someone else meanwhile */
            st = check_schema(ddb, table, err);
        if (st != CC_OK)
            return st;
    } else if (st != CC_OK) {
        return st;
    }
    if ((st = cc_dynamodb_wait_active(ddb, table, ACTIVE_TIMEOUT_MS, err)) != CC_OK)
        return st;
    return check_schema(ddb, table, err);
}

/* The transaction action that bumps the generation counter. */
static json_t *generation_bump(const char *table)
{
    return json_pack("{s:{s:s, s:{s:{s:s}}, s:s, s:{s:s}, s:{s:{s:s}}}}", "Update", "TableName", table, "Key", "pk",
                     "S", CC_KEY_TABLE_GENERATION_PK, "UpdateExpression", "ADD #g :one", "ExpressionAttributeNames",
                     "#g", "generation", "ExpressionAttributeValues", ":one", "N", "1");
}

cc_status cc_key_table_put_new(const cc_dynamodb *ddb, const char *table, const cc_key_record *records,
                               size_t count, size_t *conflict_index, cc_error *err)
{
    if (count == 0 || count > MAX_PUT)
        return cc_error_set(err, CC_EINVAL, "key table %s: put_new takes 1 to %d records, not %zu", table, MAX_PUT,
                            count);
    for (size_t i = 0; i < count; i++)
        for (size_t j = 0; j < i; j++)
            if (memcmp(records[i].pubkey, records[j].pubkey, 48) == 0) {
                if (conflict_index)
                    *conflict_index = i;
                return cc_error_set(err, CC_ECONFLICT, "records[%zu]: the same public key as records[%zu]", i, j);
            }
    json_t *actions = json_array();
    if (!actions)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cc_status st = CC_OK;
    for (size_t i = 0; i < count && st == CC_OK; i++) {
        json_t *item = NULL;
        if ((st = cc_key_record_to_item(&records[i], &item, err)) != CC_OK) {
            cc_error_prefix(err, "records[%zu]", i);
            break;
        }
        json_t *a = json_pack("{s:{s:s, s:o, s:s, s:{s:s}}}", "Put", "TableName", table, "Item", item,
                              "ConditionExpression", "attribute_not_exists(#pk)", "ExpressionAttributeNames", "#pk",
                              "pk");
        if (!a || json_array_append_new(actions, a) != 0)
            st = cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    if (st == CC_OK && json_array_append_new(actions, generation_bump(table)) != 0)
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
    size_t at = 0;
    if (st == CC_OK)
        st = cc_dynamodb_transact_write(ddb, actions, &at, err);
    json_decref(actions);
    if (st == CC_ECONFLICT && at < count) {
        char hex[2 + 96 + 1];
        cc_hex_encode0x(records[at].pubkey, 48, hex);
        if (conflict_index)
            *conflict_index = at;
        return cc_error_set(err, CC_ECONFLICT, "records[%zu]: key %s is already in table %s", at, hex, table);
    }
    return st;
}

/* A 2-action transaction: `action` on the key item (conditioned on its existence) + the generation bump. */
static cc_status write_existing(const cc_dynamodb *ddb, const char *table, const uint8_t pubkey[48], json_t *action,
                                const char *what, cc_error *err)
{
    json_t *actions = action ? json_pack("[o, o]", action, generation_bump(table)) : NULL;
    if (!actions)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    size_t at = 99;
    cc_status st = cc_dynamodb_transact_write(ddb, actions, &at, err);
    json_decref(actions);
    if (st == CC_ECONFLICT && at == 0) {
        char hex[2 + 96 + 1];
        cc_hex_encode0x(pubkey, 48, hex);
        return cc_error_set(err, CC_ENOTFOUND, "%s: key %s is not in table %s", what, hex, table);
    }
    return st;
}

cc_status cc_key_table_set_status(const cc_dynamodb *ddb, const char *table, const uint8_t pubkey[48],
                                  cc_key_status status, cc_error *err)
{
    if (status != CC_KEY_ACTIVE && status != CC_KEY_INACTIVE)
        return cc_error_set(err, CC_EINVAL, "status %d is neither active nor inactive", (int)status);
    char shard[32], now[32];
    shard_name(status, shard_of(pubkey), shard);
    now_iso(now);
    json_t *key = pk_key(pubkey);
    json_t *a = key ? json_pack("{s:{s:s, s:o, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:{s:{s:s}, s:{s:s}, s:{s:s}}}}",
                                "Update", "TableName", table, "Key", key, "UpdateExpression",
                                "SET #s = :s, #ss = :ss, #u = :u", "ConditionExpression", "attribute_exists(#pk)",
                                "ExpressionAttributeNames", "#s", "status", "#ss", "status_shard", "#u", "updated_at",
                                "#pk", "pk", "ExpressionAttributeValues", ":s", "S", cc_key_status_name(status),
                                ":ss", "S", shard, ":u", "S", now)
                    : NULL;
    return write_existing(ddb, table, pubkey, a, "set status", err);
}

cc_status cc_key_table_delete(const cc_dynamodb *ddb, const char *table, const uint8_t pubkey[48], cc_error *err)
{
    json_t *key = pk_key(pubkey);
    json_t *a = key ? json_pack("{s:{s:s, s:o, s:s, s:{s:s}}}", "Delete", "TableName", table, "Key", key,
                                "ConditionExpression", "attribute_exists(#pk)", "ExpressionAttributeNames", "#pk", "pk")
                    : NULL;
    return write_existing(ddb, table, pubkey, a, "delete", err);
}

cc_status cc_key_table_get(const cc_dynamodb *ddb, const char *table, const uint8_t pubkey[48], cc_key_record *r,
                           int *found, cc_error *err)
{
    *found = 0;
    json_t *key = pk_key(pubkey), *item = NULL;
    if (!key)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cc_status st = cc_dynamodb_get_item(ddb, table, key, 1, &item, err);
    json_decref(key);
    if (st != CC_OK || !item)
        return st;
    cc_key_record tmp;
    st = cc_key_record_from_item(item, &tmp, err);
    json_decref(item);
    if (st != CC_OK)
        return cc_error_prefix(err, "key table %s", table);
    *r = tmp;
    *found = 1;
    return CC_OK;
}

cc_status cc_key_table_generation(const cc_dynamodb *ddb, const char *table, uint64_t *generation, cc_error *err)
{
    *generation = 0;
    json_t *key = json_pack("{s:{s:s}}", "pk", "S", CC_KEY_TABLE_GENERATION_PK), *item = NULL;
    if (!key)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cc_status st = cc_dynamodb_get_item(ddb, table, key, 1, &item, err);
    json_decref(key);
    if (st != CC_OK || !item)
        return st;
    const char *g = attr(item, "generation", "N");
    char *end = NULL;
    unsigned long long v = g ? strtoull(g, &end, 10) : 0;
    if (!g || !*g || *end)
        st = cc_error_set(err, CC_EINVAL, "key table %s: item %s has no numeric generation", table,
                          CC_KEY_TABLE_GENERATION_PK);
    else
        *generation = v;
    json_decref(item);
    return st;
}

/* ---------------------------------------------------------------- parallel read */

typedef struct shard_out {
    cc_key_record *recs;
    size_t n, cap;
    size_t malformed;
    cc_status st;
    cc_error err;
} shard_out;

typedef struct read_job {
    const cc_dynamodb *ddb;
    const char *table;
    unsigned nstreams;      /* shards × statuses */
    int status;             /* < 0: both */
    _Atomic unsigned next;
    _Atomic int failed;     /* stop early once one stream failed */
    shard_out *out;         /* nstreams */
} read_job;

static cc_status read_stream(read_job *job, unsigned s, shard_out *o)
{
    cc_key_status status = job->status >= 0 ? (cc_key_status)job->status
                                            : (s < CC_KEY_TABLE_SHARDS ? CC_KEY_ACTIVE : CC_KEY_INACTIVE);
    char shard[32];
    shard_name(status, s % CC_KEY_TABLE_SHARDS, shard);
    json_t *names = json_pack("{s:s}", "#ss", "status_shard");
    json_t *values = json_pack("{s:{s:s}}", ":ss", "S", shard);
    json_t *start = NULL;
    cc_status st = names && values ? CC_OK : cc_error_set(&o->err, CC_ENOMEM, "out of memory");
    unsigned pages = 0;
    while (st == CC_OK && !atomic_load(&job->failed)) {
        json_t *items = NULL, *last = NULL;
        st = cc_dynamodb_query(job->ddb, job->table, CC_KEY_TABLE_INDEX, "#ss = :ss", names, values, 0, 0, start,
                               &items, &last, &o->err);
        json_decref(start);
        start = NULL;
        if (st != CC_OK) {
            cc_error_prefix(&o->err, "key table %s, index %s, shard %s", job->table, CC_KEY_TABLE_INDEX, shard);
            break;
        }
        pages++;
        size_t need = o->n + json_array_size(items);
        if (need > o->cap) {
            size_t cap = o->cap ? o->cap : 64;
            while (cap < need)
                cap *= 2;
            cc_key_record *nr = realloc(o->recs, cap * sizeof *nr);
            if (!nr) {
                json_decref(items);
                json_decref(last);
                st = cc_error_set(&o->err, CC_ENOMEM, "out of memory reading shard %s", shard);
                break;
            }
            o->recs = nr;
            o->cap = cap;
        }
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            cc_error e;
            if (cc_key_record_from_item(it, &o->recs[o->n], &e) != CC_OK) {
                o->malformed++;
                cc_log(CC_LOG_WARN, "dynamodb keys: skipping a malformed item", "table", job->table, "reason", e.msg,
                       NULL);
                continue;
            }
            o->n++;
        }
        json_decref(items);
        if (!last)
            break;
        start = last;
    }
    json_decref(start);
    json_decref(names);
    json_decref(values);
    return st;
}

static void *read_main(void *arg)
{
    read_job *job = arg;
    for (;;) {
        unsigned s = atomic_fetch_add(&job->next, 1);
        if (s >= job->nstreams || atomic_load(&job->failed))
            break;
        shard_out *o = &job->out[s];
        o->st = read_stream(job, s, o);
        if (o->st != CC_OK)
            atomic_store(&job->failed, 1);
    }
    return NULL;
}

static cc_status read_all_ex(const cc_dynamodb *ddb, const char *table, int status, unsigned max_concurrent_reads,
                             cc_key_record **records, size_t *count, size_t *malformed, cc_error *err)
{
    *records = NULL;
    *count = 0;
    if (malformed)
        *malformed = 0;
    read_job job = {.ddb = ddb, .table = table, .status = status};
    job.nstreams = status < 0 ? 2 * CC_KEY_TABLE_SHARDS : CC_KEY_TABLE_SHARDS;
    atomic_init(&job.next, 0);
    atomic_init(&job.failed, 0);
    job.out = calloc(job.nstreams, sizeof *job.out);
    if (!job.out)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    unsigned nthreads = max_concurrent_reads ? max_concurrent_reads : 1;
    if (nthreads > job.nstreams)
        nthreads = job.nstreams;
    pthread_t *t = calloc(nthreads, sizeof *t);
    unsigned started = 0;
    for (unsigned i = 0; t && i < nthreads; i++)
        if (pthread_create(&t[i], NULL, read_main, &job) == 0)
            started++;
    if (started == 0)
        read_main(&job); /* no thread could start: read on this one */
    for (unsigned i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    free(t);

    cc_status st = CC_OK;
    size_t total = 0, bad = 0;
    for (unsigned s = 0; s < job.nstreams; s++) {
        if (job.out[s].st != CC_OK && st == CC_OK) {
            st = job.out[s].st;
            if (err)
                *err = job.out[s].err;
        }
        total += job.out[s].n;
        bad += job.out[s].malformed;
    }
    cc_key_record *all = NULL;
    if (st == CC_OK && total && !(all = malloc(total * sizeof *all)))
        st = cc_error_set(err, CC_ENOMEM, "out of memory for %zu key records", total);
    size_t n = 0;
    for (unsigned s = 0; s < job.nstreams; s++) {
        for (size_t i = 0; i < job.out[s].n; i++) {
            if (st == CC_OK)
                all[n++] = job.out[s].recs[i];
            else
                cc_key_record_clear(&job.out[s].recs[i]);
        }
        free(job.out[s].recs);
    }
    free(job.out);
    if (st != CC_OK)
        return st;
    *records = all;
    *count = n;
    if (malformed)
        *malformed = bad;
    return CC_OK;
}

cc_status cc_key_table_read_all(const cc_dynamodb *ddb, const char *table, int status, unsigned max_concurrent_reads,
                                cc_key_record **records, size_t *count, cc_error *err)
{
    return read_all_ex(ddb, table, status, max_concurrent_reads, records, count, NULL, err);
}

static void records_free(cc_key_record *recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cc_key_record_clear(&recs[i]);
    free(recs);
}

/* ---------------------------------------------------------------- the source */

typedef struct dyn_source {
    cc_key_source base;
    const cc_dynamodb *ddb;
    char *table;
    int status_filter;
    unsigned refresh_seconds;
    unsigned max_reads;
    cc_with_master_fn with_master;
    void *with_master_ctx;
    cc_other_master_fn other_master; /* rotation in flight: the older master (may be NULL) */

    pthread_mutex_t lock;
    pthread_cond_t cv;
    /* under lock */
    cc_keyring *ring;            /* the ring of start_refresh (or the last load) */
    int loaded;                  /* the ring holds what `digest` describes; 0 after a wipe */
    uint8_t digest[32];          /* SHA-256 over the loaded records' (pubkey, master_version, blob) */
    uint32_t loaded_version;     /* master version of the last load */
    size_t loaded_failed;
    int poked, stopping;
    int refresh_started;
    /* Keys this replica deactivated or deleted lately: a refresh that read the
     * (eventually consistent) index before the write must not bring them back. */
    struct tombstone {
        uint8_t pubkey[48];
        double at; /* mono_now() of the forget; 0 = free slot */
    } tombstones[TOMBSTONES_MAX];
    pthread_t refresh;
} dyn_source;

/* Digest of a record set, order-independent: records sorted by pubkey first. */
static int cmp_rec(const void *a, const void *b)
{
    return memcmp(((const cc_key_record *)a)->pubkey, ((const cc_key_record *)b)->pubkey, 48);
}

static void records_digest(cc_key_record *recs, size_t n, uint8_t out[32])
{
    if (n > 1) /* recs is NULL for an empty table: qsort must not see it */
        qsort(recs, n, sizeof *recs, cmp_rec);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned len = 0;
    memset(out, 0, 32);
    if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1) {
        for (size_t i = 0; i < n; i++) {
            uint8_t v[4] = {(uint8_t)(recs[i].master_version >> 24), (uint8_t)(recs[i].master_version >> 16),
                            (uint8_t)(recs[i].master_version >> 8), (uint8_t)recs[i].master_version};
            EVP_DigestUpdate(c, recs[i].pubkey, 48);
            EVP_DigestUpdate(c, v, 4);
            EVP_DigestUpdate(c, recs[i].sealed, recs[i].sealed_len);
        }
        EVP_DigestFinal_ex(c, out, &len);
    }
    EVP_MD_CTX_free(c);
}

static unsigned ncores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (unsigned)n;
}

/* What the with_master fn of a load works on. */
typedef struct open_job {
    dyn_source *src;
    cc_keyring *ring;
    const cc_key_record *recs;
    size_t n;
    const uint8_t *digest;
    int skip_if_same;            /* the records' digest equals the held one: keep the keys */
    /* set inside */
    const uint8_t *master;
    uint32_t version;
    const uint8_t *other;        /* a second master held during a master-key rotation, or NULL */
    uint32_t other_version;
    cc_keyset *set;
    _Atomic size_t next;
    _Atomic size_t failed;
    int skipped;
} open_job;

static void *open_main(void *arg)
{
    open_job *j = arg;
    uint8_t *sk = cc_secret_alloc(32);
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n)
            break;
        const cc_key_record *r = &j->recs[i];
        char hex[2 + 96 + 1];
        cc_error e;
        cc_status st;
        if (!sk)
            st = cc_error_set(&e, CC_ENOMEM, "out of secret memory");
        else if (r->master_version != j->version && !(j->other && r->master_version == j->other_version))
            st = cc_error_set(&e, CC_ECRYPTO, "sealed under master-key version %u, the chamber holds version %u",
                              (unsigned)r->master_version, (unsigned)j->version);
        else if ((st = cc_sealed_key_open(r->master_version == j->version ? j->master : j->other, r->master_version,
                                          r->pubkey, r->sealed, r->sealed_len, sk, &e)) == CC_OK)
            st = cc_keyset_add_checked(j->set, sk, r->pubkey, &e); /* open checked sk ↔ pubkey */
        if (sk)
            cc_secret_wipe(sk, 32);
        if (st != CC_OK) {
            atomic_fetch_add(&j->failed, 1);
            cc_hex_encode0x(r->pubkey, 48, hex);
            cc_log(CC_LOG_ERROR, "dynamodb keys: a key does not open; skipped", "pubkey", hex, "reason", e.msg, NULL);
        }
    }
    cc_secret_free(sk, 32);
    return NULL;
}

/* Runs under the chamber's read lock (with_master): opens every blob, then swaps the set in. */
static cc_status open_all(void *arg, const uint8_t master[32], uint32_t version)
{
    open_job *j = arg;
    dyn_source *src = j->src;
    j->version = version;
    pthread_mutex_lock(&src->lock);
    int same = j->skip_if_same && src->loaded && src->ring == j->ring && src->loaded_version == version &&
               memcmp(src->digest, j->digest, 32) == 0;
    size_t held_failed = src->loaded_failed;
    pthread_mutex_unlock(&src->lock);
    if (same) {
        j->skipped = 1;
        atomic_store(&j->failed, held_failed);
        return CC_OK;
    }
    j->master = master;
    j->other = src->other_master ? src->other_master(src->with_master_ctx, &j->other_version) : NULL;
    j->set = cc_keyset_new();
    if (!j->set)
        return CC_ENOMEM; /* do_load names it */
    unsigned nt = ncores();
    if (nt > j->n)
        nt = j->n ? (unsigned)j->n : 1;
    pthread_t t[256];
    unsigned started = 0;
    for (unsigned i = 1; i < nt; i++)
        if (pthread_create(&t[started], NULL, open_main, j) == 0)
            started++;
    open_main(j); /* this thread works too */
    for (unsigned i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    j->master = NULL;
    j->other = NULL;
    pthread_mutex_lock(&src->lock);
    /* A forget since do_load filtered the records: drop it here too, and keep
     * no digest, so the next load reopens rather than trusting this set. */
    int late = 0;
    for (size_t i = 0; i < TOMBSTONES_MAX; i++)
        if (src->tombstones[i].at != 0)
            late |= cc_keyset_remove(j->set, src->tombstones[i].pubkey);
    cc_keyring_replace_origin(j->ring, CC_KEY_DYNAMODB, j->set);
    j->set = NULL;
    src->ring = j->ring;
    src->loaded = !late;
    memcpy(src->digest, j->digest, 32);
    src->loaded_version = version;
    src->loaded_failed = atomic_load(&j->failed);
    pthread_mutex_unlock(&src->lock);
    return CC_OK;
}

static cc_status get_version(void *arg, const uint8_t master[32], uint32_t version)
{
    (void)master;
    *(uint32_t *)arg = version;
    return CC_OK;
}

/* Removes this source's keys from its ring (sealed). */
static void drop_keys(dyn_source *src, cc_keyring *ring)
{
    pthread_mutex_lock(&src->lock);
    src->loaded = 0;
    if (!src->ring)
        src->ring = ring;
    if (src->ring && cc_keyring_count(src->ring, CC_KEY_DYNAMODB))
        cc_keyring_replace_origin(src->ring, CC_KEY_DYNAMODB, NULL);
    pthread_mutex_unlock(&src->lock);
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Expires old tombstones, then removes the records of tombstoned keys from
 * recs (before the digest, so a held set without them compares equal).
 * Returns the new count.
 */
static size_t drop_tombstoned(dyn_source *src, cc_key_record *recs, size_t n)
{
    pthread_mutex_lock(&src->lock);
    double now = mono_now();
    for (size_t t = 0; t < TOMBSTONES_MAX; t++) {
        struct tombstone *ts = &src->tombstones[t];
        if (ts->at == 0)
            continue;
        if (now - ts->at > TOMBSTONE_SECONDS) {
            ts->at = 0;
            continue;
        }
        for (size_t i = 0; i < n; i++)
            if (memcmp(recs[i].pubkey, ts->pubkey, 48) == 0) {
                cc_key_record_clear(&recs[i]);
                recs[i] = recs[--n];
                break;
            }
    }
    pthread_mutex_unlock(&src->lock);
    return n;
}

static int tombstones_held(dyn_source *src)
{
    for (size_t t = 0; t < TOMBSTONES_MAX; t++)
        if (src->tombstones[t].at != 0)
            return 1;
    return 0;
}

/* One load; skip_if_same lets a refresh keep keys whose records did not change. */
static cc_status do_load(dyn_source *src, cc_keyring *ring, int skip_if_same, cc_key_load_report *report,
                         cc_error *err)
{
    double t0 = mono_now();
    if (report)
        memset(report, 0, sizeof *report);
    uint32_t version = 0;
    cc_status st = src->with_master(src->with_master_ctx, get_version, &version, err);
    if (st != CC_OK) {
        if (st == CC_EUNAVAILABLE)
            drop_keys(src, ring);
        return st;
    }
    cc_key_record *recs = NULL;
    size_t n = 0, malformed = 0;
    if ((st = read_all_ex(src->ddb, src->table, src->status_filter, src->max_reads, &recs, &n, &malformed, err)) !=
        CC_OK)
        return st;
    n = drop_tombstoned(src, recs, n);
    uint8_t digest[32];
    records_digest(recs, n, digest);
    open_job job = {.src = src, .ring = ring, .recs = recs, .n = n, .digest = digest, .skip_if_same = skip_if_same};
    atomic_init(&job.next, 0);
    atomic_init(&job.failed, 0);
    st = src->with_master(src->with_master_ctx, open_all, &job, err);
    cc_keyset_free(job.set); /* only when open_all stopped half-way */
    records_free(recs, n);
    if (st == CC_EUNAVAILABLE) /* sealed between the two calls */
        drop_keys(src, ring);
    else if (st == CC_ENOMEM)
        cc_error_set(err, st, "key table %s: out of memory for the key set", src->table);
    if (st != CC_OK)
        return st;
    size_t failed = atomic_load(&job.failed) + malformed;
    if (report) {
        report->loaded = cc_keyring_count(ring, CC_KEY_DYNAMODB);
        report->failed = failed;
        report->seconds = mono_now() - t0;
    }
    if (!job.skipped) {
        char c[24], f[24], s[32], v[16];
        snprintf(c, sizeof c, "%zu", cc_keyring_count(ring, CC_KEY_DYNAMODB));
        snprintf(f, sizeof f, "%zu", failed);
        snprintf(s, sizeof s, "%.3f", mono_now() - t0);
        snprintf(v, sizeof v, "%u", (unsigned)version);
        cc_log(failed ? CC_LOG_WARN : CC_LOG_INFO, "dynamodb keys loaded", "table", src->table, "count", c, "failed",
               f, "seconds", s, "master_version", v, NULL);
    }
    return CC_OK;
}

static cc_status dyn_load(cc_key_source *base, cc_keyring *ring, cc_key_load_report *report, cc_error *err)
{
    return do_load((dyn_source *)base, ring, 0, report, err);
}

static void *refresh_main(void *arg)
{
    dyn_source *src = arg;
    uint64_t last_gen = 0;
    int have_gen = 0;
    double last_full = 0, last_error_log = 0;
    char last_error[CC_ERROR_MSG_MAX] = "";
    int first = 1;
    unsigned settle = 0; /* rounds that re-read after a change: the index is eventually consistent */
    pthread_mutex_lock(&src->lock);
    while (!src->stopping) {
        if (!first && !src->poked) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += src->refresh_seconds;
            while (!src->stopping && !src->poked)
                if (pthread_cond_timedwait(&src->cv, &src->lock, &until) != 0)
                    break;
        }
        if (src->stopping)
            break;
        first = 0;
        int poked = src->poked || tombstones_held(src); /* read until the forgets expire */
        src->poked = 0;
        cc_keyring *ring = src->ring;
        int loaded = src->loaded;
        uint32_t held_version = src->loaded_version;
        pthread_mutex_unlock(&src->lock);

        cc_error err;
        cc_error_clear(&err);
        uint32_t version = 0;
        cc_status st = src->with_master(src->with_master_ctx, get_version, &version, &err);
        if (st == CC_EUNAVAILABLE) {
            drop_keys(src, ring); /* sealed: the hook did it already, unless the load raced it */
            have_gen = 0;
            st = CC_OK;
        } else if (st == CC_OK) {
            uint64_t gen = 0;
            st = cc_key_table_generation(src->ddb, src->table, &gen, &err);
            double now = mono_now();
            int changed = poked || !loaded || version != held_version || !have_gen || gen != last_gen;
            if (st == CC_OK && (changed || settle || now - last_full >= CC_KEY_TABLE_FULL_READ_SECONDS)) {
                st = do_load(src, ring, 1, NULL, &err);
                if (st == CC_OK) {
                    /* A write seconds ago may not be in the index yet: read again on the next rounds
                     * (cheap when nothing changed: the digest matches and nothing is reopened). */
                    settle = changed ? CC_KEY_TABLE_SETTLE_ROUNDS : settle ? settle - 1 : 0;
                    last_gen = gen;
                    have_gen = 1;
                    last_full = now;
                }
                if (st == CC_EUNAVAILABLE)
                    st = CC_OK;
            }
        }
        if (st != CC_OK) {
            double now = mono_now();
            if (strcmp(err.msg, last_error) != 0 || now - last_error_log >= REFRESH_ERROR_LOG_SECONDS) {
                cc_log(CC_LOG_WARN, "dynamodb keys: refresh failed; the keys held are kept", "table", src->table,
                       "reason", err.msg, NULL);
                snprintf(last_error, sizeof last_error, "%s", err.msg);
                last_error_log = now;
            }
        } else if (last_error[0]) {
            cc_log(CC_LOG_INFO, "dynamodb keys: refresh works again", "table", src->table, NULL);
            last_error[0] = '\0';
        }
        pthread_mutex_lock(&src->lock);
    }
    pthread_mutex_unlock(&src->lock);
    return NULL;
}

static void dyn_free(cc_key_source *base)
{
    dyn_source *src = (dyn_source *)base;
    if (!src)
        return;
    pthread_mutex_lock(&src->lock);
    src->stopping = 1;
    pthread_cond_broadcast(&src->cv);
    int started = src->refresh_started;
    pthread_mutex_unlock(&src->lock);
    if (started)
        pthread_join(src->refresh, NULL);
    pthread_mutex_destroy(&src->lock);
    pthread_cond_destroy(&src->cv);
    free(src->table);
    free(src);
}

static const cc_key_source_ops dyn_ops = {"dynamodb", dyn_load, dyn_free};

cc_status cc_key_source_dynamodb_new(const cc_key_source_dynamodb_config *cfg, cc_key_source **out, cc_error *err)
{
    *out = NULL;
    if (!cfg->ddb || !cfg->table || !cfg->table[0] || !cfg->with_master)
        return cc_error_set(err, CC_ECONFIG, "key_sources.dynamodb: a table, a DynamoDB client and the chamber's "
                                             "master key are required");
    if (cfg->status_filter != CC_KEY_ACTIVE && cfg->status_filter != -1)
        return cc_error_set(err, CC_ECONFIG, "key_sources.dynamodb.status_filter: must be active or all");
    dyn_source *src = calloc(1, sizeof *src);
    if (!src || !(src->table = strdup(cfg->table))) {
        free(src);
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    src->base.ops = &dyn_ops;
    src->ddb = cfg->ddb;
    src->status_filter = cfg->status_filter;
    src->refresh_seconds = cfg->refresh_interval_seconds ? cfg->refresh_interval_seconds : 1;
    src->max_reads = cfg->max_concurrent_reads ? cfg->max_concurrent_reads : 16;
    src->with_master = cfg->with_master;
    src->with_master_ctx = cfg->with_master_ctx;
    src->other_master = cfg->other_master;
    pthread_mutex_init(&src->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&src->cv, &ca);
    pthread_condattr_destroy(&ca);
    *out = &src->base;
    return CC_OK;
}

cc_status cc_key_source_dynamodb_start_refresh(cc_key_source *base, cc_keyring *ring, cc_error *err)
{
    dyn_source *src = (dyn_source *)base;
    pthread_mutex_lock(&src->lock);
    cc_status st = CC_OK;
    if (src->refresh_started)
        st = cc_error_set(err, CC_ECONFLICT, "key_sources.dynamodb: the refresh is already running");
    else {
        if (src->ring != ring)
            src->loaded = 0;
        src->ring = ring;
        if (pthread_create(&src->refresh, NULL, refresh_main, src) == 0)
            src->refresh_started = 1;
        else
            st = cc_error_set(err, CC_ENOMEM, "key_sources.dynamodb: cannot start the refresh thread");
    }
    pthread_mutex_unlock(&src->lock);
    return st;
}

void cc_key_source_dynamodb_poke(cc_key_source *base)
{
    dyn_source *src = (dyn_source *)base;
    pthread_mutex_lock(&src->lock);
    src->poked = 1;
    pthread_cond_broadcast(&src->cv);
    pthread_mutex_unlock(&src->lock);
}

void cc_key_source_dynamodb_wipe(cc_key_source *base)
{
    dyn_source *src = (dyn_source *)base;
    pthread_mutex_lock(&src->lock);
    src->loaded = 0;
    cc_keyring *ring = src->ring;
    if (ring)
        cc_keyring_replace_origin(ring, CC_KEY_DYNAMODB, NULL);
    pthread_mutex_unlock(&src->lock);
}

void cc_key_source_dynamodb_forget(cc_key_source *base, const uint8_t pubkey[48])
{
    dyn_source *src = (dyn_source *)base;
    pthread_mutex_lock(&src->lock);
    double now = mono_now();
    struct tombstone *slot = NULL;
    for (size_t i = 0; i < TOMBSTONES_MAX; i++) {
        struct tombstone *t = &src->tombstones[i];
        if (t->at != 0 && memcmp(t->pubkey, pubkey, 48) == 0) {
            slot = t;
            break;
        }
        if (!slot || t->at < slot->at) /* a free slot, else the oldest */
            slot = t;
    }
    memcpy(slot->pubkey, pubkey, 48);
    slot->at = now;
    /* Under src->lock, as every swap is: no refresh can put it back in between. */
    if (src->ring && cc_keyring_origin(src->ring, pubkey) == CC_KEY_DYNAMODB)
        cc_keyring_remove(src->ring, pubkey, NULL);
    src->loaded = 0; /* the ring no longer holds what `digest` describes */
    src->poked = 1;
    pthread_cond_broadcast(&src->cv);
    pthread_mutex_unlock(&src->lock);
}

void cc_key_source_dynamodb_remember(cc_key_source *base, const uint8_t pubkey[48])
{
    dyn_source *src = (dyn_source *)base;
    pthread_mutex_lock(&src->lock);
    for (size_t i = 0; i < TOMBSTONES_MAX; i++)
        if (src->tombstones[i].at != 0 && memcmp(src->tombstones[i].pubkey, pubkey, 48) == 0)
            src->tombstones[i].at = 0;
    src->poked = 1;
    pthread_cond_broadcast(&src->cv);
    pthread_mutex_unlock(&src->lock);
}
