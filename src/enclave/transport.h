/*
 * transport.h — stream sockets by address, behind one interface, so the
 * enclave's vsock links have a TCP stand-in where there is no vsock
 * loopback (build machines: NOTES §8.5).
 *
 *   "tcp:HOST:PORT"      IPv4/IPv6 literal or name (transport_tcp.c)
 *   "vsock:CID:PORT"     AF_VSOCK (transport_vsock.c); CID 3 is the parent,
 *                        -1 (VMADDR_CID_ANY) to listen on any
 *
 *   const cc_transport_ops *t; cc_transport_addr a;
 *   cc_transport_parse("vsock:3:8000", &t, &a, &err);
 *   int fd; t->connect(&a, timeout_ms, &fd, &err);   or   t->listen(&a, backlog, &fd, &err)
 *
 * Descriptors are plain blocking stream sockets (close(2) them); listening
 * ones report their bound port through t->bound_port (port 0 = any).
 */
#ifndef CC_ENCLAVE_TRANSPORT_H
#define CC_ENCLAVE_TRANSPORT_H

#include <stdint.h>

#include "util/err.h"

typedef struct cc_transport_addr {
    char host[256];   /* tcp: host; vsock: unused */
    int64_t cid;      /* vsock: context id (-1 = any) */
    uint32_t port;
    char text[300];   /* as given, for messages */
} cc_transport_addr;

typedef struct cc_transport_ops {
    const char *name; /* "tcp" | "vsock" */
    cc_status (*listen)(const cc_transport_addr *a, int backlog, int *fd, cc_error *err);
    cc_status (*connect)(const cc_transport_addr *a, int timeout_ms, int *fd, cc_error *err);
    uint32_t (*bound_port)(int fd);
} cc_transport_ops;

extern const cc_transport_ops cc_transport_tcp;
extern const cc_transport_ops cc_transport_vsock;

/* Parses "tcp:HOST:PORT" / "vsock:CID:PORT" ([v6]:PORT for IPv6 literals). */
cc_status cc_transport_parse(const char *text, const cc_transport_ops **ops, cc_transport_addr *addr, cc_error *err);

#endif
