/*
 * chamber.c — the Chamber API routes (api/chamber.h): thin JSON shells over
 * chamber/chamber.h.  Never answers a secret: status lists only public
 * metadata, and init's answer does not echo the setup token.
 */
#include "api/chamber.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "chamber/chamber.h"
#include "chamber/state.h"
#include "util/log.h"


void cc_chamber_api_reply_status(cc_chamber *ch, cc_http_response *res, int status, const char *message)
{
    json_t *j = cc_chamber_status_json(ch);
    if (j && message)
        json_object_set_new(j, "message", json_string(message));
    cc_http_reply_json(res, status, j);
}

static void handle_init(cc_app *app, const cc_http_request *req, cc_http_response *res)
{
    cc_chamber *ch = app->chamber;
    json_error_t jerr;
    json_t *body = json_loadb(req->body ? req->body : "", req->body_len, 0, &jerr);
    if (!json_is_object(body)) {
        json_decref(body);
        cc_http_reply_error(res, 400, "body: expected a JSON object {setup_token, kms_key_arns, kms_threshold}");
        return;
    }
    const char *token = json_string_value(json_object_get(body, "setup_token"));
    json_t *arns = json_object_get(body, "kms_key_arns"), *thr = json_object_get(body, "kms_threshold");
    const char *list[CC_STATE_MAX_SHARES];
    size_t n = json_array_size(arns);
    const char *bad = !token ? "setup_token: required string"
                      : !json_is_array(arns) || n == 0 ? "kms_key_arns: required non-empty array of strings"
                      : n > CC_STATE_MAX_SHARES ? "kms_key_arns: at most 32 keys"
                      : !json_is_integer(thr) || json_integer_value(thr) < 1 || json_integer_value(thr) > (json_int_t)n
                          ? "kms_threshold: required integer between 1 and the number of keys"
                          : NULL;
    for (size_t i = 0; !bad && i < n; i++)
        if (!(list[i] = json_string_value(json_array_get(arns, i))))
            bad = "kms_key_arns: every entry must be a string";
    /* operator quorum (issue 7): operators, operator_threshold, argon2 (api/chamber_quorum.c) */
    cc_chamber_quorum_params qp;
    const char *names[CC_QUORUM_MAX_OPERATORS];
    char qbad[CC_ERROR_MSG_MAX];
    int quorum = bad ? 0 : cc_chamber_quorum_parse_init(body, &qp, names, qbad, sizeof qbad);
    if (quorum < 0)
        bad = qbad;
    if (bad) {
        cc_http_reply_error(res, 400, bad);
        json_decref(body);
        return;
    }
    cc_error err;
    cc_error_clear(&err);
    json_t *root = NULL; /* with auth, init also answers the first root token (api/chamber_auth.c) */
    json_t *reg = NULL;  /* operator quorum: the one-time registration tokens */
    unsigned m = (unsigned)json_integer_value(thr);
    cc_status st = app->auth ? cc_chamber_auth_init(app, token, list, n, m, quorum ? &qp : NULL, &reg, &root, &err)
                   : quorum  ? cc_chamber_init_quorum(ch, token, list, n, m, &qp, &reg, &err)
                             : cc_chamber_init(ch, token, list, n, m, &err);
    json_decref(body);
    if (st != CC_OK) {
        cc_log(CC_LOG_WARN, "chamber init refused", "request_id", req->request_id, "reason", err.msg, NULL);
        cc_http_reply_error(res, cc_status_http(st), err.msg);
        return;
    }
    json_t *j = cc_chamber_status_json(ch);
    if (j) {
        json_object_set_new(j, "message", json_string("initialised"));
        if (root)
            json_object_set(j, "root_token", root);
        if (reg)
            json_object_set(j, "registration_tokens", reg);
    }
    json_decref(root);
    json_decref(reg);
    cc_http_reply_json(res, 200, j);
}

void cc_chamber_api_handle(cc_app *app, const cc_http_request *req, cc_http_response *res)
{
    cc_chamber *ch = app->chamber;
    if (!ch) {
        cc_http_reply_error(res, 404, "no chamber: signer_state.table is not configured");
        return;
    }
    const char *route = req->path + sizeof CC_CHAMBER_API_PREFIX - 1;
    int get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    cc_error err;
    cc_error_clear(&err);
    if (strcmp(route, "status") == 0) {
        if (!get)
            cc_http_reply_error(res, 405, "method not allowed: use GET");
        else
            cc_chamber_api_reply_status(ch, res, 200, NULL);
    } else if (strcmp(route, "init") == 0) {
        if (!post)
            cc_http_reply_error(res, 405, "method not allowed: use POST");
        else
            handle_init(app, req, res);
    } else if (strcmp(route, "seal") == 0) {
        if (!post)
            cc_http_reply_error(res, 405, "method not allowed: use POST");
        else if (cc_chamber_seal(ch, &err) != CC_OK)
            cc_http_reply_error(res, cc_status_http(err.code), err.msg);
        else {
            cc_log(CC_LOG_WARN, "chamber seal requested", "request_id", req->request_id, NULL);
            cc_chamber_api_reply_status(ch, res, 200, "sealed");
        }
    } else if (strcmp(route, "unseal") == 0) {
        if (!post)
            cc_http_reply_error(res, 405, "method not allowed: use POST");
        else if (req->body_len > 0) /* operator quorum (issue 7): an operator's submission */
            cc_chamber_quorum_unseal_handle(app, req, res);
        else if (cc_chamber_unseal(ch, &err) != CC_OK)
            cc_http_reply_error(res, cc_status_http(err.code), err.msg);
        else
            cc_chamber_api_reply_status(ch, res, 200, NULL);
    } else if (strcmp(route, "operators/register") == 0) { /* operator quorum (issue 7) */
        if (!post)
            cc_http_reply_error(res, 405, "method not allowed: use POST");
        else
            cc_chamber_quorum_register_handle(app, req, res);
    } else if (strcmp(route, "rotate/kms") == 0 || strcmp(route, "rotate/master") == 0 || /* rotation (issue 7) */
               strcmp(route, "rotate/quorum") == 0 || strcmp(route, "rotate/unseal") == 0 ||
               strcmp(route, "rotate/mode") == 0) {
        cc_chamber_rotate_handle(app, req, route, res);
    } else if (strcmp(route, "keys") == 0 || strncmp(route, "keys/", 5) == 0) {
        cc_chamber_keys_handle(app, req, route, res);
    } else if (strncmp(route, "auth/", 5) == 0) {
        cc_chamber_auth_handle(app, req, route, res);
    } else {
        cc_http_reply_error(res, 404, "no such chamber route");
    }
}
