/*
 * Tests for api/keymanager through cc_app_handle, with a fake anti-slashing
 * backend that records what the keyring held when it was called and can be
 * made to fail: the interchange is on disk before a key is added, a failed
 * import adds nothing, a key is unable to sign before its export, and a
 * failed export still leaves it unable to sign.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/keymanager.h"
#include "keys/eip2335.h"
#include "keys/interop.h"
#include "test.h"
#include "util/hex.h"

typedef struct fake_db {
    cc_slashing base;
    cc_keyring *ring;
    uint8_t watch[48];
    int imports, exports;
    int held_at_import, held_at_export;
    cc_status import_result, export_result;
} fake_db;

static fake_db fake;

static cc_status fake_check_block(cc_slashing *db, const uint8_t pk[48], uint64_t slot, const uint8_t root[32],
                                  cc_error *err)
{
    (void)db, (void)pk, (void)slot, (void)root, (void)err;
    return CC_OK;
}
static cc_status fake_check_att(cc_slashing *db, const uint8_t pk[48], uint64_t s, uint64_t t,
                                const uint8_t root[32], cc_error *err)
{
    (void)db, (void)pk, (void)s, (void)t, (void)root, (void)err;
    return CC_OK;
}
static cc_status fake_import(cc_slashing *db, const cc_interchange *ic, cc_error *err)
{
    (void)db, (void)ic;
    fake.imports++;
    fake.held_at_import = cc_keyring_contains(fake.ring, fake.watch);
    if (fake.import_result != CC_OK)
        return cc_error_set(err, fake.import_result, "disk on fire");
    return CC_OK;
}
static cc_status fake_export(cc_slashing *db, const uint8_t (*pks)[48], size_t count, cc_interchange **out,
                             cc_error *err)
{
    (void)db;
    fake.exports++;
    fake.held_at_export = cc_keyring_contains(fake.ring, fake.watch);
    if (fake.export_result != CC_OK)
        return cc_error_set(err, fake.export_result, "disk on fire");
    cc_interchange *ic = calloc(1, sizeof *ic);
    ic->validators = calloc(count ? count : 1, sizeof *ic->validators);
    for (size_t i = 0; i < count; i++)
        if (memcmp(pks[i], fake.watch, 48) == 0)
            memcpy(ic->validators[ic->validator_count++].pubkey, pks[i], 48);
    *out = ic;
    return CC_OK;
}
static void fake_close(cc_slashing *db) { (void)db; }

static const cc_slashing_ops fake_ops = {
    .name = "fake",
    .check_block = fake_check_block,
    .check_attestation = fake_check_att,
    .import = fake_import,
    .export_ = fake_export,
    .close = fake_close,
};

static cc_config cfg;
static cc_app app;
static char *keystore_json;
static char pubkey_hex[99];

static void setup(int enabled)
{
    cc_error err;
    memset(&app, 0, sizeof app);
    memset(&fake, 0, sizeof fake);
    cc_config_defaults(&cfg);
    app.cfg = &cfg;
    if (cc_network_load("mainnet", NULL, &app.network, &err) != CC_OK)
        fprintf(stderr, "network: %s\n", err.msg);
    app.keyring = cc_keyring_new();
    fake.base.ops = &fake_ops;
    memcpy(fake.base.genesis_validators_root, app.network.genesis_validators_root, 32);
    fake.ring = app.keyring;
    app.slashing = &fake.base;
    if (enabled)
        cc_keymanager_new(&app.keymanager, NULL);
    cc_hex_decode_exact(pubkey_hex, fake.watch, 48, NULL);
}

static void teardown(void)
{
    cc_keymanager_free(app.keymanager);
    cc_keyring_free(app.keyring);
}

/* Sends one request; returns the parsed body (decref it) and sets *status. */
static json_t *call(const char *method, json_t *body, int *status)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : strdup("");
    json_decref(body);
    cc_http_request req = {.method = method, .path = "/eth/v1/keystores", .body = text, .body_len = strlen(text)};
    strcpy(req.request_id, "t");
    cc_http_response res = {0};
    cc_app_handle(&app, &req, &res);
    *status = res.status;
    json_t *out = res.body ? json_loadb(res.body, res.body_len, 0, NULL) : NULL;
    free(res.body);
    free(text);
    return out;
}

static json_t *import_body(const char *password, int with_history)
{
    json_t *b = json_pack("{s:[s],s:[s]}", "keystores", keystore_json, "passwords", password);
    if (with_history) {
        char ic[512];
        char gvr[67];
        cc_hex_encode0x(app.network.genesis_validators_root, 32, gvr);
        snprintf(ic, sizeof ic,
                 "{\"metadata\":{\"interchange_format_version\":\"5\",\"genesis_validators_root\":\"%s\"},"
                 "\"data\":[{\"pubkey\":\"%s\",\"signed_blocks\":[],\"signed_attestations\":"
                 "[{\"source_epoch\":\"10\",\"target_epoch\":\"20\"}]}]}",
                 gvr, pubkey_hex);
        json_object_set_new(b, "slashing_protection", json_string(ic));
    }
    return b;
}

