/*
 * chamber_keys.c — the Chamber API's key management (SPEC §2.3; docs/openapi/chamber.yaml):
 *
 *   GET    /api/v1/chamber/keys[?status=active|inactive]  table records + memory and filesystem keys
 *   POST   /api/v1/chamber/keys/generate  {count, start_index?}  chamber.keys.generate.enabled
 *   POST   /api/v1/chamber/keys           {keystores, passwords, storage?: {persist}}  chamber.keys.import.enabled
 *   PATCH  /api/v1/chamber/keys/{pubkey}  {status: active|inactive}  chamber.keys.lifecycle.enabled
 *   DELETE /api/v1/chamber/keys/{pubkey}                                chamber.keys.lifecycle.enabled
 *
 * Every route answers 503 while the chamber cannot sign (sealed), a
 * disabled verb 403 naming its flag, errors {"error": ...} naming the field.
 * Each request logs exactly one line (request id, route, HTTP status,
 * outcome); no secret, mnemonic or password ever reaches a log or an answer.
 *
 * Generation: a fresh 24-word mnemonic (CSPRNG), its BIP-39 seed, and the
 * EIP-2333 keys at m/12381/3600/i/0/0.  With chamber.keys.generate.backup the
 * mnemonic is age-encrypted to the configured recipients before anything
 * else, returned once as mnemonic_backup and kept in every item
 * (mnemonic_age).  The plaintext mnemonic and seed are wiped right after
 * derivation: without a backup the key table is the only copy of the keys.
 *
 * Keys written to the table are also added to this replica's keyring at
 * once (origin dynamodb), and the key source is poked so the others follow
 * within their refresh interval.  Deactivation and deletion remove the key
 * from the keyring before answering, so this replica stops signing with it
 * at once.  Anti-slashing records are never deleted.
 *
 * Write routes are serialised by the module's mutex; signing never takes it.
 */
#include "api/chamber.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/keymanager.h"
#include "chamber/chamber.h"
#include "keys/age.h"
#include "keys/bip39.h"
#include "keys/dynamodb.h"
#include "keys/eip2333.h"
#include "keys/sealed_key.h"
#include "signing/bls.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/secret.h"

#define CK_PUT_CHUNK 24 /* cc_key_table_put_new's most records per call */
#define CK_HEX_LEN (2 * CC_BLS_PUBKEY_LEN + 3)

static pthread_mutex_t ck_write_lock = PTHREAD_MUTEX_INITIALIZER;

/* What the one log line of a request says. */
typedef struct ck_req {
    cc_app *app;
    const cc_http_request *req;
    cc_http_response *res;
    const char *route;        /* "GET keys", "POST keys/generate", ... */
    char pubkey[CK_HEX_LEN];  /* the key a PATCH / DELETE is about */
    char outcome[CC_ERROR_MSG_MAX];
} ck_req;

/* ------------------------------------------------------------------------ */
/* Replies                                                                  */

static void reply_json(ck_req *c, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        cc_http_reply_error(c->res, 500, "out of memory");
        snprintf(c->outcome, sizeof c->outcome, "out of memory");
        return;
    }
    free(c->res->body);
    c->res->status = status;
    c->res->content_type = "application/json";
    c->res->body = text;
    c->res->body_len = strlen(text);
}

static void fail(ck_req *c, int status, const char *message)
{
    cc_http_reply_error(c->res, status, message);
    snprintf(c->outcome, sizeof c->outcome, "%s", message);
}

static void fail_err(ck_req *c, const cc_error *err)
{
    fail(c, cc_status_http(err->code), err->msg);
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static const char *key_table(const cc_app *app)
{
    return app->dynamodb && app->cfg && app->cfg->dynamodb_keys_table[0] ? app->cfg->dynamodb_keys_table : NULL;
}

static void iso_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static cc_status parse_object(const cc_http_request *req, json_t **out, cc_error *err)
{
    json_error_t jerr;
    *out = json_loadb(req->body ? req->body : "", req->body_len, 0, &jerr);
    if (!*out)
        return cc_error_set(err, CC_EINVAL, "body: not valid JSON at line %d column %d: %s", jerr.line, jerr.column,
                            jerr.text);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return cc_error_set(err, CC_EINVAL, "body: expected a JSON object");
    }
    return CC_OK;
}

