/*
 * auth_store.c — the "AUTH" item of the signer state table (auth_store.h).
 *
 * Changes are read-modify-write: a consistent GetItem, the change applied to
 * the JSON document, the result compiled (which validates it), then a PutItem
 * conditional on the revision read.  Two replicas changing auth at once:
 * one condition fails, that replica reads again and re-applies its change
 * (at most MAX_ATTEMPTS times).  A successful write installs its snapshot
 * here at once; other replicas see it at their next refresh round.
 */
#include "chamber/auth_store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "aws/base64.h"
#include "aws/dynamodb.h"
#include "chamber/state.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/secret.h"

#define MAX_ATTEMPTS 8

struct cc_auth_store {
    const cc_dynamodb *ddb;
    char table[256];
    unsigned refresh_seconds;

    pthread_rwlock_t lock;         /* guards snap: requests read, installs write */
    cc_auth_snapshot *snap;        /* NULL while there is no AUTH item */

    pthread_mutex_t mlock;         /* serialises this replica's changes and the poll state */
    int poll_failing;

    pthread_mutex_t wlock;         /* the refresh thread's sleep */
    pthread_cond_t wake;
    int stopping;
    pthread_t thread;
    int thread_started;
};

/* One read of the item. */
typedef struct loaded {
    int found;
    uint64_t revision;
    uint8_t *key;                  /* CC_AUTH_HMAC_KEY_LEN, cc_secret memory */
    json_t *doc;
} loaded;

static void loaded_clear(loaded *l)
{
    cc_secret_free(l->key, CC_AUTH_HMAC_KEY_LEN);
    json_decref(l->doc);
    memset(l, 0, sizeof *l);
}

static const char *attr(json_t *item, const char *name, const char *type)
{
    return json_string_value(json_object_get(json_object_get(item, name), type));
}

static cc_status load(cc_auth_store *s, loaded *l, cc_error *err)
{
    memset(l, 0, sizeof *l);
    json_t *key = json_pack("{s:{s:s}}", "pk", "S", CC_AUTH_PK), *item = NULL;
    if (!key)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cc_status st = cc_dynamodb_get_item(s->ddb, s->table, key, 1, &item, err);
    json_decref(key);
    if (st != CC_OK)
        return cc_error_prefix(err, "signer state table %s, auth item", s->table);
    if (!item)
        return CC_OK;
    const char *rev = attr(item, "revision", "N"), *b64 = attr(item, "hmac_key", "B"), *doc = attr(item, "doc", "S");
    char *end = NULL;
    unsigned long long r = rev ? strtoull(rev, &end, 10) : 0;
    uint8_t *k = NULL;
    size_t klen = 0, kcap = 0;
    json_error_t jerr;
    if (!rev || !*rev || *end || r == 0)
        st = cc_error_set(err, CC_EINVAL, "auth item in %s: revision is missing or not a positive number", s->table);
    else if (!b64 || cc_aws_b64_decode(b64, strlen(b64), 1, "hmac_key", &k, &klen, &kcap, err) != CC_OK ||
             klen != CC_AUTH_HMAC_KEY_LEN)
        st = cc_error_set(err, CC_EINVAL, "auth item in %s: hmac_key is missing or not %d bytes", s->table,
                          CC_AUTH_HMAC_KEY_LEN);
    else if (!doc || !(l->doc = json_loads(doc, 0, &jerr)))
        st = cc_error_set(err, CC_EINVAL, "auth item in %s: doc is missing or not JSON", s->table);
    if (st == CC_OK && !(l->key = cc_secret_alloc(CC_AUTH_HMAC_KEY_LEN)))
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
    if (st == CC_OK) {
        memcpy(l->key, k, CC_AUTH_HMAC_KEY_LEN);
        l->revision = r;
        l->found = 1;
    }
    if (k)
        cc_secret_free(k, kcap);
    json_decref(item);
    if (st != CC_OK)
        loaded_clear(l);
    return st;
}

/*
 * Swaps in snap (taken) if it is newer than the held one.  Revisions only
 * grow, so a refresh that read the item just before this replica's own change
 * can never bring back the older policies (a revoked token stays revoked).
 */
