/*
 * chamber_auth.c — auth management routes (SPEC §2.3, §2.4), under
 * /api/v1/chamber/auth/, every one of them for root tokens only:
 *
 *   GET    auth/policies              {"policies": {name: {rules}, ...}}
 *   GET    auth/policies/<name>       {"name", "policy"}                       404 unknown
 *   PUT    auth/policies/<name>       body {"rules": [...]} → {"name", "policy"} (canonical form)
 *   DELETE auth/policies/<name>       {"deleted": name}                        404 unknown
 *   POST   auth/tokens                body {"policies": [...], "expires_in_seconds"?}
 *                                     → {"id", "token" (shown this once), "root", "policies", "created_at", "expires_at"}
 *   GET    auth/tokens                {"tokens": [{id, root, policies, created_at, expires_at, expired}]}
 *   DELETE auth/tokens/<id>           {"revoked": id}                          404 unknown
 *   POST   auth/root-token            a new root token (the presenting one keeps working until revoked)
 *
 * The first root token comes with `init` (cc_chamber_auth_init).  Answers
 * never hold a token hash or the HMAC key; a token's secret appears only in
 * the answer that creates it.  Errors are {"error": "..."}.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/chamber.h"
#include "chamber/auth_store.h"
#include "chamber/chamber.h"
#include "util/log.h"
#include "util/secret.h"


static void reply_err(cc_http_response *res, const cc_error *err)
{
    cc_http_reply_error(res, cc_status_http(err->code), err->msg);
}

/* A new token's answer: info plus the secret token (which is then wiped from its buffer). */
static void reply_token(cc_http_response *res, json_t *info, char *token)
{
    json_object_set_new(info, "token", json_string(token));
    cc_secret_wipe(token, CC_AUTH_TOKEN_LEN + 1);
    cc_http_reply_json(res, 200, info);
}

static int body_object(const cc_http_request *req, cc_http_response *res, const char *what, json_t **out)
{
    json_error_t jerr;
    *out = json_loadb(req->body ? req->body : "", req->body_len, 0, &jerr);
    if (json_is_object(*out))
        return 1;
    json_decref(*out);
    *out = NULL;
    char msg[256];
    snprintf(msg, sizeof msg, "body: expected a JSON object %s", what);
    cc_http_reply_error(res, 400, msg);
    return 0;
}

static void audit(const cc_http_request *req, const char *action, const char *what)
{
    cc_log(CC_LOG_INFO, "auth changed", "request_id", req->request_id, "action", action, "name", what, NULL);
}

static void policies_route(cc_app *app, const cc_http_request *req, const char *name, cc_http_response *res)
{
    const char *m = req->method;
    cc_error err;
    cc_error_clear(&err);
    if (!name) {
        if (strcmp(m, "GET") != 0) {
            cc_http_reply_error(res, 405, "method not allowed: use GET (PUT and DELETE take auth/policies/<name>)");
            return;
        }
        json_t *p = cc_auth_store_policies(app->auth, &err);
        if (!p)
            reply_err(res, &err);
        else
            cc_http_reply_json(res, 200, json_pack("{s:o}", "policies", p));
        return;
    }
    if (strcmp(m, "GET") == 0) {
        json_t *all = cc_auth_store_policies(app->auth, &err), *p = all ? json_object_get(all, name) : NULL;
        if (!all)
            reply_err(res, &err);
        else if (!p)
            cc_http_reply_error(res, 404, "no such policy");
        else
            cc_http_reply_json(res, 200, json_pack("{s:s, s:O}", "name", name, "policy", p));
        json_decref(all);
    } else if (strcmp(m, "PUT") == 0) {
        json_t *body, *canon = NULL;
        if (!body_object(req, res, "{\"rules\": [{effect, scopes, keys, operations}, ...]}", &body))
            return;
        cc_status st = cc_auth_store_put_policy(app->auth, name, body, &canon, &err);
        json_decref(body);
        if (st != CC_OK) {
            reply_err(res, &err);
            return;
        }
        audit(req, "policy put", name);
        cc_http_reply_json(res, 200, json_pack("{s:s, s:o}", "name", name, "policy", canon));
    } else if (strcmp(m, "DELETE") == 0) {
        if (cc_auth_store_delete_policy(app->auth, name, &err) != CC_OK) {
            reply_err(res, &err);
            return;
        }
        audit(req, "policy deleted", name);
        cc_http_reply_json(res, 200, json_pack("{s:s}", "deleted", name));
    } else {
        cc_http_reply_error(res, 405, "method not allowed: use GET, PUT or DELETE");
    }
}

static void issue(cc_app *app, const cc_http_request *req, int root, json_t *policies, int64_t expires_in,
                  cc_http_response *res)
{
    char *token = cc_secret_alloc(CC_AUTH_TOKEN_LEN + 1);
    json_t *info = NULL;
    cc_error err;
    cc_error_clear(&err);
    cc_status st = token ? cc_auth_store_create_token(app->auth, root, policies, expires_in, token, &info, &err)
                         : cc_error_set(&err, CC_ENOMEM, "out of memory");
    if (st != CC_OK) {
        reply_err(res, &err);
    } else {
        audit(req, root ? "root token issued" : "token issued", json_string_value(json_object_get(info, "id")));
        reply_token(res, info, token);
    }
    cc_secret_free(token, CC_AUTH_TOKEN_LEN + 1);
}