static void poke(cc_app *app)
{
    if (app->dynamodb_keys)
        cc_key_source_dynamodb_poke(app->dynamodb_keys);
}

/* Seals n secrets (32 bytes each at sks) for their pubkeys into records, under the master key. */
typedef struct seal_job {
    const uint8_t *sks;
    cc_key_record *records;
    size_t n;
} seal_job;

static cc_status seal_all(void *arg, const uint8_t master[32], uint32_t version)
{
    seal_job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        cc_key_record *r = &j->records[i];
        cc_error e;
        cc_status st = cc_sealed_key_seal(master, version, r->pubkey, j->sks + 32 * i, r->sealed, &r->sealed_len, &e);
        if (st != CC_OK)
            return st;
        r->master_version = version;
    }
    return CC_OK;
}

/* Opens one record's sealed blob into sk (secret memory). */
typedef struct open_job {
    const cc_key_record *record;
    uint8_t *sk;
    cc_error err;
} open_job;

static cc_status open_one(void *arg, const uint8_t master[32], uint32_t version)
{
    open_job *j = arg;
    const cc_key_record *r = j->record;
    if (r->master_version != version)
        return cc_error_set(&j->err, CC_ECRYPTO, "sealed under master-key version %u, the chamber holds %u",
                            (unsigned)r->master_version, (unsigned)version);
    return cc_sealed_key_open(master, version, r->pubkey, r->sealed, r->sealed_len, j->sk, &j->err);
}

/* ------------------------------------------------------------------------ */
/* GET keys                                                                 */

static json_t *key_json(const uint8_t pk[CC_BLS_PUBKEY_LEN], const char *status, const char *source,
                        const char *origin, const char *path, const char *created, const char *updated, int backup)
{
    char hex[CK_HEX_LEN];
    cc_hex_encode0x(pk, CC_BLS_PUBKEY_LEN, hex);
    return json_pack("{s:s,s:s,s:s,s:s?,s:s,s:s?,s:s?,s:b}", "pubkey", hex, "status", status, "source", source,
                     "origin", origin, "path", path ? path : "", "created_at", created, "updated_at", updated,
                     "has_mnemonic_backup", backup);
}

static void handle_list(ck_req *c)
{
    cc_app *app = c->app;
    const char *want = cc_http_query(c->req, "status");
    int filter = -1;
    if (want) {
        if (strcmp(want, "active") == 0)
            filter = CC_KEY_ACTIVE;
        else if (strcmp(want, "inactive") == 0)
            filter = CC_KEY_INACTIVE;
        else {
            fail(c, 400, "status (query): expected active or inactive");
            return;
        }
    }
    cc_error err;
    cc_error_clear(&err);
    json_t *keys = json_array();
    size_t from_table = 0, from_ring = 0;
    const char *table = key_table(app);
    if (table) {
        cc_key_record *recs = NULL;
        size_t n = 0;
        unsigned reads = app->cfg->dynamodb_keys_max_concurrent_reads ? app->cfg->dynamodb_keys_max_concurrent_reads
                                                                       : 16;
        if (cc_key_table_read_all(app->dynamodb, table, filter, reads, &recs, &n, &err) != CC_OK) {
            json_decref(keys);
            cc_error_prefix(&err, "key_sources.dynamodb.table %s", table);
            fail_err(c, &err);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            cc_key_record *r = &recs[i];
            json_array_append_new(keys, key_json(r->pubkey, cc_key_status_name(r->status), "dynamodb", r->origin,
                                                 r->path, r->created_at[0] ? r->created_at : NULL,
                                                 r->updated_at[0] ? r->updated_at : NULL, r->mnemonic_age != NULL));
            cc_key_record_clear(r);
        }
        free(recs);
        from_table = n;
    }
    /* Memory and filesystem keys sign while held: they are active and have no table record. */
    if (filter != CC_KEY_INACTIVE) {
        uint8_t (*pks)[CC_BLS_PUBKEY_LEN] = NULL;
        size_t n = 0;
        if (cc_keyring_pubkeys(app->keyring, &pks, &n, &err) != CC_OK) {
            json_decref(keys);
            fail_err(c, &err);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            int origin = cc_keyring_origin(app->keyring, pks[i]);
            if (origin != CC_KEY_MEMORY && origin != CC_KEY_FILESYSTEM)
                continue; /* dynamodb keys are listed from the table; -1: removed since the snapshot */
            json_array_append_new(keys, key_json(pks[i], "active", cc_key_origin_name((cc_key_origin)origin),
                                                 origin == CC_KEY_MEMORY ? "imported" : "filesystem", "", NULL,
                                                 NULL, 0));
            from_ring++;
        }
        free(pks);
    }
    snprintf(c->outcome, sizeof c->outcome, "listed %zu table keys, %zu memory or filesystem keys", from_table,
             from_ring);
    reply_json(c, 200, keys ? json_pack("{s:o}", "keys", keys) : NULL);
}

