/*
 * Tests for keys/age: Bech32 recipients (the spec's example recipient is the
 * X25519 public key of the identity 0x42…42; upper case accepted, mixed case,
 * bad checksums, wrong prefixes and identities refused); the file format
 * (version line, one stanza per recipient, MAC line, armor framing); and the
 * real check — files we write open with the `age` CLI (Debian package,
 * installed by scripts/install-deps.sh --test): a mnemonic, two recipients
 * each decrypting alone, and payloads of 0, 1, 64 KiB, 64 KiB + 1 and
 * 200,000 bytes (one to four STREAM chunks), armored and binary.
 *
 * Without `age` on PATH the CLI tests say so and are skipped (make test
 * installs it, so there they run).
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys/age.h"
#include "keys/bip39.h"
#include "keys/eip2333.h"
#include "signing/bls.h"
#include "test.h"
#include "util/secret.h"

#define SPEC_RECIPIENT "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"

TEST(spec_recipient_decodes)
{
    uint8_t sk[32], want[32], got[32];
    memset(sk, 0x42, sizeof sk);
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, 32);
    size_t n = 32;
    CHECK(k && EVP_PKEY_get_raw_public_key(k, want, &n) == 1);
    EVP_PKEY_free(k);
    cc_error err;
    CHECK_MSG(cc_age_parse_recipient(SPEC_RECIPIENT, got, &err) == CC_OK, "%s", err.msg);
    CHECK(memcmp(got, want, 32) == 0);

    char upper[80];
    snprintf(upper, sizeof upper, "%s", SPEC_RECIPIENT);
    for (char *p = upper; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    memset(got, 0, sizeof got);
    CHECK(cc_age_parse_recipient(upper, got, &err) == CC_OK);
    CHECK(memcmp(got, want, 32) == 0);
}

TEST(bad_recipients)
{
    static const char *bad[] = {
        "",
        "age1",
        "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwq",   /* checksum */
        "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwjq",  /* extra char */
        "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujw",    /* short */
        "Age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj",   /* mixed case */
        "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwb",   /* 'b' not in alphabet */
        "age zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj",   /* space */
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",                       /* valid Bech32, other prefix */
        "zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ",
    };
    uint8_t pk[32];
    cc_error err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_MSG(cc_age_parse_recipient(bad[i], pk, &err) == CC_EINVAL, "accepted \"%s\"", bad[i]);
        CHECK_MSG(strstr(err.msg, "recipient") != NULL, "%s", err.msg);
    }
    /* An identity is refused without echoing the secret. */
    const char *ident = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
    CHECK(cc_age_parse_recipient(ident, pk, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "GFPYYSJZ") == NULL);
    CHECK(strstr(err.msg, "identity") != NULL);

    /* In a list, the message names the index and the recipient. */
    const char *list[] = {SPEC_RECIPIENT, "age1notarecipient"};
    char *armored = (char *)1;
    CHECK(cc_age_encrypt_armored(list, 2, (const uint8_t *)"x", 1, &armored, &err) == CC_EINVAL);
    CHECK(armored == NULL);
    CHECK_MSG(strstr(err.msg, "recipients[1]") && strstr(err.msg, "age1notarecipient"), "%s", err.msg);
    CHECK(cc_age_encrypt_armored(list, 0, (const uint8_t *)"x", 1, &armored, &err) == CC_EINVAL);
}

TEST(format_shape)
{
    const char *list[] = {SPEC_RECIPIENT, SPEC_RECIPIENT};
    uint8_t *bin = NULL;
    size_t len = 0;
    cc_error err;
    CHECK(cc_age_encrypt(list, 2, (const uint8_t *)"hello", 5, &bin, &len, &err) == CC_OK);
    if (!bin)
        return;
    const char *p = (const char *)bin;
    CHECK(strncmp(p, "age-encryption.org/v1\n-> X25519 ", 32) == 0);
    /* version (22) + 2 × ("-> X25519 " 43 "\n" + 43 "\n") + "--- " 43 "\n" + nonce 16 + 5 + tag 16 */
    CHECK_EQ_INT(len, 22 + 2 * (10 + 43 + 1 + 43 + 1) + 4 + 43 + 1 + 16 + 5 + 16);
    const char *mac = strstr(p, "\n--- ");
    CHECK(mac && (size_t)(mac - p) == 22 + 2 * 98 - 1);
    free(bin);

    char *armored = NULL;
    CHECK(cc_age_encrypt_armored(list, 1, (const uint8_t *)"hello", 5, &armored, &err) == CC_OK);
    if (!armored)
        return;
    CHECK(strncmp(armored, "-----BEGIN AGE ENCRYPTED FILE-----\n", 35) == 0);
    size_t al = strlen(armored);
    CHECK(al > 33 && strcmp(armored + al - 33, "-----END AGE ENCRYPTED FILE-----\n") == 0);
    /* Every body line is 64 columns except the last. */
    const char *line = armored + 35;
    while (strncmp(line, "-----END", 8) != 0) {
        const char *nl = strchr(line, '\n');
        CHECK(nl != NULL);
        if (!nl)
            break;
        size_t ll = (size_t)(nl - line);
        CHECK(ll > 0 && ll <= 64);
        if (strncmp(nl + 1, "-----END", 8) != 0)
            CHECK_EQ_INT(ll, 64);
        line = nl + 1;
    }
    free(armored);
}

