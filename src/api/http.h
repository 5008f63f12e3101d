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

#define CC_HTTP_MAX_QUERY_ARGS 8

typedef struct cc_http_request {
    const char *method;     /* "GET", "POST", ... */
    const char *path;       /* URL path without the query */
    const char *accept;     /* Accept header or NULL */
    const char *authorization; /* Authorization header or NULL (api/auth.c; never logged) */
    const char *body;       /* request body (NUL-terminated copy) */
    size_t body_len;
    char request_id[24];    /* for logs */
    void *transport;        /* the server's per-request state (cc_http_defer); NULL outside a server */
    /* URL query arguments, decoded (?status=active): the first CC_HTTP_MAX_QUERY_ARGS; strings live as long as req. */
    const char *query_names[CC_HTTP_MAX_QUERY_ARGS];
    const char *query_values[CC_HTTP_MAX_QUERY_ARGS]; /* "" for a bare ?name */
    size_t query_count;
} cc_http_request;

/* The value of query argument name (the first one), or NULL when absent. */
const char *cc_http_query(const cc_http_request *req, const char *name);

typedef struct cc_http_response {
    int status;
    const char *content_type;  /* static string */
    char *body;                /* malloc'ed, owned by the response */
    size_t body_len;
} cc_http_response;

/* Sets a response body from a printf format (malloc'ed). */
void cc_http_reply(cc_http_response *res, int status, const char *content_type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* j (a jansson value, consumed; NULL = out of memory → 500) as compact application/json. */
struct json_t;
void cc_http_reply_json(cc_http_response *res, int status, struct json_t *j);

/* {"error":"<message>"} as application/json, with the message JSON-escaped. */
void cc_http_reply_error(cc_http_response *res, int status, const char *message);

/* 1 if Accept asks for application/json or * / * (any entry, parameters ignored). */
int cc_http_accepts_json(const char *accept);

/*
 * Deferred responses.  A handler that must wait — for the group commit of an
 * anti-slashing record, or for a slow job — calls cc_http_defer and returns at
 * once: the connection is parked and no thread waits for it.  Later, any
 * thread calls cc_http_resume(p) exactly once; the server then runs
 * k(arg, res) on the connection's own thread to fill the response.  The
 * request (and its body) stay valid until k has run.
 *
 * cc_http_defer returns NULL when the transport cannot defer (a handler
 * called directly, as in unit tests); the handler then does the work inline.
 * Implemented by the transport (server.c).
 */
typedef struct cc_http_pending cc_http_pending;
typedef void (*cc_http_continuation)(void *arg, cc_http_response *res);

cc_http_pending *cc_http_defer(const cc_http_request *req, cc_http_continuation k, void *arg);
void cc_http_resume(cc_http_pending *p);

#endif
