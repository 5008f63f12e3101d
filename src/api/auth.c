/*
 * auth.c — which scope each route needs, and the 401/403 answers (api/auth.h).
 *
 * The token is copied out of the Authorization header into a stack buffer,
 * checked against the current snapshot (chamber/auth_store.h: a read lock, a
 * table lookup, one HMAC) and wiped; it is never logged — refusals log the
 * token's id only, which is not secret.
 */
#include "api/auth.h"

#include <stdio.h>
#include <string.h>

#include "api/chamber.h"
#include "api/metrics.h"
#include "chamber/auth.h"
#include "chamber/auth_store.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/secret.h"

#define SIGN_PREFIX "/api/v1/eth2/sign/"
#define TOKEN_CAP 192 /* a token is 84 characters; anything longer is invalid anyway */

/* Counts and logs one refusal; err says why. */
static void refused(const cc_http_request *req, cc_auth_result r, const char *token_id, const cc_error *err)
{
    cc_metrics_record_auth_rejection(cc_auth_result_name(r));
    cc_log(CC_LOG_INFO, "auth refused", "request_id", req->request_id, "method", req->method, "path", req->path,
           "reason", cc_auth_result_name(r), "token_id", token_id && *token_id ? token_id : NULL, "detail", err->msg,
           NULL);
}

static cc_auth_result decide(cc_app *app, const cc_http_request *req, int root_only, int scope, const uint8_t *pubkey,
                             int type, char *token_id, cc_error *err)
{
    char tok[TOKEN_CAP];
    cc_auth_token_from_header(req->authorization, tok, sizeof tok);
    cc_auth_result r = root_only
                           ? cc_auth_store_check(app->auth, tok, CC_SCOPE_CHAMBER_AUTH, NULL, CC_AUTH_NO_TYPE, token_id,
                                                 err)
                           : cc_auth_store_authorize(app->auth, tok, scope, pubkey, type, token_id, err);
    cc_secret_wipe(tok, sizeof tok);
    return r;
}

/* The scope a route needs; *pubkey set (into buf) when the route names a key. */
static int route_scope(const cc_http_request *req, uint8_t *buf, const uint8_t **pubkey)
{
    const char *p = req->path, *m = req->method;
    int get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0, del = strcmp(m, "DELETE") == 0;
    *pubkey = NULL;
    if (strncmp(p, SIGN_PREFIX, sizeof SIGN_PREFIX - 1) == 0)
        return CC_SCOPE_ANY; /* authenticated here; (sign, key, type) once the body is parsed */
    if (strcmp(p, "/api/v1/eth2/publicKeys") == 0)
        return CC_SCOPE_PUBLIC_KEYS;
    if (strcmp(p, "/eth/v1/keystores") == 0)
        return get ? CC_SCOPE_LIST_KEYS : post ? CC_SCOPE_IMPORT_KEYSTORES : del ? CC_SCOPE_DELETE_KEYS : CC_SCOPE_ANY;
    if (strcmp(p, "/reload") == 0)
        return post ? CC_SCOPE_IMPORT_KEYSTORES : CC_SCOPE_LIST_KEYS;
    if (strncmp(p, CC_CHAMBER_API_PREFIX, sizeof CC_CHAMBER_API_PREFIX - 1) != 0)
        return CC_SCOPE_ANY; /* /healthcheck and unknown routes: any valid token */
    const char *r = p + sizeof CC_CHAMBER_API_PREFIX - 1;
    if (strcmp(r, "status") == 0)
        return CC_SCOPE_CHAMBER_STATUS;
    if (strncmp(r, "rotate/", 7) == 0) /* rotation (issue 7): rotate/kms, rotate/master, ... */
        return CC_SCOPE_CHAMBER_ROTATE;
    if (strcmp(r, "seal") == 0 || strcmp(r, "unseal") == 0)
        return CC_SCOPE_CHAMBER_SEAL;
    if (strcmp(r, "keys") == 0)
        return post ? CC_SCOPE_CHAMBER_KEYS_IMPORT : CC_SCOPE_CHAMBER_KEYS_LIST;
    if (strcmp(r, "keys/generate") == 0)
        return CC_SCOPE_CHAMBER_KEYS_GENERATE;
    if (strncmp(r, "keys/", 5) == 0) {
        if (cc_hex_decode_exact(r + 5, buf, 48, NULL) == CC_OK)
            *pubkey = buf;
        return del ? CC_SCOPE_CHAMBER_KEYS_DELETE
                   : strcmp(m, "PATCH") == 0 ? CC_SCOPE_CHAMBER_KEYS_PATCH : CC_SCOPE_CHAMBER_KEYS_LIST;
    }
    return CC_SCOPE_ANY; /* init (the chamber is initialised once policies exist) and unknown chamber routes */
}

int cc_api_auth_route(cc_app *app, const cc_http_request *req, cc_http_response *res)
{
    if (!app->auth || strcmp(req->path, "/upcheck") == 0)
        return 1;
    /* Auth management checks its root token itself, open or not. */
    if (strncmp(req->path, CC_CHAMBER_API_PREFIX "auth/", sizeof CC_CHAMBER_API_PREFIX + 4) == 0)
        return 1;
    /* Operator registration (quorum, issue 7): the one-time registration token in the body is the credential. */
    if (strcmp(req->path, CC_CHAMBER_API_PREFIX "operators/register") == 0)
        return 1;
    uint8_t buf[48];
    const uint8_t *pubkey;
    int scope = route_scope(req, buf, &pubkey);
    char id[CC_AUTH_ID_HEX + 1];
    cc_error err;
    cc_auth_result r = decide(app, req, 0, scope, pubkey, CC_AUTH_NO_TYPE, id, &err);
    if (r == CC_AUTH_OK)
        return 1;
    refused(req, r, id, &err);
    cc_http_reply_error(res, cc_status_http(err.code), err.msg);
    return 0;
}

cc_status cc_api_auth_sign(cc_app *app, const cc_http_request *req, const uint8_t pubkey[48], int type, cc_error *err)
{
    if (!app->auth)
        return CC_OK;
    char id[CC_AUTH_ID_HEX + 1];
    cc_auth_result r = decide(app, req, 0, CC_SCOPE_SIGN, pubkey, type, id, err);
    if (r == CC_AUTH_OK)
        return CC_OK;
    refused(req, r, id, err);
    return err->code;
}

int cc_api_auth_root(cc_app *app, const cc_http_request *req, cc_http_response *res)
{
    if (!app->auth) {
        cc_http_reply_error(res, 404, "no auth: signer_state.table is not configured");
        return 0;
    }
    char id[CC_AUTH_ID_HEX + 1];
    cc_error err;
    cc_auth_result r = decide(app, req, 1, CC_SCOPE_CHAMBER_AUTH, NULL, CC_AUTH_NO_TYPE, id, &err);
    if (r == CC_AUTH_OK)
        return 1;
    if (r == CC_AUTH_DENIED)
        cc_error_set(&err, CC_EFORBIDDEN, "forbidden: scope chamber_auth needs a root token (token %s is not one)", id);
    refused(req, r, id, &err);
    cc_http_reply_error(res, cc_status_http(err.code), err.msg);
    return 0;
}