/* ------------------------------------------------------------------------ */
/* The age CLI                                                              */

static int have_age(void) { return system("command -v age >/dev/null 2>&1 && command -v age-keygen >/dev/null 2>&1") == 0; }

typedef struct cli {
    char dir[64];
    char recipient[2][100];
} cli;

static int read_line(const char *cmd, char *out, size_t cap)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return 0;
    int ok = fgets(out, (int)cap, f) != NULL;
    pclose(f);
    if (ok)
        out[strcspn(out, "\r\n")] = '\0';
    return ok;
}

static int cli_setup(cli *c)
{
    snprintf(c->dir, sizeof c->dir, "/tmp/cc-test-age-XXXXXX");
    if (!mkdtemp(c->dir))
        return 0;
    char cmd[256];
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof cmd, "age-keygen -o %s/key%d.txt 2>/dev/null", c->dir, i);
        if (system(cmd) != 0)
            return 0;
        snprintf(cmd, sizeof cmd, "age-keygen -y %s/key%d.txt", c->dir, i);
        if (!read_line(cmd, c->recipient[i], sizeof c->recipient[i]))
            return 0;
    }
    return 1;
}

static void cli_cleanup(cli *c)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", c->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "  could not remove %s\n", c->dir);
}

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    int ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

/* Decrypts dir/msg with key<k>.txt through the CLI; returns a malloc'ed buffer or NULL. */
static uint8_t *age_decrypt(const cli *c, int k, size_t *len)
{
    char cmd[512], out[96];
    snprintf(out, sizeof out, "%s/out", c->dir);
    snprintf(cmd, sizeof cmd, "age -d -i %s/key%d.txt -o %s %s/msg 2>%s/err", c->dir, k, out, c->dir, c->dir);
    unlink(out);
    if (system(cmd) != 0)
        return NULL;
    FILE *f = fopen(out, "rb");
    if (!f) { /* age creates -o lazily: no file after a successful run means empty plaintext */
        *len = 0;
        return malloc(1);
    }
    struct stat st;
    fstat(fileno(f), &st);
    uint8_t *b = malloc((size_t)st.st_size + 1);
    *len = b ? fread(b, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    return b;
}

/* Encrypts data to the given recipients (armored or binary), decrypts with key k, compares. */
static void roundtrip(const cli *c, const char *const *rcpts, size_t n, const uint8_t *data, size_t len, int armored,
                      int k, const char *what)
{
    char path[96];
    snprintf(path, sizeof path, "%s/msg", c->dir);
    cc_error err;
    if (armored) {
        char *a = NULL;
        CHECK_MSG(cc_age_encrypt_armored(rcpts, n, data, len, &a, &err) == CC_OK, "%s: %s", what, err.msg);
        CHECK(a && write_file(path, a, strlen(a)));
        free(a);
    } else {
        uint8_t *b = NULL;
        size_t bl = 0;
        CHECK_MSG(cc_age_encrypt(rcpts, n, data, len, &b, &bl, &err) == CC_OK, "%s: %s", what, err.msg);
        CHECK(b && write_file(path, b, bl));
        free(b);
    }
    size_t got_len = 0;
    uint8_t *got = age_decrypt(c, k, &got_len);
    CHECK_MSG(got != NULL, "%s: age -d with key%d failed", what, k);
    if (got) {
        CHECK_MSG(got_len == len && (len == 0 || memcmp(got, data, len) == 0), "%s: plaintext differs (%zu vs %zu)",
                  what, got_len, len);
        cc_secret_wipe(got, got_len);
        free(got);
    }
}

TEST(age_cli_mnemonic)
{
    if (!have_age()) {
        printf("skip age_cli_mnemonic: the age CLI is not installed (scripts/install-deps.sh --test)\n");
        return;
    }
    cli c;
    CHECK(cli_setup(&c));
    char *m = NULL;
    CHECK(cc_bip39_generate(&m, NULL) == CC_OK);
    if (m) {
        const char *one[] = {c.recipient[0]};
        roundtrip(&c, one, 1, (const uint8_t *)m, strlen(m), 1, 0, "mnemonic, one recipient");
        /* The other identity must not open it. */
        size_t l;
        uint8_t *x = age_decrypt(&c, 1, &l);
        CHECK(x == NULL);
        free(x);
        const char *two[] = {c.recipient[0], c.recipient[1]};
        roundtrip(&c, two, 2, (const uint8_t *)m, strlen(m), 1, 0, "mnemonic, two recipients, key0");
        roundtrip(&c, two, 2, (const uint8_t *)m, strlen(m), 1, 1, "mnemonic, two recipients, key1");
        cc_secret_free(m, CC_BIP39_MNEMONIC_MAX);
    }
    cli_cleanup(&c);
}

TEST(age_cli_chunking)
{
    if (!have_age()) {
        printf("skip age_cli_chunking: the age CLI is not installed (scripts/install-deps.sh --test)\n");
        return;
    }
    cli c;
    CHECK(cli_setup(&c));
    static const size_t sizes[] = {0, 1, 65535, 65536, 65537, 200000};
    uint8_t *data = malloc(200000);
    for (size_t i = 0; i < 200000; i++)
        data[i] = (uint8_t)(i * 131 + (i >> 9));
    const char *one[] = {c.recipient[1]};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "%zu bytes armored", sizes[i]);
        roundtrip(&c, one, 1, data, sizes[i], 1, 1, what);
        snprintf(what, sizeof what, "%zu bytes binary", sizes[i]);
        roundtrip(&c, one, 1, data, sizes[i], 0, 1, what);
    }
    free(data);
    cli_cleanup(&c);
}

