/*
 * Tests for signing/bls against ethereum/bls12-381-tests v0.1.1: every
 * `sign`, `verify` and `deserialization_G1` case in the shared vectors.
 *
 *   sign                 output null → cc_bls_sk_from_bytes must refuse the key;
 *                        otherwise the signature must match byte for byte (and verify).
 *   verify               cc_bls_verify must answer `output`.
 *   deserialization_G1   cc_bls_pubkey_valid must answer `output`, except the
 *                        point at infinity: it deserialises, but Ethereum's
 *                        KeyValidate refuses the identity as a public key, so
 *                        cc_bls_pubkey_valid must say 0 there.
 *
 * Every handler directory must hold at least one case, so a missing vectors
 * directory fails loudly instead of passing empty.
 */
#include <dirent.h>
#include <jansson.h>

#include "signing/bls.h"
#include "test.h"
#include "util/hex.h"
#include "util/secret.h"

#define BLS_DIR "bls12-381/bls12-381-tests-v0.1.1/"

typedef void (*case_fn)(const char *name, json_t *input, json_t *output);

static int run_dir(const char *handler, case_fn fn)
{
    char rel[256];
    snprintf(rel, sizeof rel, BLS_DIR "%s", handler);
    char dirpath[4096];
    snprintf(dirpath, sizeof dirpath, "%s", test_vectors_path(rel));
    DIR *d = opendir(dirpath);
    CHECK_MSG(d != NULL, "cannot open %s", dirpath);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dirpath, de->d_name);
        json_error_t jerr;
        json_t *root = json_load_file(path, 0, &jerr);
        CHECK_MSG(root != NULL, "%s: %s", path, jerr.text);
        if (!root)
            continue;
        fn(de->d_name, json_object_get(root, "input"), json_object_get(root, "output"));
        json_decref(root);
        n++;
    }
    closedir(d);
    CHECK_MSG(n > 0, "no cases in %s", dirpath);
    return n;
}

static int hex_field(json_t *obj, const char *key, uint8_t *out, size_t len)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && cc_hex_decode_exact(s, out, len, NULL) == CC_OK;
}

static void sign_case(const char *name, json_t *input, json_t *output)
{
    uint8_t skb[32], msg[32], want[96], sig[96], pk[48];
    CHECK_MSG(hex_field(input, "privkey", skb, 32) && hex_field(input, "message", msg, 32), "%s: input", name);
    cc_bls_sk *sk = cc_secret_alloc(sizeof *sk);
    cc_error err;
    cc_status st = cc_bls_sk_from_bytes(sk, skb, &err);
    if (json_is_null(output)) {
        CHECK_MSG(st == CC_EINVAL, "%s: key must be refused", name);
    } else {
        CHECK_MSG(st == CC_OK, "%s: %s", name, err.msg);
        const char *o = json_string_value(output);
        CHECK_MSG(o && cc_hex_decode_exact(o, want, 96, NULL) == CC_OK, "%s: output", name);
        cc_bls_sign(sk, msg, sizeof msg, sig);
        CHECK_MSG(memcmp(sig, want, 96) == 0, "%s: signature differs", name);
        cc_bls_sk_to_pk(sk, pk);
        CHECK_MSG(cc_bls_verify(pk, msg, sizeof msg, sig) == 1, "%s: own signature does not verify", name);
        msg[0] ^= 1;
        CHECK_MSG(cc_bls_verify(pk, msg, sizeof msg, sig) == 0, "%s: verifies another message", name);
    }
    cc_secret_free(sk, sizeof *sk);
}

static void verify_case(const char *name, json_t *input, json_t *output)
{
    uint8_t pk[48], msg[32], sig[96];
    CHECK_MSG(hex_field(input, "pubkey", pk, 48) && hex_field(input, "message", msg, 32) &&
                  hex_field(input, "signature", sig, 96),
              "%s: input", name);
    CHECK_MSG(json_is_boolean(output), "%s: output", name);
    int want = json_is_true(output);
    CHECK_MSG(cc_bls_verify(pk, msg, sizeof msg, sig) == want, "%s: expected %d", name, want);
}

static void deser_g1_case(const char *name, json_t *input, json_t *output)
{
    const char *hex = json_string_value(json_object_get(input, "pubkey"));
    CHECK_MSG(hex != NULL && json_is_boolean(output), "%s: malformed case", name);
    if (!hex)
        return;
    uint8_t pk[48];
    int decodes = cc_hex_decode_exact(hex, pk, 48, NULL) == CC_OK; /* too few bytes fails here */
    int valid = decodes && cc_bls_pubkey_valid(pk);
    int infinity = decodes && pk[0] == 0xc0;
    for (size_t i = 1; infinity && i < 48; i++)
        infinity = pk[i] == 0;
    int want = json_is_true(output) && !infinity;
    CHECK_MSG(valid == want, "%s: expected %d, got %d", name, want, valid);
}

TEST(sign_vectors) { printf("  sign: %d cases\n", run_dir("sign", sign_case)); }
TEST(verify_vectors) { printf("  verify: %d cases\n", run_dir("verify", verify_case)); }
TEST(deserialization_g1_vectors)
{
    printf("  deserialization_G1: %d cases\n", run_dir("deserialization_G1", deser_g1_case));
}

TEST(zero_and_large_secret_refused)
{
    uint8_t zero[32] = {0}, r[32], ff[32];
    /* r itself, the group order. */
    cc_hex_decode_exact("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", r, 32, NULL);
    memset(ff, 0xff, sizeof ff);
    cc_bls_sk sk;
    cc_error err;
    CHECK(cc_bls_sk_from_bytes(&sk, zero, &err) == CC_EINVAL);
    CHECK(cc_bls_sk_from_bytes(&sk, r, &err) == CC_EINVAL);
    CHECK(cc_bls_sk_from_bytes(&sk, ff, &err) == CC_EINVAL);
    r[31] = 0; /* r - 1 is the largest valid key */
    CHECK(cc_bls_sk_from_bytes(&sk, r, &err) == CC_OK);
    uint8_t back[32];
    cc_bls_sk_to_bytes(&sk, back);
    CHECK(memcmp(back, r, 32) == 0);
}

int main(void)
{
    RUN(sign_vectors);
    RUN(verify_vectors);
    RUN(deserialization_g1_vectors);
    RUN(zero_and_large_secret_refused);
    TEST_MAIN_END();
}