static void tokens_route(cc_app *app, const cc_http_request *req, const char *id, cc_http_response *res)
{
    const char *m = req->method;
    cc_error err;
    cc_error_clear(&err);
    if (id) {
        if (strcmp(m, "DELETE") != 0) {
            cc_http_reply_error(res, 405, "method not allowed: use DELETE");
        } else if (cc_auth_store_revoke_token(app->auth, id, &err) != CC_OK) {
            reply_err(res, &err);
        } else {
            audit(req, "token revoked", id);
            cc_http_reply_json(res, 200, json_pack("{s:s}", "revoked", id));
        }
        return;
    }
    if (strcmp(m, "GET") == 0) {
        json_t *t = cc_auth_store_tokens(app->auth, &err);
        if (!t)
            reply_err(res, &err);
        else
            cc_http_reply_json(res, 200, json_pack("{s:o}", "tokens", t));
        return;
    }
    if (strcmp(m, "POST") != 0) {
        cc_http_reply_error(res, 405, "method not allowed: use GET or POST (DELETE takes auth/tokens/<id>)");
        return;
    }
    json_t *body;
    if (!body_object(req, res, "{\"policies\": [...], \"expires_in_seconds\": N}", &body))
        return;
    json_t *exp = json_object_get(body, "expires_in_seconds");
    if (exp && !json_is_null(exp) && (!json_is_integer(exp) || json_integer_value(exp) < 1)) {
        cc_http_reply_error(res, 400, "expires_in_seconds: a positive integer, or absent for no expiry");
    } else {
        issue(app, req, 0, json_object_get(body, "policies"), json_is_integer(exp) ? json_integer_value(exp) : 0,
              res);
    }
    json_decref(body);
}

/* The methods each auth route serves: the 404/405 answers come before the root token check. */
static const char *route_methods(const char *r)
{
    if (strcmp(r, "policies") == 0 || strcmp(r, "tokens") == 0)
        return strcmp(r, "policies") == 0 ? "GET" : "GET POST";
    if (strncmp(r, "policies/", 9) == 0 && r[9])
        return "GET PUT DELETE";
    if (strncmp(r, "tokens/", 7) == 0 && r[7])
        return "DELETE";
    if (strcmp(r, "root-token") == 0)
        return "POST";
    return NULL;
}

void cc_chamber_auth_handle(cc_app *app, const cc_http_request *req, const char *route, cc_http_response *res)
{
    const char *r = route + strlen("auth/"), *methods = route_methods(r);
    if (!methods) {
        cc_http_reply_error(res, 404, "no such auth route");
        return;
    }
    size_t ml = strlen(req->method);
    const char *hit = strstr(methods, req->method);
    if (!ml || !hit || (hit[ml] != ' ' && hit[ml] != '\0') || (hit != methods && hit[-1] != ' ')) {
        char msg[64];
        snprintf(msg, sizeof msg, "method not allowed: use %s", methods);
        cc_http_reply_error(res, 405, msg);
        return;
    }
    if (!cc_api_auth_root(app, req, res))
        return;
    if (strcmp(r, "policies") == 0)
        policies_route(app, req, NULL, res);
    else if (strncmp(r, "policies/", 9) == 0)
        policies_route(app, req, r + 9, res);
    else if (strcmp(r, "tokens") == 0)
        tokens_route(app, req, NULL, res);
    else if (strncmp(r, "tokens/", 7) == 0)
        tokens_route(app, req, r + 7, res);
    else
        issue(app, req, 1, NULL, 0, res);
}

cc_status cc_chamber_auth_init(cc_app *app, const char *setup_token, const char *const *kms_key_arns, size_t n,
                               unsigned threshold, const struct cc_chamber_quorum_params *quorum,
                               json_t **registration_tokens, json_t **root_answer, cc_error *err)
{
    *root_answer = NULL;
    cc_status st = cc_chamber_check_setup_token(app->chamber, setup_token, err);
    if (st != CC_OK)
        return st;
    /*
     * The root token is written before the chamber item, so an initialised
     * chamber always has one; a failed init revokes it (nobody has seen it).
     */
    char *token = cc_secret_alloc(CC_AUTH_TOKEN_LEN + 1);
    json_t *info = NULL;
    if (!token)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    if ((st = cc_auth_store_create_token(app->auth, 1, NULL, 0, token, &info, err)) != CC_OK) {
        cc_error_prefix(err, "init: cannot issue the first root token");
        cc_secret_free(token, CC_AUTH_TOKEN_LEN + 1);
        return st;
    }
    const char *id = json_string_value(json_object_get(info, "id"));
    st = quorum ? cc_chamber_init_quorum(app->chamber, setup_token, kms_key_arns, n, threshold, quorum,
                                         registration_tokens, err) /* operator quorum (issue 7) */
                : cc_chamber_init(app->chamber, setup_token, kms_key_arns, n, threshold, err);
    if (st == CC_OK) {
        cc_log(CC_LOG_INFO, "auth: first root token issued with init (shown once in the answer)", "token_id", id, NULL);
        json_object_set_new(info, "token", json_string(token));
        *root_answer = info;
    } else {
        cc_error e2;
        if (cc_auth_store_revoke_token(app->auth, id, &e2) != CC_OK)
            cc_log(CC_LOG_WARN, "auth: init failed and its unseen root token could not be revoked; revoke it by id",
                   "token_id", id, "reason", e2.msg, NULL);
        json_decref(info);
    }
    cc_secret_free(token, CC_AUTH_TOKEN_LEN + 1);
    return st;
}