/* Public keys of validators 0..n-1 of a mnemonic (EIP-2334 signing paths). */
static void pubkeys_of(const char *mnemonic, size_t n, uint8_t (*pks)[48])
{
    uint8_t *seed = cc_secret_alloc(64), *be = cc_secret_alloc(32);
    cc_bls_sk *sk = cc_secret_alloc(sizeof *sk);
    CHECK(cc_bip39_seed(mnemonic, "", seed, NULL) == CC_OK);
    for (size_t i = 0; i < n; i++) {
        char path[CC_EIP2334_PATH_MAX];
        cc_eip2334_signing_path((uint32_t)i, path);
        CHECK(cc_eip2333_derive_path(seed, 64, path, be, NULL) == CC_OK);
        CHECK(cc_bls_sk_from_bytes(sk, be, NULL) == CC_OK);
        cc_bls_sk_to_pk(sk, pks[i]);
    }
    cc_secret_free(seed, 64);
    cc_secret_free(be, 32);
    cc_secret_free(sk, sizeof *sk);
}

TEST(age_cli_backup_rederives_keys)
{
    /* The done-when: a generated mnemonic backup opens with `age` and re-derives the same pubkeys. */
    if (!have_age()) {
        printf("skip age_cli_backup_rederives_keys: the age CLI is not installed\n");
        return;
    }
    cli c;
    CHECK(cli_setup(&c));
    char *m = NULL;
    CHECK(cc_bip39_generate(&m, NULL) == CC_OK);
    if (m) {
        uint8_t want[3][48], got[3][48];
        pubkeys_of(m, 3, want);
        const char *one[] = {c.recipient[0]};
        char *a = NULL, path[96];
        CHECK(cc_age_encrypt_armored(one, 1, (const uint8_t *)m, strlen(m), &a, NULL) == CC_OK);
        cc_secret_free(m, CC_BIP39_MNEMONIC_MAX);
        snprintf(path, sizeof path, "%s/msg", c.dir);
        CHECK(a && write_file(path, a, strlen(a)));
        size_t len = 0;
        uint8_t *back = age_decrypt(&c, 0, &len);
        CHECK(back != NULL);
        if (back) {
            back[len] = '\0';
            CHECK(cc_bip39_validate((const char *)back, NULL) == CC_OK);
            pubkeys_of((const char *)back, 3, got);
            CHECK(memcmp(want, got, sizeof want) == 0);
            cc_secret_wipe(back, len);
            free(back);
        }
        /* Tampering with the armored file (header MAC line, or the payload) makes age refuse it. */
        for (int t = 0; a && t < 2; t++) {
            char *x = strdup(a);
            size_t body = strlen("-----BEGIN AGE ENCRYPTED FILE-----\n");
            size_t pos = t == 0 ? body + 100 : strlen(x) - strlen("-----END AGE ENCRYPTED FILE-----\n") - 10;
            x[pos] = x[pos] == 'A' ? 'B' : 'A';
            CHECK(write_file(path, x, strlen(x)));
            uint8_t *y = age_decrypt(&c, 0, &len);
            CHECK_MSG(y == NULL, "tampered file %d opened", t);
            free(y);
            free(x);
        }
        free(a);
    }
    cli_cleanup(&c);
}

int main(void)
{
    RUN(spec_recipient_decodes);
    RUN(bad_recipients);
    RUN(format_shape);
    RUN(age_cli_mnemonic);
    RUN(age_cli_chunking);
    RUN(age_cli_backup_rederives_keys);
    TEST_MAIN_END();
}
