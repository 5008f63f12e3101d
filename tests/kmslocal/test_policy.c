/*
 * test_policy.c — kms-local's key-policy evaluator: the allow/deny matrix of
 * the enclave key policy (SPEC §9: kms:Decrypt to the signer role only with
 * kms:RecipientAttestation:PCR8, plus PCR0 / PCR3 when given; kms:Encrypt
 * without), explicit Deny, principals, actions, operators and validation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmslocal/kmslocal.h"
#include "test.h"
#include "util/hex.h"

#define SIGNER "arn:aws:iam::000000000000:role/signer"
#define OTHER "arn:aws:iam::000000000000:role/other"
#define KEYARN "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-4333-8444-555555555555"

static char pcr0_hex[97], pcr3_hex[97], pcr8_hex[97];

static void fill(uint8_t *p, uint8_t v) { memset(p, v, 48); }

/* An attestation with PCR0 = 0x00.., PCR3 = 0x33.., PCR8 = 0x88.. (as lower-case hex in policies). */
static kl_attestation att_with(uint8_t p0, uint8_t p3, uint8_t p8)
{
    kl_attestation a;
    memset(&a, 0, sizeof a);
    for (int i = 0; i < 16; i++)
        a.pcr_len[i] = 48;
    fill(a.pcr[0], p0);
    fill(a.pcr[3], p3);
    fill(a.pcr[8], p8);
    return a;
}

/* The enclave policy of SPEC §9, built like terraform does. */
static char *enclave_policy(int with_pcr0, int with_pcr3, const char *pcr8_case)
{
    char cond[1024];
    int n = snprintf(cond, sizeof cond, "\"kms:RecipientAttestation:PCR8\":\"%s\"", pcr8_case ? pcr8_case : pcr8_hex);
    if (with_pcr0)
        n += snprintf(cond + n, sizeof cond - (size_t)n, ",\"kms:RecipientAttestation:ImageSha384\":\"%s\"", pcr0_hex);
    if (with_pcr3)
        n += snprintf(cond + n, sizeof cond - (size_t)n, ",\"kms:RecipientAttestation:PCR3\":\"%s\"", pcr3_hex);
    char *p = malloc(4096);
    snprintf(p, 4096,
             "{\"Version\":\"2012-10-17\",\"Statement\":["
             "{\"Sid\":\"admin\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::000000000000:role/admin\"},"
             "\"Action\":\"kms:*\",\"Resource\":\"*\"},"
             "{\"Sid\":\"encrypt\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" SIGNER "\"},"
             "\"Action\":[\"kms:Encrypt\",\"kms:DescribeKey\"],\"Resource\":\"*\"},"
             "{\"Sid\":\"decrypt\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"" SIGNER "\"]},"
             "\"Action\":\"kms:Decrypt\",\"Resource\":\"*\","
             "\"Condition\":{\"StringEqualsIgnoreCase\":{%s}}}]}",
             cond);
    return p;
}

static kl_decision eval(const char *policy, const char *principal, const char *action, const kl_attestation *att,
                        json_t *ctx)
{
    kl_policy_request r = {.principal = principal, .action = action, .resource = KEYARN, .context = ctx, .att = att};
    kl_decision d = (kl_decision)-1;
    cc_error err;
    cc_status s = kl_policy_evaluate(policy, &r, &d, &err);
    if (s != CC_OK)
        fprintf(stderr, "  evaluate: %s\n", err.msg);
    return d;
}

TEST(pcr8_only)
{
    char *p = enclave_policy(0, 0, NULL);
    CHECK(kl_policy_validate(p, NULL) == CC_OK);
    kl_attestation good = att_with(0x00, 0x33, 0x88), wrong = att_with(0x00, 0x33, 0x89);
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Decrypt", &good, NULL), KL_ALLOW);
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Decrypt", &wrong, NULL), KL_DENY_IMPLICIT);
    /* no Recipient: the condition key is absent, so the Allow does not apply */
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Decrypt", NULL, NULL), KL_DENY_IMPLICIT);
    /* Encrypt needs no attestation */
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Encrypt", NULL, NULL), KL_ALLOW);
    /* another principal, even with the right document */
    CHECK_EQ_INT(eval(p, OTHER, "kms:Decrypt", &good, NULL), KL_DENY_IMPLICIT);
    CHECK_EQ_INT(eval(p, OTHER, "kms:Encrypt", NULL, NULL), KL_DENY_IMPLICIT);
    /* the signer is not an admin */
    CHECK_EQ_INT(eval(p, SIGNER, "kms:PutKeyPolicy", &good, NULL), KL_DENY_IMPLICIT);
    CHECK_EQ_INT(eval(p, "arn:aws:iam::000000000000:role/admin", "kms:PutKeyPolicy", NULL, NULL), KL_ALLOW);
    free(p);
}

