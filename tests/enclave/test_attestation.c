/*
 * test_attestation.c — the Nitro attestation verifier (src/enclave/attestation.c)
 * against documents from the simulated NSM (src/enclave/nsm_sim.c): genuine
 * ones verify; every tampering is refused with a message naming what.
 */
#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <time.h>

#include "enclave/attestation.h"
#include "enclave/nsm.h"
#include "test.h"
#include "util/hex.h"

static cc_nsm *sim, *other_sim;
static cc_attestation_policy pol; /* root = the simulator's */
static uint8_t pcr0[48];

static int contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle)) {
        fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", hay, needle);
        return 0;
    }
    return 1;
}

/* Checks that doc is refused with a message containing want. */
static void refused(const uint8_t *doc, size_t len, const cc_attestation_policy *p, const char *want)
{
    cc_error err = {0};
    cc_attestation_doc d;
    cc_status s = cc_attestation_check(doc, len, p, &d, &err);
    cc_attestation_doc_free(&d);
    CHECK_MSG(s != CC_OK, "accepted, expected a refusal naming \"%s\"", want);
    if (s != CC_OK)
        CHECK(contains(err.msg, want));
}

static uint8_t *fresh_doc(size_t *len)
{
    uint8_t *doc = NULL;
    cc_error err;
    static const uint8_t ud[3] = {1, 2, 3};
    CHECK(sim->ops->attestation(sim, ud, sizeof ud, NULL, 0, NULL, 0, &doc, len, &err) == CC_OK);
    return doc;
}

/* Re-signs the simulator's payload with field `key` replaced by `value` (consumed); key absent → added. */
static uint8_t *doc_with_field(const char *key, cbor_item_t *value, size_t *len)
{
    uint8_t *pl = NULL, *doc = NULL;
    size_t pl_len = 0;
    cc_error err;
    CHECK(cc_nsm_sim_payload(sim, NULL, 0, NULL, 0, NULL, 0, &pl, &pl_len, &err) == CC_OK);
    struct cbor_load_result r;
    cbor_item_t *m = cbor_load(pl, pl_len, &r);
    free(pl);
    size_t n = cbor_map_size(m);
    struct cbor_pair *kv = cbor_map_handle(m);
    int done = 0;
    for (size_t i = 0; i < n; i++)
        if (cbor_string_length(kv[i].key) == strlen(key) && memcmp(cbor_string_handle(kv[i].key), key, strlen(key)) == 0) {
            cbor_decref(&kv[i].value);
            kv[i].value = value;
            done = 1;
        }
    cbor_item_t *out = m;
    if (!done) { /* a map with room for one more */
        out = cbor_new_definite_map(n + 1);
        for (size_t i = 0; i < n; i++)
            cbor_map_add(out, (struct cbor_pair){.key = kv[i].key, .value = kv[i].value});
        cbor_map_add(out, (struct cbor_pair){.key = cbor_move(cbor_build_string(key)), .value = cbor_move(value)});
    }
    unsigned char *buf = NULL;
    size_t cap = 0, bl = cbor_serialize_alloc(out, &buf, &cap);
    CHECK(cc_nsm_sim_sign(sim, NULL, 0, buf, bl, &doc, len, &err) == CC_OK);
    free(buf);
    if (out != m)
        cbor_decref(&out);
    cbor_decref(&m);
    return doc;
}