static const char *first_status(json_t *reply)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(reply, "data"), 0), "status"));
}

TEST(history_is_imported_before_the_key)
{
    setup(1);
    int status;
    json_t *r = call("POST", import_body("secret", 1), &status);
    CHECK_EQ_INT(status, 200);
    CHECK_EQ_STR(first_status(r), "imported");
    CHECK_EQ_INT(fake.imports, 1);
    CHECK_EQ_INT(fake.held_at_import, 0);
    CHECK(cc_keyring_contains(app.keyring, fake.watch));
    CHECK_EQ_INT(cc_keyring_origin(app.keyring, fake.watch), CC_KEY_MEMORY);
    json_decref(r);

    r = call("GET", NULL, &status);
    CHECK_EQ_INT(status, 200);
    json_t *d = json_array_get(json_object_get(r, "data"), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "validating_pubkey")), pubkey_hex);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "derivation_path")), "m/12381/3600/3/0/0");
    CHECK(json_is_false(json_object_get(d, "readonly")));
    json_decref(r);
    teardown();
}

TEST(failed_history_import_adds_no_key)
{
    setup(1);
    fake.import_result = CC_EIO;
    int status;
    json_t *r = call("POST", import_body("secret", 1), &status);
    CHECK_EQ_INT(status, 500);
    CHECK(strstr(json_string_value(json_object_get(r, "message")), "disk on fire") != NULL);
    CHECK(!cc_keyring_contains(app.keyring, fake.watch));
    json_decref(r);
    /* Another network as the backend sees it is the caller's fault: 400. */
    fake.import_result = CC_EFORBIDDEN;
    r = call("POST", import_body("secret", 1), &status);
    CHECK_EQ_INT(status, 400);
    CHECK(!cc_keyring_contains(app.keyring, fake.watch));
    json_decref(r);
    teardown();
}

TEST(wrong_password_is_an_item_error)
{
    setup(1);
    int status;
    json_t *r = call("POST", import_body("wrong", 0), &status);
    CHECK_EQ_INT(status, 200);
    CHECK_EQ_STR(first_status(r), "error");
    CHECK(!cc_keyring_contains(app.keyring, fake.watch));
    json_decref(r);
    teardown();
}

TEST(key_cannot_sign_before_its_export)
{
    setup(1);
    int status;
    json_decref(call("POST", import_body("secret", 0), &status));
    CHECK(cc_keyring_contains(app.keyring, fake.watch));
    json_t *r = call("DELETE", json_pack("{s:[s]}", "pubkeys", pubkey_hex), &status);
    CHECK_EQ_INT(status, 200);
    CHECK_EQ_STR(first_status(r), "deleted");
    CHECK_EQ_INT(fake.exports, 1);
    CHECK_EQ_INT(fake.held_at_export, 0);
    CHECK(json_is_string(json_object_get(r, "slashing_protection")));
    json_decref(r);
    r = call("DELETE", json_pack("{s:[s]}", "pubkeys", pubkey_hex), &status);
    CHECK_EQ_STR(first_status(r), "not_active");
    json_decref(r);
    teardown();
}

TEST(failed_export_still_stops_the_key)
{
    setup(1);
    int status;
    json_decref(call("POST", import_body("secret", 0), &status));
    fake.export_result = CC_EIO;
    json_t *r = call("DELETE", json_pack("{s:[s]}", "pubkeys", pubkey_hex), &status);
    CHECK_EQ_INT(status, 500);
    CHECK(json_is_string(json_object_get(r, "message")));
    CHECK(!cc_keyring_contains(app.keyring, fake.watch));
    json_decref(r);
    /* The retry gets the data. */
    fake.export_result = CC_OK;
    r = call("DELETE", json_pack("{s:[s]}", "pubkeys", pubkey_hex), &status);
    CHECK_EQ_INT(status, 200);
    CHECK_EQ_STR(first_status(r), "not_active");
    json_decref(r);
    teardown();
}

TEST(disabled_is_404)
{
    setup(0);
    int status;
    json_decref(call("GET", NULL, &status));
    CHECK_EQ_INT(status, 404);
    json_decref(call("POST", import_body("secret", 0), &status));
    CHECK_EQ_INT(status, 404);
    CHECK(!cc_keyring_contains(app.keyring, fake.watch));
    teardown();
}

int main(void)
{
    uint8_t sk[32], pk[48];
    cc_error err;
    if (cc_interop_secret(3, sk, &err) != CC_OK ||
        cc_eip2335_encrypt(sk, "secret", "pbkdf2", 1, "m/12381/3600/3/0/0", &keystore_json, &err) != CC_OK ||
        cc_eip2335_decrypt(keystore_json, strlen(keystore_json), "secret", 6, sk, pk, &err) != CC_OK) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return 1;
    }
    cc_hex_encode0x(pk, 48, pubkey_hex);
    RUN(history_is_imported_before_the_key);
    RUN(failed_history_import_adds_no_key);
    RUN(wrong_password_is_an_item_error);
    RUN(key_cannot_sign_before_its_export);
    RUN(failed_export_still_stops_the_key);
    RUN(disabled_is_404);
    free(keystore_json);
    TEST_MAIN_END();
}
