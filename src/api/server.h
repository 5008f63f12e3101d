/*
 * server.h — the HTTP transport: libmicrohttpd serving cc_app's routes.
 *
 * A small pool of event-loop threads (one per core unless set) serves every
 * connection.  A request that must wait — for the group commit of its
 * anti-slashing record — is parked with cc_http_defer (http.h) and resumed
 * on its connection's thread when the record is durable, so waiting costs no
 * thread and the pool spends its time parsing and signing.  Keep-alive
 * connections are reused; bodies are capped (CC_HTTP_MAX_BODY) so nobody can
 * make us buffer without bound.
 */
#ifndef CC_SERVER_H
#define CC_SERVER_H

#include <stdint.h>

#include "api/http.h"
#include "util/err.h"

#define CC_HTTP_MAX_BODY (8u * 1024 * 1024)

typedef struct cc_server cc_server;

/* Sets the number of event-loop threads of servers started afterwards (0: one per core). */
void cc_server_set_pool_size(unsigned threads);

/* Answers one request, on the connection's thread; must not block for long (defer instead). */
typedef void (*cc_http_handler)(void *ctx, const cc_http_request *req, cc_http_response *res);

/* Starts serving handler on address:port (IPv4 or IPv6 literal; port 0 picks a free one). */
cc_status cc_server_start(cc_http_handler handler, void *ctx, const char *address, uint16_t port,
                          cc_server **out, cc_error *err);
/* The port actually bound. */
uint16_t cc_server_port(const cc_server *srv);
/* Stops accepting, finishes in-flight requests, frees (also every retired TLS daemon). */
void cc_server_stop(cc_server *srv);

/*
 * HTTPS.  The PEM texts are NUL-terminated and copied (the key into secret
 * memory).  client_ca_pem NULL: no client certificate is asked for; set: the
 * handshake fails unless the client presents a certificate chaining to it.
 */
typedef struct cc_server_tls {
    const char *cert_pem;      /* certificate chain, leaf first */
    const char *key_pem;       /* private key (secret) */
    const char *client_ca_pem; /* NULL, or the CA certificate(s) clients must chain to */
} cc_server_tls;

/* As cc_server_start, over TLS (TLS 1.2 and 1.3). */
cc_status cc_server_start_tls(cc_http_handler handler, void *ctx, const char *address, uint16_t port,
                              const cc_server_tls *tls, cc_server **out, cc_error *err);

/*
 * New connections get the new certificate; nothing is dropped.  The listening
 * socket moves from the current daemon (quiesced: it accepts no more) to a
 * daemon started with tls; the old daemon finishes its connections (their
 * responses say Connection: close) and is stopped by cc_server_tls_reap once
 * idle (and at least 2 s after the swap), or CC_TLS_RETIRE_GRACE_SECONDS
 * after the swap at the latest (a connection still open then is closed).  If the
 * TLS library refuses tls, nothing changes and the old certificate keeps
 * serving.  Not thread-safe against cc_server_stop: one caller (the watcher).
 */
#define CC_TLS_RETIRE_GRACE_SECONDS 330
cc_status cc_server_tls_swap(cc_server *srv, const cc_server_tls *tls, cc_error *err);
/* Stops retired daemons that are idle or past their grace period. */
void cc_server_tls_reap(cc_server *srv);

#endif
