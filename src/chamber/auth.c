/*
 * auth.c — policy evaluation and token handling (auth.h).
 *
 * The snapshot is built once per change of the stored document and then only
 * read, by every request, under the store's read lock: cc_auth_check does a
 * table lookup of the id, one HMAC-SHA256 of 32 bytes, a constant-time
 * compare, and a walk over the token's rules with bit tests and a binary
 * search of the rule's keys.  Nothing on that path allocates memory of ours
 * (OpenSSL's one-shot HMAC has its own short-lived context).
 */
#include "chamber/auth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "signing/request.h"
#include "util/hex.h"
#include "util/secret.h"

static const char *const scope_names[CC_SCOPE_COUNT] = {
    "sign",
    "public_keys",
    "list_keys",
    "import_keystores",
    "delete_keys",
    "chamber_status",
    "chamber_seal",
    "chamber_rotate",
    "chamber_keys_list",
    "chamber_keys_generate",
    "chamber_keys_import",
    "chamber_keys_patch",
    "chamber_keys_delete",
    "chamber_auth",
};

#define ALL_POLICY_SCOPES (((uint32_t)1 << CC_SCOPE_CHAMBER_AUTH) - 1) /* "*": every scope but chamber_auth */
#define ALL_OPERATIONS (((uint32_t)1 << CC_SIGN_TYPE_COUNT) - 1)

const char *cc_auth_scope_name(cc_auth_scope s)
{
    return (unsigned)s < CC_SCOPE_COUNT ? scope_names[s] : "unknown";
}

int cc_auth_scope_parse(const char *name)
{
    for (int i = 0; name && i < CC_SCOPE_COUNT; i++)
        if (strcmp(name, scope_names[i]) == 0)
            return i;
    return -1;
}

const char *cc_auth_result_name(cc_auth_result r)
{
    switch (r) {
    case CC_AUTH_OK: return "ok";
    case CC_AUTH_MISSING: return "missing";
    case CC_AUTH_INVALID: return "invalid";
    case CC_AUTH_EXPIRED: return "expired";
    case CC_AUTH_DENIED: return "forbidden";
    }
    return "invalid";
}

static int operation_parse(const char *name)
{
    for (int i = 0; name && i < CC_SIGN_TYPE_COUNT; i++)
        if (strcmp(name, cc_sign_type_name((cc_sign_type)i)) == 0)
            return i;
    return -1;
}

/* ---------------------------------------------------------------- compiled form */

typedef struct rule {
    int deny;
    uint32_t scopes;                       /* bit per cc_auth_scope */
    uint32_t operations;                   /* bit per cc_sign_type; ALL_OPERATIONS for "*" */
    int any_operation, any_key;
    uint8_t (*keys)[CC_AUTH_PUBKEY_LEN];   /* sorted, for bsearch */
    size_t key_count;
} rule;

typedef struct policy {
    char name[CC_AUTH_NAME_MAX + 1];
    rule *rules;
    size_t rule_count;
} policy;

typedef struct token {
    char id[CC_AUTH_ID_HEX + 1];
    uint8_t hash[CC_AUTH_HASH_LEN];
    int root;
    int64_t created_at, expires_at;        /* expires_at 0 = never */
    const policy **policies;               /* the bound policies that exist */
    size_t policy_count;
} token;

struct cc_auth_snapshot {
    uint64_t revision;
    uint8_t *hmac_key;                     /* cc_secret memory */
    policy *policies;
    size_t policy_count;
    token *tokens;
    size_t token_count;
    int has_root;
    uint32_t *slots;                       /* open addressing: token index + 1, 0 = empty */
    size_t slot_mask;
};

static int key_cmp(const void *a, const void *b) { return memcmp(a, b, CC_AUTH_PUBKEY_LEN); }

void cc_auth_snapshot_free(cc_auth_snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->policy_count; i++) {
        for (size_t r = 0; r < s->policies[i].rule_count; r++)
            free(s->policies[i].rules[r].keys);
        free(s->policies[i].rules);
    }
    for (size_t i = 0; i < s->token_count; i++)
        free(s->tokens[i].policies);
    free(s->policies);
    free(s->tokens);
    free(s->slots);
    cc_secret_free(s->hmac_key, CC_AUTH_HMAC_KEY_LEN);
    free(s);
}

