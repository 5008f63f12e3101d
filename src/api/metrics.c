/*
 * metrics.c — counters, the latency histogram and the Prometheus text format.
 */
#include "api/metrics.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "signing/request.h"

/* The statuses the signing route answers; anything else is counted as "other". */
static const int statuses[] = {200, 400, 401, 403, 404, 405, 412, 413, 500, 503};
#define NSTATUS (sizeof statuses / sizeof statuses[0])
#define NOPS (CC_SIGN_TYPE_COUNT + 1) /* last slot: unknown type */

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

static uint64_t requests[NOPS][NSTATUS + 1];
static uint64_t duration_buckets[NBUCKETS + 1]; /* last: +Inf */
static uint64_t duration_sum_ns, duration_count;
static uint64_t slashing_rejections, key_load_failures;

static void inc(uint64_t *p, uint64_t by) { __atomic_fetch_add(p, by, __ATOMIC_RELAXED); }
static uint64_t get(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

void cc_metrics_record_sign(int type, int http_status, double seconds)
{
    size_t op = type >= 0 && type < CC_SIGN_TYPE_COUNT ? (size_t)type : CC_SIGN_TYPE_COUNT;
    size_t s = NSTATUS;
    for (size_t i = 0; i < NSTATUS; i++)
        if (statuses[i] == http_status)
            s = i;
    inc(&requests[op][s], 1);
    if (http_status == 412)
        inc(&slashing_rejections, 1);
    size_t b = 0;
    while (b < NBUCKETS && seconds > buckets[b])
        b++;
    inc(&duration_buckets[b], 1);
    inc(&duration_sum_ns, (uint64_t)(seconds * 1e9));
    inc(&duration_count, 1);
}

void cc_metrics_add_key_load_failures(unsigned long n) { inc(&key_load_failures, n); }

/* containment_auth_rejections_total{reason}: the reasons of chamber/auth.h (cc_auth_result_name). */
static const char *const auth_reasons[] = {"missing", "invalid", "expired", "forbidden"};
#define NAUTH (sizeof auth_reasons / sizeof auth_reasons[0])
static uint64_t auth_rejections[NAUTH];

void cc_metrics_record_auth_rejection(const char *reason)
{
    for (size_t i = 0; i < NAUTH; i++)
        if (strcmp(reason, auth_reasons[i]) == 0) {
            inc(&auth_rejections[i], 1);
            return;
        }
    inc(&auth_rejections[1], 1); /* anything else is an invalid token */
}

/* A growing text buffer for the exposition. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 8192;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return;
        b->p = q;
        b->cap = cap;
    }
}

void cc_metrics_handle(void *ctx, const cc_http_request *req, cc_http_response *res)
{
    cc_app *app = ctx;
    if (strcmp(req->path, "/metrics") != 0) {
        cc_http_reply_error(res, 404, "no such route: metrics are at /metrics");
        return;
    }
    sbuf b = {0};
    put(&b, "# HELP containment_signing_requests_total Signing requests by operation (type) and HTTP status.\n"
            "# TYPE containment_signing_requests_total counter\n");
    for (size_t op = 0; op < NOPS; op++)
        for (size_t s = 0; s <= NSTATUS; s++) {
            uint64_t v = get(&requests[op][s]);
            if (!v)
                continue;
            char status[8];
            if (s < NSTATUS)
                snprintf(status, sizeof status, "%d", statuses[s]);
            else
                snprintf(status, sizeof status, "other");
            put(&b, "containment_signing_requests_total{operation=\"%s\",status=\"%s\"} %llu\n",
                op < CC_SIGN_TYPE_COUNT ? cc_sign_type_name((cc_sign_type)op) : "UNKNOWN", status,
                (unsigned long long)v);
        }
    put(&b, "# HELP containment_signing_duration_seconds Time to answer a signing request.\n"
            "# TYPE containment_signing_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t i = 0; i < NBUCKETS; i++) {
        cum += get(&duration_buckets[i]);
        put(&b, "containment_signing_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[i],
            (unsigned long long)cum);
    }
    cum += get(&duration_buckets[NBUCKETS]);
    put(&b, "containment_signing_duration_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
    put(&b, "containment_signing_duration_seconds_sum %.9f\n", (double)get(&duration_sum_ns) / 1e9);
    put(&b, "containment_signing_duration_seconds_count %llu\n", (unsigned long long)get(&duration_count));
    put(&b, "# HELP containment_slashing_rejections_total Requests refused by anti-slashing protection.\n"
            "# TYPE containment_slashing_rejections_total counter\n"
            "containment_slashing_rejections_total %llu\n",
        (unsigned long long)get(&slashing_rejections));
    put(&b, "# HELP containment_healthy 1 when the signer can sign.\n"
            "# TYPE containment_healthy gauge\ncontainment_healthy %d\n",
        app->slashing != NULL);
    put(&b, "# HELP containment_keys_active Keys able to sign, by source.\n# TYPE containment_keys_active gauge\n");
    for (int o = 0; o < CC_KEY_ORIGIN_COUNT; o++)
        put(&b, "containment_keys_active{source=\"%s\"} %zu\n", cc_key_origin_name((cc_key_origin)o),
            cc_keyring_count(app->keyring, o));
    put(&b, "# HELP containment_key_load_failures_total Keystores or descriptors that could not be loaded.\n"
            "# TYPE containment_key_load_failures_total counter\ncontainment_key_load_failures_total %llu\n",
        (unsigned long long)get(&key_load_failures));
    put(&b, "# HELP containment_auth_rejections_total Requests refused by auth (401 missing, invalid or expired "
            "token; 403 forbidden by policy).\n# TYPE containment_auth_rejections_total counter\n");
    for (size_t i = 0; i < NAUTH; i++)
        put(&b, "containment_auth_rejections_total{reason=\"%s\"} %llu\n", auth_reasons[i],
            (unsigned long long)get(&auth_rejections[i]));
    free(res->body);
    res->status = 200;
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    res->body = b.p;
    res->body_len = b.len;
}
