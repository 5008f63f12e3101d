/*
 * relay.h — byte relays between transports (issue 8 parts 1–2): the parent
 * side moves TCP 9000/9443 to the enclave's vsock ports and the enclave's
 * outbound vsock ports to fixed, allow-listed host:port endpoints; the
 * enclave side moves local TCP ports to the parent over vsock.
 *
 * A route is one listening address and one fixed destination: a relay never
 * chooses where to connect from what it reads, so the routes ARE the
 * allow-list.  It moves opaque bytes and never parses them — TLS to AWS and
 * aTLS to the operators end inside the enclave, so what crosses a relay is
 * TLS records (and plain HTTP signing traffic on 9000, which carries no
 * secret).  At most CC_RELAY_MAX_CONNS connections per route.
 *
 * capture_dir (tests only, NULL otherwise) appends every relayed byte to
 * capture_dir/<route>.<n>.up|down, so a test can show what a relay saw.
 */
#ifndef CC_ENCLAVE_RELAY_H
#define CC_ENCLAVE_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define CC_RELAY_MAX_ROUTES 32
#define CC_RELAY_MAX_CONNS 256

typedef struct cc_relay_route {
    const char *name;    /* [A-Za-z0-9_-]{1,32}: logs and capture files */
    const char *listen;  /* transport address (enclave/transport.h) */
    const char *connect; /* transport address */
} cc_relay_route;

typedef struct cc_relay cc_relay;

cc_status cc_relay_start(const cc_relay_route *routes, size_t n, const char *capture_dir, cc_relay **out,
                         cc_error *err);
/*
 * Parses "NAME LISTEN CONNECT" (single spaces or tabs between the three) into
 * out, pointing into buf (a copy the caller keeps alive).
 */
cc_status cc_relay_route_parse(char *buf, cc_relay_route *out, cc_error *err);

/* The port route i listens on (after port 0). */
uint32_t cc_relay_port(const cc_relay *r, size_t i);
/* Connections relayed so far on route i. */
unsigned long cc_relay_connections(cc_relay *r, size_t i);
/* Stops accepting, closes every relayed connection, waits for the threads. NULL allowed. */
void cc_relay_stop(cc_relay *r);

#endif