TEST(pcr8_and_pcr0)
{
    char *p = enclave_policy(1, 0, NULL);
    kl_attestation good = att_with(0x00, 0x33, 0x88), bad0 = att_with(0x01, 0x33, 0x88), bad8 = att_with(0x00, 0x33, 0x87);
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Decrypt", &good, NULL), KL_ALLOW);
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Decrypt", &bad0, NULL), KL_DENY_IMPLICIT);
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Decrypt", &bad8, NULL), KL_DENY_IMPLICIT);
    free(p);
}

TEST(pcr3)
{
    char *p = enclave_policy(1, 1, NULL);
    kl_attestation good = att_with(0x00, 0x33, 0x88), bad3 = att_with(0x00, 0x34, 0x88);
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Decrypt", &good, NULL), KL_ALLOW);
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Decrypt", &bad3, NULL), KL_DENY_IMPLICIT);
    free(p);
}

TEST(hex_case_is_ignored_by_ignorecase_operator)
{
    uint8_t v[48];
    char lower[97], upper[97];
    fill(v, 0xab);
    cc_hex_encode(v, 48, lower);
    for (int i = 0; i < 97; i++)
        upper[i] = (char)(lower[i] >= 'a' ? lower[i] - 32 : lower[i]);
    kl_attestation ab = att_with(0x00, 0x33, 0xab);
    char *p = enclave_policy(0, 0, upper);
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Decrypt", &ab, NULL), KL_ALLOW);
    free(p);
    /* plain StringEquals compares against the lower-case hex exactly */
    char q[1024];
    const char *fmt = "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:Decrypt\","
                      "\"Condition\":{\"StringEquals\":{\"kms:RecipientAttestation:PCR8\":\"%s\"}}}}";
    snprintf(q, sizeof q, fmt, upper);
    CHECK_EQ_INT(eval(q, SIGNER, "kms:Decrypt", &ab, NULL), KL_DENY_IMPLICIT);
    snprintf(q, sizeof q, fmt, lower);
    CHECK_EQ_INT(eval(q, SIGNER, "kms:Decrypt", &ab, NULL), KL_ALLOW);
}

TEST(explicit_deny_wins)
{
    char q[2048];
    snprintf(q, sizeof q,
             "{\"Statement\":["
             "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"000000000000\"},\"Action\":\"kms:*\",\"Resource\":\"*\"},"
             "{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"kms:Decrypt\",\"Resource\":\"*\","
             "\"Condition\":{\"StringNotEqualsIgnoreCase\":{\"kms:RecipientAttestation:PCR8\":\"%s\"}}}]}",
             pcr8_hex);
    CHECK(kl_policy_validate(q, NULL) == CC_OK);
    kl_attestation good = att_with(0x00, 0x33, 0x88), wrong = att_with(0x00, 0x33, 0x80);
    CHECK_EQ_INT(eval(q, SIGNER, "kms:Decrypt", &good, NULL), KL_ALLOW);
    CHECK_EQ_INT(eval(q, SIGNER, "kms:Decrypt", &wrong, NULL), KL_DENY_EXPLICIT);
    /* a negated operator holds when the key is absent: no Recipient → the Deny applies */
    CHECK_EQ_INT(eval(q, SIGNER, "kms:Decrypt", NULL, NULL), KL_DENY_EXPLICIT);
    CHECK_EQ_INT(eval(q, SIGNER, "kms:Encrypt", NULL, NULL), KL_ALLOW);
    /* another account is not covered by the account principal */
    CHECK_EQ_INT(eval(q, "arn:aws:iam::111111111111:role/signer", "kms:Encrypt", NULL, NULL), KL_DENY_IMPLICIT);
}

TEST(principals)
{
    const char *p = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" SIGNER "\"},"
                    "\"Action\":\"kms:Encrypt\",\"Resource\":\"*\"}]}";
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Encrypt", NULL, NULL), KL_ALLOW);
    /* an STS session of the role is the role */
    CHECK_EQ_INT(eval(p, "arn:aws:sts::000000000000:assumed-role/signer/i-0abc", "kms:Encrypt", NULL, NULL), KL_ALLOW);
    CHECK_EQ_INT(eval(p, "arn:aws:sts::000000000000:assumed-role/signer2/i-0abc", "kms:Encrypt", NULL, NULL),
                 KL_DENY_IMPLICIT);
    CHECK_EQ_INT(eval(p, "arn:aws:iam::000000000000:root", "kms:Encrypt", NULL, NULL), KL_DENY_IMPLICIT);
    char *def = kl_policy_default("000000000000");
    CHECK(kl_policy_validate(def, NULL) == CC_OK);
    CHECK_EQ_INT(eval(def, SIGNER, "kms:PutKeyPolicy", NULL, NULL), KL_ALLOW);
    CHECK_EQ_INT(eval(def, "arn:aws:iam::000000000000:root", "kms:Decrypt", NULL, NULL), KL_ALLOW);
    CHECK_EQ_INT(eval(def, "arn:aws:iam::999999999999:root", "kms:Decrypt", NULL, NULL), KL_DENY_IMPLICIT);
    free(def);
}

