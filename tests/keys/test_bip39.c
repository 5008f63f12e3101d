/*
 * Tests for keys/bip39: staking-deposit-cli's mnemonic.json (the Trezor
 * vectors, passphrase "TREZOR"): for English, entropy → mnemonic, validation
 * and mnemonic → seed; for the other languages (Chinese, Italian, Korean,
 * Portuguese, Spanish) only mnemonic → seed, since we carry only the English
 * wordlist — the seed needs no list, and NFKD matters there (Korean, accented
 * Spanish/Portuguese words).  Also: the wordlist itself, generation, and
 * refusals (unknown word, bad checksum, wrong count, double spaces).
 */
#include <jansson.h>
#include <openssl/evp.h>

#include "keys/bip39.h"
#include "keys/eip2333.h"
#include "test.h"
#include "util/hex.h"
#include "util/secret.h"

#define TV "eip2333_2334_2335/staking-deposit-cli/tests/test_key_handling/test_key_derivation/test_vectors/"

TEST(wordlist_hash)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    CHECK(EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1);
    for (int i = 0; i < CC_BIP39_WORDS; i++) {
        EVP_DigestUpdate(md, cc_bip39_english[i], strlen(cc_bip39_english[i]));
        EVP_DigestUpdate(md, "\n", 1);
        if (i)
            CHECK(strcmp(cc_bip39_english[i - 1], cc_bip39_english[i]) < 0); /* sorted: binary search works */
    }
    uint8_t h[32];
    unsigned n;
    EVP_DigestFinal_ex(md, h, &n);
    EVP_MD_CTX_free(md);
    char hex[65];
    cc_hex_encode(h, 32, hex);
    CHECK_EQ_STR(hex, "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda");
}

static int run_language(json_t *cases, int english)
{
    size_t i;
    json_t *c;
    int n = 0;
    json_array_foreach(cases, i, c)
    {
        const char *ent_hex = json_string_value(json_array_get(c, 0));
        const char *mnemonic = json_string_value(json_array_get(c, 1));
        const char *seed_hex = json_string_value(json_array_get(c, 2));
        CHECK(ent_hex && mnemonic && seed_hex);
        if (!ent_hex || !mnemonic || !seed_hex)
            continue;
        uint8_t want[64], seed[64];
        CHECK(cc_hex_decode_exact(seed_hex, want, 64, NULL) == CC_OK);
        cc_error err;
        CHECK_MSG(cc_bip39_seed(mnemonic, "TREZOR", seed, &err) == CC_OK, "%s", err.msg);
        CHECK_MSG(memcmp(seed, want, 64) == 0, "seed of case %zu (%.20s...)", i, mnemonic);
        if (english) {
            uint8_t ent[32];
            size_t ent_len = 0;
            CHECK(cc_hex_decode(ent_hex, ent, sizeof ent, &ent_len, NULL) == CC_OK);
            char *m = NULL;
            CHECK(cc_bip39_from_entropy(ent, ent_len, &m, &err) == CC_OK);
            CHECK_MSG(m && strcmp(m, mnemonic) == 0, "mnemonic of case %zu", i);
            cc_secret_free(m, CC_BIP39_MNEMONIC_MAX);
            CHECK_MSG(cc_bip39_validate(mnemonic, &err) == CC_OK, "case %zu: %s", i, err.msg);
        }
        n++;
    }
    return n;
}

