/*
 * server.c — libmicrohttpd glue: accumulate the body, build a
 * cc_http_request, call the app's router, send the cc_http_response.
 * Nothing here knows any route.
 */
#include "api/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/log.h"

struct cc_server {
    struct MHD_Daemon *daemon;
    cc_http_handler handler;
    void *ctx;
    uint16_t port;
};

/* Per-request state kept by MHD between calls of the access handler. */
typedef struct body_buf {
    char *data;
    size_t len, cap;
    int too_large;
} body_buf;

static unsigned long long next_request_id;

static enum MHD_Result send_response(struct MHD_Connection *conn, cc_http_response *res)
{
    struct MHD_Response *r;
    if (res->body) {
        r = MHD_create_response_from_buffer(res->body_len, res->body, MHD_RESPMEM_MUST_FREE);
        res->body = NULL; /* MHD owns it now */
    } else {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!r)
        return MHD_NO;
    if (res->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    cc_server *srv = cls;
    (void)version;
    body_buf *b = *con_cls;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b)
            return MHD_NO;
        *con_cls = b;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (b->too_large || b->len + n > CC_HTTP_MAX_BODY) {
            b->too_large = 1;
            return MHD_YES; /* keep draining; answer 413 at the end */
        }
        if (b->len + n + 1 > b->cap) {
            size_t cap = b->cap ? b->cap : 4096;
            while (cap < b->len + n + 1)
                cap *= 2;
            char *d = realloc(b->data, cap);
            if (!d)
                return MHD_NO;
            b->data = d;
            b->cap = cap;
        }
        memcpy(b->data + b->len, upload_data, n);
        b->len += n;
        return MHD_YES;
    }

    cc_http_response res = {0};
    if (b->too_large) {
        cc_http_reply_error(&res, 413, "request body too large");
        return send_response(conn, &res);
    }
    cc_http_request req = {
        .method = method,
        .path = url,
        .accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT),
        .body = b->data ? b->data : "",
        .body_len = b->len,
    };
    if (b->data)
        b->data[b->len] = '\0';
    snprintf(req.request_id, sizeof req.request_id, "%llx",
             __atomic_add_fetch(&next_request_id, 1, __ATOMIC_RELAXED));
    srv->handler(srv->ctx, &req, &res);
    enum MHD_Result ret = send_response(conn, &res);
    free(res.body);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    body_buf *b = *con_cls;
    if (b) {
        free(b->data);
        free(b);
        *con_cls = NULL;
    }
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

cc_status cc_server_start(cc_http_handler handler, void *ctx, const char *address, uint16_t port,
                          cc_server **out, cc_error *err)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                     MHD_USE_ERROR_LOG;
    if (strchr(address, ':')) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        if (inet_pton(AF_INET6, address, &a6->sin6_addr) != 1)
            return cc_error_set(err, CC_ECONFIG, "listen address '%s' is not an IPv6 address", address);
        flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        if (inet_pton(AF_INET, address, &a4->sin_addr) != 1)
            return cc_error_set(err, CC_ECONFIG, "listen address '%s' is not an IPv4 address", address);
    }
    cc_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    srv->handler = handler;
    srv->ctx = ctx;
    srv->daemon = MHD_start_daemon(flags, port, NULL, NULL, on_request, srv,
                                   MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                   MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                                   MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
                                   MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
                                   MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
                                   MHD_OPTION_END);
    if (!srv->daemon) {
        free(srv);
        return cc_error_set(err, CC_EIO, "cannot listen on %s:%u (in use, or not an address of this host)",
                            address, port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : port;
    *out = srv;
    return CC_OK;
}

uint16_t cc_server_port(const cc_server *srv) { return srv->port; }

void cc_server_stop(cc_server *srv)
{
    if (!srv)
        return;
    MHD_stop_daemon(srv->daemon);
    free(srv);
}