TEST(actions_resources_and_context)
{
    const char *p = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"KMS:dec*\","
                    "\"Resource\":\"arn:aws:kms:us-east-1:000000000000:key/*\","
                    "\"Condition\":{\"StringEquals\":{\"kms:EncryptionContext:purpose\":\"seal\"},"
                    "\"StringLike\":{\"kms:EncryptionContext:node\":[\"node-?\",\"edge-*\"]}}}]}";
    CHECK(kl_policy_validate(p, NULL) == CC_OK);
    json_t *ok1 = json_pack("{s:s, s:s}", "purpose", "seal", "node", "node-1");
    json_t *ok2 = json_pack("{s:s, s:s}", "purpose", "seal", "node", "edge-west-9");
    json_t *bad = json_pack("{s:s, s:s}", "purpose", "seal", "node", "node-12");
    json_t *nop = json_pack("{s:s}", "node", "node-1");
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Decrypt", NULL, ok1), KL_ALLOW);
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Decrypt", NULL, ok2), KL_ALLOW);
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Decrypt", NULL, bad), KL_DENY_IMPLICIT);
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Decrypt", NULL, nop), KL_DENY_IMPLICIT);
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Encrypt", NULL, ok1), KL_DENY_IMPLICIT);
    kl_policy_request r = {.principal = SIGNER, .action = "kms:Decrypt",
                           .resource = "arn:aws:kms:eu-west-1:000000000000:key/x", .context = ok1};
    kl_decision d;
    CHECK(kl_policy_evaluate(p, &r, &d, NULL) == CC_OK);
    CHECK_EQ_INT(d, KL_DENY_IMPLICIT);
    json_decref(ok1);
    json_decref(ok2);
    json_decref(bad);
    json_decref(nop);
}

TEST(validation_refuses_what_we_do_not_evaluate)
{
    cc_error err;
    CHECK(kl_policy_validate("not json", &err) == CC_EINVAL);
    CHECK(kl_policy_validate("{}", &err) == CC_EINVAL);
    CHECK(kl_policy_validate("{\"Statement\":[{\"Effect\":\"Maybe\",\"Principal\":\"*\",\"Action\":\"kms:*\"}]}",
                             &err) == CC_EINVAL);
    CHECK(kl_policy_validate("{\"Statement\":[{\"Effect\":\"Allow\",\"NotPrincipal\":{\"AWS\":\"x\"},"
                             "\"Principal\":\"*\",\"Action\":\"kms:*\"}]}",
                             &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "NotPrincipal") != NULL);
    CHECK(kl_policy_validate("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\","
                             "\"Condition\":{\"NumericLessThan\":{\"x\":\"1\"}}}]}",
                             &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "NumericLessThan") != NULL);
    CHECK(kl_policy_validate("{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\","
                             "\"Condition\":{\"StringEqualsIfExists\":{\"kms:EncryptionContext:a\":[\"1\",\"2\"]}}}]}",
                             &err) == CC_OK);
}

TEST(if_exists)
{
    const char *p = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:Decrypt\","
                    "\"Condition\":{\"StringEqualsIgnoreCaseIfExists\":{\"kms:RecipientAttestation:PCR8\":\"88\"}}}]}";
    kl_attestation a = att_with(0, 0, 0x88);
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Decrypt", NULL, NULL), KL_ALLOW);
    CHECK_EQ_INT(eval(p, SIGNER, "kms:Decrypt", &a, NULL), KL_DENY_IMPLICIT); /* present and unequal */
}

int main(void)
{
    uint8_t v[48];
    fill(v, 0x00);
    cc_hex_encode(v, 48, pcr0_hex);
    fill(v, 0x33);
    cc_hex_encode(v, 48, pcr3_hex);
    fill(v, 0x88);
    cc_hex_encode(v, 48, pcr8_hex);
    RUN(pcr8_only);
    RUN(pcr8_and_pcr0);
    RUN(pcr3);
    RUN(hex_case_is_ignored_by_ignorecase_operator);
    RUN(explicit_deny_wins);
    RUN(principals);
    RUN(actions_resources_and_context);
    RUN(validation_refuses_what_we_do_not_evaluate);
    RUN(if_exists);
    TEST_MAIN_END();
}