uint64_t cc_auth_snapshot_revision(const cc_auth_snapshot *s) { return s ? s->revision : 0; }
int cc_auth_snapshot_enforcing(const cc_auth_snapshot *s) { return s && s->policy_count > 0; }
int cc_auth_snapshot_has_root(const cc_auth_snapshot *s) { return s && s->has_root; }

/* The id's table slot: ids are random, so their first 8 bytes are a good hash. */
static size_t id_hash(const char *id)
{
    uint64_t h = 0;
    for (int i = 0; i < CC_AUTH_ID_HEX; i++) {
        char c = id[i];
        h = (h << 4) | (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return (size_t)(h ^ (h >> 29));
}

static int hex_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int cc_auth_policy_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > CC_AUTH_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-' && name[i] != '.')
            return 0;
    return 1;
}

/* ---------------------------------------------------------------- policy validation */

/* Checks one rule and, when r is not NULL, compiles it.  prefix names the rule. */
static cc_status rule_compile(const char *prefix, json_t *j, rule *r, json_t **canon, cc_error *err)
{
    if (!json_is_object(j))
        return cc_error_set(err, CC_EINVAL, "%s: expected an object {effect, scopes, keys, operations}", prefix);
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        if (strcmp(k, "effect") && strcmp(k, "scopes") && strcmp(k, "keys") && strcmp(k, "operations"))
            return cc_error_set(err, CC_EINVAL, "%s.%.64s: unknown field (expected effect, scopes, keys, operations)",
                                prefix, k);
    }
    const char *effect = json_string_value(json_object_get(j, "effect"));
    if (!effect || (strcmp(effect, "allow") && strcmp(effect, "deny")))
        return cc_error_set(err, CC_EINVAL, "%s.effect: required, \"allow\" or \"deny\"", prefix);
    rule x = {.deny = strcmp(effect, "deny") == 0};
    json_t *scopes = json_object_get(j, "scopes"), *keys = json_object_get(j, "keys"),
           *ops = json_object_get(j, "operations");
    if (!json_is_array(scopes) || json_array_size(scopes) == 0)
        return cc_error_set(err, CC_EINVAL, "%s.scopes: required non-empty array of scope names", prefix);
    json_t *cs = json_array(), *ck = json_array(), *co = json_array();
    cc_status st = CC_OK;
    if (!cs || !ck || !co) {
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    size_t i;
    json_array_foreach(scopes, i, v) {
        const char *name = json_string_value(v);
        int sc = name ? cc_auth_scope_parse(name) : -1;
        if (name && strcmp(name, "*") == 0) {
            x.scopes |= ALL_POLICY_SCOPES;
        } else if (sc < 0) {
            st = cc_error_set(err, CC_EINVAL, "%s.scopes[%zu]: unknown scope %.64s", prefix, i,
                              name ? name : "(not a string)");
            goto out;
        } else if (sc == CC_SCOPE_CHAMBER_AUTH) {
            st = cc_error_set(err, CC_EINVAL, "%s.scopes[%zu]: chamber_auth belongs to root tokens only", prefix, i);
            goto out;
        } else {
            x.scopes |= (uint32_t)1 << sc;
        }
        json_array_append_new(cs, json_string(name));
    }
    if (!keys) {
        x.any_key = 1;
        json_array_append_new(ck, json_string("*"));
    } else if (!json_is_array(keys) || json_array_size(keys) == 0) {
        st = cc_error_set(err, CC_EINVAL, "%s.keys: expected a non-empty array of 0x pubkeys or \"*\"", prefix);
        goto out;
    } else {
        size_t n = json_array_size(keys);
        if (r && !(x.keys = malloc(n * sizeof *x.keys))) {
            st = cc_error_set(err, CC_ENOMEM, "out of memory");
            goto out;
        }
        json_array_foreach(keys, i, v) {
            const char *hex = json_string_value(v);
            if (hex && strcmp(hex, "*") == 0) {
                x.any_key = 1;
                json_array_append_new(ck, json_string("*"));
                continue;
            }
            uint8_t pk[CC_AUTH_PUBKEY_LEN];
            if (!hex || strncmp(hex, "0x", 2) != 0 || cc_hex_decode_exact(hex, pk, sizeof pk, NULL) != CC_OK) {
                st = cc_error_set(err, CC_EINVAL, "%s.keys[%zu]: expected a 0x-hex BLS public key (48 bytes) or \"*\"",
                                  prefix, i);
                goto out;
            }
            if (x.keys)
                memcpy(x.keys[x.key_count], pk, sizeof pk);
            x.key_count++;
            char canon_hex[2 * CC_AUTH_PUBKEY_LEN + 3];
            cc_hex_encode0x(pk, sizeof pk, canon_hex);
            json_array_append_new(ck, json_string(canon_hex));
        }
        if (x.keys)
            qsort(x.keys, x.key_count, sizeof *x.keys, key_cmp);
    }
    if (!ops) {
        x.any_operation = 1;
        x.operations = ALL_OPERATIONS;
        json_array_append_new(co, json_string("*"));
    } else if (!json_is_array(ops) || json_array_size(ops) == 0) {
        st = cc_error_set(err, CC_EINVAL, "%s.operations: expected a non-empty array of signing types or \"*\"",
                          prefix);
        goto out;
    } else {
        json_array_foreach(ops, i, v) {
            const char *name = json_string_value(v);
            int t = name ? operation_parse(name) : -1;
            if (name && strcmp(name, "*") == 0) {
                x.any_operation = 1;
                x.operations = ALL_OPERATIONS;
            } else if (t < 0) {
                st = cc_error_set(err, CC_EINVAL, "%s.operations[%zu]: unknown signing type %.64s", prefix, i,
                                  name ? name : "(not a string)");
                goto out;
            } else {
                x.operations |= (uint32_t)1 << t;
            }
            json_array_append_new(co, json_string(name));
        }
    }
    if (canon &&
        !(*canon = json_pack("{s:s, s:O, s:O, s:O}", "effect", effect, "scopes", cs, "keys", ck, "operations", co)))
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
out:
    json_decref(cs);
    json_decref(ck);
    json_decref(co);
    if (st != CC_OK || !r)
        free(x.keys);
    else
        *r = x;
    return st;
}

static cc_status policy_compile(const char *prefix, json_t *j, policy *p, json_t **canon, cc_error *err)
{
    if (!json_is_object(j))
        return cc_error_set(err, CC_EINVAL, "%s: expected an object {\"rules\": [...]}", prefix);
    json_t *rules = json_object_get(j, "rules");
    size_t n = json_array_size(rules);
    if (!json_is_array(rules) || n == 0)
        return cc_error_set(err, CC_EINVAL, "%s.rules: required non-empty array of rules", prefix);
    if (n > 256)
        return cc_error_set(err, CC_EINVAL, "%s.rules: at most 256 rules", prefix);
    json_t *crules = canon ? json_array() : NULL;
    if (p && !(p->rules = calloc(n, sizeof *p->rules)))
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char pre[CC_AUTH_NAME_MAX + 128];
        snprintf(pre, sizeof pre, "%s.rules[%zu]", prefix, i);
        json_t *c = NULL;
        cc_status st = rule_compile(pre, json_array_get(rules, i), p ? &p->rules[i] : NULL, canon ? &c : NULL, err);
        if (st != CC_OK) {
            json_decref(crules);
            return st;
        }
        if (p)
            p->rule_count++;
        if (crules)
            json_array_append_new(crules, c);
    }
    if (canon && !(*canon = json_pack("{s:o}", "rules", crules)))
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    return CC_OK;
}

