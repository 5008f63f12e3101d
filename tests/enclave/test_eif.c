/*
 * test_eif.c — the EIF reader (src/enclave/eif.c) against EIFs assembled by
 * tests/support/eif_build.mjs, whose PCRs and CRC come from node's crypto:
 * unsigned, signed (PCR8 + SignatureCheck), one ramdisk, a corrupted CRC,
 * and structural damage.
 */
#include <unistd.h>

#include "enclave/eif.h"
#include "test.h"
#include "util/hex.h"

static char dir[] = "/tmp/cc-eif.XXXXXX";

/* Runs the builder; out receives its JSON line. */
static int build(const char *name, const char *opts, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd %s && node %s/tests/support/eif_build.mjs %s %s", dir, getenv("CC_TOP"), name, opts);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    return pclose(p);
}

/* The builder's value for key ("PCR0"...) is hex of pcr. */
static int same(const char *json, const char *key, const uint8_t pcr[48])
{
    char hex[97], want[128];
    cc_hex_encode(pcr, 48, hex);
    snprintf(want, sizeof want, "\"%s\":\"%s\"", key, hex);
    if (!strstr(json, want)) {
        fprintf(stderr, "  %s: ours %s, builder %s\n", key, hex, json);
        return 0;
    }
    return 1;
}

static void describe(const char *name, cc_eif_info *info, cc_status want)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cc_error err = {0};
    cc_status s = cc_eif_describe_file(path, info, &err);
    CHECK_MSG(s == want, "%s: status %d (%s)", name, s, err.msg);
}

TEST(unsigned_eif)
{
    char json[1024];
    CHECK_EQ_INT(build("u.eif", "--ramdisks 3 --metadata", json, sizeof json), 0);
    cc_eif_info info;
    describe("u.eif", &info, CC_OK);
    CHECK(same(json, "PCR0", info.pcr0) && same(json, "PCR1", info.pcr1) && same(json, "PCR2", info.pcr2));
    CHECK(info.crc_ok && !info.is_signed && info.n_ramdisk == 3 && info.version == 4);
    CHECK(info.metadata_json && strstr(info.metadata_json, "containment-chamber"));
    cc_eif_info_free(&info);
}

TEST(signed_eif)
{
    char cmd[1024], json[1024];
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl ecparam -name secp384r1 -genkey -noout -out signing_key.pem 2>/dev/null && "
             "openssl req -new -x509 -key signing_key.pem -out signing_cert.pem -days 3650 -subj /CN=containment-chamber "
             "2>/dev/null",
             dir);
    CHECK(system(cmd) == 0);
    CHECK_EQ_INT(build("s.eif", "--sign signing_cert.pem signing_key.pem", json, sizeof json), 0);
    cc_eif_info info;
    describe("s.eif", &info, CC_OK);
    CHECK(same(json, "PCR0", info.pcr0) && same(json, "PCR8", info.pcr8));
    CHECK(info.is_signed && info.crc_ok);
    CHECK_MSG(info.signature_ok, "%s", info.signature_error);
    cc_eif_info_free(&info);
    /* a signature by another key over the same PCR0 does not check */
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl ecparam -name secp384r1 -genkey -noout -out other_key.pem 2>/dev/null", dir);
    CHECK(system(cmd) == 0);
    CHECK_EQ_INT(build("o.eif", "--sign signing_cert.pem other_key.pem", json, sizeof json), 0);
    describe("o.eif", &info, CC_OK);
    CHECK(info.is_signed && !info.signature_ok && strstr(info.signature_error, "does not verify"));
    cc_eif_info_free(&info);
}

TEST(one_ramdisk_and_bad_crc)
{
    char json[1024];
    CHECK_EQ_INT(build("c.eif", "--ramdisks 1 --corrupt-crc", json, sizeof json), 0);
    cc_eif_info info;
    describe("c.eif", &info, CC_OK);
    CHECK(!info.crc_ok && info.crc_stored == (info.crc_computed ^ 1));
    CHECK(same(json, "PCR0", info.pcr0) && same(json, "PCR2", info.pcr2));
    CHECK(memcmp(info.pcr0, info.pcr1, 48) == 0); /* one ramdisk: PCR0 == PCR1 */
    cc_eif_info_free(&info);
}

TEST(structural_damage_is_refused)
{
    char json[1024], cmd[1024];
    CHECK_EQ_INT(build("d.eif", "", json, sizeof json), 0);
    cc_eif_info info;
    /* a byte in a payload: still parses, the CRC catches it */
    snprintf(cmd, sizeof cmd, "cd %s && cp d.eif p.eif && printf 'X' | dd of=p.eif bs=1 seek=700 conv=notrunc 2>/dev/null", dir);
    CHECK(system(cmd) == 0);
    describe("p.eif", &info, CC_OK);
    CHECK(!info.crc_ok);
    cc_eif_info_free(&info);
    snprintf(cmd, sizeof cmd, "cd %s && cp d.eif m.eif && printf 'X' | dd of=m.eif bs=1 seek=1 conv=notrunc 2>/dev/null && "
             "head -c 600 d.eif > t.eif && head -c 100 d.eif > h.eif && cp d.eif x.eif && printf 'Z' >> x.eif && "
             "cp d.eif s.eif && printf '\\011' | dd of=s.eif bs=1 seek=549 conv=notrunc 2>/dev/null", dir);
    CHECK(system(cmd) == 0);
    cc_error err;
    char path[256];
    struct { const char *name, *want; } cases[] = {
        {"m.eif", "bad magic"}, {"t.eif", "past the end"}, {"h.eif", "shorter than the 548-byte header"},
        {"x.eif", "after the last section"}, {"s.eif", "unknown type"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, cases[i].name);
        CHECK_MSG(cc_eif_describe_file(path, &info, &err) == CC_EINVAL && strstr(err.msg, cases[i].want), "%s: %s",
                  cases[i].name, err.msg);
    }
}

int main(void)
{
    char top[1024]; /* the runner starts tests at the repository's top */
    if (!getenv("CC_TOP") && getcwd(top, sizeof top))
        setenv("CC_TOP", top, 1);
    if (!mkdtemp(dir)) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(unsigned_eif);
    RUN(signed_eif);
    RUN(one_ramdisk_and_bad_crc);
    RUN(structural_damage_is_refused);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    TEST_MAIN_END();
}
