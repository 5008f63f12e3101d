/*
 * test_auth.c — chamber/auth.h: rule evaluation (deny wins, key and operation
 * wildcards, rules that name keys or types never match requests without
 * one), root tokens, expiry, token format, hashing and verification, header
 * parsing, validation messages that name the field, and the cost of one check.
 */
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "chamber/auth.h"
#include "signing/request.h"
#include "test.h"
#include "util/hex.h"

static const uint8_t hkey[CC_AUTH_HMAC_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* Three distinct pubkeys (only the bytes matter here). */
static uint8_t pk[3][48];
static char pkhex[3][99];

static void init_keys(void)
{
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 48; i++)
            pk[k][i] = (uint8_t)(0xa0 + k * 7 + i);
        cc_hex_encode0x(pk[k], 48, pkhex[k]);
    }
}

/* A token entry for the document, with a fresh token written to tok. */
static json_t *new_token(char *tok, int root, const char *policies_json, json_t *expires)
{
    char id[CC_AUTH_ID_HEX + 1], hex[65];
    uint8_t hash[32];
    if (cc_auth_token_generate(hkey, tok, id, hash, NULL) != CC_OK)
        return NULL;
    cc_hex_encode(hash, 32, hex);
    hex[64] = '\0';
    json_t *pols = json_loads(policies_json, 0, NULL);
    return json_pack("{s:s, s:s, s:b, s:o, s:I, s:o}", "id", id, "hash", hex, "root", root, "policies", pols,
                     "created_at", (json_int_t)1000, "expires_at", expires ? expires : json_null());
}

static cc_auth_snapshot *build(json_t *doc)
{
    cc_auth_snapshot *s = NULL;
    cc_error err;
    cc_status st = cc_auth_snapshot_build(hkey, 7, doc, &s, &err);
    if (st != CC_OK)
        fprintf(stderr, "  build: %s\n", err.msg);
    return s;
}

/* The policies of the example: exits denied for exactly two keys, everything else signs. */
static json_t *exit_doc(char *validator_tok, char *other_tok, char *root_tok, char *expired_tok)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"validator\": {\"rules\": ["
             "  {\"effect\": \"allow\", \"scopes\": [\"sign\", \"public_keys\"]},"
             "  {\"effect\": \"deny\", \"scopes\": [\"sign\"], \"keys\": [\"%s\", \"%s\"],"
             "   \"operations\": [\"VOLUNTARY_EXIT\"]}]},"
             " \"reader\": {\"rules\": [{\"effect\": \"allow\", \"scopes\": [\"public_keys\", \"chamber_status\"]}]},"
             " \"one-key\": {\"rules\": [{\"effect\": \"allow\", \"scopes\": [\"sign\"], \"keys\": [\"%s\"],"
             "   \"operations\": [\"ATTESTATION\", \"BLOCK_V2\"]}]}}",
             pkhex[0], pkhex[1], pkhex[2]);
    json_t *doc = json_pack("{s:o, s:[]}", "policies", json_loads(text, 0, NULL), "tokens");
    json_t *toks = json_object_get(doc, "tokens");
    json_array_append_new(toks, new_token(validator_tok, 0, "[\"validator\"]", NULL));
    json_array_append_new(toks, new_token(other_tok, 0, "[\"reader\", \"one-key\", \"deleted-since\"]", NULL));
    json_array_append_new(toks, new_token(root_tok, 1, "[]", NULL));
    json_array_append_new(toks, new_token(expired_tok, 0, "[\"validator\"]", json_integer(2000)));
    return doc;
}

static char tv[CC_AUTH_TOKEN_LEN + 1], to[CC_AUTH_TOKEN_LEN + 1], tr[CC_AUTH_TOKEN_LEN + 1],
    te[CC_AUTH_TOKEN_LEN + 1];

static cc_auth_result chk(cc_auth_snapshot *s, const char *tok, int scope, const uint8_t *key, int type)
{
    return cc_auth_check(s, tok, scope, key, type, 1500, NULL, NULL);
}

