/*
 * metrics.h — Prometheus counters for the signing API (SPEC §7), served as
 * text on metrics.listen_port /metrics.
 *
 * Recording is a handful of relaxed atomic increments: nothing on the signing
 * path locks or allocates for metrics.
 */
#ifndef CC_METRICS_H
#define CC_METRICS_H

#include "api/http.h"

/* type is a cc_sign_type, or -1 when the request never got as far as a known type. */
void cc_metrics_record_sign(int type, int http_status, double seconds);
/* Adds to containment_key_load_failures_total. */
void cc_metrics_add_key_load_failures(unsigned long n);
/* Counts one refusal by auth (api/auth.c): reason "missing", "invalid", "expired" or "forbidden". */
void cc_metrics_record_auth_rejection(const char *reason);

/* A cc_http_handler for the metrics listener (ctx is the cc_app): GET /metrics. */
void cc_metrics_handle(void *ctx, const cc_http_request *req, cc_http_response *res);

#endif
