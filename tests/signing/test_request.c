/*
 * Tests for signing/request: each malformed-input class gives CC_EINVAL with
 * the field named; a foreign genesis_validators_root gives CC_EFORBIDDEN; a
 * supplied signingRoot that differs gives CC_EINVAL; hostile inputs (deep
 * nesting, huge bodies, embedded NULs, over-limit lists) fail cleanly; and the
 * domain rules that vectors do not pin down (EIP-7044, fork selection, both
 * aggregate shapes, camelCase, JSON integers) behave as documented.
 */
#include "signing/request.h"
#include "signing/support.h"
#include "signing/types.h"
#include "test.h"

#define GVR "0x04700007fabc8282644aed6d1c7c9e21d38a03a0c4ba193f3afe428824b3a673"
#define FORK_INFO "\"fork_info\":{\"fork\":{\"previous_version\":\"0x00000001\",\"current_version\":\"0x00000001\"," \
                  "\"epoch\":\"1\"},\"genesis_validators_root\":\"" GVR "\"}"
#define ATT_DATA "{\"slot\":\"32\",\"index\":\"0\",\"beacon_block_root\":" \
    "\"0xb2eedb01adbd02c828d5eec09b4c70cbba12ffffba525ebf48aca33028e8ad89\",\"source\":{\"epoch\":\"0\",\"root\":" \
    "\"0x0000000000000000000000000000000000000000000000000000000000000000\"},\"target\":{\"epoch\":\"0\",\"root\":" \
    "\"0xb2eedb01adbd02c828d5eec09b4c70cbba12ffffba525ebf48aca33028e8ad89\"}}"
/* sign.yaml ATTESTATION example and its published root. */
#define ATT_BODY "{\"type\":\"ATTESTATION\"," FORK_INFO ",\"attestation\":" ATT_DATA "}"
#define ATT_ROOT "0x548c9a015f4c96cb8b1ddbbdfca85846f85bf9f344a434c140f378cdfb5341f0"

static cc_network net;

static cc_status parse(const char *body, cc_sign_request *out, cc_error *err)
{
    memset(err, 0, sizeof *err);
    return cc_sign_request_parse(body, strlen(body), &net, out, err);
}

