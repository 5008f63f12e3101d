/*
 * eth2.c — the Web3Signer-compatible routes (SPEC §2.1):
 *
 *   POST /api/v1/eth2/sign/{pubkey}   sign, after the network guard and anti-slashing
 *   GET  /api/v1/eth2/publicKeys      bare JSON array of 0x pubkeys
 *   GET  /upcheck                     200 OK, always
 *   GET  /healthcheck                 200 when the signer can sign, else 503
 *   POST /reload, GET /reload         re-scan filesystem keys; reload status
 *   /eth/v1/keystores                 Key Manager API (api/keymanager.c), when enabled
 *   /api/v1/chamber/...               Chamber API (api/chamber.c); with a chamber, signing and
 *                                     /healthcheck are 503 unless it is unsealed
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
#include "api/auth.h"
#include "api/chamber.h"
#include "api/keymanager.h"
#include "api/metrics.h"
#include "chamber/chamber.h"
#include "signing/bls.h"
#include "signing/request.h"
#include "util/hex.h"
#include "util/log.h"

#define SIGN_PREFIX "/api/v1/eth2/sign/"

static double elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * One signing request from admission to answer.  It outlives the handler
 * call when the request waits for its anti-slashing record, so it carries
 * copies of what the answer needs.
 */
typedef struct sign_job {
    cc_app *app;
    int type;                /* cc_sign_type, or -1 before the body is parsed */
    int accept_json;
    uint8_t pubkey[CC_BLS_PUBKEY_LEN];
    char pubkey_hex[2 * CC_BLS_PUBKEY_LEN + 3];
    char request_id[24];
    struct timespec t0, deadline;
    cc_sign_request sr;
    cc_slashing_check check; /* gated types: the record that must be durable first */
    cc_http_pending *pending;
} sign_job;

/* Answers, logs, counts and leaves the limiter: every admitted request ends here once. */
static void sign_end(sign_job *job, cc_http_response *res, const cc_error *err)
{
    double ms = elapsed_ms(&job->t0);
    int status = err ? cc_status_http(err->code) : 200;
    if (err)
        cc_http_reply_error(res, status, err->msg);
    cc_metrics_record_sign(job->type, status, ms / 1e3);
    char st[8], dur[32];
    snprintf(st, sizeof st, "%d", status);
    snprintf(dur, sizeof dur, "%.3f", ms);
    cc_log(status == 200 ? CC_LOG_DEBUG : CC_LOG_WARN, status == 200 ? "signed" : "sign refused", "request_id",
           job->request_id, "pubkey", job->pubkey_hex, "type",
           job->type >= 0 ? cc_sign_type_name((cc_sign_type)job->type) : "unknown", "status", st, "duration_ms",
           dur, "reason", err ? err->msg : NULL, NULL);
    cc_limiter_depart(&job->app->limiter);
}

/* Signs job's root and answers; called only once any anti-slashing record is durable. */
static void sign_now(sign_job *job, cc_http_response *res)
{
    cc_error err;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    /*
     * Refusing here is safe: the record is durable, so the validator client's
     * retry of the same message is an identical re-request and is signed.
     */
    if (now.tv_sec > job->deadline.tv_sec ||
        (now.tv_sec == job->deadline.tv_sec && now.tv_nsec > job->deadline.tv_nsec)) {
        cc_error_set(&err, CC_EUNAVAILABLE, "timed out after %.0f s", job->app->limiter.timeout_seconds);
        sign_end(job, res, &err);
        return;
    }
    uint8_t sig[CC_BLS_SIG_LEN];
    /* A key removed since admission is simply not found. */
    if (cc_keyring_sign(job->app->keyring, job->pubkey, job->sr.signing_root, sizeof job->sr.signing_root, sig,
                        &err) != CC_OK) {
        sign_end(job, res, &err);
        return;
    }
    char sig_hex[2 * CC_BLS_SIG_LEN + 3];
    cc_hex_encode0x(sig, sizeof sig, sig_hex);
    if (job->accept_json)
        cc_http_reply(res, 200, "application/json", "{\"signature\":\"%s\"}", sig_hex);
    else
        cc_http_reply(res, 200, "text/plain; charset=utf-8", "%s", sig_hex);
    sign_end(job, res, NULL);
}

