/*
 * server.c — libmicrohttpd glue: accumulate the body, build a
 * cc_http_request, call the app's router, send the cc_http_response.
 * Nothing here knows any route.
 *
 * HTTPS uses MHD's GnuTLS build.  A certificate change never closes the
 * listening socket: the daemon holding the old certificate is quiesced (it
 * hands the socket back and accepts no more), a daemon with the new one
 * starts on that socket, and the old daemon lingers only until its
 * connections are done (tls_gen below).
 */
#include "api/server.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/secret.h"

/*
 * The daemons' threading and logging, the same for HTTP and HTTPS (TLS adds
 * its own flags): a pool of event-loop threads, one per core by default.  A
 * request that must wait (a durable anti-slashing record) is suspended and
 * resumed, so it parks a connection, never a thread; the pool threads spend
 * their time parsing and signing.
 */
#define CC_MHD_FLAGS                                                                                            \
    (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG)

static unsigned pool_size; /* 0: one thread per online core */

void cc_server_set_pool_size(unsigned threads) { pool_size = threads; }

static unsigned effective_pool_size(void)
{
    if (pool_size)
        return pool_size;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* TLS 1.2 and 1.3 only, GnuTLS's default ("NORMAL") suites within them. */
#define CC_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/*
 * The certificate material of one TLS daemon.  MHD keeps pointers into it,
 * so it lives exactly as long as its daemon.
 */
typedef struct tls_gen {
    struct MHD_Daemon *daemon;
    char *cert;           /* PEM, malloc */
    char *ca;             /* PEM, malloc; NULL: no client certificate asked */
    char *key;            /* PEM, secret memory */
    size_t key_size;
    time_t retired_at;    /* when it was quiesced */
    unsigned open;        /* its open connections (atomic; counted in on_connection) */
    struct tls_gen *next; /* in cc_server.retired */
} tls_gen;

struct cc_server {
    struct MHD_Daemon *daemon; /* the daemon accepting connections; atomic (a swap replaces it) */
    cc_http_handler handler;
    void *ctx;
    uint16_t port;
    unsigned flags;            /* MHD flags, reused by a swap */
    int is_tls;
    int client_certs;          /* TLS: clients must present a certificate (fixed at start) */
    tls_gen *tls;              /* the accepting daemon's material (TLS only) */
    tls_gen *retired;          /* quiesced daemons finishing their connections */
    unsigned parked;           /* suspended requests (atomic); stop waits for them */
};

/* A deferred response (http.h): the request's parked state. */
enum { PENDING_NONE = 0, PENDING_PARKED, PENDING_RESUMED };

struct cc_http_pending {
    struct MHD_Connection *conn;
    cc_server *srv;
    cc_http_continuation k;
    void *arg;
    int state; /* PENDING_*, atomic */
};

/* Per-connection state (TLS daemons): which certificate generation accepted it. */
typedef struct conn_state {
    struct tls_gen *gen;
    int client_verified;
} conn_state;

/* Per-request state kept by MHD between calls of the access handler. */
typedef struct body_buf {
    char *data;
    size_t len, cap;
    int too_large;
    cc_http_pending pending;
} body_buf;

cc_http_pending *cc_http_defer(const cc_http_request *req, cc_http_continuation k, void *arg)
{
    body_buf *b = req->transport;
    if (!b)
        return NULL;
    cc_http_pending *p = &b->pending;
    p->k = k;
    p->arg = arg;
    __atomic_store_n(&p->state, PENDING_PARKED, __ATOMIC_RELEASE);
    __atomic_add_fetch(&p->srv->parked, 1, __ATOMIC_ACQ_REL);
    /* Suspended before the handler hands the work on, so a resume can never come first. */
    MHD_suspend_connection(p->conn);
    return p;
}

void cc_http_resume(cc_http_pending *p)
{
    __atomic_store_n(&p->state, PENDING_RESUMED, __ATOMIC_RELEASE);
    MHD_resume_connection(p->conn);
}

static unsigned long long next_request_id;

static enum MHD_Result send_response(struct MHD_Connection *conn, cc_http_response *res, int close_after)
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
    if (close_after)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ret;
}

/*
 * True if the TLS client presented a certificate that chains to the
 * configured CA.  The handshake already requires it (on_connection); this
 * re-check, once per connection, keeps a request from being served should
 * that set-up ever not have happened.
 */
static int client_verified(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_state *cs = ci ? ci->socket_context : NULL;
    if (cs && cs->client_verified)
        return 1;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return 0;
    unsigned status = 0;
    if (gnutls_certificate_verify_peers2((gnutls_session_t)ci->tls_session, &status) < 0 || status != 0)
        return 0;
    if (cs)
        cs->client_verified = 1;
    return 1;
}