/* Expects CC_EINVAL whose message contains every given fragment. */
#define EXPECT_EINVAL(body, ...)                                                                   \
    do {                                                                                           \
        cc_sign_request _r;                                                                        \
        cc_error _e;                                                                               \
        cc_status _s = parse(body, &_r, &_e);                                                      \
        CHECK_MSG(_s == CC_EINVAL, "status %d for %s", _s, #body);                                 \
        const char *_frags[] = {__VA_ARGS__};                                                      \
        for (size_t _i = 0; _i < sizeof _frags / sizeof _frags[0]; _i++)                           \
            CHECK_MSG(strstr(_e.msg, _frags[_i]) != NULL, "\"%s\" not in \"%s\"", _frags[_i], _e.msg); \
    } while (0)

/* Builds a body by replacing the first occurrence of `from` in ATT_BODY with `to`. */
static char *att_with(const char *from, const char *to)
{
    static char buf[4096];
    const char *base = ATT_BODY;
    const char *at = strstr(base, from);
    if (!at)
        return strcpy(buf, base);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
    return buf;
}

TEST(attestation_ok)
{
    cc_sign_request r;
    cc_error e;
    CHECK(parse(ATT_BODY, &r, &e) == CC_OK);
    char hex[67];
    support_hex(r.signing_root, 32, hex);
    CHECK_EQ_STR(hex, ATT_ROOT);
    CHECK_EQ_INT(r.type, CC_SIGN_ATTESTATION);
    CHECK_EQ_INT(r.gate, CC_GATE_ATTESTATION);
    /* The supplied root, either spelling, is accepted when it matches. */
    CHECK(parse(att_with("{\"type\"", "{\"signingRoot\":\"" ATT_ROOT "\",\"type\""), &r, &e) == CC_OK);
    CHECK(parse(att_with("{\"type\"", "{\"signing_root\":\"" ATT_ROOT "\",\"type\""), &r, &e) == CC_OK);
    CHECK(parse(att_with("{\"type\"", "{\"signingRoot\":null,\"type\""), &r, &e) == CC_OK);
    /* Unknown fields anywhere are ignored. */
    CHECK(parse(att_with("{\"type\"", "{\"extra\":{\"deep\":[1,2,{}]},\"type\""), &r, &e) == CC_OK);
    CHECK(parse(att_with("\"slot\":\"32\"", "\"slot\":\"32\",\"committee_bits\":\"0x01\""), &r, &e) == CC_OK);
    /* A JSON integer is taken as a uint64 too (Jackson does); the root is the same. */
    CHECK(parse(att_with("\"slot\":\"32\"", "\"slot\":32"), &r, &e) == CC_OK);
    support_hex(r.signing_root, 32, hex);
    CHECK_EQ_STR(hex, ATT_ROOT);
    /* Hex without 0x and in upper case decodes to the same bytes. */
    CHECK(parse(att_with("0xb2eedb01adbd02c828d5eec09b4c70cbba12ffffba525ebf48aca33028e8ad89",
                         "B2EEDB01ADBD02C828D5EEC09B4C70CBBA12FFFFBA525EBF48ACA33028E8AD89"), &r, &e) == CC_OK);
    support_hex(r.signing_root, 32, hex);
    CHECK_EQ_STR(hex, ATT_ROOT);
}

TEST(signing_root_mismatch)
{
    cc_sign_request r;
    cc_error e;
    const char *bad = "0x548c9a015f4c96cb8b1ddbbdfca85846f85bf9f344a434c140f378cdfb5341f1";
    char prefix[128];
    snprintf(prefix, sizeof prefix, "{\"signingRoot\":\"%s\",\"type\"", bad);
    CHECK(parse(att_with("{\"type\"", prefix), &r, &e) == CC_EINVAL);
    CHECK(strstr(e.msg, "signingRoot") && strstr(e.msg, "does not match computed") && strstr(e.msg, ATT_ROOT));
    EXPECT_EINVAL(att_with("{\"type\"", "{\"signing_root\":\"0x1234\",\"type\""), "signing_root", "expected 32 bytes");
    EXPECT_EINVAL(att_with("{\"type\"", "{\"signingRoot\":7,\"type\""), "signing_root", "hex string");
}

TEST(foreign_gvr)
{
    cc_sign_request r;
    cc_error e;
    const char *other = "4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95";
    CHECK(parse(att_with(GVR + 2, other), &r, &e) == CC_EFORBIDDEN);
    CHECK(strstr(e.msg, "genesis_validators_root") != NULL);
    CHECK(strstr(e.msg, other) != NULL);
    CHECK_EQ_INT(cc_status_http(e.code), 403);
    /* A network without a configured root refuses everything that carries fork_info. */
    cc_network saved = net;
    net.has_genesis_validators_root = 0;
    CHECK(parse(ATT_BODY, &r, &e) == CC_EFORBIDDEN);
    net = saved;
}

TEST(malformed_json)
{
    EXPECT_EINVAL("", "malformed JSON");
    EXPECT_EINVAL("{", "malformed JSON");
    EXPECT_EINVAL("{\"type\":\"ATTESTATION\",}", "malformed JSON");
    EXPECT_EINVAL("[]", "JSON object");
    EXPECT_EINVAL("\"ATTESTATION\"", "request body");
    EXPECT_EINVAL("{\"type\":\"ATTESTATION\",\"type\":\"BLOCK\"}", "malformed JSON", "duplicate");
    /* Embedded NUL, inside and outside strings. */
    const char nul[] = "{\"type\":\"ATTEST\0ATION\"}";
    cc_sign_request r;
    cc_error e;
    CHECK(cc_sign_request_parse(nul, sizeof nul - 1, &net, &r, &e) == CC_EINVAL);
    CHECK(cc_sign_request_parse(ATT_BODY "\0garbage", sizeof ATT_BODY + 7, &net, &r, &e) == CC_EINVAL);
    CHECK(cc_sign_request_parse(NULL, 0, &net, &r, &e) == CC_EINVAL);
    /* The body need not be NUL-terminated: a prefix of a valid body is malformed. */
    CHECK(cc_sign_request_parse(ATT_BODY, 20, &net, &r, &e) == CC_EINVAL);
}

TEST(type_errors)
{
    EXPECT_EINVAL("{}", "type", "missing");
    EXPECT_EINVAL("{\"type\":null}", "type", "missing");
    EXPECT_EINVAL("{\"type\":5}", "type", "expected a string");
    EXPECT_EINVAL("{\"type\":\"BLS_TO_EXECUTION_CHANGE\"}", "type", "unknown signing type", "BLS_TO_EXECUTION_CHANGE");
    EXPECT_EINVAL("{\"type\":\"attestation\"}", "type", "unknown signing type");
    for (int t = 0; t < CC_SIGN_TYPE_COUNT; t++) {
        cc_sign_type back;
        CHECK(cc_sign_type_parse(cc_sign_type_name((cc_sign_type)t), &back, NULL) == CC_OK && back == (cc_sign_type)t);
    }
}

TEST(fork_info_errors)
{
    EXPECT_EINVAL("{\"type\":\"ATTESTATION\",\"attestation\":" ATT_DATA "}", "fork_info", "missing");
    EXPECT_EINVAL(att_with("\"fork\":{", "\"fork\":7,\"x\":{"), "fork_info.fork", "expected an object");
    EXPECT_EINVAL(att_with("\"epoch\":\"1\"", "\"epoch\":\"1x\""), "fork_info.fork.epoch", "decimal");
    EXPECT_EINVAL(att_with("\"epoch\":\"1\"", "\"epoch\":\"-1\""), "fork_info.fork.epoch");
    EXPECT_EINVAL(att_with("\"epoch\":\"1\"", "\"epoch\":-1"), "fork_info.fork.epoch");
    EXPECT_EINVAL(att_with("\"epoch\":\"1\"", "\"epoch\":1.5"), "fork_info.fork.epoch");
    EXPECT_EINVAL(att_with("\"epoch\":\"1\"", "\"epoch\":\"18446744073709551616\""), "fork_info.fork.epoch", "uint64");
    EXPECT_EINVAL(att_with("\"epoch\":\"1\"", "\"epoch\":\"\""), "fork_info.fork.epoch");
    EXPECT_EINVAL(att_with("\"epoch\":\"1\"", "\"epoch\":\" 1\""), "fork_info.fork.epoch");
    EXPECT_EINVAL(att_with("\"current_version\":\"0x00000001\"", "\"current_version\":\"0x000001\""),
                  "fork_info.fork.current_version", "expected 4 bytes");
    EXPECT_EINVAL(att_with("\"previous_version\":\"0x00000001\"", "\"previous_version\":\"0x0000000g\""),
                  "fork_info.fork.previous_version", "not hex");
    EXPECT_EINVAL(att_with("\"previous_version\":\"0x00000001\",", ""), "fork_info.fork.previous_version", "missing");
    EXPECT_EINVAL(att_with(GVR, "0x04"), "fork_info.genesis_validators_root", "expected 32 bytes");
    EXPECT_EINVAL(att_with("\"genesis_validators_root\":\"" GVR "\"", "\"genesis_validators_root\":[]"),
                  "fork_info.genesis_validators_root", "hex string");
    /* camelCase fork fields (deprecated BLOCK / AGGREGATION_SLOT examples). */
    cc_sign_request r;
    cc_error e;
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", att_with("\"previous_version\"", "\"previousVersion\""));
    char *cv = strstr(buf, "\"current_version\"");
    memmove(cv + 15, cv + 16, strlen(cv + 16) + 1);
    memcpy(cv, "\"currentVersion", 15);
    CHECK_MSG(parse(buf, &r, &e) == CC_OK, "%s", e.msg);
}

