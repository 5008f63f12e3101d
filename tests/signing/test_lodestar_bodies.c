/*
 * Real Lodestar 1.5.1 request bodies (shared/e2e-lodestar/signing-bodies.jsonl,
 * minimal preset, 8 interop keys): for every recorded signing request, the
 * computed signing root equals the body's signingRoot, and signing it with the
 * interop key of the URL's pubkey reproduces the recorded signature exactly.
 * The network is built from each body's own fork_info (GVR; genesis version
 * 0x00000001 of `lodestar dev`).
 */
#include "signing/request.h"
#include "signing/support.h"
#include "test.h"

static const char *bodies_path(void)
{
    static char buf[4096];
    const char *shared = getenv("CC_SHARED");
    int n;
    if (shared)
        n = snprintf(buf, sizeof buf, "%s/e2e-lodestar/signing-bodies.jsonl", shared);
    else
        n = snprintf(buf, sizeof buf, "%s/../e2e-lodestar/signing-bodies.jsonl", test_vectors_path(""));
    return n > 0 && (size_t)n < sizeof buf ? buf : "";
}

TEST(lodestar_bodies)
{
    cc_bls_sk sks[8];
    uint8_t pks[8][CC_BLS_PUBKEY_LEN];
    for (unsigned i = 0; i < 8; i++) {
        CHECK(support_interop_sk(i, &sks[i]));
        cc_bls_sk_to_pk(&sks[i], pks[i]);
    }
    char pk0[99];
    support_hex(pks[0], 48, pk0);
    CHECK(strncmp(pk0, "0xa99a76ed", 10) == 0);

    char *text = support_read_file(bodies_path(), NULL);
    CHECK_MSG(text != NULL, "cannot read %s", bodies_path());
    if (!text)
        return;
    int lines = 0, with_sig = 0, signed_ok = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *rec = json_loads(line, 0, NULL);
        CHECK(rec != NULL);
        json_t *req = json_object_get(rec, "request");
        json_t *body = json_object_get(req, "body");
        const char *url = json_string_value(json_object_get(req, "url"));
        if (!json_is_object(body) || !url || !strstr(url, "/api/v1/eth2/sign/")) {
            json_decref(rec);
            continue;
        }
        lines++;
        const char *type = json_string_value(json_object_get(body, "type"));
        const char *gvr = json_string_value(
            json_object_get(json_object_get(body, "fork_info"), "genesis_validators_root"));
        cc_network net;
        support_network(&net, "minimal", "0x00000001", gvr);

        char *raw = json_dumps(body, JSON_COMPACT);
        cc_sign_request out;
        cc_error err = {0};
        cc_status st = cc_sign_request_parse(raw, strlen(raw), &net, &out, &err);
        CHECK_MSG(st == CC_OK, "%s: %s", type, err.msg);
        free(raw);

        /* The recorded signature, from the JSON response body. */
        json_t *resp = json_loads(json_string_value(json_object_get(json_object_get(rec, "response"), "body")), 0,
                                  NULL);
        const char *want_sig = json_string_value(json_object_get(resp, "signature"));
        uint8_t pk[48];
        int key = -1;
        if (cc_hex_decode_exact(strrchr(url, '/') + 1, pk, 48, NULL) == CC_OK)
            for (int i = 0; i < 8; i++)
                if (memcmp(pk, pks[i], 48) == 0)
                    key = i;
        CHECK_MSG(key >= 0, "%s: pubkey of %s is not an interop key", type, url);
        /* A refused request (412 from the recording signer's slashing DB) has no signature to compare. */
        with_sig += want_sig != NULL;
        if (st == CC_OK && key >= 0 && want_sig) {
            uint8_t sig[CC_BLS_SIG_LEN];
            char hex[2 * CC_BLS_SIG_LEN + 3];
            cc_bls_sign(&sks[key], out.signing_root, 32, sig);
            support_hex(sig, sizeof sig, hex);
            CHECK_MSG(strcmp(hex, want_sig) == 0, "%s: signature %s != recorded %s", type, hex, want_sig);
            if (strcmp(hex, want_sig) == 0)
                signed_ok++;
        }
        json_decref(resp);
        json_decref(rec);
    }
    printf("  lodestar: %d signing requests (roots all checked), %d of %d recorded signatures reproduced\n", lines,
           signed_ok, with_sig);
    CHECK(lines >= 10);
    CHECK(with_sig >= 9);
    CHECK_EQ_INT(signed_ok, with_sig);
    free(text);
}

int main(void)
{
    RUN(lodestar_bodies);
    TEST_MAIN_END();
}
