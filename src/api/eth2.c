/*
 * eth2.c — the Web3Signer-compatible routes (SPEC §2.1):
 *
 *   POST /api/v1/eth2/sign/{pubkey}   sign, after the network guard and anti-slashing
 *   GET  /api/v1/eth2/publicKeys      bare JSON array of 0x pubkeys
 *   GET  /upcheck                     200 OK, always
 *   GET  /healthcheck                 200 when the signer can sign, else 503
 *   POST /reload, GET /reload         re-scan filesystem keys; reload status
 *   /eth/v1/keystores                 Key Manager API (api/keymanager.c), when enabled
 *
 * The order inside sign matters for operators' money: the key must exist, the
 * request must be well-formed and for our network, and for blocks and
 * attestations the anti-slashing record must be durable before the signature
 * is even computed — so a signature that leaves this process always has its
 * record on disk.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/app.h"
#include "api/keymanager.h"
#include "api/metrics.h"
#include "signing/bls.h"
#include "signing/request.h"
#include "util/hex.h"
#include "util/log.h"

#define SIGN_PREFIX "/api/v1/eth2/sign/"

static void log_sign(const cc_http_request *req, const char *pubkey_hex, int type, int status, double ms,
                     const char *reason)
{
    cc_metrics_record_sign(type, status, ms / 1e3);
    char st[8], dur[32];
    snprintf(st, sizeof st, "%d", status);
    snprintf(dur, sizeof dur, "%.3f", ms);
    cc_log(status == 200 ? CC_LOG_DEBUG : CC_LOG_WARN, status == 200 ? "signed" : "sign refused", "request_id",
           req->request_id, "pubkey", pubkey_hex, "type", type >= 0 ? cc_sign_type_name((cc_sign_type)type) : "unknown", "status", st, "duration_ms", dur, "reason",
           reason, NULL);
}

static double elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void handle_sign(cc_app *app, const cc_http_request *req, const char *pubkey_hex, cc_http_response *res)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint8_t pubkey[CC_BLS_PUBKEY_LEN];
    cc_error err;
    cc_sign_request sr;
    int type = -1;
    struct timespec deadline;

    if (cc_limiter_admit(&app->limiter, &deadline, &err) != CC_OK) {
        cc_http_reply_error(res, 503, err.msg);
        log_sign(req, pubkey_hex, type, 503, elapsed_ms(&t0), err.msg);
        return;
    }
    if (cc_hex_decode_exact(pubkey_hex, pubkey, sizeof pubkey, &err) != CC_OK) {
        cc_error_prefix(&err, "pubkey in path");
        goto fail;
    }
    if (!cc_keyring_contains(app->keyring, pubkey)) {
        cc_error_set(&err, CC_ENOTFOUND, "no key for public key %.120s", pubkey_hex);
        goto fail;
    }
    if (cc_sign_request_parse(req->body, req->body_len, &app->network, &sr, &err) != CC_OK)
        goto fail;
    type = (int)sr.type;

    cc_status st = CC_OK;
    if (sr.gate == CC_GATE_BLOCK)
        st = cc_slashing_check_block(app->slashing, pubkey, sr.slot, sr.signing_root, &err);
    else if (sr.gate == CC_GATE_ATTESTATION)
        st = cc_slashing_check_attestation(app->slashing, pubkey, sr.source_epoch, sr.target_epoch,
                                           sr.signing_root, &err);
    if (st != CC_OK)
        goto fail;

    /*
     * Past this point a refusal is safe: the record is durable, so the
     * validator client's retry of the same message is an identical
     * re-request and will be signed.
     */
    if (cc_limiter_enter(&app->limiter, &deadline, &err) != CC_OK)
        goto fail;
    uint8_t sig[CC_BLS_SIG_LEN];
    /* A key removed between the check above and now is simply not found. */
    st = cc_keyring_sign(app->keyring, pubkey, sr.signing_root, sizeof sr.signing_root, sig, &err);
    cc_limiter_leave(&app->limiter);
    if (st != CC_OK)
        goto fail;
    char sig_hex[2 * CC_BLS_SIG_LEN + 3];
    cc_hex_encode0x(sig, sizeof sig, sig_hex);
    if (cc_http_accepts_json(req->accept))
        cc_http_reply(res, 200, "application/json", "{\"signature\":\"%s\"}", sig_hex);
    else
        cc_http_reply(res, 200, "text/plain; charset=utf-8", "%s", sig_hex);
    cc_limiter_depart(&app->limiter);
    log_sign(req, pubkey_hex, type, 200, elapsed_ms(&t0), NULL);
    return;