cc_status cc_auth_policy_normalize(const char *prefix, json_t *policy_json, json_t **out, cc_error *err)
{
    *out = NULL;
    return policy_compile(prefix, policy_json, NULL, out, err);
}

/* ---------------------------------------------------------------- snapshot */

static cc_status token_compile(cc_auth_snapshot *s, size_t idx, json_t *j, cc_error *err)
{
    token *t = &s->tokens[idx];
    const char *id = json_string_value(json_object_get(j, "id"));
    const char *hash = json_string_value(json_object_get(j, "hash"));
    json_t *root = json_object_get(j, "root"), *pols = json_object_get(j, "policies");
    json_t *created = json_object_get(j, "created_at"), *expires = json_object_get(j, "expires_at");
    if (!id || strlen(id) != CC_AUTH_ID_HEX || !hex_lower(id, CC_AUTH_ID_HEX))
        return cc_error_set(err, CC_EINVAL, "tokens[%zu].id: expected %d lower-case hex digits", idx, CC_AUTH_ID_HEX);
    memcpy(t->id, id, sizeof t->id);
    if (!hash || strlen(hash) != 2 * CC_AUTH_HASH_LEN || cc_hex_decode_exact(hash, t->hash, sizeof t->hash, NULL))
        return cc_error_set(err, CC_EINVAL, "tokens[%zu].hash: expected %d hex digits", idx, 2 * CC_AUTH_HASH_LEN);
    if (root && !json_is_boolean(root))
        return cc_error_set(err, CC_EINVAL, "tokens[%zu].root: expected a boolean", idx);
    t->root = json_is_true(root);
    if (!json_is_integer(created))
        return cc_error_set(err, CC_EINVAL, "tokens[%zu].created_at: expected unix seconds", idx);
    t->created_at = json_integer_value(created);
    if (expires && !json_is_null(expires) && !json_is_integer(expires))
        return cc_error_set(err, CC_EINVAL, "tokens[%zu].expires_at: expected unix seconds or null", idx);
    t->expires_at = json_is_integer(expires) ? json_integer_value(expires) : 0;
    if (!json_is_array(pols))
        return cc_error_set(err, CC_EINVAL, "tokens[%zu].policies: expected an array of policy names", idx);
    size_t n = json_array_size(pols);
    if (n && !(t->policies = calloc(n, sizeof *t->policies)))
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *name = json_string_value(json_array_get(pols, i));
        if (!name)
            return cc_error_set(err, CC_EINVAL, "tokens[%zu].policies[%zu]: expected a string", idx, i);
        /* A token bound to a policy deleted since simply has no rules from it. */
        for (size_t p = 0; p < s->policy_count; p++)
            if (strcmp(s->policies[p].name, name) == 0)
                t->policies[t->policy_count++] = &s->policies[p];
    }
    return CC_OK;
}

