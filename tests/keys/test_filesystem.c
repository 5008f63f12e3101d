/*
 * Tests for keys/filesystem: a temporary directory of Web3Signer descriptors,
 * good (file-raw, file-keystore with relative and absolute paths, pbkdf2 and
 * scrypt) and bad (missing keystore, wrong password, malformed YAML, unknown
 * type, bad hex, empty password); good keys load, bad ones are counted and
 * logged with their file, a reload follows added and removed descriptors,
 * and 200 light keystores load on every core (the time is printed).
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys/eip2335.h"
#include "keys/keys.h"
#include "test.h"
#include "util/hex.h"

static void secret_for(unsigned i, uint8_t sk[32])
{
    memset(sk, 0, 32);
    sk[0] = 0x22;
    sk[29] = (uint8_t)(i >> 16);
    sk[30] = (uint8_t)(i >> 8);
    sk[31] = (uint8_t)(i + 1);
}

static void pubkey_for(unsigned i, uint8_t pk[48])
{
    uint8_t sk[32];
    secret_for(i, sk);
    cc_bls_sk s;
    cc_bls_sk_from_bytes(&s, sk, NULL);
    cc_bls_sk_to_pk(&s, pk);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "  cannot write %s\n", path);
        return;
    }
    fputs(text, f);
    fclose(f);
}

static void remove_file(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

static void write_raw(const char *dir, const char *name, unsigned key, int prefix, int key_type)
{
    uint8_t sk[32];
    char hex[67], text[256];
    secret_for(key, sk);
    cc_hex_encode(sk, 32, hex);
    snprintf(text, sizeof text, "type: \"file-raw\"\n%sprivateKey: \"%s%s\"\n", key_type ? "keyType: \"BLS\"\n" : "",
             prefix ? "0x" : "", hex);
    write_file(dir, name, text);
}

static void write_keystore(const char *dir, const char *base, unsigned key, const char *kdf, const char *password,
                           const char *password_file_text, int absolute)
{
    uint8_t sk[32];
    secret_for(key, sk);
    char *json = NULL;
    cc_error err;
    if (cc_eip2335_encrypt(sk, password, kdf, 1, "", &json, &err) != CC_OK) {
        fprintf(stderr, "  encrypt failed: %s\n", err.msg);
        return;
    }
    char name[256], text[8192];
    snprintf(name, sizeof name, "%s.json", base);
    write_file(dir, name, json);
    free(json);
    snprintf(name, sizeof name, "%s.pass", base);
    write_file(dir, name, password_file_text);
    snprintf(text, sizeof text, "type: file-keystore\nkeyType: BLS\nkeystoreFile: %s%s%s.json\n"
                                "keystorePasswordFile: %s%s%s.pass\n",
             absolute ? dir : "", absolute ? "/" : "", base, absolute ? dir : "", absolute ? "/" : "", base);
    snprintf(name, sizeof name, "%s.yaml", base);
    write_file(dir, name, text);
}

/* Runs a load with stderr captured into *log (malloc'ed). */
static cc_status load_capturing(cc_key_source *src, cc_keyring *ring, cc_key_load_report *rep, char **log)
{
    char tmpl[] = "/tmp/cc-fs-log-XXXXXX";
    int fd = mkstemp(tmpl);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    cc_error err;
    cc_status st = src->ops->load(src, ring, rep, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t n = lseek(fd, 0, SEEK_END);
    *log = calloc(1, (size_t)n + 1);
    if (pread(fd, *log, (size_t)n, 0) != n)
        (*log)[0] = '\0';
    close(fd);
    unlink(tmpl);
    return st;
}

static int log_has(const char *log, const char *file, const char *reason)
{
    /* Some line names both the file and the reason. */
    const char *p = log;
    while (p && *p) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char *line = strndup(p, n);
        int hit = strstr(line, file) && strstr(line, reason) && strstr(line, "\"level\":\"warn\"");
        free(line);
        if (hit)
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

static void rm_rf(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "  cannot remove %s\n", dir);
}

TEST(load_good_and_bad_then_reload)
{
    char dir[] = "/tmp/cc-fs-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    write_raw(dir, "raw1.yaml", 1, 1, 0);
    write_raw(dir, "raw2.yml", 2, 0, 1);
    write_keystore(dir, "ks3", 3, "pbkdf2", "pass three", "pass three\n", 0);
    write_keystore(dir, "ks4", 4, "scrypt", "pass four", "pass four\r\nsecond line ignored\n", 1);
    write_raw(dir, "dup_of_1.yaml", 1, 1, 1);
    /* Bad ones. */
    write_file(dir, "bad_missing.yaml", "type: file-keystore\nkeystoreFile: nowhere.json\n"
                                        "keystorePasswordFile: ks3.pass\n");
    write_keystore(dir, "bad_pw", 5, "pbkdf2", "right", "wrong\n", 0);
    write_file(dir, "bad_yaml.yaml", "type: [file-raw\nprivateKey: {\n");
    write_file(dir, "bad_type.yaml", "type: hashicorp\nkeyPath: /v1/secret\n");
    write_file(dir, "bad_hex.yaml", "type: file-raw\nprivateKey: 0x1234\n");
    write_keystore(dir, "bad_empty_pw", 6, "pbkdf2", "x", "\n", 0);
    write_file(dir, "bad_keytype.yaml", "type: file-raw\nkeyType: SECP256K1\nprivateKey: 0x01\n");
    write_file(dir, "bad_json.yaml", "type: file-keystore\nkeystoreFile: notes.txt\nkeystorePasswordFile: ks3.pass\n");
    write_file(dir, "notes.txt", "not a descriptor, not JSON\n");
    mkdir(strcat(strcpy((char[4200]){0}, dir), "/sub.yaml"), 0700); /* a directory named like a descriptor */

    char *paths[] = {dir};
    cc_key_source *src = NULL;
    cc_error err;
    CHECK(cc_key_source_filesystem_new(paths, 1, &src, &err) == CC_OK);
    CHECK_EQ_STR(src->ops->name, "filesystem");
    cc_keyring *ring = cc_keyring_new();
    /* A key that memory already holds stays memory's. */
    uint8_t sk2[32];
    secret_for(2, sk2);
    CHECK(cc_keyring_add(ring, sk2, CC_KEY_MEMORY, NULL, NULL) == CC_OK);

    cc_key_load_report rep = {0};
    char *log = NULL;
    CHECK(load_capturing(src, ring, &rep, &log) == CC_OK);
    CHECK_EQ_INT(rep.loaded, 3); /* 1, 3, 4 (2 is memory's) */
    CHECK_EQ_INT(rep.failed, 8);
    CHECK(rep.seconds >= 0);
    CHECK_EQ_INT(cc_keyring_count(ring, -1), 4);
    uint8_t pk[48];
    for (unsigned i = 1; i <= 6; i++) {
        pubkey_for(i, pk);
        CHECK_MSG(cc_keyring_contains(ring, pk) == (i <= 4), "key %u", i);
    }
    CHECK(log_has(log, "bad_missing.yaml", "nowhere.json: cannot open"));
    CHECK(log_has(log, "bad_pw.yaml", "wrong password"));
    CHECK(log_has(log, "bad_yaml.yaml", "invalid YAML"));
    CHECK(log_has(log, "bad_type.yaml", "unsupported \\\"hashicorp\\\""));
    CHECK(log_has(log, "bad_hex.yaml", "privateKey"));
    CHECK(log_has(log, "bad_empty_pw.yaml", "password is empty"));
    CHECK(log_has(log, "bad_keytype.yaml", "keyType"));
    CHECK(log_has(log, "bad_json.yaml", "invalid JSON"));
    /* Descriptors load in name order, so raw1.yaml is the duplicate of dup_of_1.yaml. */
    CHECK(log_has(log, "raw1.yaml", "duplicate") || log_has(log, "dup_of_1.yaml", "duplicate"));
    CHECK(strstr(log, "\"msg\":\"keys loaded\"") != NULL);
    CHECK(strstr(log, "pass three") == NULL && strstr(log, "pass four") == NULL);
    if (test_failures_in_current)
        fprintf(stderr, "%s", log);
    free(log);

    /* Reload: raw1 goes, raw7 arrives, bad ones fixed or removed. */
    remove_file(dir, "raw1.yaml");
    remove_file(dir, "dup_of_1.yaml");
    write_raw(dir, "raw7.yaml", 7, 1, 1);
    remove_file(dir, "bad_pw.pass");
    write_file(dir, "bad_pw.pass", "right");
    CHECK(load_capturing(src, ring, &rep, &log) == CC_OK);
    free(log);
    CHECK_EQ_INT(rep.loaded, 4); /* 3, 4, 5, 7 */
    CHECK_EQ_INT(rep.failed, 7);
    for (unsigned i = 1; i <= 7; i++) {
        pubkey_for(i, pk);
        CHECK_MSG(cc_keyring_contains(ring, pk) == (i >= 2 && i != 6), "after reload: key %u", i);
    }
    CHECK_EQ_INT(cc_keyring_count(ring, CC_KEY_MEMORY), 1);

    src->ops->free(src);
    cc_keyring_free(ring);
    rm_rf(dir);
}

TEST(missing_directory_counts_failed)
{
    char *paths[] = {"/nonexistent/cc-keys"};
    cc_key_source *src = NULL;
    CHECK(cc_key_source_filesystem_new(paths, 1, &src, NULL) == CC_OK);
    cc_keyring *ring = cc_keyring_new();
    cc_key_load_report rep = {0};
    char *log = NULL;
    CHECK(load_capturing(src, ring, &rep, &log) == CC_OK);
    CHECK_EQ_INT(rep.loaded, 0);
    CHECK_EQ_INT(rep.failed, 1);
    CHECK(log_has(log, "/nonexistent/cc-keys", "No such file"));
    free(log);
    src->ops->free(src);
    cc_keyring_free(ring);

    char *empty[] = {""};
    cc_error err;
    CHECK(cc_key_source_filesystem_new(empty, 1, &src, &err) == CC_ECONFIG);
    CHECK(src == NULL);
}

TEST(load_200_light_keystores)
{
    char dir[] = "/tmp/cc-fs-bulk-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    enum { N = 200 };
    for (unsigned i = 0; i < N; i++) {
        char base[32];
        snprintf(base, sizeof base, "k%03u", i);
        write_keystore(dir, base, 100 + i, "pbkdf2", "bulk password", "bulk password\n", 0);
    }
    char *paths[] = {dir};
    cc_key_source *src = NULL;
    CHECK(cc_key_source_filesystem_new(paths, 1, &src, NULL) == CC_OK);
    cc_keyring *ring = cc_keyring_new();
    cc_key_load_report rep = {0};
    char *log = NULL;
    CHECK(load_capturing(src, ring, &rep, &log) == CC_OK);
    CHECK_EQ_INT(rep.loaded, N);
    CHECK_EQ_INT(rep.failed, 0);
    CHECK(strstr(log, "\"processed\":") != NULL); /* progress lines (every 10%) */
    const char *w = strstr(log, "\"workers\":\"");
    int workers = 0;
    if (w)
        sscanf(w + 11, "%d", &workers);
    printf("  200 light pbkdf2 keystores (c=16384): %.3f s on %d workers\n", rep.seconds, workers);
    free(log);
    src->ops->free(src);
    cc_keyring_free(ring);
    rm_rf(dir);
}

int main(void)
{
    RUN(load_good_and_bad_then_reload);
    RUN(missing_directory_counts_failed);
    RUN(load_200_light_keystores);
    TEST_MAIN_END();
}
