/*
 * transport_tcp.c — the TCP transport (transport.h), and the address parser.
 */
#include "enclave/transport.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

cc_status cc_transport_parse(const char *text, const cc_transport_ops **ops, cc_transport_addr *a, cc_error *err)
{
    memset(a, 0, sizeof *a);
    if (!text || strlen(text) >= sizeof a->text)
        return cc_error_set(err, CC_EINVAL, "address: empty or too long");
    snprintf(a->text, sizeof a->text, "%s", text);
    const char *rest;
    int vsock = 0;
    if (strncmp(text, "tcp:", 4) == 0)
        rest = text + 4;
    else if (strncmp(text, "vsock:", 6) == 0) {
        rest = text + 6;
        vsock = 1;
    } else
        return cc_error_set(err, CC_EINVAL, "address %s: expected tcp:HOST:PORT or vsock:CID:PORT", text);
    const char *colon = strrchr(rest, ':');
    if (!colon || colon == rest)
        return cc_error_set(err, CC_EINVAL, "address %s: expected ...:PORT", text);
    char *end = NULL;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || port > (vsock ? 0xffffffffUL : 65535UL))
        return cc_error_set(err, CC_EINVAL, "address %s: bad port", text);
    a->port = (uint32_t)port;
    size_t hl = (size_t)(colon - rest);
    if (vsock) {
        char cid[32];
        if (hl >= sizeof cid)
            return cc_error_set(err, CC_EINVAL, "address %s: bad CID", text);
        memcpy(cid, rest, hl);
        cid[hl] = '\0';
        long long c = strtoll(cid, &end, 10);
        if (*end || c < -1 || c > 0xffffffffLL)
            return cc_error_set(err, CC_EINVAL, "address %s: bad CID", text);
        a->cid = c;
        *ops = &cc_transport_vsock;
        return CC_OK;
    }
    if (rest[0] == '[') { /* [v6]:port */
        if (hl < 3 || rest[hl - 1] != ']')
            return cc_error_set(err, CC_EINVAL, "address %s: bad IPv6 literal", text);
        rest++;
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof a->host)
        return cc_error_set(err, CC_EINVAL, "address %s: bad host", text);
    memcpy(a->host, rest, hl);
    a->host[hl] = '\0';
    *ops = &cc_transport_tcp;
    return CC_OK;
}

static cc_status resolve(const cc_transport_addr *a, int passive, struct addrinfo **res, cc_error *err)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    char port[16];
    snprintf(port, sizeof port, "%u", (unsigned)a->port);
    int rc = getaddrinfo(a->host, port, &hints, res);
    if (rc != 0)
        return cc_error_set(err, CC_EIO, "%s: cannot resolve: %s", a->text, gai_strerror(rc));
    return CC_OK;
}

static cc_status tcp_listen(const cc_transport_addr *a, int backlog, int *fd, cc_error *err)
{
    struct addrinfo *res = NULL;
    cc_status st = resolve(a, 1, &res, err);
    if (st != CC_OK)
        return st;
    int s = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(s, res->ai_addr, res->ai_addrlen) != 0 || listen(s, backlog) != 0) {
        st = cc_error_set(err, CC_EIO, "%s: cannot listen: %s", a->text, strerror(errno));
        if (s >= 0)
            close(s);
    } else {
        *fd = s;
    }
    freeaddrinfo(res);
    return st;
}

static cc_status tcp_connect(const cc_transport_addr *a, int timeout_ms, int *fd, cc_error *err)
{
    struct addrinfo *res = NULL;
    cc_status st = resolve(a, 0, &res, err);
    if (st != CC_OK)
        return st;
    st = cc_error_set(err, CC_EIO, "%s: cannot connect", a->text);
    for (struct addrinfo *r = res; r; r = r->ai_next) {
        int s = socket(r->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (s < 0)
            continue;
        int rc = connect(s, r->ai_addr, r->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            struct pollfd p = {s, POLLOUT, 0};
            int e = 0;
            socklen_t el = sizeof e;
            rc = poll(&p, 1, timeout_ms) == 1 && getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0 ? 0 : -1;
            if (rc != 0)
                errno = e ? e : ETIMEDOUT;
        }
        if (rc == 0) {
            int one = 1;
            setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK);
            *fd = s;
            st = CC_OK;
            if (err)
                cc_error_clear(err);
            break;
        }
        st = cc_error_set(err, CC_EIO, "%s: cannot connect: %s", a->text, strerror(errno));
        close(s);
    }
    freeaddrinfo(res);
    return st;
}

static uint32_t tcp_bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t l = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &l) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

const cc_transport_ops cc_transport_tcp = {"tcp", tcp_listen, tcp_connect, tcp_bound_port};