/*
 * A connection of a quiesced daemon: answer, then close, so the client
 * reconnects to the new one.  Known from the generation recorded when it was
 * accepted (a pooled daemon reports its worker, not itself, as the
 * connection's daemon, so daemons cannot be compared).
 */
static int from_retired_daemon(cc_server *srv, struct MHD_Connection *conn)
{
    if (!srv->is_tls)
        return 0;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    const conn_state *cs = ci ? ci->socket_context : NULL;
    return cs && cs->gen != __atomic_load_n(&srv->tls, __ATOMIC_ACQUIRE);
}

/* Collects the URL's query arguments into the request (MHD_get_connection_values callback). */
static enum MHD_Result collect_query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    cc_http_request *req = cls;
    (void)kind;
    if (req->query_count < CC_HTTP_MAX_QUERY_ARGS) {
        req->query_names[req->query_count] = key;
        req->query_values[req->query_count] = value ? value : "";
        req->query_count++;
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    cc_server *srv = cls;
    (void)version;
    body_buf *b = *con_cls;
    if (!b) {
        if (srv->client_certs && !client_verified(conn)) {
            cc_log(CC_LOG_WARN, "https: client certificate missing or not trusted; connection closed", NULL);
            return MHD_NO;
        }
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
    if (__atomic_load_n(&b->pending.state, __ATOMIC_ACQUIRE) == PENDING_RESUMED) {
        /* Back from a deferral: finish on this connection's thread. */
        b->pending.state = PENDING_NONE;
        b->pending.k(b->pending.arg, &res);
        __atomic_sub_fetch(&srv->parked, 1, __ATOMIC_ACQ_REL);
        enum MHD_Result ret = send_response(conn, &res, from_retired_daemon(srv, conn));
        free(res.body);
        return ret;
    }
    if (b->too_large) {
        cc_http_reply_error(&res, 413, "request body too large");
        return send_response(conn, &res, from_retired_daemon(srv, conn));
    }
    cc_http_request req = {
        .method = method,
        .path = url,
        .accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT),
        .authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .body = b->data ? b->data : "",
        .body_len = b->len,
        .transport = b,
    };
    b->pending.conn = conn;
    b->pending.srv = srv;
    if (b->data)
        b->data[b->len] = '\0';
    snprintf(req.request_id, sizeof req.request_id, "%llx",
             __atomic_add_fetch(&next_request_id, 1, __ATOMIC_RELAXED));
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query_arg, &req);
    srv->handler(srv->ctx, &req, &res);
    if (__atomic_load_n(&b->pending.state, __ATOMIC_ACQUIRE) != PENDING_NONE)
        return MHD_YES; /* deferred: answered when resumed */
    enum MHD_Result ret = send_response(conn, &res, from_retired_daemon(srv, conn));
    free(res.body);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    body_buf *b = *con_cls;
    if (b) {
        if (__atomic_load_n(&b->pending.state, __ATOMIC_ACQUIRE) == PENDING_RESUMED) {
            /* The client left while parked: run the continuation anyway, so its work is released. */
            cc_http_response res = {0};
            b->pending.state = PENDING_NONE;
            b->pending.k(b->pending.arg, &res);
            free(res.body);
            __atomic_sub_fetch(&b->pending.srv->parked, 1, __ATOMIC_ACQ_REL);
        }
        /* Bodies can carry keystore passwords (Key Manager API): wipe before freeing. */
        if (b->data)
            cc_secret_wipe(b->data, b->len);
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

/*
 * Every TLS connection: record the certificate generation that accepted it
 * and count it (a retired daemon is stopped once its count is zero).  With
 * client certificates, also make the handshake itself require one and verify
 * it against the daemon's trust list (MHD_OPTION_HTTPS_MEM_TRUST), so an
 * unauthenticated client never gets a session.
 */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    tls_gen *g = cls;
    if (code != MHD_CONNECTION_NOTIFY_STARTED) {
        __atomic_sub_fetch(&g->open, 1, __ATOMIC_ACQ_REL);
        free(*socket_context);
        *socket_context = NULL;
        return;
    }
    /* Counted here: a pooled daemon's own connection count is not reliable across its workers. */
    __atomic_add_fetch(&g->open, 1, __ATOMIC_ACQ_REL);
    conn_state *cs = calloc(1, sizeof *cs);
    if (cs)
        cs->gen = g;
    *socket_context = cs;
    if (!g->ca)
        return;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (ci && ci->tls_session) {
        gnutls_session_t session = (gnutls_session_t)ci->tls_session;
        gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
        gnutls_session_set_verify_cert(session, NULL, 0);
    }
}