cc_status cc_auth_snapshot_build(const uint8_t hmac_key[CC_AUTH_HMAC_KEY_LEN], uint64_t revision, json_t *doc,
                                 cc_auth_snapshot **out, cc_error *err)
{
    *out = NULL;
    if (doc && !json_is_object(doc))
        return cc_error_set(err, CC_EINVAL, "auth document: expected an object {policies, tokens}");
    json_t *pols = doc ? json_object_get(doc, "policies") : NULL, *toks = doc ? json_object_get(doc, "tokens") : NULL;
    if (pols && !json_is_object(pols))
        return cc_error_set(err, CC_EINVAL, "policies: expected an object of named policies");
    if (toks && !json_is_array(toks))
        return cc_error_set(err, CC_EINVAL, "tokens: expected an array");
    size_t np = json_object_size(pols), nt = json_array_size(toks);
    if (np > CC_AUTH_MAX_POLICIES)
        return cc_error_set(err, CC_EINVAL, "policies: at most %d", CC_AUTH_MAX_POLICIES);
    if (nt > CC_AUTH_MAX_TOKENS)
        return cc_error_set(err, CC_EINVAL, "tokens: at most %d", CC_AUTH_MAX_TOKENS);
    cc_auth_snapshot *s = calloc(1, sizeof *s);
    if (!s || !(s->hmac_key = cc_secret_alloc(CC_AUTH_HMAC_KEY_LEN)))
        goto oom;
    memcpy(s->hmac_key, hmac_key, CC_AUTH_HMAC_KEY_LEN);
    s->revision = revision;
    if ((np && !(s->policies = calloc(np, sizeof *s->policies))) || (nt && !(s->tokens = calloc(nt, sizeof *s->tokens))))
        goto oom;
    cc_status st;
    const char *name;
    json_t *v;
    json_object_foreach(pols, name, v) {
        char pre[CC_AUTH_NAME_MAX + 32];
        snprintf(pre, sizeof pre, "policies.%.64s", name);
        if (!cc_auth_policy_name_valid(name)) {
            st = cc_error_set(err, CC_EINVAL, "%s: a policy name is 1 to %d of [A-Za-z0-9_.-]", pre, CC_AUTH_NAME_MAX);
            goto fail;
        }
        policy *p = &s->policies[s->policy_count++];
        snprintf(p->name, sizeof p->name, "%s", name);
        if ((st = policy_compile(pre, v, p, NULL, err)) != CC_OK)
            goto fail;
    }
    size_t cap = 16;
    while (cap < 2 * nt)
        cap *= 2;
    if (!(s->slots = calloc(cap, sizeof *s->slots)))
        goto oom;
    s->slot_mask = cap - 1;
    for (size_t i = 0; i < nt; i++) {
        s->token_count = i + 1;
        if ((st = token_compile(s, i, json_array_get(toks, i), err)) != CC_OK)
            goto fail;
        size_t h = id_hash(s->tokens[i].id) & s->slot_mask;
        while (s->slots[h]) {
            if (strcmp(s->tokens[s->slots[h] - 1].id, s->tokens[i].id) == 0) {
                st = cc_error_set(err, CC_EINVAL, "tokens[%zu].id: %s is used twice", i, s->tokens[i].id);
                goto fail;
            }
            h = (h + 1) & s->slot_mask;
        }
        s->slots[h] = (uint32_t)i + 1;
        if (s->tokens[i].root)
            s->has_root = 1;
    }
    *out = s;
    return CC_OK;
oom:
    st = cc_error_set(err, CC_ENOMEM, "out of memory");
fail:
    cc_auth_snapshot_free(s);
    return st;
}