TEST(deny_wins_for_exactly_the_listed_keys_and_type)
{
    json_t *doc = exit_doc(tv, to, tr, te);
    cc_auth_snapshot *s = build(doc);
    CHECK(s != NULL);
    CHECK(cc_auth_snapshot_enforcing(s));
    for (int k = 0; k < 3; k++)
        for (int t = 0; t < CC_SIGN_TYPE_COUNT; t++) {
            int want = (k < 2 && t == CC_SIGN_VOLUNTARY_EXIT) ? CC_AUTH_DENIED : CC_AUTH_OK;
            CHECK_EQ_INT(chk(s, tv, CC_SCOPE_SIGN, pk[k], t), want);
        }
    CHECK_EQ_INT(chk(s, tv, CC_SCOPE_PUBLIC_KEYS, NULL, CC_AUTH_NO_TYPE), CC_AUTH_OK);
    CHECK_EQ_INT(chk(s, tv, CC_SCOPE_CHAMBER_SEAL, NULL, CC_AUTH_NO_TYPE), CC_AUTH_DENIED);
    CHECK_EQ_INT(chk(s, tv, CC_SCOPE_CHAMBER_AUTH, NULL, CC_AUTH_NO_TYPE), CC_AUTH_DENIED);
    CHECK_EQ_INT(chk(s, tv, CC_SCOPE_ANY, NULL, CC_AUTH_NO_TYPE), CC_AUTH_OK);

    /* The refusal names the policy, scope, key and type. */
    cc_error err;
    CHECK_EQ_INT(cc_auth_check(s, tv, CC_SCOPE_SIGN, pk[1], CC_SIGN_VOLUNTARY_EXIT, 1500, NULL, &err),
                 CC_AUTH_DENIED);
    CHECK_EQ_INT(err.code, CC_EFORBIDDEN);
    CHECK(strstr(err.msg, "policy validator denies") != NULL);
    CHECK(strstr(err.msg, "scope sign") != NULL);
    CHECK(strstr(err.msg, pkhex[1]) != NULL);
    CHECK(strstr(err.msg, "VOLUNTARY_EXIT") != NULL);
    CHECK(strstr(err.msg, tv + 20) == NULL); /* never the secret */
    cc_auth_snapshot_free(s);
    json_decref(doc);
}

TEST(specific_keys_and_operations_match_only_requests_that_have_them)
{
    json_t *doc = exit_doc(tv, to, tr, te);
    cc_auth_snapshot *s = build(doc);
    /* one-key: sign only pk[2], only ATTESTATION and BLOCK_V2 */
    CHECK_EQ_INT(chk(s, to, CC_SCOPE_SIGN, pk[2], CC_SIGN_ATTESTATION), CC_AUTH_OK);
    CHECK_EQ_INT(chk(s, to, CC_SCOPE_SIGN, pk[2], CC_SIGN_BLOCK_V2), CC_AUTH_OK);
    CHECK_EQ_INT(chk(s, to, CC_SCOPE_SIGN, pk[2], CC_SIGN_BLOCK), CC_AUTH_DENIED);
    CHECK_EQ_INT(chk(s, to, CC_SCOPE_SIGN, pk[0], CC_SIGN_ATTESTATION), CC_AUTH_DENIED);
    CHECK_EQ_INT(chk(s, to, CC_SCOPE_SIGN, NULL, CC_SIGN_ATTESTATION), CC_AUTH_DENIED);
    CHECK_EQ_INT(chk(s, to, CC_SCOPE_SIGN, pk[2], CC_AUTH_NO_TYPE), CC_AUTH_DENIED);
    /* reader: public_keys and chamber_status, any key */
    CHECK_EQ_INT(chk(s, to, CC_SCOPE_PUBLIC_KEYS, NULL, CC_AUTH_NO_TYPE), CC_AUTH_OK);
    CHECK_EQ_INT(chk(s, to, CC_SCOPE_CHAMBER_STATUS, NULL, CC_AUTH_NO_TYPE), CC_AUTH_OK);
    CHECK_EQ_INT(chk(s, to, CC_SCOPE_LIST_KEYS, NULL, CC_AUTH_NO_TYPE), CC_AUTH_DENIED);
    cc_error err;
    CHECK_EQ_INT(cc_auth_check(s, to, CC_SCOPE_LIST_KEYS, NULL, CC_AUTH_NO_TYPE, 1500, NULL, &err), CC_AUTH_DENIED);
    CHECK(strstr(err.msg, "no policy") != NULL && strstr(err.msg, "scope list_keys") != NULL);
    cc_auth_snapshot_free(s);
    json_decref(doc);
}