static void install(cc_auth_store *s, cc_auth_snapshot *snap)
{
    pthread_rwlock_wrlock(&s->lock);
    cc_auth_snapshot *old = s->snap;
    int take = !old || cc_auth_snapshot_revision(old) < cc_auth_snapshot_revision(snap);
    if (take)
        s->snap = snap;
    pthread_rwlock_unlock(&s->lock);
    if (!take) {
        cc_auth_snapshot_free(snap);
        return;
    }
    char rev[24];
    snprintf(rev, sizeof rev, "%llu", (unsigned long long)cc_auth_snapshot_revision(snap));
    cc_log(CC_LOG_INFO, old ? "auth: policies and tokens changed" : "auth: policies and tokens loaded", "revision", rev,
           "enforcing", cc_auth_snapshot_enforcing(snap) ? "true" : "false", NULL);
    cc_auth_snapshot_free(old);
}

cc_status cc_auth_store_refresh(cc_auth_store *s, cc_error *err)
{
    loaded l;
    cc_status st = load(s, &l, err);
    if (st != CC_OK || !l.found)
        return st;
    pthread_rwlock_rdlock(&s->lock);
    int same = s->snap && cc_auth_snapshot_revision(s->snap) == l.revision;
    pthread_rwlock_unlock(&s->lock);
    if (!same) {
        cc_auth_snapshot *snap = NULL;
        st = cc_auth_snapshot_build(l.key, l.revision, l.doc, &snap, err);
        if (st == CC_OK)
            install(s, snap);
        else
            cc_error_prefix(err, "auth item in %s (revision %llu)", s->table, (unsigned long long)l.revision);
    }
    loaded_clear(&l);
    return st;
}

static void *refresh_main(void *arg)
{
    cc_auth_store *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->wlock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += s->refresh_seconds;
        while (!s->stopping && pthread_cond_timedwait(&s->wake, &s->wlock, &until) == 0)
            ;
        int stop = s->stopping;
        pthread_mutex_unlock(&s->wlock);
        if (stop)
            return NULL;
        cc_error err;
        cc_error_clear(&err);
        cc_status st = cc_auth_store_refresh(s, &err);
        pthread_mutex_lock(&s->mlock);
        /* A failed read keeps the last snapshot: policies are never dropped because the table is unreachable. */
        if (st != CC_OK && !s->poll_failing)
            cc_log(CC_LOG_WARN, "auth: cannot re-read the auth item; keeping the last policies", "table", s->table,
                   "reason", err.msg, NULL);
        else if (st == CC_OK && s->poll_failing)
            cc_log(CC_LOG_INFO, "auth: the auth item is readable again", "table", s->table, NULL);
        s->poll_failing = st != CC_OK;
        pthread_mutex_unlock(&s->mlock);
    }
}

cc_status cc_auth_store_open(const cc_dynamodb *ddb, const char *table, unsigned refresh_seconds,
                             cc_auth_store **out, cc_error *err)
{
    *out = NULL;
    if (!table || !*table || strlen(table) >= sizeof ((cc_auth_store *)0)->table)
        return cc_error_set(err, CC_ECONFIG, "signer_state.table: required (at most 255 characters)");
    cc_auth_store *s = calloc(1, sizeof *s);
    if (!s)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    s->ddb = ddb;
    snprintf(s->table, sizeof s->table, "%s", table);
    s->refresh_seconds = refresh_seconds ? refresh_seconds : 1;
    pthread_rwlock_init(&s->lock, NULL);
    pthread_mutex_init(&s->mlock, NULL);
    pthread_mutex_init(&s->wlock, NULL);
    pthread_cond_init(&s->wake, NULL);
    cc_status st = cc_auth_store_refresh(s, err);
    if (st == CC_OK && pthread_create(&s->thread, NULL, refresh_main, s) != 0)
        st = cc_error_set(err, CC_ENOMEM, "cannot start the auth refresh thread");
    if (st != CC_OK) {
        cc_auth_store_close(s);
        return st;
    }
    s->thread_started = 1;
    *out = s;
    return CC_OK;
}

void cc_auth_store_close(cc_auth_store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->wlock);
    s->stopping = 1;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->wlock);
    if (s->thread_started)
        pthread_join(s->thread, NULL);
    cc_auth_snapshot_free(s->snap);
    pthread_rwlock_destroy(&s->lock);
    pthread_mutex_destroy(&s->mlock);
    pthread_mutex_destroy(&s->wlock);
    pthread_cond_destroy(&s->wake);
    free(s);
}

int cc_auth_store_enforcing(cc_auth_store *s)
{
    pthread_rwlock_rdlock(&s->lock);
    int on = cc_auth_snapshot_enforcing(s->snap);
    pthread_rwlock_unlock(&s->lock);
    return on;
}