TEST(payload_errors)
{
    EXPECT_EINVAL("{\"type\":\"ATTESTATION\"," FORK_INFO "}", "attestation", "missing");
    EXPECT_EINVAL("{\"type\":\"ATTESTATION\"," FORK_INFO ",\"attestation\":[]}", "attestation", "expected an object");
    EXPECT_EINVAL(att_with("\"slot\":\"32\"", "\"slot\":{}"), "attestation.slot", "decimal uint64");
    EXPECT_EINVAL(att_with("\"slot\":\"32\"", "\"slot\":true"), "attestation.slot");
    EXPECT_EINVAL(att_with("\"slot\":\"32\",", ""), "attestation.slot", "missing");
    EXPECT_EINVAL(att_with("\"root\":\"0x0000000000000000000000000000000000000000000000000000000000000000\"",
                           "\"root\":\"0x00\""),
                  "attestation.source.root", "expected 32 bytes");
    EXPECT_EINVAL(att_with("\"target\":{", "\"target\":null,\"x\":{"), "attestation.target", "missing");
    EXPECT_EINVAL("{\"type\":\"RANDAO_REVEAL\"," FORK_INFO ",\"randao_reveal\":{\"epoch\":\"0x10\"}}",
                  "randao_reveal.epoch", "decimal");
    EXPECT_EINVAL("{\"type\":\"AGGREGATION_SLOT\"," FORK_INFO ",\"aggregation_slot\":{}}", "aggregation_slot.slot",
                  "missing");
    EXPECT_EINVAL("{\"type\":\"SYNC_COMMITTEE_MESSAGE\"," FORK_INFO ",\"sync_committee_message\":{\"slot\":\"1\","
                  "\"beacon_block_root\":\"0x01\"}}",
                  "sync_committee_message.beacon_block_root", "expected 32 bytes");
    EXPECT_EINVAL("{\"type\":\"DEPOSIT\",\"deposit\":{\"pubkey\":\"0x01\"}}", "deposit.pubkey", "expected 48 bytes");
    EXPECT_EINVAL("{\"type\":\"VALIDATOR_REGISTRATION\",\"validator_registration\":{\"fee_recipient\":\"0x00\"}}",
                  "validator_registration.fee_recipient", "expected 20 bytes");
    EXPECT_EINVAL("{\"type\":\"BLOCK_V2\"," FORK_INFO ",\"beacon_block\":{\"version\":\"SHANGHAI\"}}",
                  "beacon_block.version", "unknown fork");
    EXPECT_EINVAL("{\"type\":\"BLOCK_V2\"," FORK_INFO ",\"beacon_block\":{\"version\":\"DENEB\"}}",
                  "beacon_block.block_header", "missing");
    EXPECT_EINVAL("{\"type\":\"BLOCK_V2\"," FORK_INFO ",\"beacon_block\":{\"version\":\"PHASE0\"}}",
                  "beacon_block.block", "missing");
    EXPECT_EINVAL("{\"type\":\"BLOCK_V2\"," FORK_INFO ",\"beacon_block\":{\"version\":\"CAPELLA\",\"block\":{}}}",
                  "beacon_block.block", "block_header");
    EXPECT_EINVAL("{\"type\":\"AGGREGATE_AND_PROOF_V2\"," FORK_INFO ",\"aggregate_and_proof\":{\"version\":\"X\","
                  "\"data\":{}}}",
                  "aggregate_and_proof.version");
    EXPECT_EINVAL("{\"type\":\"AGGREGATE_AND_PROOF_V2\"," FORK_INFO ",\"aggregate_and_proof\":{\"version\":\"ELECTRA\"}}",
                  "aggregate_and_proof.data", "missing");
}

