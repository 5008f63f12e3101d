/*
 * chamber_rotate.c — the rotation routes of the Chamber API (scope
 * chamber_rotate, api/auth.c), thin shells over chamber/rotate.h:
 *
 *   POST /api/v1/chamber/rotate/kms     {kms_key_arns: [...], kms_threshold}
 *        re-wraps the master key for a new KMS key set / threshold; 200 status
 *   POST /api/v1/chamber/rotate/master  {}
 *        starts (or resumes) a master-key rotation in the background; 202 status
 *        (its progress: status.rotation)
 *   POST /api/v1/chamber/rotate/quorum  {operators: [...], operator_threshold, argon2?}  (alias rotate/unseal)
 *        a new operator set for the same master key; 200 status + registration_tokens (shown once);
 *        the switch happens when every new operator registered (progress: status.rotation.quorum)
 *   POST /api/v1/chamber/rotate/mode    {to: "kms"}
 *        quorum → KMS-only with a new master key (a master-key rotation); 202 status
 *   POST /api/v1/chamber/rotate/mode    {to: "quorum", operators: [...], operator_threshold, argon2?}
 *        KMS-only → quorum with a new master key; 200 status + registration_tokens (shown once); the
 *        master rotation starts when every new operator registered (progress: status.rotation)
 *
 * Errors are {"error": "..."} with the status of cc_status_http.  Each request
 * logs one line; nothing secret is ever in an answer or a log.
 */
#include "api/chamber.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "chamber/rotate.h"
#include "chamber/state.h"
#include "util/log.h"


static void rotate_kms(cc_app *app, const cc_http_request *req, cc_http_response *res)
{
    json_error_t jerr;
    json_t *body = json_loadb(req->body ? req->body : "", req->body_len, 0, &jerr);
    json_t *arns = json_object_get(body, "kms_key_arns"), *thr = json_object_get(body, "kms_threshold");
    const char *list[CC_STATE_MAX_SHARES];
    size_t n = json_array_size(arns);
    const char *bad = !json_is_object(body) ? "body: expected a JSON object {kms_key_arns, kms_threshold}"
                      : !json_is_array(arns) || n == 0 ? "kms_key_arns: required non-empty array of strings"
                      : n > CC_STATE_MAX_SHARES ? "kms_key_arns: at most 32 keys"
                      : !json_is_integer(thr) || json_integer_value(thr) < 1 || json_integer_value(thr) > (json_int_t)n
                          ? "kms_threshold: required integer between 1 and the number of keys"
                          : NULL;
    for (size_t i = 0; !bad && i < n; i++)
        if (!(list[i] = json_string_value(json_array_get(arns, i))))
            bad = "kms_key_arns: every entry must be a string";
    if (bad) {
        json_decref(body);
        cc_http_reply_error(res, 400, bad);
        return;
    }
    cc_error err;
    cc_error_clear(&err);
    cc_status st = cc_chamber_rotate_kms(app->chamber, list, n, (unsigned)json_integer_value(thr), &err);
    json_decref(body);
    if (st != CC_OK) {
        cc_log(CC_LOG_WARN, "chamber rotate kms refused", "request_id", req->request_id, "reason", err.msg, NULL);
        cc_http_reply_error(res, cc_status_http(st), err.msg);
        return;
    }
    cc_log(CC_LOG_INFO, "chamber rotate kms done", "request_id", req->request_id, NULL);
    cc_chamber_api_reply_status(app->chamber, res, 200, "KMS key set rotated");
}

static void rotate_master(cc_app *app, const cc_http_request *req, cc_http_response *res)
{
    cc_error err;
    cc_error_clear(&err);
    int resumed = 0;
    cc_status st = cc_chamber_rotate_master(app->chamber, &resumed, &err);
    if (st != CC_OK) {
        cc_log(CC_LOG_WARN, "chamber rotate master refused", "request_id", req->request_id, "reason", err.msg, NULL);
        cc_http_reply_error(res, cc_status_http(st), err.msg);
        return;
    }
    cc_log(CC_LOG_INFO, "chamber rotate master accepted", "request_id", req->request_id, "resumed",
           resumed ? "true" : "false", NULL);
    cc_chamber_api_reply_status(app->chamber, res, 202,
                 resumed ? "master-key rotation resumed (see rotation)" : "master-key rotation started (see rotation)");
}

/*
 * rotate/quorum (alias rotate/unseal): {operators, operator_threshold, argon2?} → 200 status + registration_tokens;
 * to_quorum: rotate/mode {to: "quorum", ...the same} (body already parsed, taken over).
 */