uint64_t cc_auth_store_revision(cc_auth_store *s)
{
    pthread_rwlock_rdlock(&s->lock);
    uint64_t r = cc_auth_snapshot_revision(s->snap);
    pthread_rwlock_unlock(&s->lock);
    return r;
}

cc_auth_result cc_auth_store_check(cc_auth_store *s, const char *token, int scope, const uint8_t *pubkey, int type,
                                   char *token_id, cc_error *err)
{
    pthread_rwlock_rdlock(&s->lock);
    cc_auth_result r = cc_auth_check(s->snap, token, scope, pubkey, type, (int64_t)time(NULL), token_id, err);
    pthread_rwlock_unlock(&s->lock);
    return r;
}

cc_auth_result cc_auth_store_authorize(cc_auth_store *s, const char *token, int scope, const uint8_t *pubkey,
                                       int type, char *token_id, cc_error *err)
{
    pthread_rwlock_rdlock(&s->lock);
    cc_auth_result r = CC_AUTH_OK;
    if (token_id)
        token_id[0] = '\0';
    if (cc_auth_snapshot_enforcing(s->snap))
        r = cc_auth_check(s->snap, token, scope, pubkey, type, (int64_t)time(NULL), token_id, err);
    pthread_rwlock_unlock(&s->lock);
    return r;
}

/* ---------------------------------------------------------------- changes */

/* A change: edits doc (a private copy) with the item's HMAC key; may set its own answer in ctx. */
typedef cc_status (*change_fn)(void *ctx, json_t *doc, const uint8_t *hmac_key, int64_t now, cc_error *err);

static cc_status put(cc_auth_store *s, uint64_t prev, const uint8_t *key, json_t *doc, cc_error *err)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    char *b64 = NULL;
    size_t b64cap = 0;
    char rev[24], prevs[24], now[32];
    snprintf(rev, sizeof rev, "%llu", (unsigned long long)(prev + 1));
    snprintf(prevs, sizeof prevs, "%llu", (unsigned long long)prev);
    cc_state_now(now);
    cc_status st = text ? cc_aws_b64_encode(key, CC_AUTH_HMAC_KEY_LEN, 1, &b64, &b64cap, err)
                        : cc_error_set(err, CC_ENOMEM, "out of memory");
    json_t *item = NULL, *names = NULL, *values = NULL;
    if (st == CC_OK) {
        item = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "pk", "S", CC_AUTH_PK, "revision", "N", rev,
                         "hmac_key", "B", b64, "doc", "S", text, "updated_at", "S", now);
        if (prev == 0)
            names = json_pack("{s:s}", "#k", "pk");
        else {
            names = json_pack("{s:s}", "#r", "revision");
            values = json_pack("{s:{s:s}}", ":r", "N", prevs);
        }
        if (!item || !names || (prev && !values))
            st = cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    if (st == CC_OK)
        st = cc_dynamodb_put_item(s->ddb, s->table, item, prev == 0 ? "attribute_not_exists(#k)" : "#r = :r", names,
                                  values, NULL, err);
    json_decref(item);
    json_decref(names);
    json_decref(values);
    if (b64)
        cc_secret_free(b64, b64cap);
    free(text);
    return st;
}

/* Drops tokens that expired (they can no longer be used). */
static void prune_expired(json_t *doc, int64_t now)
{
    json_t *toks = json_object_get(doc, "tokens");
    for (size_t i = json_array_size(toks); i-- > 0;) {
        json_t *e = json_object_get(json_array_get(toks, i), "expires_at");
        if (json_is_integer(e) && json_integer_value(e) <= now)
            json_array_remove(toks, i);
    }
}

