/*
 * keymanager.c — the Key Manager API (ethereum/keymanager-APIs; SPEC §2.2,
 * NOTES §2.5): what Lighthouse's `validator-manager`, Teku and Lodestar call
 * to move validators between signers.
 *
 *   GET    /eth/v1/keystores → {data:[{validating_pubkey, derivation_path, readonly}]}
 *   POST   /eth/v1/keystores   {keystores:[string], passwords:[string], slashing_protection?: string}
 *                            → {data:[{status: imported|duplicate|error, message?}]}
 *   DELETE /eth/v1/keystores   {pubkeys:[string]}
 *                            → {data:[{status: deleted|not_active|not_found|error, message?}],
 *                               slashing_protection: string}
 *
 * Keystores and slashing_protection travel as JSON-encoded *strings*.  Errors
 * are {"message": ...} (this API's shape, not the signing API's "error").
 *
 * Order is what keeps validators safe:
 *   - POST applies the EIP-3076 interchange (the whole of it, in one
 *     transaction) before any key is added, so a key never signs before its
 *     history is known; a malformed interchange, or one for another network,
 *     refuses the whole request and nothing is imported.  The interchange's
 *     data for pubkeys that then fail to import stays recorded: extra history
 *     only ever makes signing stricter.
 *   - DELETE removes every memory key from the keyring first (a signature in
 *     flight either finished under the keyring's read lock — its record
 *     already durable — or finds no key), and only then exports.
 *   - Keys from other sources (filesystem) are readonly here.
 *
 * Each request takes the module's mutex, so two imports or deletes of one key
 * cannot interleave; signing never takes it.  Decrypting a batch uses a pool
 * of min(cores, MemAvailable / 256 MiB, keystores) threads, as the
 * filesystem loader does (scrypt needs 256 MiB and ~1 s per keystore).  One
 * bad keystore never spoils the batch: it gets status "error" with a message.
 *
 * Derivation paths (the keystore's "path") are kept beside the memory keys in
 * a small sorted array; keys from other sources report "".
 */
#include "api/keymanager.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys/eip2335.h"
#include "keys/keys.h"
#include "slashing/slashing.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/secret.h"

#define KM_PATH "/eth/v1/keystores"
#define KM_SCRYPT_BYTES ((unsigned long long)260 << 20) /* 256 MiB per scrypt derivation, plus slack */
#define KM_PATH_MAX CC_KEYSTORE_PATH_MAX                /* longest derivation path we keep */

typedef struct km_path {
    uint8_t pubkey[CC_BLS_PUBKEY_LEN];
    char *path; /* malloc'ed, never NULL */
} km_path;

struct cc_keymanager {
    pthread_mutex_t lock; /* one Key Manager request at a time */
    km_path *paths;       /* sorted by pubkey: memory keys imported here */
    size_t count, cap;
};

cc_status cc_keymanager_new(cc_keymanager **out, cc_error *err)
{
    *out = NULL;
    cc_keymanager *km = calloc(1, sizeof *km);
    if (!km)
        return cc_error_set(err, CC_ENOMEM, "out of memory for the key manager");
    if (pthread_mutex_init(&km->lock, NULL) != 0) {
        free(km);
        return cc_error_set(err, CC_EINTERNAL, "key manager: cannot create its mutex");
    }
    *out = km;
    return CC_OK;
}

void cc_keymanager_free(cc_keymanager *km)
{
    if (!km)
        return;
    for (size_t i = 0; i < km->count; i++)
        free(km->paths[i].path);
    free(km->paths);
    pthread_mutex_destroy(&km->lock);
    free(km);
}

/* ------------------------------------------------------------------------ */
/* Derivation paths (callers hold km->lock)                                 */