/* An aggregate with the given aggregation_bits hex (minimal preset). */
static char *aggregate_body(const char *version, const char *bits, const char *committee_bits)
{
    static char buf[40000];
    char cb[64] = "";
    if (committee_bits)
        snprintf(cb, sizeof cb, ",\"committee_bits\":\"%s\"", committee_bits);
    snprintf(buf, sizeof buf,
             "{\"type\":\"AGGREGATE_AND_PROOF_V2\"," FORK_INFO ",\"aggregate_and_proof\":{\"version\":\"%s\","
             "\"data\":{\"aggregator_index\":\"1\",\"aggregate\":{\"aggregation_bits\":\"%s\",\"data\":" ATT_DATA
             ",\"signature\":\"0x%0192d\"%s},\"selection_proof\":\"0x%0192d\"}}}",
             version, bits, 0, cb, 0);
    return buf;
}

TEST(bitfield_limits)
{
    cc_sign_request r;
    cc_error e;
    /* Phase0: at most 2048 bits → 256 data bytes + a delimiter byte. */
    static char bits[20000];
    strcpy(bits, "0x");
    for (int i = 0; i < 256; i++)
        strcat(bits, "ff");
    strcat(bits, "01");
    CHECK_MSG(parse(aggregate_body("DENEB", bits, NULL), &r, &e) == CC_OK, "%s", e.msg);
    bits[strlen(bits) - 2] = '0';
    bits[strlen(bits) - 1] = '3'; /* 2049 bits */
    EXPECT_EINVAL(aggregate_body("DENEB", bits, NULL), "aggregate_and_proof.data.aggregate.aggregation_bits");
    EXPECT_EINVAL(aggregate_body("DENEB", "0x", NULL), "aggregation_bits", "delimiter");
    EXPECT_EINVAL(aggregate_body("DENEB", "0x0100", NULL), "aggregation_bits", "delimiter");
    /* Electra in minimal: 2048 × 4 bits, committee_bits one byte with only the low 4 bits usable. */
    CHECK_MSG(parse(aggregate_body("ELECTRA", "0x0f01", "0x01"), &r, &e) == CC_OK, "%s", e.msg);
    CHECK_MSG(parse(aggregate_body("fulu", "0x0f01", "0x0f"), &r, &e) == CC_OK, "%s", e.msg);
    EXPECT_EINVAL(aggregate_body("ELECTRA", "0x0f01", "0x10"), "aggregate.committee_bits", "beyond");
    EXPECT_EINVAL(aggregate_body("ELECTRA", "0x0f01", "0x0000000000000001"), "aggregate.committee_bits",
                  "expected 1 bytes");
    EXPECT_EINVAL(aggregate_body("ELECTRA", "0x0f01", NULL), "aggregate.committee_bits", "missing");
    /* Electra's wider limit: 2049 bits are fine there. */
    strcpy(bits, "0x");
    for (int i = 0; i < 256; i++)
        strcat(bits, "ff");
    strcat(bits, "03");
    CHECK_MSG(parse(aggregate_body("ELECTRA", bits, "0x01"), &r, &e) == CC_OK, "%s", e.msg);
    /* Over 8192 bits: refused. */
    strcpy(bits, "0x");
    for (int i = 0; i < 1024; i++)
        strcat(bits, "00");
    strcat(bits, "02");
    EXPECT_EINVAL(aggregate_body("ELECTRA", bits, "0x01"), "aggregation_bits", "exceeds");
}

