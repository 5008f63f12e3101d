/*
 * server.c — kms-local's HTTP side: libmicrohttpd (one thread per
 * connection) collects the raw path, headers and body into a kl_request;
 * kl_handle authenticates it (SigV4), reads X-Amz-Target: TrentService.<Op>
 * and the JSON 1.1 body, and hands over to ops.c.  Errors leave as AWS's:
 * HTTP 400 (500 for our own faults) with {"__type":"<Name>","message":"..."}.
 */
#include "kmslocal/kmslocal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/log.h"

#define KL_MAX_BODY (1024 * 1024)

const char *kl_request_header(const kl_request *req, const char *lname)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcmp(req->headers[i].name, lname) == 0)
            return req->headers[i].value;
    return NULL;
}

void kl_reply_error(kl_reply *r, int status, const char *name, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(r->body);
    json_t *o = json_pack("{s:s, s:s}", "__type", name, "message", msg);
    r->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    r->status = status;
    r->error = name;
}

void kl_reply_json(kl_reply *r, json_t *obj)
{
    free(r->body);
    r->body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!r->body) {
        kl_reply_error(r, 500, "KMSInternalException", "out of memory");
        return;
    }
    r->status = 200;
    r->error = NULL;
}

void kl_handle(kl_server_ctx *ctx, const kl_request *req, kl_reply *reply)
{
    const kl_cred *caller = NULL;
    if (!kl_sigv4_verify(ctx->cfg, req, time(NULL), &caller, reply))
        return;
    if (strcmp(req->method, "POST") != 0 || strcmp(req->path, "/") != 0) {
        kl_reply_error(reply, 400, "UnknownOperationException", "KMS takes POST / with X-Amz-Target");
        return;
    }
    const char *target = kl_request_header(req, "x-amz-target");
    static const char prefix[] = "TrentService.";
    if (!target || strncmp(target, prefix, sizeof prefix - 1) != 0) {
        kl_reply_error(reply, 400, "UnknownOperationException", "missing or foreign X-Amz-Target");
        return;
    }
    json_error_t je;
    json_t *in = json_loadb(req->body_len ? req->body : "{}", req->body_len ? req->body_len : 2, 0, &je);
    if (!json_is_object(in)) {
        json_decref(in);
        kl_reply_error(reply, 400, "SerializationException", "request body is not a JSON object: %s", je.text);
        return;
    }
    kl_ops_dispatch(ctx, caller, target + sizeof prefix - 1, in, reply);
    json_decref(in);
}

/* ---- libmicrohttpd glue ---------------------------------------------------------------- */

struct kl_server {
    struct MHD_Daemon *daemon;
    kl_server_ctx *ctx;
    uint16_t port;
};

typedef struct conn_state {
    char *raw_uri;
    char *body;
    size_t len, cap;
    int too_large;
    int started;   /* the headers have been collected */
    kl_header *h;
    size_t nh, caph;
} conn_state;

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls, (void)conn;
    conn_state *c = calloc(1, sizeof *c);
    if (c)
        c->raw_uri = strdup(uri ? uri : "/");
    return c;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    conn_state *c = cls;
    if (c->nh == c->caph) {
        size_t cap = c->caph ? c->caph * 2 : 16;
        kl_header *h = realloc(c->h, cap * sizeof *h);
        if (!h)
            return MHD_NO;
        c->h = h;
        c->caph = cap;
    }
    char *n = strdup(key), *v = strdup(value ? value : "");
    if (!n || !v) {
        free(n);
        free(v);
        return MHD_NO;
    }
    for (char *p = n; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    c->h[c->nh].name = n;
    c->h[c->nh].value = v;
    c->nh++;
    return MHD_YES;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, kl_reply *r)
{
    const char *body = r->body ? r->body : "{\"__type\":\"KMSInternalException\",\"message\":\"out of memory\"}";
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-amz-json-1.1");
    if (r->error)
        MHD_add_response_header(resp, "x-amzn-ErrorType", r->error);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)(r->status ? r->status : 500), resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    kl_server *srv = cls;
    (void)version, (void)url;
    conn_state *c = *con_cls;
    if (!c)
        return MHD_NO;
    if (!c->started) {
        /* first call: the headers are complete; collect them once */
        c->started = 1;
        MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, c);
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (c->too_large || c->len + n > KL_MAX_BODY) {
            c->too_large = 1;
            return MHD_YES;
        }
        if (c->len + n + 1 > c->cap) {
            size_t cap = c->cap ? c->cap : 4096;
            while (cap < c->len + n + 1)
                cap *= 2;
            char *d = realloc(c->body, cap);
            if (!d)
                return MHD_NO;
            c->body = d;
            c->cap = cap;
        }
        memcpy(c->body + c->len, upload_data, n);
        c->len += n;
        c->body[c->len] = '\0';
        return MHD_YES;
    }
    kl_reply r = {0};
    if (c->too_large) {
        kl_reply_error(&r, 413, "ValidationException", "request body larger than %d bytes", KL_MAX_BODY);
    } else {
        char *q = strchr(c->raw_uri, '?');
        if (q)
            *q++ = '\0';
        kl_request req = {
            .method = method,
            .path = c->raw_uri,
            .query = q ? q : "",
            .headers = c->h,
            .nheaders = c->nh,
            .body = c->body ? c->body : "",
            .body_len = c->len,
        };
        kl_handle(srv->ctx, &req, &r);
        const char *target = kl_request_header(&req, "x-amz-target");
        char st[8];
        snprintf(st, sizeof st, "%d", r.status);
        cc_log(r.status == 200 ? CC_LOG_INFO : CC_LOG_WARN, "kms request", "target", target, "status", st, "error",
               r.error, NULL);
    }
    enum MHD_Result ret = send_reply(conn, &r);
    free(r.body);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    conn_state *c = *con_cls;
    if (!c)
        return;
    for (size_t i = 0; i < c->nh; i++) {
        free(c->h[i].name);
        free(c->h[i].value);
    }
    free(c->h);
    free(c->body);
    free(c->raw_uri);
    free(c);
    *con_cls = NULL;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    cc_log(CC_LOG_WARN, "http", "detail", msg, NULL);
}

cc_status kl_server_start(kl_server_ctx *ctx, const char *host, uint16_t port, kl_server **out, cc_error *err)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (strchr(host, ':')) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
            return cc_error_set(err, CC_ECONFIG, "--listen: '%s' is not an IPv6 address", host);
        flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
            return cc_error_set(err, CC_ECONFIG, "--listen: '%s' is not an IPv4 address", host);
    }
    kl_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    srv->ctx = ctx;
    srv->daemon = MHD_start_daemon(flags, port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
                                   on_mhd_error, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                   MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED,
                                   on_completed, NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
    if (!srv->daemon) {
        free(srv);
        return cc_error_set(err, CC_EIO, "cannot listen on %s:%u", host, port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : port;
    *out = srv;
    return CC_OK;
}

uint16_t kl_server_port(const kl_server *srv) { return srv->port; }

void kl_server_stop(kl_server *srv)
{
    if (!srv)
        return;
    MHD_stop_daemon(srv->daemon);
    free(srv);
}