/* ------------------------------------------------------------------------ */
/* POST keys/generate                                                       */

/* Derives sk (secret) and pubkey of m/12381/3600/i/0/0 from the m/12381/3600 key (secret). */
static cc_status derive_validator(const uint8_t base[32], uint32_t i, uint8_t sk[32], uint8_t pk[CC_BLS_PUBKEY_LEN],
                                  cc_error *err)
{
    uint8_t *tmp = cc_secret_alloc(64);
    cc_bls_sk *bsk = cc_secret_alloc(sizeof *bsk);
    cc_status st = CC_ENOMEM;
    if (!tmp || !bsk)
        cc_error_set(err, st, "out of memory for key derivation");
    else if ((st = cc_eip2333_child(base, i, tmp, err)) == CC_OK &&
             (st = cc_eip2333_child(tmp, 0, tmp + 32, err)) == CC_OK && (st = cc_eip2333_child(tmp + 32, 0, sk, err)) == CC_OK &&
             (st = cc_bls_sk_from_bytes(bsk, sk, err)) == CC_OK)
        cc_bls_sk_to_pk(bsk, pk);
    cc_secret_free(tmp, 64);
    cc_secret_free(bsk, sizeof *bsk);
    return st;
}

/*
 * The mnemonic's age backup (when configured) and the keys' secrets and
 * pubkeys.  The mnemonic and seed exist only inside this function.
 */
static cc_status mnemonic_keys(const cc_config *cfg, uint32_t start, size_t count, uint8_t *sks,
                               cc_key_record *recs, char **backup, cc_error *err)
{
    char *mnemonic = NULL;
    uint8_t *seed = cc_secret_alloc(CC_BIP39_SEED_LEN), *base = cc_secret_alloc(64);
    cc_status st = CC_ENOMEM;
    *backup = NULL;
    if (!seed || !base) {
        cc_error_set(err, st, "out of memory for key derivation");
        goto out;
    }
    if ((st = cc_bip39_generate(&mnemonic, err)) != CC_OK || (st = cc_bip39_seed(mnemonic, "", seed, err)) != CC_OK)
        goto out;
    if (cfg->chamber_keys_backup_enabled) {
        st = cc_age_encrypt_armored((const char *const *)cfg->chamber_keys_backup_recipients,
                                    cfg->chamber_keys_backup_recipient_count, (const uint8_t *)mnemonic,
                                    strlen(mnemonic), backup, err);
        if (st != CC_OK) {
            cc_error_prefix(err, "chamber.keys.generate.backup.recipients");
            goto out;
        }
    }
    cc_secret_free(mnemonic, CC_BIP39_MNEMONIC_MAX);
    mnemonic = NULL;
    /* m/12381/3600 once, then i/0/0 for each key. */
    if ((st = cc_eip2333_master(seed, CC_BIP39_SEED_LEN, base, err)) != CC_OK ||
        (st = cc_eip2333_child(base, 12381, base + 32, err)) != CC_OK ||
        (st = cc_eip2333_child(base + 32, 3600, base, err)) != CC_OK)
        goto out;
    cc_secret_wipe(seed, CC_BIP39_SEED_LEN);
    for (size_t i = 0; i < count; i++) {
        uint32_t index = start + (uint32_t)i;
        if ((st = derive_validator(base, index, sks + 32 * i, recs[i].pubkey, err)) != CC_OK)
            goto out;
        cc_eip2334_signing_path(index, recs[i].path);
    }
out:
    if (mnemonic)
        cc_secret_free(mnemonic, CC_BIP39_MNEMONIC_MAX);
    cc_secret_free(seed, CC_BIP39_SEED_LEN);
    cc_secret_free(base, 64);
    if (st != CC_OK) {
        free(*backup);
        *backup = NULL;
    }
    return st;
}