/* Index of pubkey, or of where it would go (*found = 0). */
static size_t path_index(const cc_keymanager *km, const uint8_t pk[CC_BLS_PUBKEY_LEN], int *found)
{
    size_t lo = 0, hi = km->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(km->paths[mid].pubkey, pk, CC_BLS_PUBKEY_LEN);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

static const char *path_get(const cc_keymanager *km, const uint8_t pk[CC_BLS_PUBKEY_LEN])
{
    int found;
    size_t i = path_index(km, pk, &found);
    return found ? km->paths[i].path : "";
}

/* Remembers pk's derivation path; on failure the key simply reports "". */
static void path_put(cc_keymanager *km, const uint8_t pk[CC_BLS_PUBKEY_LEN], const char *path)
{
    char *copy = strdup(path ? path : "");
    if (!copy)
        return;
    int found;
    size_t i = path_index(km, pk, &found);
    if (found) {
        free(km->paths[i].path);
        km->paths[i].path = copy;
        return;
    }
    if (km->count == km->cap) {
        size_t cap = km->cap ? km->cap * 2 : 16;
        km_path *n = realloc(km->paths, cap * sizeof *n);
        if (!n) {
            free(copy);
            return;
        }
        km->paths = n;
        km->cap = cap;
    }
    memmove(&km->paths[i + 1], &km->paths[i], (km->count - i) * sizeof *km->paths);
    memcpy(km->paths[i].pubkey, pk, CC_BLS_PUBKEY_LEN);
    km->paths[i].path = copy;
    km->count++;
}

static void path_drop(cc_keymanager *km, const uint8_t pk[CC_BLS_PUBKEY_LEN])
{
    int found;
    size_t i = path_index(km, pk, &found);
    if (!found)
        return;
    free(km->paths[i].path);
    memmove(&km->paths[i], &km->paths[i + 1], (km->count - i - 1) * sizeof *km->paths);
    km->count--;
}

/* ------------------------------------------------------------------------ */
/* Replies                                                                  */

/* Sends obj (reference stolen) as application/json. */
static void reply_json(cc_http_response *res, int status, json_t *obj)
{
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    free(res->body);
    if (!text) {
        res->status = 500;
        res->content_type = "application/json";
        res->body = strdup("{\"message\":\"out of memory\"}");
        res->body_len = res->body ? strlen(res->body) : 0;
        return;
    }
    res->status = status;
    res->content_type = "application/json";
    res->body = text;
    res->body_len = strlen(text);
}

/* {"message": ...}, the Key Manager API's error shape. */
static void reply_message(cc_http_response *res, int status, const char *message)
{
    reply_json(res, status, json_pack("{s:s}", "message", message ? message : ""));
}

static void reply_status(cc_http_response *res, const cc_error *err)
{
    /* This API has no 404 or 412; anything not the caller's fault is a 500. */
    int status = cc_status_http(err->code);
    if (status != 400 && status != 401 && status != 403)
        status = 500;
    reply_message(res, status, err->msg);
}

/* Appends {status, message?} to arr. */
static void push_status(json_t *arr, const char *status, const char *message)
{
    json_t *o = json_pack("{s:s}", "status", status);
    if (o && message && message[0])
        json_object_set_new(o, "message", json_string(message));
    json_array_append_new(arr, o);
}

/* ------------------------------------------------------------------------ */
/* Parallel decryption                                                      */

typedef cc_keystore_job km_job; /* keymanager.h: shared with the Chamber key API */

typedef struct km_pool {
    km_job *jobs;
    size_t count;
    size_t next; /* atomic: the next job to take */
} km_pool;

static void *decrypt_run(void *arg)
{
    km_pool *p = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
        if (i >= p->count)
            break;
        km_job *j = &p->jobs[i];
        if (!j->decrypt)
            continue;
        cc_error_clear(&j->err);
        j->st = cc_eip2335_decrypt(j->keystore, j->keystore_len, j->password, j->password_len, j->sk, j->pubkey,
                                   &j->err);
    }
    return NULL;
}

/* min(online cores, MemAvailable / 260 MiB, jobs), at least 1. */
static size_t decrypt_workers(size_t jobs)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = cores > 0 ? (size_t)cores : 1;
    FILE *f = fopen("/proc/meminfo", "re");
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                size_t by_mem = (size_t)(kb * 1024 / KM_SCRYPT_BYTES);
                if (by_mem < n)
                    n = by_mem;
                break;
            }
        fclose(f);
    }
    if (n > jobs)
        n = jobs;
    return n ? n : 1;
}

static void decrypt_all(km_job *jobs, size_t count)
{
    km_pool pool = {.jobs = jobs, .count = count, .next = 0};
    size_t todo = 0;
    for (size_t i = 0; i < count; i++)
        todo += jobs[i].decrypt != 0;
    if (!todo)
        return;
    size_t workers = decrypt_workers(todo);
    /* The calling thread is worker 0; if a thread cannot start, the others take its share. */
    pthread_t *threads = workers > 1 ? calloc(workers - 1, sizeof *threads) : NULL;
    size_t started = 0;
    for (size_t i = 1; threads && i < workers; i++)
        if (pthread_create(&threads[started], NULL, decrypt_run, &pool) == 0)
            started++;
    decrypt_run(&pool);
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(threads);
}

