/*
 * fuzz_auth — auth policies and tokens (src/chamber/auth.c): the stored
 * document {policies, tokens} that cc_auth_snapshot_build validates and
 * compiles (the "AUTH" item's doc, any DynamoDB writer controls it), the
 * decision cc_auth_check over it, cc_auth_policy_normalize (a policy PUT by
 * the API), and the request side: cc_auth_token_from_header (the
 * Authorization header) and cc_auth_token_parse.
 *
 * The input is the document as JSON text.  Tokens whose `hash` is 64
 * characters get it replaced by HMAC(key, a secret the harness knows)
 * (cc_auth_token_hash), so the decisions are reached with valid tokens.
 *
 * Invariants: a failure carries its code and message.  For every token that
 * compiled and every scope × pubkey × signing type tried, cc_auth_check
 * agrees with a reference evaluation written here from the JSON: expired →
 * EXPIRED; root or "any" → OK; chamber_auth → DENIED; a matching deny rule
 * → DENIED (never OK); else a matching allow → OK; else DENIED.  A wrong
 * secret is INVALID, no token MISSING.  Normalising a policy is idempotent.
 * The header parser's answer fits its buffer and is empty when it says
 * "none"; a token it accepts re-formats to itself, and both header forms
 * (Bearer, Basic) carry a valid token through unchanged.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <strings.h>

#include "chamber/auth.h"
#include "fuzz.h"
#include "signing/request.h"
#include "util/hex.h"
#include "util/log.h"

#define NOW 1800000000LL
#define MAX_TOKENS 4

static const uint8_t hmac_key[CC_AUTH_HMAC_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                                        17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cc_log_set_level(CC_LOG_ERROR);
    return 0;
}

static void secret_of(size_t i, uint8_t secret[CC_AUTH_SECRET_LEN])
{
    for (size_t j = 0; j < CC_AUTH_SECRET_LEN; j++)
        secret[j] = (uint8_t)(0xa5 ^ (i * 37 + j));
}

static void token_text(const char *id, const uint8_t secret[CC_AUTH_SECRET_LEN], char out[CC_AUTH_TOKEN_LEN + 1])
{
    memcpy(out, "cc-", 3);
    memcpy(out + 3, id, CC_AUTH_ID_HEX);
    out[3 + CC_AUTH_ID_HEX] = '.';
    cc_hex_encode(secret, CC_AUTH_SECRET_LEN, out + 4 + CC_AUTH_ID_HEX);
    out[CC_AUTH_TOKEN_LEN] = '\0';
}

/* ---- the reference evaluation, straight from the (validated) JSON document */

static int in_list(json_t *arr, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *s = json_string_value(v);
        if (s && strcmp(s, name) == 0)
            return 1;
    }
    return 0;
}

static int ref_rule_matches(json_t *rule, int scope, const uint8_t *pubkey, int type)
{
    json_t *scopes = json_object_get(rule, "scopes"), *keys = json_object_get(rule, "keys"),
           *ops = json_object_get(rule, "operations");
    if (!in_list(scopes, cc_auth_scope_name((cc_auth_scope)scope)) &&
        !(in_list(scopes, "*") && scope != CC_SCOPE_CHAMBER_AUTH))
        return 0;
    if (keys && !in_list(keys, "*")) {
        if (!pubkey)
            return 0;
        int hit = 0;
        size_t i;
        json_t *v;
        json_array_foreach(keys, i, v) {
            uint8_t pk[48];
            if (cc_hex_decode_exact(json_string_value(v), pk, 48, NULL) == CC_OK && memcmp(pk, pubkey, 48) == 0)
                hit = 1;
        }
        if (!hit)
            return 0;
    }
    if (ops && !in_list(ops, "*") && (type < 0 || !in_list(ops, cc_sign_type_name((cc_sign_type)type))))
        return 0;
    return 1;
}

static cc_auth_result ref_check(json_t *doc, json_t *tok, int scope, const uint8_t *pubkey, int type)
{
    json_t *exp = json_object_get(tok, "expires_at");
    int64_t e = json_is_integer(exp) ? (int64_t)json_integer_value(exp) : 0;
    if (e && NOW >= e)
        return CC_AUTH_EXPIRED;
    if (json_is_true(json_object_get(tok, "root")) || scope == CC_SCOPE_ANY)
        return CC_AUTH_OK;
    if (scope == CC_SCOPE_CHAMBER_AUTH)
        return CC_AUTH_DENIED;
    int allow = 0, deny = 0;
    size_t i, j;
    json_t *name, *rule;
    json_array_foreach(json_object_get(tok, "policies"), i, name) {
        json_t *pol = json_object_get(json_object_get(doc, "policies"), json_string_value(name));
        json_array_foreach(json_object_get(pol, "rules"), j, rule) {
            if (!ref_rule_matches(rule, scope, pubkey, type))
                continue;
            if (strcmp(json_string_value(json_object_get(rule, "effect")), "deny") == 0)
                deny = 1;
            else
                allow = 1;
        }
    }
    return deny ? CC_AUTH_DENIED : allow ? CC_AUTH_OK : CC_AUTH_DENIED;
}

