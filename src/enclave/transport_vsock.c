/*
 * transport_vsock.c — AF_VSOCK (transport.h).  Inside an enclave the parent
 * is CID 3 (VMADDR_CID_HOST); the enclave's own CID is set by
 * `nitro-cli run-enclave --enclave-cid`.  Build machines have /dev/vsock
 * without the loopback transport, so only socket/bind/listen can run here
 * (binding CID 1 fails with EADDRNOTAVAIL); tests use the TCP transport.
 */
#include "enclave/transport.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include <linux/vm_sockets.h>

static void fill(const cc_transport_addr *a, struct sockaddr_vm *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->svm_family = AF_VSOCK;
    sa->svm_cid = a->cid < 0 ? VMADDR_CID_ANY : (unsigned)a->cid;
    sa->svm_port = a->port ? a->port : VMADDR_PORT_ANY; /* port 0 = any, as with TCP */
}

static cc_status vs_listen(const cc_transport_addr *a, int backlog, int *fd, cc_error *err)
{
    struct sockaddr_vm sa;
    fill(a, &sa);
    int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return cc_error_set(err, CC_EIO, "%s: no AF_VSOCK here: %s", a->text, strerror(errno));
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(s, backlog) != 0) {
        cc_status st = cc_error_set(err, CC_EIO, "%s: cannot listen: %s", a->text, strerror(errno));
        close(s);
        return st;
    }
    *fd = s;
    return CC_OK;
}

static cc_status vs_connect(const cc_transport_addr *a, int timeout_ms, int *fd, cc_error *err)
{
    struct sockaddr_vm sa;
    fill(a, &sa);
    int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return cc_error_set(err, CC_EIO, "%s: no AF_VSOCK here: %s", a->text, strerror(errno));
    int rc = connect(s, (struct sockaddr *)&sa, sizeof sa);
    if (rc != 0 && errno == EINPROGRESS) {
        struct pollfd p = {s, POLLOUT, 0};
        int e = 0;
        socklen_t el = sizeof e;
        rc = poll(&p, 1, timeout_ms) == 1 && getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0 ? 0 : -1;
        if (rc != 0)
            errno = e ? e : ETIMEDOUT;
    }
    if (rc != 0) {
        cc_status st = cc_error_set(err, CC_EIO, "%s: cannot connect: %s", a->text, strerror(errno));
        close(s);
        return st;
    }
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK);
    *fd = s;
    return CC_OK;
}

static uint32_t vs_bound_port(int fd)
{
    struct sockaddr_vm sa;
    socklen_t l = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &l) != 0)
        return 0;
    return sa.svm_port;
}

const cc_transport_ops cc_transport_vsock = {"vsock", vs_listen, vs_connect, vs_bound_port};