static cc_status change(cc_auth_store *s, change_fn fn, void *ctx, cc_error *err)
{
    pthread_mutex_lock(&s->mlock);
    cc_status st = CC_OK;
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        loaded l;
        if ((st = load(s, &l, err)) != CC_OK)
            break;
        if (!l.found) {
            if (!(l.key = cc_secret_alloc(CC_AUTH_HMAC_KEY_LEN)) || !(l.doc = json_object())) {
                loaded_clear(&l);
                st = cc_error_set(err, CC_ENOMEM, "out of memory");
                break;
            }
            if (RAND_priv_bytes(l.key, CC_AUTH_HMAC_KEY_LEN) != 1) {
                loaded_clear(&l);
                st = cc_error_set(err, CC_ECRYPTO, "the random generator failed");
                break;
            }
        }
        int64_t now = (int64_t)time(NULL);
        if (!json_is_object(json_object_get(l.doc, "policies")))
            json_object_set_new(l.doc, "policies", json_object());
        if (!json_is_array(json_object_get(l.doc, "tokens")))
            json_object_set_new(l.doc, "tokens", json_array());
        prune_expired(l.doc, now);
        cc_auth_snapshot *snap = NULL;
        if ((st = fn(ctx, l.doc, l.key, now, err)) == CC_OK &&
            (st = cc_auth_snapshot_build(l.key, l.revision + 1, l.doc, &snap, err)) == CC_OK)
            st = put(s, l.revision, l.key, l.doc, err);
        loaded_clear(&l);
        if (st == CC_OK) {
            install(s, snap);
            break;
        }
        cc_auth_snapshot_free(snap);
        if (st != CC_ECONFLICT)
            break;
        char a[16];
        snprintf(a, sizeof a, "%d", attempt + 1);
        cc_log(CC_LOG_INFO, "auth: the auth item changed meanwhile (another replica); retrying", "attempt", a, NULL);
        st = cc_error_set(err, CC_ECONFLICT, "the auth item kept changing under %d attempts; try again", MAX_ATTEMPTS);
    }
    pthread_mutex_unlock(&s->mlock);
    return st;
}

/* ---- policies */

typedef struct put_policy_ctx {
    const char *name;
    json_t *canon;
} put_policy_ctx;

static cc_status put_policy_fn(void *arg, json_t *doc, const uint8_t *key, int64_t now, cc_error *err)
{
    (void)key;
    (void)now;
    put_policy_ctx *c = arg;
    json_t *pols = json_object_get(doc, "policies");
    if (!json_object_get(pols, c->name) && json_object_size(pols) >= CC_AUTH_MAX_POLICIES)
        return cc_error_set(err, CC_EINVAL, "policies: at most %d", CC_AUTH_MAX_POLICIES);
    json_object_set(pols, c->name, c->canon);
    return CC_OK;
}

cc_status cc_auth_store_put_policy(cc_auth_store *s, const char *name, json_t *policy, json_t **out, cc_error *err)
{
    if (out)
        *out = NULL;
    if (!cc_auth_policy_name_valid(name))
        return cc_error_set(err, CC_EINVAL, "policy name: 1 to %d of [A-Za-z0-9_.-]", CC_AUTH_NAME_MAX);
    put_policy_ctx c = {name, NULL};
    cc_status st = cc_auth_policy_normalize("policy", policy, &c.canon, err);
    if (st == CC_OK)
        st = change(s, put_policy_fn, &c, err);
    if (st == CC_OK && out)
        *out = json_incref(c.canon);
    json_decref(c.canon);
    return st;
}

static cc_status delete_policy_fn(void *arg, json_t *doc, const uint8_t *key, int64_t now, cc_error *err)
{
    (void)key;
    (void)now;
    const char *name = arg;
    if (json_object_del(json_object_get(doc, "policies"), name) != 0)
        return cc_error_set(err, CC_ENOTFOUND, "no policy named %.64s", name);
    return CC_OK;
}

cc_status cc_auth_store_delete_policy(cc_auth_store *s, const char *name, cc_error *err)
{
    if (!cc_auth_policy_name_valid(name))
        return cc_error_set(err, CC_ENOTFOUND, "no policy named %.64s", name ? name : "");
    return change(s, delete_policy_fn, (void *)name, err);
}

json_t *cc_auth_store_policies(cc_auth_store *s, cc_error *err)
{
    loaded l;
    if (load(s, &l, err) != CC_OK)
        return NULL;
    json_t *p = json_object_get(l.doc, "policies");
    json_t *out = p ? json_deep_copy(p) : json_object();
    loaded_clear(&l);
    if (!out)
        cc_error_set(err, CC_ENOMEM, "out of memory");
    return out;
}

/* ---- tokens */

static json_t *token_info(json_t *t, int64_t now)
{
    json_t *e = json_object_get(t, "expires_at");
    int expired = json_is_integer(e) && json_integer_value(e) <= now;
    return json_pack("{s:O, s:O, s:O, s:O, s:O, s:b}", "id", json_object_get(t, "id"), "root",
                     json_object_get(t, "root"), "policies", json_object_get(t, "policies"), "created_at",
                     json_object_get(t, "created_at"), "expires_at", e ? e : json_null(), "expired", expired);
}