static cc_status parse_address(const char *address, uint16_t port, struct sockaddr_storage *ss, unsigned *flags,
                               cc_error *err)
{
    memset(ss, 0, sizeof *ss);
    if (strchr(address, ':')) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        if (inet_pton(AF_INET6, address, &a6->sin6_addr) != 1)
            return cc_error_set(err, CC_ECONFIG, "listen address '%s' is not an IPv6 address", address);
        *flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        if (inet_pton(AF_INET, address, &a4->sin_addr) != 1)
            return cc_error_set(err, CC_ECONFIG, "listen address '%s' is not an IPv4 address", address);
    }
    return CC_OK;
}

/* Starts a daemon on ss (listen_fd < 0) or on an already listening socket; TLS when g is set. */
static struct MHD_Daemon *start_daemon(cc_server *srv, unsigned flags, uint16_t port, struct sockaddr_storage *ss,
                                       int listen_fd, const tls_gen *g)
{
    struct MHD_OptionItem ops[8];
    size_t n = 0;
    if (listen_fd >= 0)
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL};
    else
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, ss};
    if (g) {
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, g->cert};
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, g->key};
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)CC_TLS_PRIORITIES};
        if (g->ca)
            ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, g->ca};
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, (void *)g};
    }
    ops[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return MHD_start_daemon(flags, port, NULL, NULL, on_request, srv,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL, /* first, or MHD complains */
                            MHD_OPTION_ARRAY, ops,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                            MHD_OPTION_THREAD_POOL_SIZE, effective_pool_size(),
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
                            MHD_OPTION_END);
}

static cc_status server_new(cc_http_handler handler, void *ctx, const char *address, uint16_t port,
                            tls_gen *g, unsigned flags, cc_server **out, cc_error *err)
{
    struct sockaddr_storage ss;
    if (parse_address(address, port, &ss, &flags, err) != CC_OK)
        return err ? err->code : CC_ECONFIG;
    cc_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    srv->handler = handler;
    srv->ctx = ctx;
    srv->flags = flags;
    /* Everything connection threads read is set before the daemon can accept. */
    srv->is_tls = g != NULL;
    srv->client_certs = g && g->ca;
    srv->tls = g;
    struct MHD_Daemon *d = start_daemon(srv, flags, port, &ss, -1, g);
    __atomic_store_n(&srv->daemon, d, __ATOMIC_RELEASE);
    if (!d) {
        free(srv);
        return cc_error_set(err, CC_EIO, "cannot listen on %s:%u (in use, or not an address of this host)",
                            address, port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : port;
    *out = srv;
    return CC_OK;
}

cc_status cc_server_start(cc_http_handler handler, void *ctx, const char *address, uint16_t port,
                          cc_server **out, cc_error *err)
{
    return server_new(handler, ctx, address, port, NULL, CC_MHD_FLAGS, out, err);
}

/* ---------------------------------------------------------------- TLS */

static void gen_free(tls_gen *g)
{
    if (!g)
        return;
    free(g->cert);
    free(g->ca);
    cc_secret_free(g->key, g->key_size);
    free(g);
}

static tls_gen *gen_new(const cc_server_tls *tls)
{
    tls_gen *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->cert = strdup(tls->cert_pem);
    g->ca = tls->client_ca_pem ? strdup(tls->client_ca_pem) : NULL;
    g->key_size = strlen(tls->key_pem) + 1;
    g->key = cc_secret_alloc(g->key_size);
    if (!g->cert || (tls->client_ca_pem && !g->ca) || !g->key) {
        gen_free(g);
        return NULL;
    }
    memcpy(g->key, tls->key_pem, g->key_size);
    return g;
}

/*
 * Would GnuTLS (through MHD) take this material?  A daemon without a socket
 * or thread loads it and is stopped at once; its complaints reach the log
 * through on_mhd_error.
 */
static int tls_accepted(cc_server *srv, const tls_gen *g)
{
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, g->cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, g->key},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)CC_TLS_PRIORITIES},
        {g->ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, g->ca},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_TLS | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG, 0, NULL,
                                            NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error,
                                            NULL, MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
    if (!d)
        return 0;
    MHD_stop_daemon(d);
    return 1;
}