static void handle_generate(ck_req *c)
{
    cc_app *app = c->app;
    const cc_config *cfg = app->cfg;
    const char *table = key_table(app);
    if (!table) {
        fail(c, 403, "generated keys are stored in the key table: set key_sources.dynamodb.table");
        return;
    }
    cc_error err;
    cc_error_clear(&err);
    json_t *body = NULL;
    if (parse_object(c->req, &body, &err) != CC_OK) {
        fail_err(c, &err);
        return;
    }
    json_t *jcount = json_object_get(body, "count"), *jstart = json_object_get(body, "start_index");
    json_int_t count = json_is_integer(jcount) ? json_integer_value(jcount) : -1;
    json_int_t start = jstart && !json_is_null(jstart) ? (json_is_integer(jstart) ? json_integer_value(jstart) : -1) : 0;
    json_decref(body);
    if (count < 1 || count > (json_int_t)cfg->chamber_keys_generate_max_items) {
        char msg[160];
        snprintf(msg, sizeof msg, "count: required integer between 1 and %u (chamber.keys.generate.max_items_per_request)",
                 (unsigned)cfg->chamber_keys_generate_max_items);
        fail(c, 400, msg);
        return;
    }
    if (start < 0 || start > (json_int_t)UINT32_MAX || start + count - 1 > (json_int_t)UINT32_MAX) {
        fail(c, 400, "start_index: integer from 0, with start_index + count - 1 at most 4294967295");
        return;
    }

    size_t n = (size_t)count;
    uint8_t *sks = cc_secret_alloc(32 * n);
    cc_key_record *recs = calloc(n, sizeof *recs);
    char *backup = NULL;
    size_t stored = 0;
    if (!sks || !recs) {
        cc_secret_free(sks, 32 * n);
        free(recs);
        fail(c, 500, "out of memory");
        return;
    }
    pthread_mutex_lock(&ck_write_lock);
    cc_status st = mnemonic_keys(cfg, (uint32_t)start, n, sks, recs, &backup, &err);
    if (st == CC_OK) {
        seal_job sj = {.sks = sks, .records = recs, .n = n};
        st = cc_chamber_with_master_key(app->chamber, seal_all, &sj, &err);
    }
    if (st == CC_OK) {
        char now[32];
        iso_now(now);
        for (size_t i = 0; i < n; i++) {
            recs[i].status = CC_KEY_ACTIVE;
            snprintf(recs[i].origin, sizeof recs[i].origin, "generated");
            recs[i].mnemonic_age = backup; /* borrowed: the same text on every item */
            memcpy(recs[i].created_at, now, sizeof now);
            memcpy(recs[i].updated_at, now, sizeof now);
        }
        for (; st == CC_OK && stored < n; stored += CK_PUT_CHUNK) {
            size_t m = n - stored < CK_PUT_CHUNK ? n - stored : CK_PUT_CHUNK;
            st = cc_key_table_put_new(app->dynamodb, table, recs + stored, m, NULL, &err);
            if (st != CC_OK)
                break;
            /* Sign here at once; the other replicas follow on their refresh. */
            for (size_t i = stored; i < stored + m; i++)
                cc_keyring_add(app->keyring, sks + 32 * i, CC_KEY_DYNAMODB, recs[i].pubkey, NULL);
        }
        if (stored > n)
            stored = n;
        if (stored)
            poke(app);
    }
    pthread_mutex_unlock(&ck_write_lock);
    cc_secret_free(sks, 32 * n);

    if (st != CC_OK) {
        if (stored)
            cc_error_prefix(&err, "%zu of %zu keys were stored (each item holds the mnemonic backup) before", stored, n);
        else if (st == CC_EUNAVAILABLE)
            cc_error_prefix(&err, "sealed");
        fail_err(c, &err);
    } else {
        json_t *keys = json_array();
        for (size_t i = 0; keys && i < n; i++) {
            char hex[CK_HEX_LEN];
            cc_hex_encode0x(recs[i].pubkey, CC_BLS_PUBKEY_LEN, hex);
            json_array_append_new(keys, json_pack("{s:s,s:s}", "pubkey", hex, "path", recs[i].path));
        }
        json_t *j = keys ? json_pack("{s:o}", "keys", keys) : NULL;
        if (j && backup)
            json_object_set_new(j, "mnemonic_backup", json_string(backup));
        snprintf(c->outcome, sizeof c->outcome, "generated %zu keys from index %lld%s", n, (long long)start,
                 backup ? " with an age backup of the mnemonic" : " without a mnemonic backup (the table is the only copy)");
        reply_json(c, 200, j);
    }
    free(backup);
    free(recs);
}