TEST(root_tokens_may_do_everything_and_nothing_else_may_manage_auth)
{
    json_t *doc = exit_doc(tv, to, tr, te);
    cc_auth_snapshot *s = build(doc);
    CHECK(cc_auth_snapshot_has_root(s));
    for (int sc = 0; sc < CC_SCOPE_COUNT; sc++)
        CHECK_EQ_INT(chk(s, tr, sc, pk[0], CC_SIGN_VOLUNTARY_EXIT), CC_AUTH_OK);
    CHECK_EQ_INT(chk(s, tv, CC_SCOPE_CHAMBER_AUTH, NULL, CC_AUTH_NO_TYPE), CC_AUTH_DENIED);
    CHECK_EQ_INT(chk(s, to, CC_SCOPE_CHAMBER_AUTH, NULL, CC_AUTH_NO_TYPE), CC_AUTH_DENIED);
    cc_auth_snapshot_free(s);
    json_decref(doc);
}

TEST(a_policy_cannot_grant_chamber_auth_and_errors_name_the_field)
{
    static const struct {
        const char *policy, *want;
    } bad[] = {
        {"{\"rules\": [{\"effect\": \"allow\", \"scopes\": [\"chamber_auth\"]}]}", "rules[0].scopes[0]: chamber_auth"},
        {"{\"rules\": [{\"effect\": \"permit\", \"scopes\": [\"sign\"]}]}", "rules[0].effect"},
        {"{\"rules\": [{\"effect\": \"allow\", \"scopes\": [\"sign\", \"sing\"]}]}", "rules[0].scopes[1]: unknown scope sing"},
        {"{\"rules\": [{\"effect\": \"allow\", \"scopes\": []}]}", "rules[0].scopes"},
        {"{\"rules\": [{\"effect\": \"allow\", \"scopes\": [\"sign\"], \"keys\": [\"0x1234\"]}]}", "rules[0].keys[0]"},
        {"{\"rules\": [{\"effect\": \"allow\", \"scopes\": [\"sign\"], \"keys\": []}]}", "rules[0].keys"},
        {"{\"rules\": [{\"effect\": \"allow\", \"scopes\": [\"sign\"], \"operations\": [\"EXIT\"]}]}",
         "rules[0].operations[0]: unknown signing type EXIT"},
        {"{\"rules\": [{\"effect\": \"allow\", \"scopes\": [\"sign\"], \"extra\": 1}]}", "rules[0].extra: unknown field"},
        {"{\"rules\": []}", "policy.rules"},
        {"{}", "policy.rules"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *p = json_loads(bad[i].policy, 0, NULL), *out = NULL;
        cc_error err;
        cc_error_clear(&err);
        CHECK_MSG(cc_auth_policy_normalize("policy", p, &out, &err) == CC_EINVAL, "%s", bad[i].policy);
        CHECK_MSG(strstr(err.msg, bad[i].want) != NULL, "%s: got \"%s\"", bad[i].want, err.msg);
        CHECK(out == NULL);
        json_decref(p);
    }
    /* The canonical form: defaults filled in, keys lower-case. */
    char text[512];
    char upper[99];
    memcpy(upper, pkhex[0], sizeof upper);
    for (char *c = upper + 2; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 32);
    snprintf(text, sizeof text, "{\"rules\": [{\"effect\": \"deny\", \"scopes\": [\"*\"], \"keys\": [\"%s\"]}]}", upper);
    json_t *p = json_loads(text, 0, NULL), *out = NULL;
    CHECK(cc_auth_policy_normalize("policy", p, &out, NULL) == CC_OK);
    json_t *r0 = json_array_get(json_object_get(out, "rules"), 0);
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(r0, "keys"), 0)), pkhex[0]);
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(r0, "operations"), 0)), "*");
    json_decref(p);
    json_decref(out);
    CHECK(!cc_auth_policy_name_valid("") && !cc_auth_policy_name_valid("a/b") && cc_auth_policy_name_valid("ops-1.x"));
}

TEST(scope_star_is_every_scope_but_chamber_auth)
{
    char tok[CC_AUTH_TOKEN_LEN + 1];
    json_t *doc = json_pack("{s:{s:{s:[{s:s, s:[s]}]}}, s:[o]}", "policies", "all", "rules", "effect", "allow",
                            "scopes", "*", "tokens", new_token(tok, 0, "[\"all\"]", NULL));
    cc_auth_snapshot *s = build(doc);
    for (int sc = 0; sc < CC_SCOPE_COUNT; sc++)
        CHECK_EQ_INT(chk(s, tok, sc, pk[0], CC_SIGN_BLOCK), sc == CC_SCOPE_CHAMBER_AUTH ? CC_AUTH_DENIED : CC_AUTH_OK);
    cc_auth_snapshot_free(s);
    json_decref(doc);
}