/* The connection's thread again, after the record's commit. */
static void sign_resumed(void *arg, cc_http_response *res)
{
    sign_job *job = arg;
    if (job->check.status != CC_OK)
        sign_end(job, res, &job->check.err);
    else
        sign_now(job, res);
    free(job);
}

/* The anti-slashing writer's thread, right after COMMIT: hand back to the connection. */
static void sign_checked(cc_slashing_check *check)
{
    sign_job *job = check->arg;
    cc_http_resume(job->pending);
}

/*
 * Overload refusals come in floods: one line each at debug, and at most one
 * warning every 10 s with the count, so the log stays readable and cheap
 * exactly when the signer has no time to spare (the metrics count each one).
 */
static void log_overload(const char *request_id, const char *reason)
{
    static unsigned long refused;
    static time_t last_warn;
    cc_log(CC_LOG_DEBUG, "sign refused", "request_id", request_id, "status", "503", "reason", reason, NULL);
    __atomic_add_fetch(&refused, 1, __ATOMIC_RELAXED);
    time_t now = time(NULL), last = __atomic_load_n(&last_warn, __ATOMIC_RELAXED);
    if (now - last >= 10 && __atomic_compare_exchange_n(&last_warn, &last, now, 0, __ATOMIC_RELAXED,
                                                        __ATOMIC_RELAXED)) {
        char count[24];
        snprintf(count, sizeof count, "%lu", __atomic_exchange_n(&refused, 0, __ATOMIC_RELAXED));
        cc_log(CC_LOG_WARN, "overloaded: signing requests refused with 503", "refused", count, "reason", reason,
               NULL);
    }
}