TEST(aggregate_shapes)
{
    /* The legacy object and {version: PHASE0, data} hash the same, under either type name. */
    cc_sign_request a, b, c;
    cc_error e;
    char *v2 = aggregate_body("PHASE0", "0x0701", NULL);
    CHECK(parse(v2, &a, &e) == CC_OK);
    char legacy[4096];
    const char *data = strstr(v2, "\"data\":{\"aggregator_index\"") + 7;
    snprintf(legacy, sizeof legacy, "{\"type\":\"AGGREGATE_AND_PROOF\"," FORK_INFO ",\"aggregate_and_proof\":%s", data);
    legacy[strlen(legacy) - 1] = '\0'; /* drop the V2 wrapper's extra brace */
    CHECK_MSG(parse(legacy, &b, &e) == CC_OK, "%s", e.msg);
    CHECK(memcmp(a.signing_root, b.signing_root, 32) == 0);
    char swapped[8192];
    snprintf(swapped, sizeof swapped, "{\"type\":\"AGGREGATE_AND_PROOF_V2\"%s", legacy + strlen("{\"type\":\"AGGREGATE_AND_PROOF\""));
    CHECK_MSG(parse(swapped, &c, &e) == CC_OK, "%s", e.msg);
    CHECK(memcmp(a.signing_root, c.signing_root, 32) == 0);
    CHECK_EQ_INT(c.gate, CC_GATE_NONE);
}