void cc_keystore_decrypt_all(cc_keystore_job *jobs, size_t count)
{
    decrypt_all(jobs, count);
}

/* ------------------------------------------------------------------------ */
/* Request bodies                                                           */

static cc_status parse_body(const cc_http_request *req, json_t **out, cc_error *err)
{
    json_error_t jerr;
    *out = NULL;
    json_t *body = json_loadb(req->body, req->body_len, 0, &jerr);
    if (!body)
        return cc_error_set(err, CC_EINVAL, "body: not valid JSON at line %d column %d: %s", jerr.line, jerr.column,
                            jerr.text);
    if (!json_is_object(body)) {
        json_decref(body);
        return cc_error_set(err, CC_EINVAL, "body: expected a JSON object");
    }
    *out = body;
    return CC_OK;
}

/* The array body[field], at most max items. */
static cc_status get_array(json_t *body, const char *field, size_t max, json_t **out, cc_error *err)
{
    json_t *a = json_object_get(body, field);
    if (!a)
        return cc_error_set(err, CC_EINVAL, "%s: missing", field);
    if (!json_is_array(a))
        return cc_error_set(err, CC_EINVAL, "%s: expected an array", field);
    if (json_array_size(a) > max)
        return cc_error_set(err, CC_EINVAL, "%s: %zu items, more than max_items_per_request (%zu)", field,
                            json_array_size(a), max);
    *out = a;
    return CC_OK;
}

/* Wipes the password strings jansson copied out of the request. */
static void wipe_passwords(json_t *passwords)
{
    size_t i;
    json_t *p;
    json_array_foreach(passwords, i, p)
        if (json_is_string(p))
            cc_secret_wipe((char *)json_string_value(p), json_string_length(p));
}

/*
 * The keystore's declared "pubkey" (to spot a duplicate without paying for
 * scrypt) and "path".  Malformed text is left for cc_eip2335_decrypt to name.
 */
static void keystore_meta(const char *text, size_t len, uint8_t pubkey[CC_BLS_PUBKEY_LEN], int *has_pubkey,
                          char path[KM_PATH_MAX])
{
    *has_pubkey = 0;
    path[0] = '\0';
    json_t *ks = json_loadb(text, len, 0, NULL);
    if (!json_is_object(ks)) {
        json_decref(ks);
        return;
    }
    const char *pk = json_string_value(json_object_get(ks, "pubkey"));
    if (pk && cc_hex_decode_exact(pk, pubkey, CC_BLS_PUBKEY_LEN, NULL) == CC_OK)
        *has_pubkey = 1;
    const char *p = json_string_value(json_object_get(ks, "path"));
    if (p && strlen(p) < KM_PATH_MAX)
        snprintf(path, KM_PATH_MAX, "%s", p);
    json_decref(ks);
}

void cc_keystore_meta(const char *text, size_t len, uint8_t pubkey[CC_BLS_PUBKEY_LEN], int *has_pubkey,
                      char path[CC_KEYSTORE_PATH_MAX])
{
    keystore_meta(text, len, pubkey, has_pubkey, path);
}

/* ------------------------------------------------------------------------ */
/* GET                                                                      */

static void handle_list(cc_app *app, cc_http_response *res)
{
    cc_keymanager *km = app->keymanager;
    uint8_t (*keys)[CC_BLS_PUBKEY_LEN] = NULL;
    size_t n = 0;
    cc_error err;
    if (cc_keyring_pubkeys(app->keyring, &keys, &n, &err) != CC_OK) {
        reply_status(res, &err);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; data && i < n; i++) {
        int origin = cc_keyring_origin(app->keyring, keys[i]);
        if (origin < 0) /* removed since the snapshot */
            continue;
        char hex[2 * CC_BLS_PUBKEY_LEN + 3];
        cc_hex_encode0x(keys[i], CC_BLS_PUBKEY_LEN, hex);
        json_array_append_new(data, json_pack("{s:s,s:s,s:b}", "validating_pubkey", hex, "derivation_path",
                                              origin == CC_KEY_MEMORY ? path_get(km, keys[i]) : "", "readonly",
                                              origin != CC_KEY_MEMORY));
    }
    free(keys);
    reply_json(res, 200, data ? json_pack("{s:o}", "data", data) : NULL);
}

/* ------------------------------------------------------------------------ */
/* POST                                                                     */

typedef enum km_outcome { KM_PENDING = 0, KM_IMPORTED, KM_DUPLICATE, KM_ERROR } km_outcome;