fail:
    cc_limiter_depart(&app->limiter);
    cc_http_reply_error(res, cc_status_http(err.code), err.msg);
    log_sign(req, pubkey_hex, type, res->status, elapsed_ms(&t0), err.msg);
}

static void handle_public_keys(cc_app *app, cc_http_response *res)
{
    uint8_t (*keys)[CC_BLS_PUBKEY_LEN] = NULL;
    size_t n = 0;
    cc_error err;
    if (cc_keyring_pubkeys(app->keyring, &keys, &n, &err) != CC_OK) {
        cc_http_reply_error(res, 500, err.msg);
        return;
    }
    /* 2 quotes + 98 chars + comma per key, plus brackets. */
    size_t cap = n * 101 + 3, len = 0;
    char *body = malloc(cap);
    if (!body) {
        free(keys);
        cc_http_reply_error(res, 500, "out of memory");
        return;
    }
    body[len++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            body[len++] = ',';
        body[len++] = '"';
        cc_hex_encode0x(keys[i], CC_BLS_PUBKEY_LEN, body + len);
        len += 2 + 2 * CC_BLS_PUBKEY_LEN;
        body[len++] = '"';
    }
    body[len++] = ']';
    body[len] = '\0';
    free(keys);
    free(res->body);
    res->status = 200;
    res->content_type = "application/json";
    res->body = body;
    res->body_len = len;
}

static void handle_healthcheck(cc_app *app, cc_http_response *res)
{
    /* The signer can sign when it has a network, a keyring and an open anti-slashing database. */
    size_t keys = cc_keyring_count(app->keyring, -1);
    int slashing_up = app->slashing != NULL;
    int up = slashing_up;
    cc_http_reply(res, up ? 200 : 503, "application/json",
                  "{\"status\":\"%s\",\"checks\":[{\"id\":\"keys-check\",\"status\":\"UP\",\"keys\":%zu,"
                  "\"failed\":%zu},{\"id\":\"slashing-protection-db-health-check\",\"status\":\"%s\"}],"
                  "\"outcome\":\"%s\"}",
                  up ? "UP" : "DOWN", keys, app->last_load.failed, slashing_up ? "UP" : "DOWN",
                  up ? "UP" : "DOWN");
}

static void handle_reload(cc_app *app, const cc_http_request *req, cc_http_response *res)
{
    if (strcmp(req->method, "POST") == 0) {
        cc_error err;
        if (cc_app_reload_start(app, &err) != CC_OK) {
            cc_http_reply_error(res, cc_status_http(err.code), err.msg);
            return;
        }
        cc_http_reply(res, 202, "application/json", "{\"status\":\"accepted\"}");
        return;
    }
    pthread_mutex_lock(&app->reload_lock);
    cc_reload_state st = app->reload_state;
    cc_key_load_report rep = app->last_load;
    pthread_mutex_unlock(&app->reload_lock);
    cc_http_reply(res, 200, "application/json", "{\"status\":\"%s\",\"loaded\":%zu,\"failed\":%zu}",
                  cc_reload_state_name(st), rep.loaded, rep.failed);
}

void cc_app_handle(void *ctx, const cc_http_request *req, cc_http_response *res)
{
    cc_app *app = ctx;
    const char *path = req->path;
    int get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;

    if (strncmp(path, SIGN_PREFIX, sizeof SIGN_PREFIX - 1) == 0) {
        if (!post)
            cc_http_reply_error(res, 405, "method not allowed: use POST");
        else
            handle_sign(app, req, path + sizeof SIGN_PREFIX - 1, res);
    } else if (strcmp(path, "/upcheck") == 0) {
        cc_http_reply(res, 200, "text/plain; charset=utf-8", "OK");
    } else if (strcmp(path, "/api/v1/eth2/publicKeys") == 0) {
        if (!get)
            cc_http_reply_error(res, 405, "method not allowed: use GET");
        else
            handle_public_keys(app, res);
    } else if (strcmp(path, "/healthcheck") == 0) {
        handle_healthcheck(app, res);
    } else if (strcmp(path, "/reload") == 0) {
        if (!get && !post)
            cc_http_reply_error(res, 405, "method not allowed: use GET or POST");
        else
            handle_reload(app, req, res);
    } else if (strcmp(path, "/eth/v1/keystores") == 0 && app->keymanager) {
        cc_keymanager_handle(app, req, res);
    } else {
        cc_http_reply_error(res, 404, "no such route");
    }
}