TEST(list_limits_and_paths)
{
    /* 129 attestations in a phase0 block: over MAX_ATTESTATIONS. */
    static char body[200000];
    int n = snprintf(body, sizeof body,
                     "{\"type\":\"BLOCK\"," FORK_INFO ",\"block\":{\"slot\":\"1\",\"proposer_index\":\"0\","
                     "\"parent_root\":\"0x%064d\",\"state_root\":\"0x%064d\",\"body\":{\"randao_reveal\":\"0x%0192d\","
                     "\"eth1_data\":{\"deposit_root\":\"0x%064d\",\"deposit_count\":\"0\",\"block_hash\":\"0x%064d\"},"
                     "\"graffiti\":\"0x%064d\",\"proposer_slashings\":[],\"attester_slashings\":[],\"deposits\":[],"
                     "\"voluntary_exits\":[],\"attestations\":[",
                     0, 0, 0, 0, 0, 0);
    for (int i = 0; i < 129; i++)
        n += snprintf(body + n, sizeof body - (size_t)n, "%s{}", i ? "," : "");
    snprintf(body + n, sizeof body - (size_t)n, "]}}}");
    EXPECT_EINVAL(body, "block.body.attestations", "129 items exceed the limit of 128");
    /* One element with a bad field: the path carries the index. */
    char *arr = strstr(body, "\"attestations\":[") + 16;
    snprintf(arr, sizeof body - (size_t)(arr - body), "{},{\"aggregation_bits\":\"0x01\"}]}}}");
    EXPECT_EINVAL(body, "block.body.attestations[0].aggregation_bits", "missing");
    snprintf(arr, sizeof body - (size_t)(arr - body), "7]}}}");
    EXPECT_EINVAL(body, "block.body.attestations[0]", "expected an object");
}

TEST(hostile_inputs)
{
    cc_sign_request r;
    cc_error e;
    /* Very deep nesting: jansson's depth limit refuses it without recursion trouble. */
    size_t depth = 200000;
    char *deep = malloc(2 * depth + 64);
    size_t o = 0;
    o += (size_t)sprintf(deep, "{\"type\":\"ATTESTATION\",\"x\":");
    for (size_t i = 0; i < depth; i++)
        deep[o++] = '[';
    for (size_t i = 0; i < depth; i++)
        deep[o++] = ']';
    deep[o++] = '}';
    CHECK(cc_sign_request_parse(deep, o, &net, &r, &e) == CC_EINVAL);
    CHECK(strstr(e.msg, "malformed JSON") != NULL);
    free(deep);
    /* A huge string field: parsed, then refused by length. */
    size_t big = 8u << 20;
    char *huge = malloc(big + 1024);
    int n = sprintf(huge, "{\"type\":\"RANDAO_REVEAL\"," FORK_INFO ",\"randao_reveal\":{\"epoch\":\"");
    memset(huge + n, '7', big);
    strcpy(huge + n + big, "\"}}");
    CHECK(cc_sign_request_parse(huge, strlen(huge), &net, &r, &e) == CC_EINVAL);
    CHECK(strstr(e.msg, "randao_reveal.epoch") != NULL);
    /* A huge bitlist: refused by its limit, not hashed. */
    n = sprintf(huge, "{\"type\":\"AGGREGATE_AND_PROOF\"," FORK_INFO ",\"aggregate_and_proof\":{\"aggregator_index\":"
                      "\"1\",\"aggregate\":{\"aggregation_bits\":\"0x");
    memset(huge + n, 'f', big);
    strcpy(huge + n + big, "\"}}}");
    CHECK(cc_sign_request_parse(huge, strlen(huge), &net, &r, &e) == CC_EINVAL);
    CHECK(strstr(e.msg, "aggregation_bits") != NULL);
    free(huge);
    /* Every prefix of a valid body fails cleanly. */
    const char *full = ATT_BODY;
    for (size_t len = 0; len < strlen(full); len++)
        CHECK(cc_sign_request_parse(full, len, &net, &r, &e) == CC_EINVAL);
}

