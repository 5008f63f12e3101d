/*
 * Tests for keys/eip2333: every case of staking-deposit-cli's tree_kdf.json
 * (seed → master_SK → child_SK at child_index) and the master/child pair of
 * tree_kdf_intermediate.json (its Lamport intermediates are internal to blst
 * and not checked); EIP-2334 path parsing, good and bad; short seeds refused.
 *
 * The vectors' keys are decimal big integers; OpenSSL BN turns them into the
 * 32-byte big-endian form we produce.
 */
#include <openssl/bn.h>

#include "keys/eip2333.h"
#include "test.h"
#include "util/hex.h"

#define TV "eip2333_2334_2335/staking-deposit-cli/tests/test_key_handling/test_key_derivation/test_vectors/"

static char *slurp(const char *rel)
{
    const char *path = test_vectors_path(rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "  cannot open %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* Finds "key": after *pos and copies its value (a bare number or a quoted string) into out. */
static int next_field(const char **pos, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(*pos, pat);
    if (!p)
        return 0;
    p = strchr(p + strlen(pat), ':');
    if (!p)
        return 0;
    p++;
    while (*p == ' ' || *p == '\n')
        p++;
    int quoted = *p == '"';
    if (quoted)
        p++;
    size_t n = 0;
    while (*p && (quoted ? *p != '"' : (*p >= '0' && *p <= '9')) && n + 1 < cap)
        out[n++] = *p++;
    out[n] = '\0';
    *pos = p;
    return n > 0;
}

static void dec_to_be32(const char *dec, uint8_t out[32])
{
    BIGNUM *bn = NULL;
    CHECK(BN_dec2bn(&bn, dec) > 0);
    CHECK(BN_bn2binpad(bn, out, 32) == 32);
    BN_free(bn);
}

static int check_case(const char **pos)
{
    char seed_hex[300], master[100], idx[20], child[100];
    if (!next_field(pos, "seed", seed_hex, sizeof seed_hex))
        return 0;
    CHECK(next_field(pos, "master_SK", master, sizeof master));
    CHECK(next_field(pos, "child_index", idx, sizeof idx));
    CHECK(next_field(pos, "child_SK", child, sizeof child));

    uint8_t seed[128], want_m[32], want_c[32], got_m[32], got_c[32];
    size_t seed_len = 0;
    CHECK(cc_hex_decode(seed_hex, seed, sizeof seed, &seed_len, NULL) == CC_OK);
    dec_to_be32(master, want_m);
    dec_to_be32(child, want_c);
    uint32_t index = (uint32_t)strtoul(idx, NULL, 10);

    cc_error err;
    CHECK(cc_eip2333_master(seed, seed_len, got_m, &err) == CC_OK);
    CHECK_MSG(memcmp(got_m, want_m, 32) == 0, "master_SK of seed %.16s...", seed_hex);
    CHECK(cc_eip2333_child(got_m, index, got_c, &err) == CC_OK);
    CHECK_MSG(memcmp(got_c, want_c, 32) == 0, "child_SK %u of seed %.16s...", index, seed_hex);

    /* The same through a path. */
    char path[32];
    snprintf(path, sizeof path, "m/%u", index);
    uint8_t via_path[32];
    CHECK(cc_eip2333_derive_path(seed, seed_len, path, via_path, &err) == CC_OK);
    CHECK(memcmp(via_path, want_c, 32) == 0);
    CHECK(cc_eip2333_derive_path(seed, seed_len, "m", via_path, &err) == CC_OK);
    CHECK(memcmp(via_path, want_m, 32) == 0);
    return 1;
}

TEST(tree_kdf_vectors)
{
    char *json = slurp(TV "tree_kdf.json");
    CHECK(json != NULL);
    if (!json)
        return;
    const char *pos = json;
    int n = 0;
    while (check_case(&pos))
        n++;
    CHECK_EQ_INT(n, 4);
    free(json);
}

TEST(tree_kdf_intermediate_vector)
{
    char *json = slurp(TV "tree_kdf_intermediate.json");
    CHECK(json != NULL);
    if (!json)
        return;
    const char *pos = json;
    CHECK(check_case(&pos));
    free(json);
}

TEST(path_parsing)
{
    uint32_t idx[CC_EIP2333_MAX_DEPTH];
    size_t depth;
    cc_error err;
    CHECK(cc_eip2333_parse_path("m/12381/3600/5/0/0", idx, &depth, &err) == CC_OK);
    CHECK_EQ_INT(depth, 5);
    CHECK_EQ_INT(idx[0], 12381);
    CHECK_EQ_INT(idx[1], 3600);
    CHECK_EQ_INT(idx[2], 5);
    CHECK_EQ_INT(idx[3], 0);
    CHECK_EQ_INT(idx[4], 0);
    CHECK(cc_eip2333_parse_path("m", idx, &depth, &err) == CC_OK);
    CHECK_EQ_INT(depth, 0);
    CHECK(cc_eip2333_parse_path("m/4294967295", idx, &depth, &err) == CC_OK);
    CHECK_EQ_INT(idx[0], 4294967295u);

    static const char *bad[] = {"",           "M/1",         "m/",          "m//1",     "m/1/",
                                "m/4294967296", "m/01",      "m/1'",        "m/-1",     "m/+1",
                                "n/1",        "m1",          "/m/1",        "m/1 ",     "m/12381/3600/x/0/0",
                                "m/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cc_status st = cc_eip2333_parse_path(bad[i], idx, &depth, &err);
        CHECK_MSG(st == CC_EINVAL, "path \"%s\" accepted", bad[i]);
        CHECK_MSG(strstr(err.msg, "path") != NULL, "message: %s", err.msg);
    }
    char p[CC_EIP2334_PATH_MAX];
    cc_eip2334_signing_path(4294967295u, p);
    CHECK_EQ_STR(p, "m/12381/3600/4294967295/0/0");
    cc_eip2334_signing_path(5, p);
    CHECK_EQ_STR(p, "m/12381/3600/5/0/0");
}

TEST(short_seed_and_bad_parent)
{
    uint8_t seed[64] = {1}, sk[32];
    cc_error err;
    CHECK(cc_eip2333_master(seed, 31, sk, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "seed") != NULL);
    CHECK(cc_eip2333_derive_path(seed, 31, "m/0", sk, &err) == CC_EINVAL);
    CHECK(cc_eip2333_master(seed, 32, sk, &err) == CC_OK);
    uint8_t zero[32] = {0}, ff[32];
    memset(ff, 0xff, sizeof ff);
    CHECK(cc_eip2333_child(zero, 0, sk, &err) == CC_EINVAL);
    CHECK(cc_eip2333_child(ff, 0, sk, &err) == CC_EINVAL);
}

TEST(signing_path_differs_per_index)
{
    uint8_t seed[64];
    memset(seed, 7, sizeof seed);
    uint8_t a[32], b[32], w[32];
    cc_error err;
    CHECK(cc_eip2333_derive_path(seed, sizeof seed, "m/12381/3600/0/0/0", a, &err) == CC_OK);
    CHECK(cc_eip2333_derive_path(seed, sizeof seed, "m/12381/3600/1/0/0", b, &err) == CC_OK);
    CHECK(cc_eip2333_derive_path(seed, sizeof seed, "m/12381/3600/0/0", w, &err) == CC_OK);
    CHECK(memcmp(a, b, 32) != 0);
    CHECK(memcmp(a, w, 32) != 0);
    /* Deriving step by step gives the same key as the path. */
    uint8_t s[32];
    CHECK(cc_eip2333_child(w, 0, s, &err) == CC_OK);
    CHECK(memcmp(s, a, 32) == 0);
}

int main(void)
{
    RUN(tree_kdf_vectors);
    RUN(tree_kdf_intermediate_vector);
    RUN(path_parsing);
    RUN(short_seed_and_bad_parent);
    RUN(signing_path_differs_per_index);
    TEST_MAIN_END();
}
