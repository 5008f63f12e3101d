/*
 * Cross-check against an independent implementation: the requests, signing
 * roots and signatures in the JSONL files named by CC_CROSSCHECK_JSONL
 * (colon-separated) were produced by tests/tools/signing-crosscheck.mjs with
 * Lodestar's SSZ types and @chainsafe/blst, for every type × fork PHASE0…FULU.
 * Each file starts with {"network":{config, gvr}}: a consensus-spec config.yaml
 * that we load through cc_network_load, as a devnet operator would.
 *
 * Every request counts as one case in the "N passed, N failed" line.  Without
 * CC_CROSSCHECK_JSONL (the plain C suite) there is nothing to check: 0 cases.
 * Run tests/integration/signing_crosscheck.sh for the real thing.
 */
#include "signing/request.h"
#include "signing/support.h"
#include "test.h"

static int check_request(const cc_network *net, json_t *rec)
{
    const char *name = json_string_value(json_object_get(rec, "name"));
    int bad = 0;
    char *body = json_dumps(json_object_get(rec, "body"), JSON_COMPACT);
    cc_sign_request req;
    cc_error err = {0};
    cc_status st = cc_sign_request_parse(body, strlen(body), net, &req, &err);
    free(body);
    if (st != CC_OK) {
        fprintf(stderr, "  %s: parse failed: %s\n", name, err.msg);
        return 1;
    }
    char hex[2 * CC_BLS_SIG_LEN + 3];
    support_hex(req.signing_root, 32, hex);
    const char *want_root = json_string_value(json_object_get(rec, "signing_root"));
    if (!want_root || strcmp(hex, want_root) != 0) {
        fprintf(stderr, "  %s: signing root %s != %s\n", name, hex, want_root ? want_root : "?");
        bad = 1;
    }
    uint8_t skb[32], sig[CC_BLS_SIG_LEN];
    cc_bls_sk sk;
    if (cc_hex_decode_exact(json_string_value(json_object_get(rec, "sk")), skb, 32, NULL) != CC_OK ||
        cc_bls_sk_from_bytes(&sk, skb, NULL) != CC_OK) {
        fprintf(stderr, "  %s: bad sk\n", name);
        return 1;
    }
    cc_bls_sign(&sk, req.signing_root, 32, sig);
    support_hex(sig, sizeof sig, hex);
    const char *want_sig = json_string_value(json_object_get(rec, "signature"));
    if (!want_sig || strcmp(hex, want_sig) != 0) {
        fprintf(stderr, "  %s: signature differs\n", name);
        bad = 1;
    }
    /* Gating values, when the oracle states them. */
    const char *gate = json_string_value(json_object_get(rec, "gate"));
    cc_gate want_gate = !gate ? CC_GATE_NONE : !strcmp(gate, "block") ? CC_GATE_BLOCK : CC_GATE_ATTESTATION;
    if (req.gate != want_gate) {
        fprintf(stderr, "  %s: gate %d != %d\n", name, req.gate, want_gate);
        bad = 1;
    }
    uint64_t v;
    const char *keys[3] = {"slot", "source_epoch", "target_epoch"};
    uint64_t got[3] = {req.slot, req.source_epoch, req.target_epoch};
    for (int i = 0; i < 3; i++) {
        const char *s = json_string_value(json_object_get(rec, keys[i]));
        if (s && (cc_parse_u64(s, &v, NULL) != CC_OK || v != got[i])) {
            fprintf(stderr, "  %s: %s %llu != %s\n", name, keys[i], (unsigned long long)got[i], s);
            bad = 1;
        }
    }
    return bad;
}

static void check_file(const char *path)
{
    char *text = support_read_file(path, NULL);
    if (!text) {
        fprintf(stderr, "  cannot read %s\n", path);
        tests_failed++;
        return;
    }
    cc_network net;
    int have_net = 0, pass = 0, fail = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *rec = json_loads(line, 0, NULL);
        json_t *nw = json_object_get(rec, "network");
        if (nw) {
            cc_error err = {0};
            const char *cfg = json_string_value(json_object_get(nw, "config"));
            const char *gvr = json_string_value(json_object_get(nw, "gvr"));
            have_net = cc_network_load(cfg, gvr, &net, &err) == CC_OK;
            if (!have_net) {
                fprintf(stderr, "  %s: network: %s\n", path, err.msg);
                fail++;
            }
        } else if (!rec || !have_net) {
            fail++;
        } else if (check_request(&net, rec)) {
            printf("FAIL %s\n", json_string_value(json_object_get(rec, "name")));
            fail++;
        } else {
            pass++;
        }
        json_decref(rec);
    }
    printf("%s: %d requests agree with the independent implementation, %d differ (network %s, preset %s)\n",
           path, pass, fail, have_net ? net.name : "?", have_net ? net.preset.name : "?");
    tests_passed += pass;
    tests_failed += fail;
    free(text);
}

int main(void)
{
    (void)test_failures_in_current; /* cases are counted per request, not per TEST */
    const char *list = getenv("CC_CROSSCHECK_JSONL");
    if (!list || !*list) {
        printf("CC_CROSSCHECK_JSONL not set: run tests/integration/signing_crosscheck.sh\n");
        TEST_MAIN_END();
    }
    char *copy = strdup(list), *save = NULL;
    for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
        check_file(p);
    free(copy);
    TEST_MAIN_END();
}