TEST(expiry)
{
    json_t *doc = exit_doc(tv, to, tr, te);
    cc_auth_snapshot *s = build(doc);
    /* te expires at 2000 */
    CHECK_EQ_INT(cc_auth_check(s, te, CC_SCOPE_SIGN, pk[2], CC_SIGN_ATTESTATION, 1999, NULL, NULL), CC_AUTH_OK);
    CHECK_EQ_INT(cc_auth_check(s, te, CC_SCOPE_SIGN, pk[2], CC_SIGN_ATTESTATION, 2000, NULL, NULL), CC_AUTH_EXPIRED);
    CHECK_EQ_INT(cc_auth_check(s, te, CC_SCOPE_ANY, NULL, CC_AUTH_NO_TYPE, 5000, NULL, NULL), CC_AUTH_EXPIRED);
    cc_error err;
    char id[17];
    CHECK_EQ_INT(cc_auth_check(s, te, CC_SCOPE_SIGN, pk[2], CC_SIGN_ATTESTATION, 2001, id, &err), CC_AUTH_EXPIRED);
    CHECK_EQ_INT(err.code, CC_EUNAUTHORIZED);
    CHECK(strncmp(id, te + 3, 16) == 0 && strstr(err.msg, "expired") != NULL);
    /* tokens without expiry do not expire */
    CHECK_EQ_INT(cc_auth_check(s, tv, CC_SCOPE_SIGN, pk[2], CC_SIGN_ATTESTATION, INT64_MAX, NULL, NULL), CC_AUTH_OK);
    cc_auth_snapshot_free(s);
    json_decref(doc);
}

