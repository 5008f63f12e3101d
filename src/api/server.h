/*
 * server.h — the HTTP transport: libmicrohttpd serving cc_app's routes.
 *
 * One thread per connection: a signing request may wait for the group
 * commit of its anti-slashing record, and while it waits other connections'
 * threads keep the cores busy signing.  Keep-alive connections are reused;
 * bodies are capped (CC_HTTP_MAX_BODY) so nobody can make us buffer
 * without bound.
 */
#ifndef CC_SERVER_H
#define CC_SERVER_H

#include <stdint.h>

#include "api/http.h"
#include "util/err.h"

#define CC_HTTP_MAX_BODY (8u * 1024 * 1024)

typedef struct cc_server cc_server;

/* Answers one request; called from the connection's thread. */
typedef void (*cc_http_handler)(void *ctx, const cc_http_request *req, cc_http_response *res);

/* Starts serving handler on address:port (IPv4 or IPv6 literal; port 0 picks a free one). */
cc_status cc_server_start(cc_http_handler handler, void *ctx, const char *address, uint16_t port,
                          cc_server **out, cc_error *err);
/* The port actually bound. */
uint16_t cc_server_port(const cc_server *srv);
/* Stops accepting, finishes in-flight requests, frees. */
void cc_server_stop(cc_server *srv);

#endif
