/*
 * test_ops.c — kms-local's operations end to end without a socket
 * (kl_ops_dispatch): keys, Encrypt/Decrypt with encryption context, disabled
 * keys, key policies with attestation conditions on Decrypt with a Recipient
 * (the enclave key policy of SPEC §9), CiphertextForRecipient opened with
 * CMS_decrypt, and the state surviving a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/cms.h>

#include "kmslocal/attdoc.h"
#include "kmslocal/kmslocal.h"
#include "test.h"
#include "util/hex.h"

#define ADMIN "arn:aws:iam::000000000000:role/admin"
#define SIGNER "arn:aws:iam::000000000000:role/signer"
#define OTHER "arn:aws:iam::000000000000:role/other"

static char dir[] = "/tmp/cc-kmslocal-ops.XXXXXX";
static char state_path[256];
static kl_config cfg;
static kl_store store;
static kl_server_ctx ctx;
static attdoc_ca ca, rogue;
static EVP_PKEY *rsa;
static uint8_t *spki;
static size_t spki_len;
static uint8_t pcr0[48], pcr3[48], pcr8[48];

static const kl_cred *cred(const char *principal)
{
    for (size_t i = 0; i < cfg.ncreds; i++)
        if (strcmp(cfg.creds[i].principal_arn, principal) == 0)
            return &cfg.creds[i];
    return NULL;
}

/* Runs op with a JSON body (printf format); returns the reply body as JSON and the error name in *error. */
static json_t *call(const char *principal, const char *op, const char **error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static json_t *call(const char *principal, const char *op, const char **error, const char *fmt, ...)
{
    static char body[65536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    json_t *in = json_loads(body, 0, NULL);
    kl_reply r = {0};
    kl_ops_dispatch(&ctx, cred(principal), op, in, &r);
    json_decref(in);
    *error = r.error;
    json_t *out = json_loads(r.body ? r.body : "null", JSON_DECODE_ANY, NULL);
    if (r.error)
        fprintf(stderr, "    (%s %s: %s)\n", op, r.error, json_string_value(json_object_get(out, "message")));
    free(r.body);
    return out;
}

static const char *str(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* A fresh attestation document (base64) with the given PCRs, from `c`, for our RSA key. */
static char *attdoc_b64(const attdoc_ca *c, const uint8_t *p0, const uint8_t *p3, const uint8_t *p8)
{
    attdoc_fields f;
    memset(&f, 0, sizeof f);
    memcpy(f.pcrs[0], p0, 48);
    memcpy(f.pcrs[3], p3, 48);
    memcpy(f.pcrs[8], p8, 48);
    f.public_key = spki;
    f.public_key_len = spki_len;
    uint8_t *d;
    size_t n;
    cc_error err;
    if (attdoc_build(c, &f, &d, &n, &err) != CC_OK)
        return NULL;
    char *b = kl_b64_encode(d, n);
    free(d);
    return b;
}

static char *hex48(const uint8_t *v)
{
    static char bufs[4][97];
    static int i;
    char *b = bufs[i++ % 4];
    cc_hex_encode(v, 48, b);
    return b;
}

static char *create_key(const char *policy)
{
    const char *e;
    json_t *in = json_pack("{s:s, s:s}", "Description", "test", "Policy", policy);
    char *body = json_dumps(in, JSON_COMPACT);
    json_decref(in);
    json_t *o = call(ADMIN, "CreateKey", &e, "%s", body);
    free(body);
    const char *id = str(json_object_get(o, "KeyMetadata"), "KeyId");
    char *r = id ? strdup(id) : NULL;
    json_decref(o);
    return r;
}

static char *encrypt(const char *principal, const char *key, const char *pt64, const char *ctxjson)
{
    const char *e;
    json_t *o = call(principal, "Encrypt", &e, "{\"KeyId\":\"%s\",\"Plaintext\":\"%s\"%s%s}", key, pt64,
                     ctxjson ? ",\"EncryptionContext\":" : "", ctxjson ? ctxjson : "");
    char *r = str(o, "CiphertextBlob") ? strdup(str(o, "CiphertextBlob")) : NULL;
    json_decref(o);
    return r;
}

/* Decrypt with a Recipient; returns the opened plaintext (malloc'ed, NUL-terminated) or NULL and *error. */
static char *decrypt_for_recipient(const char *principal, const char *blob, const char *doc64, const char **error)
{
    json_t *o = call(principal, "Decrypt", error,
                     "{\"CiphertextBlob\":\"%s\",\"Recipient\":{\"AttestationDocument\":\"%s\","
                     "\"KeyEncryptionAlgorithm\":\"RSAES_OAEP_SHA_256\"}}",
                     blob, doc64);
    const char *c64 = str(o, "CiphertextForRecipient");
    char *res = NULL;
    if (c64 && !json_object_get(o, "Plaintext")) {
        uint8_t *der;
        size_t n;
        if (kl_b64_decode(c64, &der, &n, NULL) == CC_OK) {
            const unsigned char *p = der;
            CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)n);
            BIO *out = BIO_new(BIO_s_mem());
            if (cms && CMS_decrypt(cms, rsa, NULL, NULL, out, CMS_BINARY) == 1) {
                char *d;
                long l = BIO_get_mem_data(out, &d);
                res = strndup(d, (size_t)l);
            }
            BIO_free(out);
            CMS_ContentInfo_free(cms);
            free(der);
        }
    }
    json_decref(o);
    return res;
}

static char *enclave_policy(int with_pcr0, int with_pcr3)
{
    char cond[512];
    int n = snprintf(cond, sizeof cond, "\"kms:RecipientAttestation:PCR8\":\"%s\"", hex48(pcr8));
    if (with_pcr0)
        n += snprintf(cond + n, sizeof cond - (size_t)n, ",\"kms:RecipientAttestation:ImageSha384\":\"%s\"", hex48(pcr0));
    if (with_pcr3)
        n += snprintf(cond + n, sizeof cond - (size_t)n, ",\"kms:RecipientAttestation:PCR3\":\"%s\"", hex48(pcr3));
    char *p = malloc(4096);
    snprintf(p, 4096,
             "{\"Version\":\"2012-10-17\",\"Statement\":["
             "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ADMIN "\"},\"Action\":\"kms:*\",\"Resource\":\"*\"},"
             "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" SIGNER "\"},\"Action\":\"kms:Encrypt\",\"Resource\":\"*\"},"
             "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" SIGNER "\"},\"Action\":\"kms:Decrypt\",\"Resource\":\"*\","
             "\"Condition\":{\"StringEqualsIgnoreCase\":{%s}}}]}",
             cond);
    return p;
}

static const char *PT64 = "c2VjcmV0LXNoYXJl"; /* "secret-share" */

TEST(encrypt_decrypt_and_context)
{
    const char *e;
    char *key = create_key("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\"}}");
    CHECK(key != NULL);
    char *blob = encrypt(SIGNER, key, PT64, "{\"b\":\"2\",\"a\":\"1\"}");
    CHECK(blob != NULL);
    /* without KeyId, context in another key order */
    json_t *o = call(SIGNER, "Decrypt", &e, "{\"CiphertextBlob\":\"%s\",\"EncryptionContext\":{\"a\":\"1\",\"b\":\"2\"}}",
                     blob);
    CHECK_EQ_STR(str(o, "Plaintext"), PT64);
    CHECK(str(o, "KeyId") && strstr(str(o, "KeyId"), key) != NULL);
    json_decref(o);
    o = call(SIGNER, "Decrypt", &e, "{\"CiphertextBlob\":\"%s\",\"EncryptionContext\":{\"a\":\"1\"}}", blob);
    CHECK_EQ_STR(e, "InvalidCiphertextException");
    json_decref(o);
    o = call(SIGNER, "Decrypt", &e, "{\"CiphertextBlob\":\"%s\"}", blob);
    CHECK_EQ_STR(e, "InvalidCiphertextException");
    json_decref(o);
    /* KeyId naming another key */
    char *key2 = create_key("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\"}}");
    o = call(SIGNER, "Decrypt", &e, "{\"CiphertextBlob\":\"%s\",\"KeyId\":\"%s\",\"EncryptionContext\":{\"a\":\"1\",\"b\":\"2\"}}",
             blob, key2);
    CHECK_EQ_STR(e, "IncorrectKeyException");
    json_decref(o);
    o = call(SIGNER, "Encrypt", &e, "{\"KeyId\":\"no-such-key\",\"Plaintext\":\"%s\"}", PT64);
    CHECK_EQ_STR(e, "NotFoundException");
    json_decref(o);
    /* disabled key: both ways */
    o = call(ADMIN, "DisableKey", &e, "{\"KeyId\":\"%s\"}", key);
    CHECK(e == NULL);
    json_decref(o);
    o = call(SIGNER, "Encrypt", &e, "{\"KeyId\":\"%s\",\"Plaintext\":\"%s\"}", key, PT64);
    CHECK_EQ_STR(e, "DisabledException");
    json_decref(o);
    o = call(SIGNER, "Decrypt", &e, "{\"CiphertextBlob\":\"%s\",\"EncryptionContext\":{\"a\":\"1\",\"b\":\"2\"}}", blob);
    CHECK_EQ_STR(e, "DisabledException");
    json_decref(o);
    o = call(ADMIN, "DescribeKey", &e, "{\"KeyId\":\"%s\"}", key);
    CHECK_EQ_STR(str(json_object_get(o, "KeyMetadata"), "KeyState"), "Disabled");
    json_decref(o);
    o = call(ADMIN, "EnableKey", &e, "{\"KeyId\":\"%s\"}", key);
    json_decref(o);
    o = call(SIGNER, "Decrypt", &e, "{\"CiphertextBlob\":\"%s\",\"EncryptionContext\":{\"a\":\"1\",\"b\":\"2\"}}", blob);
    CHECK_EQ_STR(str(o, "Plaintext"), PT64);
    json_decref(o);
    /* a blob that is not ours */
    o = call(SIGNER, "Decrypt", &e, "{\"CiphertextBlob\":\"AAAA\"}");
    CHECK_EQ_STR(e, "InvalidCiphertextException");
    json_decref(o);
    o = call(SIGNER, "NoSuchOperation", &e, "{}");
    CHECK_EQ_STR(e, "UnknownOperationException");
    json_decref(o);
    free(key);
    free(key2);
    free(blob);
}

TEST(recipient_policy_matrix)
{
    char *pol8 = enclave_policy(0, 0), *pol80 = enclave_policy(1, 0), *pol803 = enclave_policy(1, 1);
    char *k8 = create_key(pol8), *k80 = create_key(pol80), *k803 = create_key(pol803);
    CHECK(k8 && k80 && k803);
    char *b8 = encrypt(SIGNER, k8, PT64, NULL), *b80 = encrypt(SIGNER, k80, PT64, NULL),
         *b803 = encrypt(SIGNER, k803, PT64, NULL);
    CHECK(b8 && b80 && b803);
    /* the other role may not even encrypt */
    CHECK(encrypt(OTHER, k8, PT64, NULL) == NULL);

    uint8_t bad[48];
    memset(bad, 0xEE, 48);
    char *good = attdoc_b64(&ca, pcr0, pcr3, pcr8);
    char *wrong8 = attdoc_b64(&ca, pcr0, pcr3, bad);
    char *wrong0 = attdoc_b64(&ca, bad, pcr3, pcr8);
    char *wrong3 = attdoc_b64(&ca, pcr0, bad, pcr8);
    char *untrusted = attdoc_b64(&rogue, pcr0, pcr3, pcr8);
    const char *e;
    char *pt;

    pt = decrypt_for_recipient(SIGNER, b8, good, &e);
    CHECK_EQ_STR(pt, "secret-share");
    free(pt);
    pt = decrypt_for_recipient(SIGNER, b8, wrong0, &e); /* PCR0 not required by this key */
    CHECK_EQ_STR(pt, "secret-share");
    free(pt);
    CHECK(decrypt_for_recipient(SIGNER, b8, wrong8, &e) == NULL);
    CHECK_EQ_STR(e, "AccessDeniedException");

    pt = decrypt_for_recipient(SIGNER, b80, good, &e);
    CHECK_EQ_STR(pt, "secret-share");
    free(pt);
    CHECK(decrypt_for_recipient(SIGNER, b80, wrong0, &e) == NULL);
    CHECK_EQ_STR(e, "AccessDeniedException");

    pt = decrypt_for_recipient(SIGNER, b803, good, &e);
    CHECK_EQ_STR(pt, "secret-share");
    free(pt);
    CHECK(decrypt_for_recipient(SIGNER, b803, wrong3, &e) == NULL);
    CHECK_EQ_STR(e, "AccessDeniedException");

    /* another principal with the right document */
    CHECK(decrypt_for_recipient(OTHER, b8, good, &e) == NULL);
    CHECK_EQ_STR(e, "AccessDeniedException");
    /* a document from a chain we do not trust */
    CHECK(decrypt_for_recipient(SIGNER, b8, untrusted, &e) == NULL);
    CHECK_EQ_STR(e, "ValidationException");
    /* no Recipient: the condition cannot hold */
    json_t *o = call(SIGNER, "Decrypt", &e, "{\"CiphertextBlob\":\"%s\"}", b8);
    CHECK_EQ_STR(e, "AccessDeniedException");
    CHECK(json_object_get(o, "Plaintext") == NULL);
    json_decref(o);
    /* wrong key-encryption algorithm */
    o = call(SIGNER, "Decrypt", &e,
             "{\"CiphertextBlob\":\"%s\",\"Recipient\":{\"AttestationDocument\":\"%s\","
             "\"KeyEncryptionAlgorithm\":\"RSAES_OAEP_SHA_1\"}}",
             b8, good);
    CHECK_EQ_STR(e, "ValidationException");
    json_decref(o);

    /* an explicit Deny added by the admin wins over the Allow */
    char deny[8192];
    snprintf(deny, sizeof deny, "%.*s,{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"kms:Decrypt\","
             "\"Resource\":\"*\"}]}", (int)strlen(pol8) - 2, pol8);
    json_t *in = json_pack("{s:s, s:s}", "KeyId", k8, "Policy", deny);
    char *body = json_dumps(in, JSON_COMPACT);
    json_decref(in);
    o = call(SIGNER, "PutKeyPolicy", &e, "%s", body); /* the signer is not an admin */
    CHECK_EQ_STR(e, "AccessDeniedException");
    json_decref(o);
    o = call(ADMIN, "PutKeyPolicy", &e, "%s", body);
    CHECK(e == NULL);
    json_decref(o);
    free(body);
    CHECK(decrypt_for_recipient(SIGNER, b8, good, &e) == NULL);
    CHECK_EQ_STR(e, "AccessDeniedException");
    o = call(ADMIN, "GetKeyPolicy", &e, "{\"KeyId\":\"%s\"}", k8);
    CHECK(str(o, "Policy") && strstr(str(o, "Policy"), "Deny") != NULL);
    json_decref(o);
    /* a policy we do not evaluate is refused, not stored */
    o = call(ADMIN, "PutKeyPolicy", &e, "{\"KeyId\":\"%s\",\"Policy\":\"{\\\"Statement\\\":[{\\\"Effect\\\":"
             "\\\"Allow\\\",\\\"NotPrincipal\\\":{\\\"AWS\\\":\\\"x\\\"},\\\"Action\\\":\\\"kms:*\\\"}]}\"}", k8);
    CHECK_EQ_STR(e, "MalformedPolicyDocumentException");
    json_decref(o);

    /* GenerateRandom and GenerateDataKey with a Recipient carry no Plaintext */
    o = call(SIGNER, "GenerateRandom", &e,
             "{\"NumberOfBytes\":32,\"Recipient\":{\"AttestationDocument\":\"%s\",\"KeyEncryptionAlgorithm\":"
             "\"RSAES_OAEP_SHA_256\"}}", good);
    CHECK(str(o, "CiphertextForRecipient") != NULL && json_object_get(o, "Plaintext") == NULL);
    json_decref(o);
    o = call(SIGNER, "GenerateRandom", &e, "{\"NumberOfBytes\":32}");
    CHECK(str(o, "Plaintext") != NULL && strlen(str(o, "Plaintext")) == 44);
    json_decref(o);

    free(good); free(wrong8); free(wrong0); free(wrong3); free(untrusted);
    free(b8); free(b80); free(b803);
    free(k8); free(k80); free(k803);
    free(pol8); free(pol80); free(pol803);
}

TEST(admin_open_and_default_policy)
{
    const char *e;
    /* CreateKey without a policy: the default one (the account root may do everything) */
    json_t *o = call(OTHER, "CreateKey", &e, "{}");
    const char *id = str(json_object_get(o, "KeyMetadata"), "KeyId");
    CHECK(id != NULL);
    char *key = id ? strdup(id) : NULL;
    json_decref(o);
    o = call(OTHER, "GetKeyPolicy", &e, "{\"KeyId\":\"%s\"}", key);
    CHECK(str(o, "Policy") && strstr(str(o, "Policy"), "arn:aws:iam::000000000000:root") != NULL);
    json_decref(o);
    /* lock everyone out; --admin-open lets the admin operations through anyway */
    o = call(OTHER, "PutKeyPolicy", &e, "{\"KeyId\":\"%s\",\"Policy\":\"{\\\"Statement\\\":[]}\"}", key);
    CHECK(e == NULL);
    json_decref(o);
    o = call(OTHER, "DescribeKey", &e, "{\"KeyId\":\"%s\"}", key);
    CHECK_EQ_STR(e, "AccessDeniedException");
    json_decref(o);
    cfg.admin_open = 1;
    o = call(OTHER, "DescribeKey", &e, "{\"KeyId\":\"%s\"}", key);
    CHECK(e == NULL);
    json_decref(o);
    o = call(OTHER, "Encrypt", &e, "{\"KeyId\":\"%s\",\"Plaintext\":\"%s\"}", key, PT64);
    CHECK_EQ_STR(e, "AccessDeniedException"); /* data operations still follow the policy */
    json_decref(o);
    cfg.admin_open = 0;
    free(key);
}

TEST(state_survives_restart)
{
    const char *e;
    char *key = create_key("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\"}}");
    char *blob = encrypt(SIGNER, key, PT64, NULL);
    json_t *o = call(ADMIN, "DisableKey", &e, "{\"KeyId\":\"%s\"}", key);
    json_decref(o);
    size_t before = store.nkeys;
    kl_store_close(&store);
    cc_error err;
    CHECK(kl_store_open(&store, state_path, "us-east-1", "000000000000", &err) == CC_OK);
    CHECK_EQ_INT(store.nkeys, before);
    o = call(SIGNER, "Decrypt", &e, "{\"CiphertextBlob\":\"%s\"}", blob);
    CHECK_EQ_STR(e, "DisabledException");
    json_decref(o);
    o = call(ADMIN, "EnableKey", &e, "{\"KeyId\":\"%s\"}", key);
    json_decref(o);
    o = call(SIGNER, "Decrypt", &e, "{\"CiphertextBlob\":\"%s\"}", blob);
    CHECK_EQ_STR(str(o, "Plaintext"), PT64);
    json_decref(o);
    /* no temporary file is left behind, and the file is private */
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", state_path);
    CHECK(access(tmp, F_OK) != 0);
    o = call(ADMIN, "ListKeys", &e, "{}");
    CHECK_EQ_INT(json_array_size(json_object_get(o, "Keys")), before);
    json_decref(o);
    free(key);
    free(blob);
}

int main(void)
{
    cc_error err;
    if (!mkdtemp(dir)) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    snprintf(state_path, sizeof state_path, "%s/state.json", dir);
    memset(pcr0, 0xA0, 48);
    attdoc_pcr_extend_once((const uint8_t *)"arn:aws:iam::000000000000:role/signer", 37, pcr3);
    attdoc_pcr_extend_once((const uint8_t *)"signing certificate DER", 23, pcr8);
    cfg = (kl_config){.region = "us-east-1", .account = "000000000000", .attestation_max_age_s = 300,
                      .max_skew_s = 300};
    if (kl_config_add_cred(&cfg, "AKADMIN", "s1", ADMIN, NULL, &err) != CC_OK ||
        kl_config_add_cred(&cfg, "AKSIGNER", "s2", SIGNER, NULL, &err) != CC_OK ||
        kl_config_add_cred(&cfg, "AKOTHER", "s3", OTHER, NULL, &err) != CC_OK ||
        attdoc_ca_generate(&ca, &err) != CC_OK || attdoc_ca_generate(&rogue, &err) != CC_OK ||
        attdoc_rsa_key(&rsa, &spki, &spki_len, &err) != CC_OK ||
        kl_store_open(&store, state_path, "us-east-1", "000000000000", &err) != CC_OK) {
        printf("set-up failed: %s\n0 passed, 1 failed\n", err.msg);
        return 1;
    }
    cfg.attestation_root = X509_dup(ca.root);
    ctx = (kl_server_ctx){.cfg = &cfg, .store = &store};
    RUN(encrypt_decrypt_and_context);
    RUN(recipient_policy_matrix);
    RUN(admin_open_and_default_policy);
    RUN(state_survives_restart);
    kl_store_close(&store);
    kl_config_free(&cfg);
    attdoc_ca_free(&ca);
    attdoc_ca_free(&rogue);
    EVP_PKEY_free(rsa);
    free(spki);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    TEST_MAIN_END();
}