/* Up to two pubkeys and two operations named in the document's rules, to steer the queries. */
static void collect(json_t *doc, uint8_t keys[2][48], int *nkeys, int types[2], int *ntypes)
{
    const char *pname;
    json_t *pol;
    json_object_foreach(json_object_get(doc, "policies"), pname, pol) {
        size_t i, j;
        json_t *rule, *v;
        json_array_foreach(json_object_get(pol, "rules"), i, rule) {
            json_array_foreach(json_object_get(rule, "keys"), j, v) {
                if (*nkeys < 2 && cc_hex_decode_exact(json_string_value(v), keys[*nkeys], 48, NULL) == CC_OK)
                    (*nkeys)++;
            }
            json_array_foreach(json_object_get(rule, "operations"), j, v) {
                cc_sign_type t;
                const char *s = json_string_value(v);
                if (*ntypes < 2 && s && cc_sign_type_parse(s, &t, NULL) == CC_OK)
                    types[(*ntypes)++] = (int)t;
            }
        }
    }
}

static void check_decisions(json_t *doc, const cc_auth_snapshot *snap)
{
    uint8_t keys[3][48];
    int nkeys = 0, types[4] = {CC_AUTH_NO_TYPE, CC_SIGN_VOLUNTARY_EXIT}, ntypes = 0;
    collect(doc, keys, &nkeys, types + 2, &ntypes);
    memset(keys[nkeys], 0x11, 48);
    nkeys++;
    ntypes += 2;
    size_t i;
    json_t *tok;
    json_array_foreach(json_object_get(doc, "tokens"), i, tok) {
        if (i >= MAX_TOKENS)
            break;
        const char *hash = json_string_value(json_object_get(tok, "hash"));
        if (!hash || strlen(hash) != 2 * CC_AUTH_HASH_LEN)
            continue; /* not one whose secret we know */
        uint8_t secret[CC_AUTH_SECRET_LEN];
        char text[CC_AUTH_TOKEN_LEN + 1], id[CC_AUTH_ID_HEX + 1];
        secret_of(i, secret);
        token_text(json_string_value(json_object_get(tok, "id")), secret, text);
        for (int scope = CC_SCOPE_ANY; scope < CC_SCOPE_COUNT; scope++)
            for (int k = -1; k < nkeys; k++)
                for (int t = 0; t < ntypes; t++) {
                    const uint8_t *pk = k < 0 ? NULL : keys[k];
                    cc_error err = {0};
                    cc_auth_result got = cc_auth_check(snap, text, scope, pk, types[t], NOW, id, &err);
                    cc_auth_result want = ref_check(doc, tok, scope, pk, types[t]);
                    if (got != want)
                        fprintf(stderr, "token %zu scope %d key %d type %d: got %s, reference %s (%s)\n", i, scope,
                                k, types[t], cc_auth_result_name(got), cc_auth_result_name(want), err.msg);
                    FUZZ_ASSERT(got == want);
                    FUZZ_ASSERT(strcmp(id, json_string_value(json_object_get(tok, "id"))) == 0);
                    if (got != CC_AUTH_OK) {
                        FUZZ_ASSERT(err.msg[0] != '\0');
                        /* never the secret (unless the request's own key, which a message may name, holds it) */
                        char pkhex[2 + 96 + 1] = "";
                        if (pk)
                            cc_hex_encode0x(pk, 48, pkhex);
                        FUZZ_ASSERT(strstr(err.msg, text + 4 + CC_AUTH_ID_HEX) == NULL ||
                                    strstr(pkhex, text + 4 + CC_AUTH_ID_HEX) != NULL);
                    }
                }
        /* the same id with another secret, and no token at all */
        text[CC_AUTH_TOKEN_LEN - 1] = text[CC_AUTH_TOKEN_LEN - 1] == '0' ? '1' : '0';
        FUZZ_ASSERT(cc_auth_check(snap, text, CC_SCOPE_SIGN, NULL, CC_AUTH_NO_TYPE, NOW, NULL, NULL) ==
                    CC_AUTH_INVALID);
    }
    FUZZ_ASSERT(cc_auth_check(snap, NULL, CC_SCOPE_ANY, NULL, CC_AUTH_NO_TYPE, NOW, NULL, NULL) == CC_AUTH_MISSING);
}