/*
 * Parses, checks and imports slashing_protection (if any) before any key is
 * added.  A malformed interchange or one for another network is CC_EINVAL /
 * CC_EFORBIDDEN, which the caller answers 400.
 */
static cc_status import_slashing_protection(cc_app *app, json_t *body, const char *request_id, cc_error *err)
{
    json_t *sp = json_object_get(body, "slashing_protection");
    if (!sp || json_is_null(sp))
        return CC_OK;
    if (!json_is_string(sp))
        return cc_error_set(err, CC_EINVAL, "slashing_protection: expected a JSON-encoded EIP-3076 interchange string");
    cc_interchange *ic = NULL;
    cc_status st = cc_interchange_parse(json_string_value(sp), json_string_length(sp), &ic, err);
    if (st != CC_OK) {
        cc_error_prefix(err, "slashing_protection");
        return st == CC_ENOMEM ? st : CC_EINVAL;
    }
    if (memcmp(ic->genesis_validators_root, app->network.genesis_validators_root, 32) != 0) {
        char want[67], got[67];
        cc_hex_encode0x(app->network.genesis_validators_root, 32, want);
        cc_hex_encode0x(ic->genesis_validators_root, 32, got);
        cc_interchange_free(ic);
        return cc_error_set(err, CC_EINVAL,
                            "slashing_protection: metadata.genesis_validators_root is %s, this signer's network (%s) "
                            "is %s",
                            got, app->network.name, want);
    }
    st = app->slashing->ops->import(app->slashing, ic, err);
    char n[24];
    snprintf(n, sizeof n, "%zu", ic->validator_count);
    cc_interchange_free(ic);
    if (st != CC_OK) {
        cc_error_prefix(err, "slashing_protection: import failed");
        if (st == CC_EFORBIDDEN) /* another network, as the backend sees it */
            err->code = st = CC_EINVAL;
        return st;
    }
    cc_log(CC_LOG_INFO, "key manager: slashing protection imported", "request_id", request_id, "validators", n,
           NULL);
    return CC_OK;
}