typedef struct token_ctx {
    int root;
    json_t *policies;
    int64_t expires_in;
    char *token;
    json_t *info;
} token_ctx;

static cc_status create_token_fn(void *arg, json_t *doc, const uint8_t *key, int64_t now, cc_error *err)
{
    token_ctx *c = arg;
    json_t *toks = json_object_get(doc, "tokens"), *pols = json_object_get(doc, "policies");
    if (json_array_size(toks) >= CC_AUTH_MAX_TOKENS)
        return cc_error_set(err, CC_EINVAL, "tokens: at most %d (revoke some first)", CC_AUTH_MAX_TOKENS);
    size_t i;
    json_t *v;
    if (!c->root)
        json_array_foreach(c->policies, i, v) {
            if (!json_object_get(pols, json_string_value(v)))
                return cc_error_set(err, CC_EINVAL, "policies[%zu]: no policy named %.64s", i, json_string_value(v));
        }
    char id[CC_AUTH_ID_HEX + 1], hex[2 * CC_AUTH_HASH_LEN + 1];
    uint8_t hash[CC_AUTH_HASH_LEN];
    cc_status st = cc_auth_token_generate(key, c->token, id, hash, err);
    if (st != CC_OK)
        return st;
    cc_hex_encode(hash, sizeof hash, hex);
    hex[2 * CC_AUTH_HASH_LEN] = '\0';
    json_t *t = json_pack("{s:s, s:s, s:b, s:o, s:I, s:o}", "id", id, "hash", hex, "root", c->root, "policies",
                          c->root ? json_array() : json_deep_copy(c->policies), "created_at", (json_int_t)now,
                          "expires_at", c->expires_in ? json_integer(now + c->expires_in) : json_null());
    if (!t || json_array_append_new(toks, t) != 0)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    json_decref(c->info);
    c->info = token_info(t, now);
    return CC_OK;
}

cc_status cc_auth_store_create_token(cc_auth_store *s, int root, json_t *policies, int64_t expires_in_seconds,
                                     char *token, json_t **info, cc_error *err)
{
    if (info)
        *info = NULL;
    if (!root) {
        size_t n = json_array_size(policies);
        if (!json_is_array(policies) || n == 0)
            return cc_error_set(err, CC_EINVAL, "policies: required non-empty array of policy names");
        for (size_t i = 0; i < n; i++)
            if (!cc_auth_policy_name_valid(json_string_value(json_array_get(policies, i))))
                return cc_error_set(err, CC_EINVAL, "policies[%zu]: not a policy name", i);
    }
    if (expires_in_seconds < 0 || expires_in_seconds > (int64_t)10 * 366 * 86400)
        return cc_error_set(err, CC_EINVAL, "expires_in_seconds: between 1 and about 10 years, or absent");
    token_ctx c = {root, policies, expires_in_seconds, token, NULL};
    cc_status st = change(s, create_token_fn, &c, err);
    if (st == CC_OK && info)
        *info = c.info;
    else
        json_decref(c.info);
    if (st != CC_OK)
        cc_secret_wipe(token, CC_AUTH_TOKEN_LEN + 1);
    return st;
}

json_t *cc_auth_store_tokens(cc_auth_store *s, cc_error *err)
{
    loaded l;
    if (load(s, &l, err) != CC_OK)
        return NULL;
    json_t *out = json_array();
    int64_t now = (int64_t)time(NULL);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(l.doc, "tokens"), i, t) json_array_append_new(out, token_info(t, now));
    loaded_clear(&l);
    return out;
}

static cc_status revoke_fn(void *arg, json_t *doc, const uint8_t *key, int64_t now, cc_error *err)
{
    (void)key;
    (void)now;
    const char *id = arg;
    json_t *toks = json_object_get(doc, "tokens");
    for (size_t i = 0; i < json_array_size(toks); i++) {
        const char *tid = json_string_value(json_object_get(json_array_get(toks, i), "id"));
        if (tid && strcmp(tid, id) == 0) {
            json_array_remove(toks, i);
            return CC_OK;
        }
    }
    return cc_error_set(err, CC_ENOTFOUND, "no token with id %.16s", id);
}

cc_status cc_auth_store_revoke_token(cc_auth_store *s, const char *id, cc_error *err)
{
    if (!id || strlen(id) != CC_AUTH_ID_HEX)
        return cc_error_set(err, CC_ENOTFOUND, "no token with id %.16s", id ? id : "");
    return change(s, revoke_fn, (void *)id, err);
}
