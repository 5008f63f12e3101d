/*
 * chamber_quorum.c — the operator-quorum routes of the Chamber API
 * (api/chamber.h; chamber/chamber.h has the state machine):
 *
 *   POST init                {..., operators: [names], operator_threshold,
 *                             argon2?: {iterations, memory_kib, parallelism}}
 *                            → status + registration_tokens {name: "cc-reg-…"} (shown once)
 *   POST operators/register  {registration_token, passphrase | yubikey_response (40 hex)}
 *                            no Bearer token: the registration token is the credential (api/auth.c)
 *   POST unseal              {operator, passphrase | yubikey_response}: one submission
 *
 * The secrets of a body (passphrase, response, tokens) are copied into
 * cc_secret memory and wiped from the parsed JSON and from the request body
 * once read; they are never logged nor answered.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/chamber.h"
#include "chamber/chamber.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/secret.h"


/* Wipes a JSON string's bytes in place (jansson owns them; they are freed with the object). */
static void wipe_json_string(json_t *v)
{
    if (json_is_string(v))
        cc_secret_wipe((char *)json_string_value(v), json_string_length(v));
}

/* The request body is this handler's private copy (http.h); its secrets are wiped once parsed. */
static void wipe_body(const cc_http_request *req)
{
    if (req->body)
        cc_secret_wipe((char *)req->body, req->body_len);
}

static json_t *load_body(const cc_http_request *req, cc_http_response *res, const char *shape)
{
    json_error_t jerr;
    json_t *body = json_loadb(req->body ? req->body : "", req->body_len, 0, &jerr);
    wipe_body(req);
    if (json_is_object(body))
        return body;
    json_decref(body);
    char msg[256];
    snprintf(msg, sizeof msg, "body: expected a JSON object %s", shape);
    cc_http_reply_error(res, 400, msg);
    return NULL;
}

/*
 * The credential of a body: passphrase (bytes as given) or yubikey_response
 * (40 hex digits → 20 bytes), into *secret (cc_secret memory, cap bytes).
 * Returns NULL or the message naming the bad field.
 */
static const char *credential(json_t *body, cc_quorum_kind *kind, uint8_t **secret, size_t *len, size_t *cap)
{
    json_t *pass = json_object_get(body, "passphrase"), *resp = json_object_get(body, "yubikey_response");
    *secret = NULL;
    *len = *cap = 0;
    if ((pass != NULL) == (resp != NULL))
        return "body: give exactly one of passphrase and yubikey_response";
    if (pass) {
        if (!json_is_string(pass))
            return "passphrase: must be a string";
        *kind = CC_QUORUM_KIND_PASSPHRASE;
        *len = json_string_length(pass);
        if (*len < CC_QUORUM_PASSPHRASE_MIN || *len > CC_QUORUM_PASSPHRASE_MAX)
            return "passphrase: must be 12 to 1024 bytes";
        *cap = *len;
        if (!(*secret = cc_secret_alloc(*cap)))
            return "out of memory";
        memcpy(*secret, json_string_value(pass), *len);
        return NULL;
    }
    *kind = CC_QUORUM_KIND_YUBIKEY;
    *cap = CC_QUORUM_YUBIKEY_RESPONSE_LEN;
    if (!json_is_string(resp) || !(*secret = cc_secret_alloc(*cap)) ||
        json_string_length(resp) != 2 * CC_QUORUM_YUBIKEY_RESPONSE_LEN ||
        cc_hex_decode_exact(json_string_value(resp), *secret, CC_QUORUM_YUBIKEY_RESPONSE_LEN, NULL) != CC_OK)
        return "yubikey_response: must be 40 hex digits (the 20-byte HMAC-SHA1 response of YubiKey slot 2)";
    *len = CC_QUORUM_YUBIKEY_RESPONSE_LEN;
    return NULL;
}

static void wipe_credentials(json_t *body)
{
    wipe_json_string(json_object_get(body, "passphrase"));
    wipe_json_string(json_object_get(body, "yubikey_response"));
    wipe_json_string(json_object_get(body, "registration_token"));
}

/* A JSON integer in 0..UINT32_MAX, or 0 (out of the bounds cc_quorum_kdf_check names). */
static uint32_t u32_or_zero(json_t *v)
{
    json_int_t x = json_integer_value(v);
    return x < 0 || x > (json_int_t)UINT32_MAX ? 0 : (uint32_t)x;
}