/* Re-signs the payload with the named field removed. */
static uint8_t *doc_without_field(const char *key, size_t *len)
{
    uint8_t *pl = NULL, *doc = NULL;
    size_t pl_len = 0;
    cc_error err;
    CHECK(cc_nsm_sim_payload(sim, NULL, 0, NULL, 0, NULL, 0, &pl, &pl_len, &err) == CC_OK);
    struct cbor_load_result r;
    cbor_item_t *m = cbor_load(pl, pl_len, &r);
    free(pl);
    size_t n = cbor_map_size(m);
    struct cbor_pair *kv = cbor_map_handle(m);
    cbor_item_t *out = cbor_new_definite_map(n);
    for (size_t i = 0; i < n; i++)
        if (!(cbor_string_length(kv[i].key) == strlen(key) && memcmp(cbor_string_handle(kv[i].key), key, strlen(key)) == 0))
            cbor_map_add(out, (struct cbor_pair){.key = kv[i].key, .value = kv[i].value});
    unsigned char *buf = NULL;
    size_t cap = 0, bl = cbor_serialize_alloc(out, &buf, &cap);
    CHECK(cc_nsm_sim_sign(sim, NULL, 0, buf, bl, &doc, len, &err) == CC_OK);
    free(buf);
    cbor_decref(&out);
    cbor_decref(&m);
    return doc;
}