/* ------------------------------------------------------------------------ */
/* POST keys (import)                                                       */

typedef enum ck_outcome { CK_PENDING = 0, CK_IMPORTED, CK_DUPLICATE, CK_ERROR } ck_outcome;

static void wipe_strings(json_t *arr)
{
    size_t i;
    json_t *p;
    json_array_foreach(arr, i, p)
        if (json_is_string(p))
            cc_secret_wipe((char *)json_string_value(p), json_string_length(p));
}

/* Stores one decrypted key sealed in the table (persist) and adds it to the keyring. */
static ck_outcome import_persist(cc_app *app, const char *table, cc_keystore_job *j, const char *path)
{
    cc_key_record rec;
    memset(&rec, 0, sizeof rec);
    memcpy(rec.pubkey, j->pubkey, CC_BLS_PUBKEY_LEN);
    seal_job sj = {.sks = j->sk, .records = &rec, .n = 1};
    cc_status st = cc_chamber_with_master_key(app->chamber, seal_all, &sj, &j->err);
    if (st != CC_OK)
        return CK_ERROR;
    rec.status = CC_KEY_ACTIVE;
    snprintf(rec.origin, sizeof rec.origin, "imported");
    snprintf(rec.path, sizeof rec.path, "%s", strlen(path) < sizeof rec.path ? path : "");
    iso_now(rec.created_at);
    memcpy(rec.updated_at, rec.created_at, sizeof rec.updated_at);
    st = cc_key_table_put_new(app->dynamodb, table, &rec, 1, NULL, &j->err);
    if (st == CC_ECONFLICT)
        return CK_DUPLICATE;
    if (st != CC_OK)
        return CK_ERROR;
    cc_keyring_add(app->keyring, j->sk, CC_KEY_DYNAMODB, j->pubkey, NULL);
    return CK_IMPORTED;
}

