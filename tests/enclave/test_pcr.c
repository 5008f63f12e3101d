/*
 * test_pcr.c — PCR arithmetic (src/enclave/pcr.c) against the openssl CLI:
 * a signing certificate made exactly as the seed page says (secp384r1,
 * CN=containment-chamber, 3650 days) and PCR8 computed with openssl dgst.
 */
#include <unistd.h>

#include "enclave/pcr.h"
#include "test.h"
#include "util/hex.h"

static int run_capture(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
    return pclose(p);
}

TEST(pcr8_matches_openssl)
{
    char dir[] = "/tmp/cc-pcr.XXXXXX", cmd[2048], want[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl ecparam -name secp384r1 -genkey -noout -out signing_key.pem 2>/dev/null && "
             "openssl req -new -x509 -key signing_key.pem -out signing_cert.pem -days 3650 "
             "-subj /CN=containment-chamber 2>/dev/null && "
             "bash -c '{ head -c 48 /dev/zero; openssl x509 -in signing_cert.pem -outform DER | openssl dgst -sha384 -binary; } "
             "| openssl dgst -sha384 -r' | cut -d' ' -f1",
             dir);
    CHECK_EQ_INT(run_capture(cmd, want, sizeof want), 0);
    CHECK_EQ_INT(strlen(want), 96);
    char path[512];
    snprintf(path, sizeof path, "%s/signing_cert.pem", dir);
    uint8_t pcr[48];
    char hex[97];
    cc_error err;
    CHECK(cc_pcr8_from_certificate_file(path, pcr, &err) == CC_OK);
    cc_hex_encode(pcr, 48, hex);
    CHECK_EQ_STR(hex, want);
    /* the DER form of the same certificate gives the same PCR8 */
    snprintf(cmd, sizeof cmd, "openssl x509 -in %s/signing_cert.pem -outform DER -out %s/signing_cert.der", dir, dir);
    CHECK(system(cmd) == 0);
    snprintf(path, sizeof path, "%s/signing_cert.der", dir);
    uint8_t pcr2[48];
    CHECK(cc_pcr8_from_certificate_file(path, pcr2, &err) == CC_OK && memcmp(pcr, pcr2, 48) == 0);
    /* a key is not a certificate */
    snprintf(path, sizeof path, "%s/signing_key.pem", dir);
    CHECK(cc_pcr8_from_certificate_file(path, pcr2, &err) == CC_EINVAL && strstr(err.msg, "signing_key.pem"));
    CHECK(cc_pcr8_from_certificate_file("/nonexistent.pem", pcr2, &err) == CC_EIO);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

TEST(pcr3_of_a_role_arn)
{
    /* NOTES §8.1: arn:aws:iam::123456789012:role/Webserver → 78fce75d… (no inner hash) */
    uint8_t pcr[48];
    char hex[97];
    cc_pcr3_from_role_arn("arn:aws:iam::123456789012:role/Webserver", pcr);
    cc_hex_encode(pcr, 48, hex);
    CHECK(strncmp(hex, "78fce75d", 8) == 0);
    char want[256];
    CHECK_EQ_INT(run_capture("bash -c '{ head -c 48 /dev/zero; printf %s arn:aws:iam::123456789012:role/Webserver; } "
                             "| openssl dgst -sha384 -r' | cut -d' ' -f1", want, sizeof want), 0);
    CHECK_EQ_STR(hex, want);
}

TEST(measure_and_extend)
{
    uint8_t a[48], b[48] = {0}, d[48];
    cc_pcr_measure((const uint8_t *)"abc", 3, a);
    char want[256], hex[97];
    CHECK_EQ_INT(run_capture("bash -c '{ head -c 48 /dev/zero; printf abc | openssl dgst -sha384 -binary; } "
                             "| openssl dgst -sha384 -r' | cut -d' ' -f1", want, sizeof want), 0);
    cc_hex_encode(a, 48, hex);
    CHECK_EQ_STR(hex, want);
    memset(d, 0x11, 48);
    cc_pcr_extend(b, d);
    CHECK(memcmp(a, b, 48) != 0);
}

int main(void)
{
    RUN(pcr8_matches_openssl);
    RUN(pcr3_of_a_role_arn);
    RUN(measure_and_extend);
    TEST_MAIN_END();
}