/* Gives every token with a 64-character hash the hash of the secret secret_of(index). */
static void rehash(json_t *doc)
{
    size_t i;
    json_t *tok;
    json_array_foreach(json_object_get(doc, "tokens"), i, tok) {
        const char *hash = json_string_value(json_object_get(tok, "hash"));
        if (!hash || strlen(hash) != 2 * CC_AUTH_HASH_LEN)
            continue;
        uint8_t secret[CC_AUTH_SECRET_LEN], h[CC_AUTH_HASH_LEN];
        char hex[2 * CC_AUTH_HASH_LEN + 1];
        secret_of(i, secret);
        FUZZ_ASSERT(cc_auth_token_hash(hmac_key, secret, h, NULL) == CC_OK);
        cc_hex_encode(h, sizeof h, hex);
        hex[sizeof hex - 1] = '\0';
        json_object_set_new(tok, "hash", json_string(hex));
    }
}

static void check_header(const char *h)
{
    char out[CC_AUTH_TOKEN_LEN + 8];
    memset(out, 'x', sizeof out);
    int found = cc_auth_token_from_header(h, out, sizeof out);
    FUZZ_ASSERT(memchr(out, '\0', sizeof out) != NULL);
    if (!found) {
        FUZZ_ASSERT(out[0] == '\0');
        return;
    }
    FUZZ_ASSERT(out[0] != '\0');
    char id[CC_AUTH_ID_HEX + 1], again[CC_AUTH_TOKEN_LEN + 1];
    uint8_t secret[CC_AUTH_SECRET_LEN];
    cc_error err = {0};
    cc_status st = cc_auth_token_parse(out, id, secret, &err);
    if (st != CC_OK) {
        FUZZ_ASSERT_ERR(st, err);
        return;
    }
    for (int i = 0; i < CC_AUTH_ID_HEX; i++)
        FUZZ_ASSERT((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'));
    token_text(id, secret, again);
    FUZZ_ASSERT(strcasecmp(again, out) == 0);
}

static void check_header_forms(void)
{
    uint8_t secret[CC_AUTH_SECRET_LEN];
    char text[CC_AUTH_TOKEN_LEN + 1], h[512], out[CC_AUTH_TOKEN_LEN + 1];
    secret_of(7, secret);
    token_text("0123456789abcdef", secret, text);
    snprintf(h, sizeof h, "Bearer %s", text);
    FUZZ_ASSERT(cc_auth_token_from_header(h, out, sizeof out) == 1 && strcmp(out, text) == 0);
    char up[CC_AUTH_TOKEN_LEN + 8];
    int n = snprintf(up, sizeof up, "u:%s", text);
    memcpy(h, "Basic ", 6);
    EVP_EncodeBlock((unsigned char *)h + 6, (const unsigned char *)up, n);
    FUZZ_ASSERT(cc_auth_token_from_header(h, out, sizeof out) == 1 && strcmp(out, text) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strdup(data, size);
    check_header(s); /* the raw bytes as an Authorization header */
    free(s);
    static int once;
    if (!once++)
        check_header_forms();

    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    if (!doc)
        return 0;
    rehash(doc);
    cc_error err = {0};
    cc_auth_snapshot *snap = NULL;
    cc_status st = cc_auth_snapshot_build(hmac_key, 7, doc, &snap, &err);
    if (st != CC_OK) {
        FUZZ_ASSERT_ERR(st, err);
        FUZZ_ASSERT(st == CC_EINVAL || st == CC_ENOMEM);
        FUZZ_ASSERT(snap == NULL);
    } else {
        FUZZ_ASSERT(cc_auth_snapshot_revision(snap) == 7);
        FUZZ_ASSERT(cc_auth_snapshot_enforcing(snap) == (json_object_size(json_object_get(doc, "policies")) > 0));
        check_decisions(doc, snap);
        cc_auth_snapshot_free(snap);
    }
    /* every policy on its own, as PUT through the API: normalising is idempotent */
    const char *name;
    json_t *pol;
    json_object_foreach(json_object_get(doc, "policies"), name, pol) {
        json_t *c1 = NULL, *c2 = NULL;
        cc_error e1 = {0};
        st = cc_auth_policy_normalize("p", pol, &c1, &e1);
        if (st != CC_OK) {
            FUZZ_ASSERT_ERR(st, e1);
            FUZZ_ASSERT(c1 == NULL || st != CC_OK);
            json_decref(c1);
            continue;
        }
        FUZZ_ASSERT(cc_auth_policy_normalize("p", c1, &c2, NULL) == CC_OK);
        FUZZ_ASSERT(json_equal(c1, c2));
        json_decref(c1);
        json_decref(c2);
    }
    json_decref(doc);
    return 0;
}