/* EIP-7044 on mainnet: from Deneb on, exits use the Capella version whatever fork_info says. */
static void exit_root(const char *epoch, const char *prev, const char *cur, const char *fork_epoch, uint8_t out[32])
{
    static char body[1024];
    snprintf(body, sizeof body,
             "{\"type\":\"VOLUNTARY_EXIT\",\"fork_info\":{\"fork\":{\"previous_version\":\"%s\","
             "\"current_version\":\"%s\",\"epoch\":\"%s\"},\"genesis_validators_root\":"
             "\"0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95\"},"
             "\"voluntary_exit\":{\"epoch\":\"%s\",\"validator_index\":\"12345\"}}",
             prev, cur, fork_epoch, epoch);
    cc_network mainnet;
    cc_network_load("mainnet", NULL, &mainnet, NULL);
    cc_sign_request r;
    cc_error e = {0};
    CHECK_MSG(cc_sign_request_parse(body, strlen(body), &mainnet, &r, &e) == CC_OK, "%s", e.msg);
    memcpy(out, r.signing_root, 32);
}

TEST(voluntary_exit_eip7044)
{
    uint8_t capella[32], deneb[32], electra_old[32], bellatrix[32], expect[32], obj[32], dom[32];
    /* Exit for a Capella epoch, signed in Capella: the ordinary rule gives Capella. */
    exit_root("200000", "0x02000000", "0x03000000", "200000", capella);
    /* The same exit while the chain is in Electra: current_version is a Deneb+ version → Capella. */
    exit_root("200000", "0x04000000", "0x05000000", "364032", electra_old);
    CHECK(memcmp(capella, electra_old, 32) == 0);
    /* An exit for a Deneb epoch: the schedule says Deneb → Capella, even if fork_info says Deneb. */
    exit_root("300000", "0x03000000", "0x04000000", "269568", deneb);
    json_t *msg = json_pack("{s:s,s:s}", "epoch", "300000", "validator_index", "12345");
    CHECK(cc_type_voluntary_exit_root(msg, NULL, NULL, obj, NULL) == CC_OK);
    json_decref(msg);
    uint8_t gvr[32], capv[4] = {3, 0, 0, 0}, type[4] = {4, 0, 0, 0};
    cc_hex_decode_exact("0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95", gvr, 32, NULL);
    cc_compute_domain(type, capv, gvr, dom);
    cc_compute_signing_root(obj, dom, expect);
    CHECK(memcmp(deneb, expect, 32) == 0);
    /* Before Capella nothing changes: a Bellatrix exit uses fork_info's version. */
    exit_root("150000", "0x01000000", "0x02000000", "150000", bellatrix);
    msg = json_pack("{s:s,s:s}", "epoch", "150000", "validator_index", "12345");
    CHECK(cc_type_voluntary_exit_root(msg, NULL, NULL, obj, NULL) == CC_OK);
    json_decref(msg);
    uint8_t bv[4] = {2, 0, 0, 0};
    cc_compute_domain(type, bv, gvr, dom);
    cc_compute_signing_root(obj, dom, expect);
    CHECK(memcmp(bellatrix, expect, 32) == 0);
}