int cc_chamber_quorum_parse_init(json_t *body, cc_chamber_quorum_params *p, const char **names, char *bad,
                                 size_t bad_len)
{
    json_t *ops = json_object_get(body, "operators"), *thr = json_object_get(body, "operator_threshold");
    json_t *kdf = json_object_get(body, "argon2");
    memset(p, 0, sizeof *p);
    if (!ops && !thr && !kdf)
        return 0;
    size_t k = json_array_size(ops);
    p->kdf = (cc_quorum_kdf){CC_QUORUM_T_DEFAULT, CC_QUORUM_M_DEFAULT, CC_QUORUM_P_DEFAULT};
    const char *msg = NULL;
    if (!json_is_array(ops) || k == 0 || k > CC_QUORUM_MAX_OPERATORS)
        msg = "operators: required array of 1 to 16 operator names";
    else if (!json_is_integer(thr) || json_integer_value(thr) < 1 || json_integer_value(thr) > (json_int_t)k)
        msg = "operator_threshold: required integer between 1 and the number of operators";
    for (size_t i = 0; !msg && i < k; i++)
        if (!(names[i] = json_string_value(json_array_get(ops, i))))
            msg = "operators: every entry must be a string";
    if (!msg && kdf) {
        json_t *t = json_object_get(kdf, "iterations"), *m = json_object_get(kdf, "memory_kib"),
               *l = json_object_get(kdf, "parallelism");
        if (!json_is_object(kdf) || (t && !json_is_integer(t)) || (m && !json_is_integer(m)) ||
            (l && !json_is_integer(l)))
            msg = "argon2: expected {iterations, memory_kib, parallelism} (integers, each optional)";
        if (t)
            p->kdf.t = u32_or_zero(t);
        if (m)
            p->kdf.m_kib = u32_or_zero(m);
        if (l)
            p->kdf.p = u32_or_zero(l);
    }
    if (msg) {
        snprintf(bad, bad_len, "%s", msg);
        return -1;
    }
    cc_error e;
    if (cc_quorum_kdf_check(&p->kdf, &e) != CC_OK) {
        snprintf(bad, bad_len, "%s", e.msg);
        return -1;
    }
    p->operators = names;
    p->count = k;
    p->threshold = (unsigned)json_integer_value(thr);
    return 1;
}

void cc_chamber_quorum_register_handle(cc_app *app, const cc_http_request *req, cc_http_response *res)
{
    json_t *body = load_body(req, res, "{registration_token, passphrase | yubikey_response}");
    if (!body)
        return;
    const char *token = json_string_value(json_object_get(body, "registration_token"));
    cc_quorum_kind kind = CC_QUORUM_KIND_NONE;
    uint8_t *secret = NULL;
    size_t len = 0, cap = 0;
    const char *bad = !token ? "registration_token: required string" : credential(body, &kind, &secret, &len, &cap);
    if (bad) {
        cc_log(CC_LOG_INFO, "chamber: operator registration refused", "request_id", req->request_id, "reason", bad,
               NULL);
        cc_http_reply_error(res, 400, bad);
    } else {
        char name[CC_QUORUM_NAME_MAX + 1];
        cc_error err;
        cc_error_clear(&err);
        cc_status st = cc_chamber_register(app->chamber, token, kind, secret, len, name, &err);
        if (st != CC_OK) {
            cc_log(CC_LOG_WARN, "chamber: operator registration refused", "request_id", req->request_id, "operator",
                   name[0] ? name : NULL, "reason", err.msg, NULL);
            cc_http_reply_error(res, cc_status_http(st), err.msg);
        } else {
            json_t *j = cc_chamber_status_json(app->chamber);
            if (j) {
                json_object_set_new(j, "operator", json_string(name));
                json_object_set_new(j, "message", json_string("registered"));
            }
            cc_http_reply_json(res, 200, j);
        }
    }
    cc_secret_free(secret, cap);
    wipe_credentials(body);
    json_decref(body);
}

void cc_chamber_quorum_unseal_handle(cc_app *app, const cc_http_request *req, cc_http_response *res)
{
    json_t *body = load_body(req, res, "{operator, passphrase | yubikey_response}");
    if (!body)
        return;
    const char *op = json_string_value(json_object_get(body, "operator"));
    cc_quorum_kind kind = CC_QUORUM_KIND_NONE;
    uint8_t *secret = NULL;
    size_t len = 0, cap = 0;
    const char *bad =
        !op ? "operator: required string (the operator's name)" : credential(body, &kind, &secret, &len, &cap);
    if (bad) {
        cc_http_reply_error(res, 400, bad);
    } else {
        cc_error err;
        cc_error_clear(&err);
        cc_status st = cc_chamber_unseal_submit(app->chamber, op, secret, len, &err);
        if (st != CC_OK) {
            cc_http_reply_error(res, cc_status_http(st), err.msg);
        } else {
            json_t *j = cc_chamber_status_json(app->chamber);
            if (j)
                json_object_set_new(j, "message", json_string(cc_chamber_can_sign(app->chamber) ? "unsealed"
                                                                                                 : "accepted"));
            cc_http_reply_json(res, 200, j);
        }
    }
    cc_secret_free(secret, cap);
    wipe_credentials(body);
    json_decref(body);
}