TEST(token_format_hash_and_verification)
{
    char tok[CC_AUTH_TOKEN_LEN + 1], id[17], id2[17];
    uint8_t hash[32], secret[32], hash2[32];
    CHECK(cc_auth_token_generate(hkey, tok, id, hash, NULL) == CC_OK);
    CHECK_EQ_INT(strlen(tok), CC_AUTH_TOKEN_LEN);
    CHECK(strncmp(tok, "cc-", 3) == 0 && tok[19] == '.');
    CHECK(cc_auth_token_parse(tok, id2, secret, NULL) == CC_OK);
    CHECK_EQ_STR(id, id2);
    /* the stored hash is HMAC-SHA256(key, secret bytes), computed independently here */
    unsigned len = 0;
    CHECK(HMAC(EVP_sha256(), hkey, 32, secret, 32, hash2, &len) != NULL && len == 32);
    CHECK(memcmp(hash, hash2, 32) == 0);
    /* two tokens differ */
    char tok2[CC_AUTH_TOKEN_LEN + 1];
    CHECK(cc_auth_token_generate(hkey, tok2, id2, hash2, NULL) == CC_OK);
    CHECK(strcmp(tok, tok2) != 0 && memcmp(hash, hash2, 32) != 0);

    static const char *malformed[] = {
        "", "cc-", "cc-0123456789abcdef", "xx-0123456789abcdef.0000000000000000000000000000000000000000000000000000000000000000",
        "cc-0123456789abcdef-0000000000000000000000000000000000000000000000000000000000000000",
        "cc-0123456789abcdeg.0000000000000000000000000000000000000000000000000000000000000000",
        "cc-0123456789abcdef.000000000000000000000000000000000000000000000000000000000000000z",
        /* a non-hex first digit of a byte (fuzz_auth): refused without shifting -1 (UB under `make asan`) */
        "cc-0123456789abcdef.z000000000000000000000000000000000000000000000000000000000000000",
        "cc-0123456789abcdef.abababababab\x0f" "bababababababababababababababababababababababababab",
        "cc-0123456789abcdef.00000000000000000000000000000000000000000000000000000000000000000",
        "cc-setup-00000000000000000000000000000000",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        CHECK_MSG(cc_auth_token_parse(malformed[i], id2, secret, NULL) == CC_EINVAL, "%s", malformed[i]);

    json_t *doc = exit_doc(tv, to, tr, te);
    cc_auth_snapshot *s = build(doc);
    CHECK_EQ_INT(chk(s, NULL, CC_SCOPE_SIGN, pk[0], 0), CC_AUTH_MISSING);
    CHECK_EQ_INT(chk(s, "", CC_SCOPE_SIGN, pk[0], 0), CC_AUTH_MISSING);
    CHECK_EQ_INT(chk(s, "garbage", CC_SCOPE_SIGN, pk[0], 0), CC_AUTH_INVALID);
    CHECK_EQ_INT(chk(s, tok, CC_SCOPE_ANY, NULL, -1), CC_AUTH_INVALID); /* well-formed, unknown id */
    /* A known id with a wrong secret: differing in the first, in the last, and in every secret digit. */
    for (int pos = 20; pos < CC_AUTH_TOKEN_LEN; pos++) {
        char t[CC_AUTH_TOKEN_LEN + 1];
        memcpy(t, tv, sizeof t);
        t[pos] = t[pos] == '0' ? '1' : '0';
        CHECK_MSG(chk(s, t, CC_SCOPE_ANY, NULL, -1) == CC_AUTH_INVALID, "secret digit %d", pos);
    }
    /* The id is case-insensitive hex; the secret's hex digits too (same bytes). */
    char upper[CC_AUTH_TOKEN_LEN + 1];
    memcpy(upper, tv, sizeof upper);
    for (char *c = upper + 3; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 32);
    CHECK_EQ_INT(chk(s, upper, CC_SCOPE_ANY, NULL, -1), CC_AUTH_OK);
    /* The same token under another HMAC key is invalid (the hash binds the key). */
    uint8_t other[32];
    memset(other, 0x55, sizeof other);
    cc_auth_snapshot *s2 = NULL;
    CHECK(cc_auth_snapshot_build(other, 1, doc, &s2, NULL) == CC_OK);
    CHECK_EQ_INT(cc_auth_check(s2, tv, CC_SCOPE_ANY, NULL, -1, 1500, NULL, NULL), CC_AUTH_INVALID);
    /* No snapshot (no auth item yet): nothing verifies. */
    CHECK_EQ_INT(cc_auth_check(NULL, tv, CC_SCOPE_ANY, NULL, -1, 1500, NULL, NULL), CC_AUTH_INVALID);
    cc_auth_snapshot_free(s2);
    cc_auth_snapshot_free(s);
    json_decref(doc);
}

TEST(malformed_documents_are_refused_with_the_field)
{
    cc_auth_snapshot *s = NULL;
    cc_error err;
    json_t *d1 = json_loads("{\"policies\": [], \"tokens\": []}", 0, NULL);
    CHECK(cc_auth_snapshot_build(hkey, 1, d1, &s, &err) == CC_EINVAL && strstr(err.msg, "policies") != NULL);
    json_t *d2 = json_loads("{\"tokens\": [{\"id\": \"0123\", \"hash\": \"00\", \"policies\": [], \"created_at\": 1}]}", 0,
                            NULL);
    CHECK(cc_auth_snapshot_build(hkey, 1, d2, &s, &err) == CC_EINVAL && strstr(err.msg, "tokens[0].id") != NULL);
    char t1[CC_AUTH_TOKEN_LEN + 1];
    json_t *e = new_token(t1, 0, "[]", NULL);
    json_t *d3 = json_pack("{s:[O, O]}", "tokens", e, e);
    CHECK(cc_auth_snapshot_build(hkey, 1, d3, &s, &err) == CC_EINVAL && strstr(err.msg, "used twice") != NULL);
    CHECK(s == NULL);
    /* empty / NULL documents: open, no root */
    CHECK(cc_auth_snapshot_build(hkey, 1, NULL, &s, &err) == CC_OK);
    CHECK(!cc_auth_snapshot_enforcing(s) && !cc_auth_snapshot_has_root(s));
    cc_auth_snapshot_free(s);
    json_decref(e);
    json_decref(d1);
    json_decref(d2);
    json_decref(d3);
}

TEST(many_tokens_are_all_found)
{
    enum { N = 1000 };
    static char toks[N][CC_AUTH_TOKEN_LEN + 1];
    json_t *doc = json_pack("{s:{s:{s:[{s:s, s:[s]}]}}, s:[]}", "policies", "p", "rules", "effect", "allow", "scopes",
                            "sign", "tokens");
    for (int i = 0; i < N; i++)
        json_array_append_new(json_object_get(doc, "tokens"), new_token(toks[i], 0, "[\"p\"]", NULL));
    cc_auth_snapshot *s = build(doc);
    int bad = 0;
    for (int i = 0; i < N; i++)
        bad += chk(s, toks[i], CC_SCOPE_SIGN, pk[0], CC_SIGN_BLOCK) != CC_AUTH_OK;
    CHECK_EQ_INT(bad, 0);

    /* The cost of one check on the signing path (a figure, with a loose bound). */
    struct timespec a, b;
    enum { ROUNDS = 200000 };
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < ROUNDS; i++)
        bad += chk(s, toks[i % N], CC_SCOPE_SIGN, pk[0], CC_SIGN_ATTESTATION) != CC_AUTH_OK;
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / ROUNDS;
    fprintf(stderr, "  cc_auth_check: %.0f ns per check (%d tokens, %d rounds)\n", ns, N, ROUNDS);
    CHECK_EQ_INT(bad, 0);
    CHECK(ns < 50000);
    cc_auth_snapshot_free(s);
    json_decref(doc);
}