static void handle_import(cc_app *app, const cc_http_request *req, cc_http_response *res)
{
    cc_keymanager *km = app->keymanager;
    size_t max = app->cfg ? app->cfg->key_manager_api_max_items : 100;
    cc_error err;
    cc_error_clear(&err);
    json_t *body = NULL, *keystores = NULL, *passwords = NULL;
    km_job *jobs = NULL;
    km_outcome *outcome = NULL;
    char (*paths)[KM_PATH_MAX] = NULL;
    uint8_t *secrets = NULL;
    size_t n = 0;

    if (parse_body(req, &body, &err) != CC_OK || get_array(body, "keystores", max, &keystores, &err) != CC_OK ||
        get_array(body, "passwords", max, &passwords, &err) != CC_OK) {
        if (body && (passwords = json_object_get(body, "passwords")) && json_is_array(passwords))
            wipe_passwords(passwords);
        json_decref(body);
        reply_status(res, &err);
        return;
    }
    n = json_array_size(keystores);
    if (json_array_size(passwords) != n) {
        cc_error_set(&err, CC_EINVAL, "passwords: %zu given for %zu keystores (one password per keystore)",
                     json_array_size(passwords), n);
        wipe_passwords(passwords);
        json_decref(body);
        reply_status(res, &err);
        return;
    }

    jobs = calloc(n ? n : 1, sizeof *jobs);
    outcome = calloc(n ? n : 1, sizeof *outcome);
    paths = calloc(n ? n : 1, sizeof *paths);
    secrets = cc_secret_alloc((n ? n : 1) * 32);
    if (!jobs || !outcome || !paths || !secrets) {
        cc_error_set(&err, CC_ENOMEM, "out of memory for %zu keystores", n);
        goto fail_unlocked;
    }

    pthread_mutex_lock(&km->lock);
    /* History first: no key of this request can sign before its interchange is on disk. */
    if (import_slashing_protection(app, body, req->request_id, &err) != CC_OK) {
        pthread_mutex_unlock(&km->lock);
        goto fail_unlocked;
    }

    for (size_t i = 0; i < n; i++) {
        km_job *j = &jobs[i];
        json_t *ks = json_array_get(keystores, i), *pw = json_array_get(passwords, i);
        j->sk = secrets + 32 * i;
        if (!json_is_string(ks)) {
            cc_error_set(&j->err, CC_EINVAL, "keystores[%zu]: expected a JSON-encoded keystore string", i);
            outcome[i] = KM_ERROR;
            continue;
        }
        if (!json_is_string(pw)) {
            cc_error_set(&j->err, CC_EINVAL, "passwords[%zu]: expected a string", i);
            outcome[i] = KM_ERROR;
            continue;
        }
        j->keystore = json_string_value(ks);
        j->keystore_len = json_string_length(ks);
        j->password = json_string_value(pw);
        j->password_len = json_string_length(pw);
        int declared;
        keystore_meta(j->keystore, j->keystore_len, j->pubkey, &declared, paths[i]);
        if (declared && cc_keyring_contains(app->keyring, j->pubkey)) {
            outcome[i] = KM_DUPLICATE; /* keep the old key; no need to pay for the KDF */
            continue;
        }
        j->decrypt = 1;
    }
    decrypt_all(jobs, n);
    wipe_passwords(passwords);

    for (size_t i = 0; i < n; i++) {
        km_job *j = &jobs[i];
        if (outcome[i] != KM_PENDING)
            continue;
        if (j->st != CC_OK) {
            cc_error_prefix(&j->err, "keystores[%zu]", i);
            outcome[i] = KM_ERROR;
            continue;
        }
        cc_status st = cc_keyring_add(app->keyring, j->sk, CC_KEY_MEMORY, j->pubkey, &j->err);
        if (st == CC_OK) {
            outcome[i] = KM_IMPORTED;
            path_put(km, j->pubkey, paths[i]);
        } else if (st == CC_ECONFLICT) {
            outcome[i] = KM_DUPLICATE;
        } else {
            cc_error_prefix(&j->err, "keystores[%zu]", i);
            outcome[i] = KM_ERROR;
        }
    }
    pthread_mutex_unlock(&km->lock);
    cc_secret_free(secrets, (n ? n : 1) * 32);
    secrets = NULL;

    json_t *data = json_array();
    for (size_t i = 0; data && i < n; i++) {
        char hex[2 * CC_BLS_PUBKEY_LEN + 3], idx[24];
        cc_hex_encode0x(jobs[i].pubkey, CC_BLS_PUBKEY_LEN, hex);
        snprintf(idx, sizeof idx, "%zu", i);
        switch (outcome[i]) {
        case KM_IMPORTED:
            push_status(data, "imported", NULL);
            cc_log(CC_LOG_INFO, "key manager: keystore imported", "request_id", req->request_id, "index", idx,
                   "pubkey", hex, NULL);
            break;
        case KM_DUPLICATE:
            push_status(data, "duplicate", "the key is already held; the existing key is kept");
            cc_log(CC_LOG_INFO, "key manager: keystore duplicate", "request_id", req->request_id, "index", idx,
                   "pubkey", hex, NULL);
            break;
        default:
            push_status(data, "error", jobs[i].err.msg);
            cc_log(CC_LOG_WARN, "key manager: keystore not imported", "request_id", req->request_id, "index", idx,
                   "reason", jobs[i].err.msg, NULL);
            break;
        }
    }
    free(jobs);
    free(outcome);
    free(paths);
    json_decref(body);
    reply_json(res, 200, data ? json_pack("{s:o}", "data", data) : NULL);
    return;

fail_unlocked:
    wipe_passwords(passwords);
    cc_secret_free(secrets, (n ? n : 1) * 32);
    free(jobs);
    free(outcome);
    free(paths);
    json_decref(body);
    cc_log(CC_LOG_WARN, "key manager: import refused", "request_id", req->request_id, "reason", err.msg, NULL);
    reply_status(res, &err);
}

/* ------------------------------------------------------------------------ */
/* DELETE                                                                   */

typedef enum km_del { KD_ABSENT = 0, KD_DELETED, KD_READONLY } km_del;

static int in_interchange(const cc_interchange *ic, const uint8_t pk[CC_BLS_PUBKEY_LEN])
{
    for (size_t i = 0; i < ic->validator_count; i++)
        if (memcmp(ic->validators[i].pubkey, pk, CC_BLS_PUBKEY_LEN) == 0)
            return 1;
    return 0;
}