static void handle_import(ck_req *c)
{
    cc_app *app = c->app;
    size_t max = app->cfg->chamber_keys_import_max_items;
    cc_error err;
    cc_error_clear(&err);
    json_t *body = NULL;
    if (parse_object(c->req, &body, &err) != CC_OK) {
        fail_err(c, &err);
        return;
    }
    json_t *keystores = json_object_get(body, "keystores"), *passwords = json_object_get(body, "passwords");
    json_t *storage = json_object_get(body, "storage"), *persist_j = json_object_get(storage, "persist");
    const char *bad = NULL;
    char msg[200];
    if (!json_is_array(keystores))
        bad = "keystores: required array of JSON-encoded keystore strings";
    else if (!json_is_array(passwords))
        bad = "passwords: required array of strings (one per keystore)";
    else if (json_array_size(keystores) > max) {
        snprintf(msg, sizeof msg, "keystores: %zu items, more than chamber.keys.import.max_items_per_request (%zu)",
                 json_array_size(keystores), max);
        bad = msg;
    } else if (json_array_size(passwords) != json_array_size(keystores))
        bad = "passwords: exactly one password per keystore";
    else if (storage && !json_is_object(storage))
        bad = "storage: expected an object {persist: true|false}";
    else if (persist_j && !json_is_boolean(persist_j))
        bad = "storage.persist: expected true or false";
    int persist = !persist_j || json_is_true(persist_j); /* default: sealed into the key table */
    const char *table = key_table(app);
    if (!bad && persist && !table)
        bad = "storage.persist: true needs a key table (key_sources.dynamodb.table); use false for memory only";
    if (bad) {
        if (json_is_array(passwords))
            wipe_strings(passwords);
        json_decref(body);
        fail(c, 400, bad);
        return;
    }

    size_t n = json_array_size(keystores);
    cc_keystore_job *jobs = calloc(n ? n : 1, sizeof *jobs);
    ck_outcome *outcome = calloc(n ? n : 1, sizeof *outcome);
    char (*paths)[CC_KEYSTORE_PATH_MAX] = calloc(n ? n : 1, sizeof *paths);
    uint8_t *secrets = cc_secret_alloc((n ? n : 1) * 32);
    if (!jobs || !outcome || !paths || !secrets) {
        wipe_strings(passwords);
        json_decref(body);
        free(jobs);
        free(outcome);
        free(paths);
        cc_secret_free(secrets, (n ? n : 1) * 32);
        fail(c, 500, "out of memory");
        return;
    }
    pthread_mutex_lock(&ck_write_lock);
    for (size_t i = 0; i < n; i++) {
        cc_keystore_job *j = &jobs[i];
        json_t *ks = json_array_get(keystores, i), *pw = json_array_get(passwords, i);
        j->sk = secrets + 32 * i;
        if (!json_is_string(ks) || !json_is_string(pw)) {
            cc_error_set(&j->err, CC_EINVAL, !json_is_string(ks) ? "keystores[%zu]: expected a JSON-encoded keystore string"
                                                                : "passwords[%zu]: expected a string", i);
            outcome[i] = CK_ERROR;
            continue;
        }
        j->keystore = json_string_value(ks);
        j->keystore_len = json_string_length(ks);
        j->password = json_string_value(pw);
        j->password_len = json_string_length(pw);
        int declared;
        cc_keystore_meta(j->keystore, j->keystore_len, j->pubkey, &declared, paths[i]);
        if (declared && cc_keyring_contains(app->keyring, j->pubkey)) {
            outcome[i] = CK_DUPLICATE; /* held already: keep it, skip the KDF */
            continue;
        }
        j->decrypt = 1;
    }
    cc_keystore_decrypt_all(jobs, n);
    wipe_strings(passwords);

    size_t imported = 0, duplicates = 0, errors = 0;
    for (size_t i = 0; i < n; i++) {
        cc_keystore_job *j = &jobs[i];
        if (outcome[i] == CK_PENDING) {
            if (j->st != CC_OK)
                outcome[i] = CK_ERROR;
            else if (!persist) {
                cc_status st = cc_keyring_add(app->keyring, j->sk, CC_KEY_MEMORY, j->pubkey, &j->err);
                outcome[i] = st == CC_OK ? CK_IMPORTED : st == CC_ECONFLICT ? CK_DUPLICATE : CK_ERROR;
            } else {
                outcome[i] = import_persist(app, table, j, paths[i]);
            }
            if (outcome[i] == CK_ERROR)
                cc_error_prefix(&j->err, "keystores[%zu]", i);
        }
        imported += outcome[i] == CK_IMPORTED;
        duplicates += outcome[i] == CK_DUPLICATE;
        errors += outcome[i] == CK_ERROR;
    }
    if (persist && imported)
        poke(app);
    pthread_mutex_unlock(&ck_write_lock);
    cc_secret_free(secrets, (n ? n : 1) * 32);

    json_t *data = json_array();
    for (size_t i = 0; data && i < n; i++) {
        char hex[CK_HEX_LEN];
        cc_hex_encode0x(jobs[i].pubkey, CC_BLS_PUBKEY_LEN, hex);
        int known = outcome[i] != CK_ERROR;
        json_t *o = json_pack("{s:s}", "status", outcome[i] == CK_IMPORTED    ? "imported"
                                                 : outcome[i] == CK_DUPLICATE ? "duplicate"
                                                                              : "error");
        if (o && known)
            json_object_set_new(o, "pubkey", json_string(hex));
        if (o && outcome[i] == CK_DUPLICATE)
            json_object_set_new(o, "message", json_string("the key is already held; the existing key is kept"));
        if (o && outcome[i] == CK_ERROR)
            json_object_set_new(o, "message", json_string(jobs[i].err.msg));
        json_array_append_new(data, o);
    }
    snprintf(c->outcome, sizeof c->outcome, "%s: %zu imported, %zu duplicate, %zu error",
             persist ? "persisted to the key table" : "memory only", imported, duplicates, errors);
    free(jobs);
    free(outcome);
    free(paths);
    json_decref(body);
    reply_json(c, 200, data ? json_pack("{s:o}", "data", data) : NULL);
}

/* ------------------------------------------------------------------------ */
/* PATCH / DELETE keys/{pubkey}                                             */

