/*
 * http.h — the transport-neutral shape of one HTTP exchange.
 *
 * Handlers see a cc_http_request and fill a cc_http_response; they never
 * touch libmicrohttpd.  That keeps every route testable without a socket and
 * lets a later transport (vsock in enclave mode) reuse them unchanged.
 */
#ifndef CC_HTTP_H
#define CC_HTTP_H

#include <stddef.h>

#include "util/err.h"

typedef struct cc_http_request {
    const char *method;     /* "GET", "POST", ... */
    const char *path;       /* URL path without the query */
    const char *accept;     /* Accept header or NULL */
    const char *body;       /* request body (NUL-terminated copy) */
    size_t body_len;
    char request_id[24];    /* for logs */
} cc_http_request;

typedef struct cc_http_response {
    int status;
    const char *content_type;  /* static string */
    char *body;                /* malloc'ed, owned by the response */
    size_t body_len;
} cc_http_response;

/* Sets a response body from a printf format (malloc'ed). */
void cc_http_reply(cc_http_response *res, int status, const char *content_type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* {"error":"<message>"} as application/json, with the message JSON-escaped. */
void cc_http_reply_error(cc_http_response *res, int status, const char *message);

/* 1 if Accept asks for application/json or * / * (any entry, parameters ignored). */
int cc_http_accepts_json(const char *accept);

#endif