/* ---------------------------------------------------------------- tokens */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

cc_status cc_auth_token_parse(const char *tok, char id[CC_AUTH_ID_HEX + 1], uint8_t secret[CC_AUTH_SECRET_LEN],
                              cc_error *err)
{
    if (!tok || strnlen(tok, CC_AUTH_TOKEN_LEN + 1) != CC_AUTH_TOKEN_LEN || memcmp(tok, "cc-", 3) != 0 ||
        tok[3 + CC_AUTH_ID_HEX] != '.')
        return cc_error_set(err, CC_EINVAL, "token: not of the form cc-<16 hex>.<64 hex>");
    for (int i = 0; i < CC_AUTH_ID_HEX; i++) {
        char c = tok[3 + i];
        if (hexval(c) < 0)
            return cc_error_set(err, CC_EINVAL, "token: the id is not hex");
        id[i] = (char)(c | 0x20);
    }
    id[CC_AUTH_ID_HEX] = '\0';
    const char *sec = tok + 3 + CC_AUTH_ID_HEX + 1;
    int bad = 0;
    for (int i = 0; i < CC_AUTH_SECRET_LEN; i++) {
        int hi = hexval(sec[2 * i]), lo = hexval(sec[2 * i + 1]);
        bad |= (hi | lo) < 0;
        secret[i] = (uint8_t)(((hi & 0xf) << 4) | (lo & 0xf)); /* hi may be -1: no shift of a negative */
    }
    if (bad) {
        cc_secret_wipe(secret, CC_AUTH_SECRET_LEN);
        return cc_error_set(err, CC_EINVAL, "token: the secret is not hex");
    }
    return CC_OK;
}