static void rotate_quorum_body(cc_app *app, const cc_http_request *req, cc_http_response *res, json_t *body,
                               int to_quorum)
{
    cc_chamber_quorum_params qp;
    const char *names[CC_QUORUM_MAX_OPERATORS];
    char bad[CC_ERROR_MSG_MAX];
    int ok = json_is_object(body) ? cc_chamber_quorum_parse_init(body, &qp, names, bad, sizeof bad) : -1;
    if (ok == 0)
        snprintf(bad, sizeof bad, "operators: required array of 1 to 16 operator names (with operator_threshold)");
    else if (ok < 0 && !json_is_object(body))
        snprintf(bad, sizeof bad, "body: expected a JSON object {operators, operator_threshold, argon2?}");
    if (ok <= 0) {
        json_decref(body);
        cc_http_reply_error(res, 400, bad);
        return;
    }
    int own_kdf = json_object_get(body, "argon2") != NULL;
    cc_error err;
    cc_error_clear(&err);
    json_t *tokens = NULL;
    cc_status st = to_quorum /* rotate mode --to quorum: the defaults of parse_init when no argon2 */
                       ? cc_chamber_rotate_mode_quorum(app->chamber, qp.operators, qp.count, qp.threshold, &qp.kdf,
                                                       &tokens, &err)
                       : cc_chamber_rotate_quorum(app->chamber, qp.operators, qp.count, qp.threshold,
                                                  own_kdf ? &qp.kdf : NULL, &tokens, &err);
    json_decref(body);
    const char *what = to_quorum ? "chamber rotate mode (to quorum)" : "chamber rotate quorum";
    if (st != CC_OK) {
        cc_log(CC_LOG_WARN, "chamber rotate refused", "what", what, "request_id", req->request_id, "reason", err.msg,
               NULL);
        cc_http_reply_error(res, cc_status_http(st), err.msg);
        return;
    }
    cc_log(CC_LOG_INFO, "chamber rotate started", "what", what, "request_id", req->request_id, NULL);
    json_t *j = cc_chamber_status_json(app->chamber);
    if (j) {
        json_object_set_new(j, "registration_tokens", tokens); /* shown once, never stored or logged */
        tokens = NULL;
        json_object_set_new(j, "message", json_string(to_quorum
            ? "rotation to operator quorum started: every new operator must register with this replica; then the "
              "pending entry is written and every key is re-sealed under the new master key (see rotation)"
            : "operator-set rotation started: every new operator must register with this replica before the switch"));
    }
    json_decref(tokens);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        cc_http_reply_error(res, 500, "out of memory");
        return;
    }
    free(res->body);
    res->status = 200;
    res->content_type = "application/json";
    res->body = text;
    res->body_len = strlen(text);
}

static void rotate_quorum(cc_app *app, const cc_http_request *req, cc_http_response *res)
{
    json_error_t jerr;
    rotate_quorum_body(app, req, res, json_loadb(req->body ? req->body : "", req->body_len, 0, &jerr), 0);
}

/* rotate/mode: {to: "kms"} → 202 status (a master-key rotation that also switches the mode); {to: "quorum", ...} */
static void rotate_mode(cc_app *app, const cc_http_request *req, cc_http_response *res)
{
    json_error_t jerr;
    json_t *body = json_loadb(req->body ? req->body : "", req->body_len, 0, &jerr);
    const char *to = json_string_value(json_object_get(body, "to"));
    if (!json_is_object(body) || !to) {
        json_decref(body);
        cc_http_reply_error(res, 400, "to: required string (\"kms\" or \"quorum\")");
        return;
    }
    if (strcmp(to, "quorum") == 0) { /* KMS-only → operator quorum */
        rotate_quorum_body(app, req, res, body, 1);
        return;
    }
    cc_error err;
    cc_error_clear(&err);
    cc_status st = cc_chamber_rotate_mode(app->chamber, to, &err);
    json_decref(body);
    if (st != CC_OK) {
        cc_log(CC_LOG_WARN, "chamber rotate mode refused", "request_id", req->request_id, "reason", err.msg, NULL);
        cc_http_reply_error(res, cc_status_http(st), err.msg);
        return;
    }
    cc_log(CC_LOG_INFO, "chamber rotate mode accepted", "request_id", req->request_id, "to", "kms", NULL);
    cc_chamber_api_reply_status(app->chamber, res, 202, "mode rotation to kms started: a new master key (see rotation)");
}

void cc_chamber_rotate_handle(cc_app *app, const cc_http_request *req, const char *route, cc_http_response *res)
{
    if (strcmp(req->method, "POST") != 0) {
        cc_http_reply_error(res, 405, "method not allowed: use POST");
        return;
    }
    if (strcmp(route, "rotate/kms") == 0)
        rotate_kms(app, req, res);
    else if (strcmp(route, "rotate/master") == 0)
        rotate_master(app, req, res);
    else if (strcmp(route, "rotate/quorum") == 0 || strcmp(route, "rotate/unseal") == 0)
        rotate_quorum(app, req, res);
    else if (strcmp(route, "rotate/mode") == 0)
        rotate_mode(app, req, res);
    else
        cc_http_reply_error(res, 404, "no such chamber route");
}