TEST(fork_version_selection)
{
    /* msg_epoch < fork.epoch → previous_version; otherwise current_version. */
    cc_sign_request a, b, c;
    cc_error e;
    const char *tmpl = "{\"type\":\"RANDAO_REVEAL\",\"fork_info\":{\"fork\":{\"previous_version\":\"%s\","
                       "\"current_version\":\"%s\",\"epoch\":\"%s\"},\"genesis_validators_root\":\"" GVR "\"},"
                       "\"randao_reveal\":{\"epoch\":\"5\"}}";
    char body[1024];
    snprintf(body, sizeof body, tmpl, "0x00000001", "0x01000001", "6");
    CHECK(parse(body, &a, &e) == CC_OK);
    snprintf(body, sizeof body, tmpl, "0x07000001", "0x00000001", "5");
    CHECK(parse(body, &b, &e) == CC_OK);
    snprintf(body, sizeof body, tmpl, "0x00000001", "0x01000001", "5");
    CHECK(parse(body, &c, &e) == CC_OK);
    CHECK(memcmp(a.signing_root, b.signing_root, 32) == 0);
    CHECK(memcmp(a.signing_root, c.signing_root, 32) != 0);
}

/* Random mutations of valid bodies: every outcome is a clean status, never a crash (run under ASan). */
TEST(mutation_fuzz)
{
    static const char alphabet[] = "{}[]\":,0123456789abcdefx-. \\nulltrue";
    const char *seeds[] = {ATT_BODY, NULL};
    char agg[40000];
    snprintf(agg, sizeof agg, "%s", aggregate_body("ELECTRA", "0x0f01", "0x01"));
    seeds[1] = agg;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int ok = 0, refused = 0;
    for (int s = 0; s < 2; s++) {
        size_t base = strlen(seeds[s]);
        char *buf = malloc(base + 64);
        for (int iter = 0; iter < 4000; iter++) {
            memcpy(buf, seeds[s], base + 1);
            size_t len = base;
            int edits = 1 + (int)(x % 4);
            for (int k = 0; k < edits; k++) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                size_t at = (size_t)(x >> 16) % len;
                char c = alphabet[(x >> 8) % (sizeof alphabet - 1)];
                switch (x % 3) {
                case 0: buf[at] = c; break;                                  /* replace */
                case 1: memmove(buf + at, buf + at + 1, len - at); len--; break; /* delete */
                default:                                                     /* insert */
                    memmove(buf + at + 1, buf + at, len - at + 1); buf[at] = c; len++; break;
                }
            }
            cc_sign_request r;
            cc_error e = {0};
            cc_status st = cc_sign_request_parse(buf, len, &net, &r, &e);
            CHECK_MSG(st == CC_OK || st == CC_EINVAL || st == CC_EFORBIDDEN, "status %d: %s", st, e.msg);
            CHECK(st == CC_OK || e.msg[0] != '\0');
            if (st == CC_OK)
                ok++;
            else
                refused++;
        }
        free(buf);
    }
    printf("  mutation_fuzz: %d accepted, %d refused cleanly\n", ok, refused);
}

int main(void)
{
    support_network(&net, "minimal", "0x00000001", GVR);
    RUN(attestation_ok);
    RUN(signing_root_mismatch);
    RUN(foreign_gvr);
    RUN(malformed_json);
    RUN(type_errors);
    RUN(fork_info_errors);
    RUN(payload_errors);
    RUN(bitfield_limits);
    RUN(aggregate_shapes);
    RUN(list_limits_and_paths);
    RUN(hostile_inputs);
    RUN(voluntary_exit_eip7044);
    RUN(fork_version_selection);
    RUN(mutation_fuzz);
    TEST_MAIN_END();
}