/* After activation: open the key's blob and add it to this replica's keyring at once. */
static void activate_here(cc_app *app, const char *table, const uint8_t pk[CC_BLS_PUBKEY_LEN])
{
    cc_key_record rec;
    memset(&rec, 0, sizeof rec);
    int found = 0;
    cc_error err;
    uint8_t *sk = cc_secret_alloc(32);
    if (sk && cc_key_table_get(app->dynamodb, table, pk, &rec, &found, &err) == CC_OK && found) {
        open_job oj = {.record = &rec, .sk = sk};
        if (cc_chamber_with_master_key(app->chamber, open_one, &oj, &err) == CC_OK)
            cc_keyring_add(app->keyring, sk, CC_KEY_DYNAMODB, rec.pubkey, NULL);
    }
    if (found)
        cc_key_record_clear(&rec);
    cc_secret_free(sk, 32);
}

static void handle_patch(ck_req *c, const uint8_t pk[CC_BLS_PUBKEY_LEN])
{
    cc_app *app = c->app;
    cc_error err;
    cc_error_clear(&err);
    json_t *body = NULL;
    if (parse_object(c->req, &body, &err) != CC_OK) {
        fail_err(c, &err);
        return;
    }
    const char *s = json_string_value(json_object_get(body, "status"));
    int active = s && strcmp(s, "active") == 0, inactive = s && strcmp(s, "inactive") == 0;
    json_decref(body);
    if (!active && !inactive) {
        fail(c, 400, "status: required, \"active\" or \"inactive\"");
        return;
    }
    const char *table = key_table(app);
    pthread_mutex_lock(&ck_write_lock);
    cc_status st = table ? cc_key_table_set_status(app->dynamodb, table, pk, active ? CC_KEY_ACTIVE : CC_KEY_INACTIVE,
                                                   &err)
                         : cc_error_set(&err, CC_ENOTFOUND, "no key table (key_sources.dynamodb.table)");
    if (st == CC_OK) {
        if (inactive && app->dynamodb_keys)
            cc_key_source_dynamodb_forget(app->dynamodb_keys, pk); /* stops signing here before we answer */
        else if (inactive && cc_keyring_origin(app->keyring, pk) == CC_KEY_DYNAMODB)
            cc_keyring_remove(app->keyring, pk, NULL);
        if (active && app->dynamodb_keys)
            cc_key_source_dynamodb_remember(app->dynamodb_keys, pk);
        if (active && !cc_keyring_contains(app->keyring, pk))
            activate_here(app, table, pk);
        poke(app);
    }
    pthread_mutex_unlock(&ck_write_lock);
    if (st == CC_ENOTFOUND) {
        int origin = cc_keyring_origin(app->keyring, pk);
        if (origin == CC_KEY_MEMORY || origin == CC_KEY_FILESYSTEM) {
            char msg[200];
            snprintf(msg, sizeof msg, "%s keys have no status to change (not in the key table)%s",
                     cc_key_origin_name((cc_key_origin)origin),
                     origin == CC_KEY_MEMORY ? "; DELETE removes a memory key" : "");
            fail(c, 409, msg);
        } else {
            fail(c, 404, "unknown pubkey: not in the key table nor held by this signer");
        }
        return;
    }
    if (st != CC_OK) {
        fail_err(c, &err);
        return;
    }
    snprintf(c->outcome, sizeof c->outcome, "status set to %s", active ? "active" : "inactive");
    reply_json(c, 200, json_pack("{s:s,s:s}", "pubkey", c->pubkey, "status", active ? "active" : "inactive"));
}