static void handle_sign(cc_app *app, const cc_http_request *req, const char *pubkey_hex, cc_http_response *res)
{
    sign_job *job = calloc(1, sizeof *job);
    if (!job) {
        cc_http_reply_error(res, 500, "out of memory");
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &job->t0);
    job->app = app;
    job->type = -1;
    job->accept_json = cc_http_accepts_json(req->accept);
    snprintf(job->pubkey_hex, sizeof job->pubkey_hex, "%.*s", (int)(sizeof job->pubkey_hex - 1), pubkey_hex);
    memcpy(job->request_id, req->request_id, sizeof job->request_id);
    cc_error err;

    if (app->chamber && !cc_chamber_can_sign(app->chamber)) {
        cc_http_reply_error(res, 503, "sealed");
        cc_metrics_record_sign(-1, 503, elapsed_ms(&job->t0) / 1e3);
        free(job);
        return;
    }
    if (cc_limiter_admit(&app->limiter, &job->deadline, &err) != CC_OK) {
        cc_http_reply_error(res, 503, err.msg);
        cc_metrics_record_sign(-1, 503, elapsed_ms(&job->t0) / 1e3);
        log_overload(job->request_id, err.msg);
        free(job);
        return;
    }
    if (cc_hex_decode_exact(pubkey_hex, job->pubkey, sizeof job->pubkey, &err) != CC_OK) {
        cc_error_prefix(&err, "pubkey in path");
        goto fail;
    }
    if (!cc_keyring_contains(app->keyring, job->pubkey)) {
        cc_error_set(&err, CC_ENOTFOUND, "no key for public key %.120s", pubkey_hex);
        goto fail;
    }
    cc_status parsed = cc_sign_request_parse(req->body, req->body_len, &app->network, &job->sr, &err);
    if (job->sr.type < CC_SIGN_TYPE_COUNT)
        job->type = (int)job->sr.type; /* known even when the rest of the body is refused */
    if (parsed != CC_OK)
        goto fail;
    /* Auth (SPEC §2.4): (sign, key, type) — after the type is known, before any anti-slashing record. */
    if (app->auth && cc_api_auth_sign(app, req, job->pubkey, job->type, &err) != CC_OK)
        goto fail;
    if (job->sr.gate == CC_GATE_NONE) {
        sign_now(job, res);
        free(job);
        return;
    }

    /* Blocks and attestations: the record must be durable before the signature is even computed. */
    cc_slashing_check *c = &job->check;
    c->kind = job->sr.gate == CC_GATE_BLOCK ? CC_SLASHING_BLOCK : CC_SLASHING_ATTESTATION;
    memcpy(c->pubkey, job->pubkey, sizeof c->pubkey);
    c->slot = job->sr.slot;
    c->source_epoch = job->sr.source_epoch;
    c->target_epoch = job->sr.target_epoch;
    memcpy(c->signing_root, job->sr.signing_root, sizeof c->signing_root);
    c->arg = job;
    job->pending = cc_http_defer(req, sign_resumed, job);
    if (job->pending) {
        c->done = sign_checked;
        cc_slashing_submit(app->slashing, c);
        return; /* answered by sign_resumed on this connection's thread */
    }
    /* No transport to park on (direct calls in tests): wait inline. */
    if (c->kind == CC_SLASHING_BLOCK)
        c->status = cc_slashing_check_block(app->slashing, c->pubkey, c->slot, c->signing_root, &c->err);
    else
        c->status = cc_slashing_check_attestation(app->slashing, c->pubkey, c->source_epoch, c->target_epoch,
                                                  c->signing_root, &c->err);
    sign_resumed(job, res);
    return;

fail:
    sign_end(job, res, &err);
    free(job);
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
    int chamber_up = !app->chamber || cc_chamber_can_sign(app->chamber);
    int up = slashing_up && chamber_up;
    char chamber_check[96] = "";
    if (app->chamber)
        snprintf(chamber_check, sizeof chamber_check, ",{\"id\":\"chamber\",\"status\":\"%s\",\"state\":\"%s\"}",
                 chamber_up ? "UP" : "DOWN", cc_chamber_state_name(cc_chamber_state(app->chamber)));
    cc_http_reply(res, up ? 200 : 503, "application/json",
                  "{\"status\":\"%s\",\"checks\":[{\"id\":\"keys-check\",\"status\":\"UP\",\"keys\":%zu,"
                  "\"failed\":%zu},{\"id\":\"slashing-protection-db-health-check\",\"status\":\"%s\"}%s],"
                  "\"outcome\":\"%s\"}",
                  up ? "UP" : "DOWN", keys, app->last_load.failed, slashing_up ? "UP" : "DOWN", chamber_check,
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

/*
 * A slow route (Key Manager imports run scrypt for seconds) must not hold one
 * of the few event-loop threads that sign: it runs on a thread of its own
 * while its connection is parked.
 */
typedef void (*slow_route)(cc_app *app, const cc_http_request *req, cc_http_response *res);

typedef struct detached {
    cc_app *app;
    cc_http_request req; /* its strings live in the parked connection */
    cc_http_response res;
    slow_route route;
    cc_http_pending *pending;
} detached;

static void *detached_main(void *arg)
{
    detached *d = arg;
    d->route(d->app, &d->req, &d->res);
    cc_http_resume(d->pending);
    return NULL;
}

static void detached_done(void *arg, cc_http_response *res)
{
    detached *d = arg;
    *res = d->res;
    free(d);
}

static void run_detached(cc_app *app, const cc_http_request *req, cc_http_response *res, slow_route route)
{
    detached *d = calloc(1, sizeof *d);
    if (!d) {
        cc_http_reply_error(res, 500, "out of memory");
        return;
    }
    *d = (detached){.app = app, .req = *req, .route = route};
    d->pending = cc_http_defer(req, detached_done, d);
    if (!d->pending) { /* no transport to park on: run inline */
        route(app, req, res);
        free(d);
        return;
    }
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, detached_main, d) != 0) {
        cc_http_reply_error(&d->res, 503, "cannot start a worker thread, try again");
        cc_http_resume(d->pending);
    }
    pthread_attr_destroy(&attr);
}

void cc_app_handle(void *ctx, const cc_http_request *req, cc_http_response *res)
{
    cc_app *app = ctx;
    const char *path = req->path;
    int get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;

    if (app->auth && !cc_api_auth_route(app, req, res)) /* 401/403 once auth policies exist (api/auth.h) */
        return;
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
        run_detached(app, req, res, cc_keymanager_handle);
    } else if (strncmp(path, CC_CHAMBER_API_PREFIX, sizeof CC_CHAMBER_API_PREFIX - 1) == 0) {
        run_detached(app, req, res, cc_chamber_api_handle);
    } else {
        cc_http_reply_error(res, 404, "no such route");
    }
}