static void handle_delete(cc_app *app, const cc_http_request *req, cc_http_response *res)
{
    cc_keymanager *km = app->keymanager;
    size_t max = app->cfg ? app->cfg->key_manager_api_max_items : 100;
    cc_error err;
    cc_error_clear(&err);
    json_t *body = NULL, *list = NULL;
    if (parse_body(req, &body, &err) != CC_OK || get_array(body, "pubkeys", max, &list, &err) != CC_OK) {
        json_decref(body);
        reply_status(res, &err);
        return;
    }
    size_t n = json_array_size(list);
    uint8_t (*pks)[CC_BLS_PUBKEY_LEN] = calloc(n ? n : 1, sizeof *pks);
    uint8_t (*exp)[CC_BLS_PUBKEY_LEN] = calloc(n ? n : 1, sizeof *exp);
    km_del *what = calloc(n ? n : 1, sizeof *what);
    if (!pks || !exp || !what) {
        cc_error_set(&err, CC_ENOMEM, "out of memory for %zu pubkeys", n);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(list, i));
        if (!s) {
            cc_error_set(&err, CC_EINVAL, "pubkeys[%zu]: expected a 0x-hex string", i);
            goto fail;
        }
        if (cc_hex_decode_exact(s, pks[i], CC_BLS_PUBKEY_LEN, &err) != CC_OK) {
            cc_error_prefix(&err, "pubkeys[%zu]", i);
            goto fail;
        }
    }

    pthread_mutex_lock(&km->lock);
    /* First: no requested memory key can sign any more. */
    size_t nexp = 0;
    for (size_t i = 0; i < n; i++) {
        int origin = cc_keyring_origin(app->keyring, pks[i]);
        if (origin == CC_KEY_MEMORY && cc_keyring_remove(app->keyring, pks[i], NULL) == CC_OK) {
            what[i] = KD_DELETED;
            path_drop(km, pks[i]);
        } else if (origin >= 0 && origin != CC_KEY_MEMORY) {
            what[i] = KD_READONLY;
            continue; /* still signing: its history is not ours to hand out */
        }
        memcpy(exp[nexp++], pks[i], CC_BLS_PUBKEY_LEN);
    }
    /* Then: their history, including every signature made until the removal. */
    cc_interchange *ic = NULL;
    cc_status st = app->slashing->ops->export_(app->slashing, (const uint8_t(*)[48])exp, nexp, &ic, &err);
    char *ic_json = NULL;
    if (st == CC_OK)
        st = cc_interchange_write(ic, &ic_json, &err);
    pthread_mutex_unlock(&km->lock);
    if (st != CC_OK) {
        cc_interchange_free(ic);
        cc_error_prefix(&err, "slashing protection export failed (the keys can no longer sign; retry to get it)");
        goto fail;
    }

    json_t *data = json_array();
    for (size_t i = 0; data && i < n; i++) {
        char hex[2 * CC_BLS_PUBKEY_LEN + 3];
        cc_hex_encode0x(pks[i], CC_BLS_PUBKEY_LEN, hex);
        const char *status;
        switch (what[i]) {
        case KD_DELETED:
            status = "deleted";
            push_status(data, status, NULL);
            break;
        case KD_READONLY:
            status = "error";
            push_status(data, status, "only keys imported through this API can be deleted (this key is readonly)");
            break;
        default:
            status = in_interchange(ic, pks[i]) ? "not_active" : "not_found";
            push_status(data, status, NULL);
            break;
        }
        cc_log(what[i] == KD_DELETED ? CC_LOG_INFO : CC_LOG_DEBUG, "key manager: delete", "request_id",
               req->request_id, "pubkey", hex, "status", status, NULL);
    }
    cc_interchange_free(ic);
    json_t *reply = data ? json_pack("{s:o,s:s}", "data", data, "slashing_protection", ic_json) : NULL;
    free(ic_json);
    free(pks);
    free(exp);
    free(what);
    json_decref(body);
    reply_json(res, 200, reply);
    return;

fail:
    free(pks);
    free(exp);
    free(what);
    json_decref(body);
    reply_status(res, &err);
}

/* ------------------------------------------------------------------------ */

void cc_keymanager_handle(cc_app *app, const cc_http_request *req, cc_http_response *res)
{
    if (!app->keymanager) {
        reply_message(res, 404, "the Key Manager API is disabled (http.key_manager_api.enabled)");
        return;
    }
    if (strcmp(req->method, "GET") == 0) {
        pthread_mutex_lock(&app->keymanager->lock);
        handle_list(app, res);
        pthread_mutex_unlock(&app->keymanager->lock);
    } else if (strcmp(req->method, "POST") == 0) {
        handle_import(app, req, res);
    } else if (strcmp(req->method, "DELETE") == 0) {
        handle_delete(app, req, res);
    } else {
        reply_message(res, 405, "method not allowed on " KM_PATH ": use GET, POST or DELETE");
    }
}