static void handle_delete(ck_req *c, const uint8_t pk[CC_BLS_PUBKEY_LEN])
{
    cc_app *app = c->app;
    cc_error err;
    cc_error_clear(&err);
    const char *table = key_table(app);
    const char *source = NULL;
    pthread_mutex_lock(&ck_write_lock);
    int origin = cc_keyring_origin(app->keyring, pk);
    cc_status st = CC_ENOTFOUND;
    if (origin == CC_KEY_MEMORY) {
        st = cc_keyring_remove(app->keyring, pk, &err);
        source = "memory";
    } else if (origin != CC_KEY_FILESYSTEM && table) {
        st = cc_key_table_delete(app->dynamodb, table, pk, &err);
        if (st == CC_OK) {
            if (app->dynamodb_keys)
                cc_key_source_dynamodb_forget(app->dynamodb_keys, pk);
            else if (cc_keyring_origin(app->keyring, pk) == CC_KEY_DYNAMODB)
                cc_keyring_remove(app->keyring, pk, NULL);
            poke(app);
            source = "dynamodb";
        }
    }
    pthread_mutex_unlock(&ck_write_lock);
    if (origin == CC_KEY_FILESYSTEM) {
        fail(c, 409, "filesystem keys are removed by deleting their descriptor and reloading (POST /reload)");
        return;
    }
    if (st == CC_ENOTFOUND) {
        fail(c, 404, "unknown pubkey: not in the key table nor held by this signer");
        return;
    }
    if (st != CC_OK) {
        fail_err(c, &err);
        return;
    }
    snprintf(c->outcome, sizeof c->outcome, "deleted (%s); anti-slashing records kept", source);
    reply_json(c, 200, json_pack("{s:s,s:s,s:s,s:s}", "pubkey", c->pubkey, "status", "deleted", "source", source,
                                 "message", "the key can no longer sign here; its anti-slashing records are kept"));
}

/* ------------------------------------------------------------------------ */

/* 403 naming the flag when the verb is off; 503 when the chamber cannot sign. 1 = go on. */
static int admitted(ck_req *c, int enabled, const char *what, const char *flag)
{
    if (!enabled) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s is disabled (%s)", what, flag);
        fail(c, 403, msg);
        return 0;
    }
    if (!cc_chamber_can_sign(c->app->chamber)) {
        char msg[120];
        snprintf(msg, sizeof msg, "sealed: the chamber is %s", cc_chamber_state_name(cc_chamber_state(c->app->chamber)));
        fail(c, 503, msg);
        return 0;
    }
    return 1;
}

void cc_chamber_keys_handle(cc_app *app, const cc_http_request *req, const char *route, cc_http_response *res)
{
    ck_req c = {.app = app, .req = req, .res = res, .route = route};
    const cc_config *cfg = app->cfg;
    const char *m = req->method;
    int get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0, patch = strcmp(m, "PATCH") == 0,
        del = strcmp(m, "DELETE") == 0;
    char name[64];
    if (strcmp(route, "keys") == 0) {
        snprintf(name, sizeof name, "%s keys", m);
        c.route = name;
        if (get) {
            if (admitted(&c, 1, "", ""))
                handle_list(&c);
        } else if (post) {
            if (admitted(&c, cfg->chamber_keys_import_enabled, "key import", "chamber.keys.import.enabled"))
                handle_import(&c);
        } else {
            fail(&c, 405, "method not allowed: use GET or POST");
        }
    } else if (strcmp(route, "keys/generate") == 0) {
        c.route = "POST keys/generate";
        if (!post)
            fail(&c, 405, "method not allowed: use POST");
        else if (admitted(&c, cfg->chamber_keys_generate_enabled, "key generation", "chamber.keys.generate.enabled"))
            handle_generate(&c);
    } else {
        snprintf(name, sizeof name, "%s keys/{pubkey}", m);
        c.route = name;
        const char *hex = route + strlen("keys/");
        uint8_t pk[CC_BLS_PUBKEY_LEN];
        cc_error err;
        if (!patch && !del) {
            fail(&c, 405, "method not allowed: use PATCH or DELETE");
        } else if (admitted(&c, cfg->chamber_keys_lifecycle_enabled, patch ? "key status change" : "key deletion",
                            "chamber.keys.lifecycle.enabled")) {
            if (cc_hex_decode_exact(hex, pk, sizeof pk, &err) != CC_OK) {
                cc_error_prefix(&err, "pubkey in path");
                fail_err(&c, &err);
            } else {
                cc_hex_encode0x(pk, sizeof pk, c.pubkey); /* canonical form for the answer and the log */
                if (patch)
                    handle_patch(&c, pk);
                else
                    handle_delete(&c, pk);
            }
        }
    }
    char status[8];
    snprintf(status, sizeof status, "%d", res->status);
    cc_log(res->status < 400 ? CC_LOG_INFO : CC_LOG_WARN, "chamber keys", "request_id", req->request_id, "route",
           c.route, "status", status, "pubkey", c.pubkey[0] ? c.pubkey : NULL, "outcome", c.outcome, NULL);
}