cc_status cc_auth_token_hash(const uint8_t hmac_key[CC_AUTH_HMAC_KEY_LEN], const uint8_t secret[CC_AUTH_SECRET_LEN],
                             uint8_t hash[CC_AUTH_HASH_LEN], cc_error *err)
{
    unsigned len = 0;
    if (!HMAC(EVP_sha256(), hmac_key, CC_AUTH_HMAC_KEY_LEN, secret, CC_AUTH_SECRET_LEN, hash, &len) ||
        len != CC_AUTH_HASH_LEN)
        return cc_error_set(err, CC_ECRYPTO, "token: HMAC-SHA256 failed");
    return CC_OK;
}

cc_status cc_auth_token_generate(const uint8_t hmac_key[CC_AUTH_HMAC_KEY_LEN], char *tok,
                                 char id[CC_AUTH_ID_HEX + 1], uint8_t hash[CC_AUTH_HASH_LEN], cc_error *err)
{
    uint8_t idb[CC_AUTH_ID_HEX / 2];
    uint8_t *secret = cc_secret_alloc(CC_AUTH_SECRET_LEN);
    if (!secret)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cc_status st = CC_OK;
    if (RAND_bytes(idb, sizeof idb) != 1 || RAND_priv_bytes(secret, CC_AUTH_SECRET_LEN) != 1) {
        st = cc_error_set(err, CC_ECRYPTO, "the random generator failed");
        goto out;
    }
    cc_hex_encode(idb, sizeof idb, id);
    id[CC_AUTH_ID_HEX] = '\0';
    memcpy(tok, "cc-", 3);
    memcpy(tok + 3, id, CC_AUTH_ID_HEX);
    tok[3 + CC_AUTH_ID_HEX] = '.';
    cc_hex_encode(secret, CC_AUTH_SECRET_LEN, tok + 3 + CC_AUTH_ID_HEX + 1);
    tok[CC_AUTH_TOKEN_LEN] = '\0';
    st = cc_auth_token_hash(hmac_key, secret, hash, err);
out:
    cc_secret_free(secret, CC_AUTH_SECRET_LEN);
    return st;
}

int cc_auth_token_from_header(const char *h, char *out, size_t cap)
{
    if (!cap)
        return 0;
    out[0] = '\0';
    if (!h)
        return 0;
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "Bearer ", 7) == 0) {
        h += 7;
        while (*h == ' ')
            h++;
        size_t n = strcspn(h, " \t\r\n");
        if (n == 0 || n >= cap)
            return 0;
        memcpy(out, h, n);
        out[n] = '\0';
        return 1;
    }
    if (strncasecmp(h, "Basic ", 6) == 0) {
        h += 6;
        while (*h == ' ')
            h++;
        size_t n = strcspn(h, " \t\r\n");
        /* base64(user ":" token): a token is 84 characters, so 256 decoded bytes are plenty. */
        unsigned char dec[260];
        if (n == 0 || n % 4 || n / 4 * 3 > sizeof dec - 1)
            return 0;
        int len = EVP_DecodeBlock(dec, (const unsigned char *)h, (int)n);
        if (len < 0) {
            cc_secret_wipe(dec, sizeof dec);
            return 0;
        }
        if (n >= 1 && h[n - 1] == '=')
            len--;
        if (n >= 2 && h[n - 2] == '=')
            len--;
        dec[len] = '\0';
        const char *colon = memchr(dec, ':', (size_t)len);
        int found = 0;
        if (colon) {
            size_t tl = (size_t)len - (size_t)(colon + 1 - (const char *)dec);
            if (tl > 0 && tl < cap && !memchr(colon + 1, '\0', tl)) {
                memcpy(out, colon + 1, tl);
                out[tl] = '\0';
                found = 1;
            }
        }
        cc_secret_wipe(dec, sizeof dec);
        return found;
    }
    return 0;
}

/* ---------------------------------------------------------------- decisions */

static const token *lookup(const cc_auth_snapshot *s, const char *id)
{
    size_t h = id_hash(id) & s->slot_mask;
    for (size_t probes = 0; probes <= s->slot_mask && s->slots[h]; probes++) {
        const token *t = &s->tokens[s->slots[h] - 1];
        if (memcmp(t->id, id, CC_AUTH_ID_HEX) == 0)
            return t;
        h = (h + 1) & s->slot_mask;
    }
    return NULL;
}