TEST(mnemonic_vectors)
{
    json_error_t jerr;
    json_t *root = json_load_file(test_vectors_path(TV "mnemonic.json"), 0, &jerr);
    CHECK_MSG(root != NULL, "%s", jerr.text);
    if (!root)
        return;
    CHECK_EQ_INT(run_language(json_object_get(root, "english"), 1), 24);
    static const char *others[] = {"chinese_simplified", "chinese_traditional", "italian", "korean",
                                   "portuguese", "spanish"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        CHECK_MSG(run_language(json_object_get(root, others[i]), 0) == 24, "%s", others[i]);
    json_decref(root);
}

TEST(generate)
{
    char *a = NULL, *b = NULL;
    cc_error err;
    CHECK(cc_bip39_generate(&a, &err) == CC_OK);
    CHECK(cc_bip39_generate(&b, &err) == CC_OK);
    if (!a || !b)
        return;
    CHECK(strcmp(a, b) != 0);
    int spaces = 0;
    for (const char *p = a; *p; p++)
        spaces += *p == ' ';
    CHECK_EQ_INT(spaces, 23);
    CHECK(cc_bip39_validate(a, &err) == CC_OK);
    /* The generated mnemonic derives keys end to end. */
    uint8_t seed[64], sk[32];
    CHECK(cc_bip39_seed(a, "", seed, &err) == CC_OK);
    CHECK(cc_eip2333_derive_path(seed, sizeof seed, "m/12381/3600/0/0/0", sk, &err) == CC_OK);
    cc_secret_free(a, CC_BIP39_MNEMONIC_MAX);
    cc_secret_free(b, CC_BIP39_MNEMONIC_MAX);
}

TEST(refusals)
{
    cc_error err;
    const char *twelve = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon";
    char buf[256];

    snprintf(buf, sizeof buf, "%s about", twelve);
    CHECK(cc_bip39_validate(buf, &err) == CC_OK);
    snprintf(buf, sizeof buf, "%s abandon", twelve); /* checksum */
    CHECK(cc_bip39_validate(buf, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "checksum") != NULL);
    snprintf(buf, sizeof buf, "%s abcdefg", twelve); /* unknown word, named by position only */
    CHECK(cc_bip39_validate(buf, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "word 12") != NULL);
    CHECK(strstr(err.msg, "abcdefg") == NULL);
    snprintf(buf, sizeof buf, "%s  about", twelve);
    CHECK(cc_bip39_validate(buf, &err) == CC_EINVAL);
    snprintf(buf, sizeof buf, "%s About", twelve);
    CHECK(cc_bip39_validate(buf, &err) == CC_EINVAL);
    snprintf(buf, sizeof buf, "%s about ", twelve);
    CHECK(cc_bip39_validate(buf, &err) == CC_EINVAL);
    CHECK(cc_bip39_validate(twelve, &err) == CC_EINVAL); /* 11 words */
    CHECK(strstr(err.msg, "11 words") != NULL);
    CHECK(cc_bip39_validate("", &err) == CC_EINVAL);
    /* "abando" is a prefix of a word, "abandons" extends one: neither is a word. */
    snprintf(buf, sizeof buf, "%s abando", twelve);
    CHECK(cc_bip39_validate(buf, &err) == CC_EINVAL);
    snprintf(buf, sizeof buf, "%s abandons", twelve);
    CHECK(cc_bip39_validate(buf, &err) == CC_EINVAL);
    /* 27 words. */
    char many[400] = "";
    for (int i = 0; i < 27; i++)
        strcat(many, i ? " zoo" : "zoo");
    CHECK(cc_bip39_validate(many, &err) == CC_EINVAL);

    uint8_t ent[33] = {0};
    char *m = NULL;
    CHECK(cc_bip39_from_entropy(ent, 15, &m, &err) == CC_EINVAL);
    CHECK(cc_bip39_from_entropy(ent, 33, &m, &err) == CC_EINVAL);
    CHECK(cc_bip39_from_entropy(ent, 18, &m, &err) == CC_EINVAL);
    CHECK(m == NULL);
    uint8_t seed[64];
    CHECK(cc_bip39_seed("abandon \xff", "", seed, &err) == CC_EINVAL);
}

int main(void)
{
    RUN(wordlist_hash);
    RUN(mnemonic_vectors);
    RUN(generate);
    RUN(refusals);
    TEST_MAIN_END();
}