TEST(built_in_root_is_the_published_one)
{
    FILE *f = fopen(test_vectors_path("nitro/root.pem"), "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CHECK_EQ_INT(n, strlen(cc_nitro_root_pem));
    CHECK(n == strlen(cc_nitro_root_pem) && memcmp(buf, cc_nitro_root_pem, n) == 0);
    BIO *b = BIO_new_mem_buf(cc_nitro_root_pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    CHECK(x != NULL);
    unsigned char *der = NULL;
    int dl = i2d_X509(x, &der);
    CHECK_EQ_INT(dl, 533);
    uint8_t h[32];
    char hex[65];
    SHA256(der, (size_t)dl, h);
    cc_hex_encode(h, 32, hex);
    CHECK_EQ_STR(hex, CC_NITRO_ROOT_SHA256);
    CHECK_EQ_STR(hex, "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b");
    OPENSSL_free(der);
    X509_free(x);
}

TEST(simulated_documents_verify)
{
    size_t len = 0;
    uint8_t *doc = fresh_doc(&len);
    CHECK(len > 4 && doc[0] == 0x84 && doc[1] == 0x44 && doc[2] == 0xA1 && doc[3] == 0x01);
    cc_attestation_doc d;
    cc_error err = {0};
    cc_attestation_policy p = pol;
    p.expect[0] = (cc_attestation_pcr){0, pcr0, 48};
    p.n_expect = 1;
    p.max_age_s = 60;
    cc_status s = cc_attestation_check(doc, len, &p, &d, &err);
    CHECK_MSG(s == CC_OK, "%s", err.msg);
    CHECK_EQ_STR(d.digest, "SHA384");
    CHECK(d.has_user_data && d.user_data_len == 3 && d.user_data[2] == 3);
    CHECK(!d.has_nonce && !d.has_public_key);
    CHECK_EQ_INT(d.cabundle_count, 2);
    CHECK_EQ_INT(d.pcr_present, 0xffff);
    cc_attestation_doc_free(&d);
    /* the default policy pins AWS's root: the simulator's chain is refused */
    refused(doc, len, NULL, "cabundle[0] is not the pinned root");
    /* base64 of it is detected and decoded */
    char *b64 = malloc(len * 2 + 8);
    int bl = EVP_EncodeBlock((unsigned char *)b64, doc, (int)len);
    uint8_t *back = NULL;
    size_t back_len = 0;
    CHECK(cc_attestation_decode_input((uint8_t *)b64, (size_t)bl, &back, &back_len, &err) == CC_OK);
    CHECK(back_len == len && memcmp(back, doc, len) == 0);
    free(back);
    free(b64);
    free(doc);
}

TEST(tagged_documents_verify)
{
    cc_nsm_sim_options o = {0};
    o.tagged = 1;
    o.state_dir = getenv("CC_TEST_SIM_DIR");
    cc_nsm *t = NULL;
    cc_error err;
    CHECK(cc_nsm_sim_new(&o, &t, &err) == CC_OK);
    uint8_t *doc = NULL;
    size_t len = 0;
    CHECK(t->ops->attestation(t, NULL, 0, (const uint8_t *)"n", 1, (const uint8_t *)"pk", 2, &doc, &len, &err) == CC_OK);
    CHECK(doc[0] == 0xD2);
    cc_attestation_policy p = {0};
    p.root_pem = cc_nsm_sim_root_pem(t);
    p.expect_nonce = (const uint8_t *)"n";
    p.expect_nonce_len = 1;
    cc_status s = cc_attestation_check(doc, len, &p, NULL, &err);
    CHECK_MSG(s == CC_OK, "%s", err.msg);
    p.expect_nonce = (const uint8_t *)"m";
    refused(doc, len, &p, "nonce");
    free(doc);
    cc_nsm_close(t);
}

TEST(tampered_bytes_are_refused)
{
    size_t len = 0;
    uint8_t *doc = fresh_doc(&len);
    /* a byte of the module_id text inside the payload */
    uint8_t *m = memmem(doc, len, "i-0000", 6);
    CHECK(m != NULL);
    if (m) {
        m[2] ^= 1;
        refused(doc, len, &pol, "signature does not verify");
        m[2] ^= 1;
    }
    /* a byte of a PCR value */
    size_t pcr_at = (size_t)((uint8_t *)memmem(doc, len, "\x00\x58\x30", 3) - doc) + 3;
    doc[pcr_at] ^= 0x80;
    refused(doc, len, &pol, "signature does not verify");
    doc[pcr_at] ^= 0x80;
    /* the last byte of the signature, then the first */
    doc[len - 1] ^= 1;
    refused(doc, len, &pol, "signature does not verify");
    doc[len - 1] ^= 1;
    doc[len - 96] ^= 1;
    refused(doc, len, &pol, "signature does not verify");
    doc[len - 96] ^= 1;
    CHECK(cc_attestation_check(doc, len, &pol, NULL, NULL) == CC_OK);
    /* truncations at many lengths, and trailing bytes */
    for (size_t cut = 1; cut < len; cut += len / 37 + 1)
        refused(doc, cut, &pol, "COSE_Sign1");
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, doc, len);
    longer[len] = 0;
    refused(longer, len + 1, &pol, "trailing");
    free(longer);
    refused(doc, 0, &pol, "empty");
    free(doc);
}

TEST(forged_documents_are_refused)
{
    /* the other simulator's leaf signs our simulator's payload */
    uint8_t *pl = NULL, *doc = NULL;
    size_t pl_len = 0, len = 0;
    cc_error err;
    CHECK(cc_nsm_sim_payload(sim, NULL, 0, NULL, 0, NULL, 0, &pl, &pl_len, &err) == CC_OK);
    CHECK(cc_nsm_sim_sign(other_sim, NULL, 0, pl, pl_len, &doc, &len, &err) == CC_OK);
    refused(doc, len, &pol, "signature does not verify");
    free(doc);
    free(pl);
    /* a whole document of the other simulator, against our root */
    CHECK(other_sim->ops->attestation(other_sim, NULL, 0, NULL, 0, NULL, 0, &doc, &len, &err) == CC_OK);
    refused(doc, len, &pol, "cabundle[0] is not the pinned root");
    /* ... with our root swapped into its cabundle: the chain then fails */
    cc_attestation_doc d;
    CHECK(cc_attestation_parse(doc, len, &d, &err) == CC_OK);
    cc_attestation_doc_free(&d);
    free(doc);
}

TEST(bad_alg_is_refused)
{
    uint8_t *pl = NULL, *doc = NULL;
    size_t pl_len = 0, len = 0;
    cc_error err;
    CHECK(cc_nsm_sim_payload(sim, NULL, 0, NULL, 0, NULL, 0, &pl, &pl_len, &err) == CC_OK);
    static const uint8_t es256[] = {0xA1, 0x01, 0x26};            /* {1: -7} */
    static const uint8_t extra[] = {0xA2, 0x01, 0x38, 0x22, 0x04, 0x41, 0x00}; /* {1: -35, 4: h'00'} */
    static const uint8_t text_alg[] = {0xA1, 0x01, 0x65, 'E', 'S', '3', '8', '4'};
    static const uint8_t not_map[] = {0x80};
    CHECK(cc_nsm_sim_sign(sim, es256, sizeof es256, pl, pl_len, &doc, &len, &err) == CC_OK);
    refused(doc, len, &pol, "alg is -7, expected -35");
    free(doc);
    CHECK(cc_nsm_sim_sign(sim, extra, sizeof extra, pl, pl_len, &doc, &len, &err) == CC_OK);
    refused(doc, len, &pol, "only alg");
    free(doc);
    CHECK(cc_nsm_sim_sign(sim, text_alg, sizeof text_alg, pl, pl_len, &doc, &len, &err) == CC_OK);
    refused(doc, len, &pol, "alg must be an integer");
    free(doc);
    CHECK(cc_nsm_sim_sign(sim, not_map, sizeof not_map, pl, pl_len, &doc, &len, &err) == CC_OK);
    refused(doc, len, &pol, "protected header");
    free(doc);
    free(pl);
}

TEST(wrong_types_are_refused)
{
    size_t len = 0;
    uint8_t *doc;
    uint8_t z[1100] = {0}; /* the largest field below is 1025 bytes */
#define FIELD(key, item, want)                                                                                         \
    do {                                                                                                               \
        doc = doc_with_field(key, item, &len);                                                                         \
        refused(doc, len, &pol, want);                                                                                 \
        free(doc);                                                                                                     \
    } while (0)
    FIELD("module_id", cbor_build_bytestring(z, 4), "module_id must be a text string");
    FIELD("module_id", cbor_build_string(""), "module_id is 0 bytes");
    FIELD("digest", cbor_build_string("SHA256"), "digest is 'SHA256'");
    FIELD("digest", cbor_build_uint8(1), "digest must be a text string");
    FIELD("timestamp", cbor_build_string("1700000000000"), "timestamp must be a positive integer");
    FIELD("timestamp", cbor_build_uint8(0), "timestamp must be a positive integer");
    FIELD("certificate", cbor_build_string("x"), "certificate must be a byte string");
    FIELD("certificate", cbor_build_bytestring(z, 10), "certificate is not a DER certificate");
    FIELD("certificate", cbor_new_null(), "certificate must be a byte string");
    FIELD("cabundle", cbor_build_bytestring(z, 10), "cabundle must be an array");
    FIELD("cabundle", cbor_new_definite_array(0), "cabundle has 0 certificates");
    FIELD("pcrs", cbor_new_definite_array(0), "pcrs must be a map");
    FIELD("public_key", cbor_build_bytestring(z, 1025), "public_key is 1025 bytes");
    FIELD("public_key", cbor_build_string("k"), "public_key must be a byte string or null");
    FIELD("user_data", cbor_build_bytestring(z, 513), "user_data is 513 bytes");
    FIELD("nonce", cbor_build_bytestring(z, 513), "nonce is 513 bytes");
    FIELD("nonce", cbor_build_uint8(5), "nonce must be a byte string or null");
    FIELD("surprise", cbor_build_uint8(5), "unknown payload field 'surprise'");
    {
        cbor_item_t *p = cbor_new_definite_map(1);
        cbor_map_add(p, (struct cbor_pair){.key = cbor_move(cbor_build_uint8(0)),
                                           .value = cbor_move(cbor_build_bytestring(z, 47))});
        FIELD("pcrs", p, "pcrs[0] is 47 bytes");
        p = cbor_new_definite_map(1);
        cbor_map_add(p, (struct cbor_pair){.key = cbor_move(cbor_build_uint8(32)),
                                           .value = cbor_move(cbor_build_bytestring(z, 48))});
        FIELD("pcrs", p, "pcrs key must be an integer 0..31");
        p = cbor_new_definite_map(1);
        cbor_map_add(p, (struct cbor_pair){.key = cbor_move(cbor_build_string("0")),
                                           .value = cbor_move(cbor_build_bytestring(z, 48))});
        FIELD("pcrs", p, "pcrs key must be an integer 0..31");
        p = cbor_new_definite_map(1);
        cbor_map_add(p, (struct cbor_pair){.key = cbor_move(cbor_build_uint8(1)),
                                           .value = cbor_move(cbor_build_string("x"))});
        FIELD("pcrs", p, "pcrs[1] must be a byte string");
        cbor_item_t *a = cbor_new_definite_array(1);
        cbor_array_push(a, cbor_move(cbor_build_string("x")));
        FIELD("cabundle", a, "cabundle[0] must be a byte string");
    }
#undef FIELD
    doc = doc_without_field("certificate", &len);
    refused(doc, len, &pol, "certificate is missing");
    free(doc);
    doc = doc_without_field("timestamp", &len);
    refused(doc, len, &pol, "timestamp is missing");
    free(doc);
    /* optional fields may be absent altogether */
    doc = doc_without_field("nonce", &len);
    cc_error err;
    CHECK_MSG(cc_attestation_check(doc, len, &pol, NULL, &err) == CC_OK, "%s", err.msg);
    free(doc);
}

TEST(time_is_checked)
{
    size_t len = 0;
    uint8_t *doc = fresh_doc(&len);
    cc_attestation_policy p = pol;
    p.has_at = 1;
    p.at = time(NULL) + 3 * 86400; /* the leaf lasts a day */
    refused(doc, len, &p, "certificate has expired (certificate at depth 0");
    p.at = time(NULL) + 400 * 86400; /* the intermediate a year */
    refused(doc, len, &p, "certificate has expired");
    p.at = time(NULL) - 2 * 3600; /* before every notBefore */
    refused(doc, len, &p, "not yet valid");
    free(doc);
    /* freshness: a document stamped 10 minutes ago */
    cc_nsm_sim_set_timestamp(sim, (uint64_t)(time(NULL) - 600) * 1000);
    doc = fresh_doc(&len);
    cc_nsm_sim_set_timestamp(sim, 0);
    p = pol;
    p.max_age_s = 300;
    refused(doc, len, &p, "more than max-age 300");
    p.max_age_s = 900;
    cc_error err;
    CHECK_MSG(cc_attestation_check(doc, len, &p, NULL, &err) == CC_OK, "%s", err.msg);
    free(doc);
    /* a document from the future */
    cc_nsm_sim_set_timestamp(sim, (uint64_t)(time(NULL) + 600) * 1000);
    doc = fresh_doc(&len);
    cc_nsm_sim_set_timestamp(sim, 0);
    refused(doc, len, &pol, "after the check time");
    free(doc);
}

TEST(pcrs_are_compared)
{
    size_t len = 0;
    uint8_t *doc = fresh_doc(&len);
    uint8_t other[48];
    memcpy(other, pcr0, 48);
    other[47] ^= 1;
    cc_attestation_policy p = pol;
    p.expect[0] = (cc_attestation_pcr){0, other, 48};
    p.n_expect = 1;
    refused(doc, len, &p, "PCR0 does not match");
    static const uint8_t zero[48];
    p.expect[0] = (cc_attestation_pcr){8, zero, 48};
    cc_error err;
    CHECK_MSG(cc_attestation_check(doc, len, &p, NULL, &err) == CC_OK, "%s", err.msg);
    p.expect[0] = (cc_attestation_pcr){3, zero, 32}; /* wrong length */
    refused(doc, len, &p, "PCR3 does not match");
    p.expect[0] = (cc_attestation_pcr){20, zero, 48}; /* not in the document */
    refused(doc, len, &p, "PCR20 is not in the document");
    free(doc);
}

/* An aTLS certificate: fresh P-256 key, the extension holding doc_ud's document. */
static X509 *atls_cert(const char *mode)
{
    EVP_PKEY *key = EVP_EC_gen("prime256v1");
    X509 *x = X509_new();
    X509_set_version(x, 2);
    X509_set_pubkey(x, key);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    uint8_t h[32];
    cc_error err;
    CHECK(cc_attestation_spki_sha256(x, h, &err) == CC_OK);
    if (strcmp(mode, "wrong") == 0)
        h[0] ^= 1;
    if (strcmp(mode, "none") != 0) {
        uint8_t *doc = NULL;
        size_t len = 0;
        CHECK(sim->ops->attestation(sim, h, 32, NULL, 0, NULL, 0, &doc, &len, &err) == CC_OK);
        if (strcmp(mode, "tampered") == 0)
            doc[len - 5] ^= 1;
        ASN1_OBJECT *oid = OBJ_txt2obj(CC_ATLS_OID, 1);
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(os, doc, (int)len);
        X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
        ASN1_OCTET_STRING_free(os);
        ASN1_OBJECT_free(oid);
        free(doc);
    }
    X509_sign(x, key, EVP_sha256());
    EVP_PKEY_free(key);
    return x;
}

TEST(atls_certificate_binding)
{
    cc_error err = {0};
    X509 *x = atls_cert("right");
    cc_attestation_doc d;
    CHECK_MSG(cc_attestation_verify_certificate(x, &pol, &d, &err) == CC_OK, "%s", err.msg);
    CHECK_EQ_INT(d.user_data_len, 32);
    cc_attestation_doc_free(&d);
    cc_attestation_policy p = pol;
    static const uint8_t ones[48] = {1};
    p.expect[0] = (cc_attestation_pcr){0, ones, 48};
    p.n_expect = 1;
    CHECK(cc_attestation_verify_certificate(x, &p, NULL, &err) != CC_OK && contains(err.msg, "PCR0"));
    X509_free(x);
    x = atls_cert("wrong");
    CHECK(cc_attestation_verify_certificate(x, &pol, NULL, &err) != CC_OK && contains(err.msg, "user_data is not SHA-256"));
    X509_free(x);
    x = atls_cert("none");
    CHECK(cc_attestation_verify_certificate(x, &pol, NULL, &err) != CC_OK && contains(err.msg, "no attestation document"));
    X509_free(x);
    x = atls_cert("tampered");
    CHECK(cc_attestation_verify_certificate(x, &pol, NULL, &err) != CC_OK && contains(err.msg, "signature"));
    X509_free(x);
}

TEST(input_detection)
{
    cc_error err;
    uint8_t *out = NULL;
    size_t n = 0;
    CHECK(cc_attestation_decode_input((const uint8_t *)"hEShATgi\n", 9, &out, &n, &err) == CC_OK);
    CHECK(n == 6 && out[0] == 0x84 && out[5] == 0x22);
    free(out);
    CHECK(cc_attestation_decode_input((const uint8_t *)"hES!", 4, &out, &n, &err) != CC_OK &&
          contains(err.msg, "neither CBOR nor base64"));
    CHECK(cc_attestation_decode_input((const uint8_t *)"hEShA", 5, &out, &n, &err) != CC_OK);
    CHECK(cc_attestation_decode_input((const uint8_t *)"", 0, &out, &n, &err) != CC_OK);
}

int main(void)
{
    cc_error err;
    cc_nsm_sim_options o = {0};
    RAND_bytes(pcr0, sizeof pcr0);
    memcpy(o.pcrs[0], pcr0, 48);
    if (cc_nsm_sim_new(&o, &sim, &err) != CC_OK || cc_nsm_sim_new(NULL, &other_sim, &err) != CC_OK) {
        fprintf(stderr, "simulator: %s\n", err.msg);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    pol.root_pem = cc_nsm_sim_root_pem(sim);
    RUN(built_in_root_is_the_published_one);
    RUN(simulated_documents_verify);
    RUN(tagged_documents_verify);
    RUN(tampered_bytes_are_refused);
    RUN(forged_documents_are_refused);
    RUN(bad_alg_is_refused);
    RUN(wrong_types_are_refused);
    RUN(time_is_checked);
    RUN(pcrs_are_compared);
    RUN(atls_certificate_binding);
    RUN(input_detection);
    cc_nsm_close(sim);
    cc_nsm_close(other_sim);
    TEST_MAIN_END();
}