static int rule_matches(const rule *r, int scope, const uint8_t *pubkey, int type)
{
    if (!(r->scopes & ((uint32_t)1 << scope)))
        return 0;
    if (!r->any_key && (!pubkey || !bsearch(pubkey, r->keys, r->key_count, sizeof *r->keys, key_cmp)))
        return 0;
    if (!r->any_operation && (type < 0 || !(r->operations & ((uint32_t)1 << type))))
        return 0;
    return 1;
}

static void describe(char *out, size_t cap, int scope, const uint8_t *pubkey, int type)
{
    int n = snprintf(out, cap, "scope %s", scope >= 0 ? cc_auth_scope_name((cc_auth_scope)scope) : "any");
    if (pubkey && n > 0 && (size_t)n < cap) {
        char hex[2 * CC_AUTH_PUBKEY_LEN + 3];
        cc_hex_encode0x(pubkey, CC_AUTH_PUBKEY_LEN, hex);
        n += snprintf(out + n, cap - (size_t)n, ", key %s", hex);
    }
    if (type >= 0 && type < CC_SIGN_TYPE_COUNT && n > 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, ", operation %s", cc_sign_type_name((cc_sign_type)type));
}

cc_auth_result cc_auth_check(const cc_auth_snapshot *s, const char *tok, int scope, const uint8_t *pubkey, int type,
                             int64_t now, char *token_id, cc_error *err)
{
    if (token_id)
        token_id[0] = '\0';
    if (!tok || !*tok) {
        cc_error_set(err, CC_EUNAUTHORIZED, "authentication required: Authorization: Bearer <token>");
        return CC_AUTH_MISSING;
    }
    char id[CC_AUTH_ID_HEX + 1];
    uint8_t secret[CC_AUTH_SECRET_LEN], hash[CC_AUTH_HASH_LEN];
    if (cc_auth_token_parse(tok, id, secret, NULL) != CC_OK) {
        cc_error_set(err, CC_EUNAUTHORIZED, "invalid token: not of the form cc-<id>.<secret>");
        return CC_AUTH_INVALID;
    }
    const token *t = s ? lookup(s, id) : NULL;
    int good = 0;
    if (t && cc_auth_token_hash(s->hmac_key, secret, hash, NULL) == CC_OK)
        good = cc_ct_equal(hash, t->hash, CC_AUTH_HASH_LEN);
    cc_secret_wipe(secret, sizeof secret);
    cc_secret_wipe(hash, sizeof hash);
    if (!good) {
        cc_error_set(err, CC_EUNAUTHORIZED, "invalid token: unknown or revoked");
        return CC_AUTH_INVALID;
    }
    if (token_id)
        memcpy(token_id, id, sizeof id);
    if (t->expires_at && now >= t->expires_at) {
        cc_error_set(err, CC_EUNAUTHORIZED, "token %s expired", id);
        return CC_AUTH_EXPIRED;
    }
    if (t->root || scope == CC_SCOPE_ANY)
        return CC_AUTH_OK;
    int allowed = 0;
    char what[192];
    if (scope >= 0 && scope < CC_SCOPE_COUNT && scope != CC_SCOPE_CHAMBER_AUTH) {
        for (size_t p = 0; p < t->policy_count; p++) {
            const policy *pol = t->policies[p];
            for (size_t r = 0; r < pol->rule_count; r++) {
                const rule *ru = &pol->rules[r];
                if (!rule_matches(ru, scope, pubkey, type))
                    continue;
                if (ru->deny) {
                    describe(what, sizeof what, scope, pubkey, type);
                    cc_error_set(err, CC_EFORBIDDEN, "forbidden: policy %s denies %s to token %s", pol->name, what,
                                 id);
                    return CC_AUTH_DENIED;
                }
                allowed = 1;
            }
        }
    }
    if (!allowed) {
        describe(what, sizeof what, scope, pubkey, type);
        cc_error_set(err, CC_EFORBIDDEN, "forbidden: no policy of token %s allows %s", id, what);
        return CC_AUTH_DENIED;
    }
    return CC_AUTH_OK;
}