TEST(authorization_headers)
{
    char out[128];
    CHECK(cc_auth_token_from_header("Bearer cc-abc.def", out, sizeof out) && strcmp(out, "cc-abc.def") == 0);
    CHECK(cc_auth_token_from_header("bearer   cc-abc.def  ", out, sizeof out) && strcmp(out, "cc-abc.def") == 0);
    /* Basic base64("user:cc-abc.def") and base64(":tok") (empty user) */
    CHECK(cc_auth_token_from_header("Basic dXNlcjpjYy1hYmMuZGVm", out, sizeof out) && strcmp(out, "cc-abc.def") == 0);
    CHECK(cc_auth_token_from_header("Basic OnRvaw==", out, sizeof out) && strcmp(out, "tok") == 0);
    CHECK(cc_auth_token_from_header("Basic OnRvazE=", out, sizeof out) && strcmp(out, "tok1") == 0);
    CHECK(!cc_auth_token_from_header("Basic dXNlcg==", out, sizeof out)); /* no colon */
    CHECK(!cc_auth_token_from_header("Basic !!!!", out, sizeof out));
    CHECK(!cc_auth_token_from_header("Digest abc", out, sizeof out));
    CHECK(!cc_auth_token_from_header("Bearer ", out, sizeof out));
    CHECK(!cc_auth_token_from_header(NULL, out, sizeof out));
    CHECK(!cc_auth_token_from_header("Bearer 0123456789", out, 8)); /* too long for out */
}

TEST(scope_names)
{
    static const char *want[] = {"sign", "public_keys", "list_keys", "import_keystores", "delete_keys",
                                 "chamber_status", "chamber_seal", "chamber_rotate", "chamber_keys_list",
                                 "chamber_keys_generate", "chamber_keys_import", "chamber_keys_patch",
                                 "chamber_keys_delete", "chamber_auth"};
    CHECK_EQ_INT(sizeof want / sizeof want[0], CC_SCOPE_COUNT);
    for (int i = 0; i < CC_SCOPE_COUNT; i++) {
        CHECK_EQ_STR(cc_auth_scope_name((cc_auth_scope)i), want[i]);
        CHECK_EQ_INT(cc_auth_scope_parse(want[i]), i);
    }
    CHECK_EQ_INT(cc_auth_scope_parse("root"), -1);
    CHECK_EQ_STR(cc_auth_result_name(CC_AUTH_DENIED), "forbidden");
}

int main(void)
{
    init_keys();
    RUN(deny_wins_for_exactly_the_listed_keys_and_type);
    RUN(specific_keys_and_operations_match_only_requests_that_have_them);
    RUN(root_tokens_may_do_everything_and_nothing_else_may_manage_auth);
    RUN(a_policy_cannot_grant_chamber_auth_and_errors_name_the_field);
    RUN(scope_star_is_every_scope_but_chamber_auth);
    RUN(expiry);
    RUN(token_format_hash_and_verification);
    RUN(malformed_documents_are_refused_with_the_field);
    RUN(many_tokens_are_all_found);
    RUN(authorization_headers);
    RUN(scope_names);
    TEST_MAIN_END();
}