cc_status cc_server_start_tls(cc_http_handler handler, void *ctx, const char *address, uint16_t port,
                              const cc_server_tls *tls, cc_server **out, cc_error *err)
{
    tls_gen *g = gen_new(tls);
    if (!g)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cc_server probe = {.handler = handler, .ctx = ctx};
    if (!tls_accepted(&probe, g)) {
        gen_free(g);
        return cc_error_set(err, CC_ECRYPTO, "the TLS library refused the certificate, key or client CA");
    }
    cc_server *srv = NULL;
    /* ITC: MHD_quiesce_daemon needs it with an internal polling thread. */
    cc_status st = server_new(handler, ctx, address, port, g, CC_MHD_FLAGS | MHD_USE_TLS | MHD_USE_ITC, &srv, err);
    if (st != CC_OK) {
        gen_free(g);
        return st;
    }
    g->daemon = srv->daemon;
    *out = srv;
    return CC_OK;
}

/* Moves the accepting daemon to the retired list and makes g's daemon the accepting one. */
static void promote(cc_server *srv, tls_gen *g)
{
    tls_gen *old = srv->tls;
    old->retired_at = time(NULL);
    old->next = srv->retired;
    srv->retired = old;
    __atomic_store_n(&srv->tls, g, __ATOMIC_RELEASE);
    __atomic_store_n(&srv->daemon, g->daemon, __ATOMIC_RELEASE);
}

cc_status cc_server_tls_swap(cc_server *srv, const cc_server_tls *tls, cc_error *err)
{
    if (!srv->is_tls || srv->client_certs != (tls->client_ca_pem != NULL))
        return cc_error_set(err, CC_EINTERNAL, "a swap cannot turn TLS or client certificates on or off");
    tls_gen *g = gen_new(tls);
    if (!g)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    if (!tls_accepted(srv, g)) {
        gen_free(g);
        return cc_error_set(err, CC_ECRYPTO, "the TLS library refused the new certificate, key or client CA");
    }
    MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
    if (fd == MHD_INVALID_SOCKET) {
        gen_free(g);
        return cc_error_set(err, CC_EINTERNAL, "cannot take the listening socket from the running HTTPS daemon");
    }
    g->daemon = start_daemon(srv, srv->flags, 0, NULL, fd, g);
    if (g->daemon) {
        promote(srv, g);
        cc_server_tls_reap(srv);
        return CC_OK;
    }
    /* The new material was accepted a moment ago, so this is resources: serve the old material again. */
    gen_free(g);
    cc_server_tls again = {srv->tls->cert, srv->tls->key, srv->tls->ca};
    g = gen_new(&again);
    if (g && (g->daemon = start_daemon(srv, srv->flags, 0, NULL, fd, g)) != NULL) {
        promote(srv, g);
        return cc_error_set(err, CC_EIO, "cannot start an HTTPS daemon with the new certificate; "
                                         "the old one is still served");
    }
    gen_free(g);
    close(fd);
    return cc_error_set(err, CC_EIO, "cannot start an HTTPS daemon: the HTTPS listener is down");
}

void cc_server_tls_reap(cc_server *srv)
{
    if (!srv || !srv->is_tls)
        return;
    time_t now = time(NULL);
    tls_gen **pp = &srv->retired;
    while (*pp) {
        tls_gen *g = *pp;
        unsigned open_conns = __atomic_load_n(&g->open, __ATOMIC_ACQUIRE);
        /* A just-quiesced daemon may still be finishing an accept(): leave it a moment even when idle. */
        time_t age = now - g->retired_at;
        if (age < 2 || (open_conns && age < CC_TLS_RETIRE_GRACE_SECONDS)) {
            pp = &g->next;
            continue;
        }
        if (open_conns) {
            char n[16];
            snprintf(n, sizeof n, "%u", open_conns);
            cc_log(CC_LOG_WARN, "https: closing connections still open on the previous certificate",
                   "connections", n, NULL);
        }
        *pp = g->next;
        MHD_stop_daemon(g->daemon);
        gen_free(g);
    }
}

uint16_t cc_server_port(const cc_server *srv) { return srv->port; }

void cc_server_stop(cc_server *srv)
{
    if (!srv)
        return;
    /*
     * Stop accepting, then let parked requests finish (their anti-slashing
     * records are committing) before the daemon goes: MHD must not be
     * stopped with suspended connections.
     */
    MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    for (int i = 0; i < 1000 && __atomic_load_n(&srv->parked, __ATOMIC_ACQUIRE); i++)
        usleep(10000);
    MHD_stop_daemon(srv->daemon);
    while (srv->retired) {
        tls_gen *g = srv->retired;
        srv->retired = g->next;
        MHD_stop_daemon(g->daemon);
        gen_free(g);
    }
    gen_free(srv->tls);
    free(srv);
}
