/*
 * bench_floor.c — the cheapest HTTP signer this machine can run: the ceiling
 * any implementation of the signing API could reach here, measured so the
 * signer's own ratio can be read against it (docs/benchmarks.md, "The floor").
 *
 * It is deliberately not a signer: it keeps HTTP/1.1 keep-alive connections
 * on T threads (default: online CPUs), each with its own epoll set and its
 * own SO_REUSEPORT listening socket (the kernel spreads connections; no
 * hand-off between threads, no locks), reads one request (headers +
 * Content-Length body), signs SHA-256(body) with blst through cc_bls_sign
 * using one of K keys, and answers {"signature":"0x<192 hex>"}.  No JSON
 * tree, no SSZ, no anti-slashing record, no logging: what remains is the
 * TCP round trip, the HTTP framing and the signature — the costs every remote
 * signer pays whatever its design.
 *
 *   build/bench/bench_floor --port P [--threads T] [--keys K]
 *
 * Prints "listening on 127.0.0.1:P" once every thread listens; runs until
 * SIGTERM/SIGINT, then prints "RESULT floor_requests=N".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "signing/bls.h"
#include "util/secret.h"

#define IN_CAP 16384

typedef struct conn {
    int fd;
    size_t in_len;
    char in[IN_CAP];
} conn;

static cc_bls_sk *g_keys; /* K keys in secret memory */
static unsigned g_nkeys = 1000;
static int g_port;
static atomic_ullong g_served;
static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int listen_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1024) != 0) {
        perror("bench_floor: listen");
        exit(1);
    }
    return fd;
}

/* Length of one complete request at the start of c->in, 0 if incomplete, -1 if malformed. */
static long request_len(const conn *c, const char **body, size_t *body_len)
{
    const char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end)
        return c->in_len >= IN_CAP ? -1 : 0;
    size_t hlen = (size_t)(end - c->in) + 4, cl = 0;
    for (const char *p = c->in; p < end; p++) {
        if ((p == c->in || p[-1] == '\n') && strncasecmp(p, "Content-Length:", 15) == 0) {
            cl = strtoul(p + 15, NULL, 10);
            break;
        }
    }
    if (hlen + cl > IN_CAP)
        return -1;
    if (c->in_len < hlen + cl)
        return 0;
    *body = c->in + hlen;
    *body_len = cl;
    return (long)(hlen + cl);
}

static void answer(conn *c, const char *body, size_t body_len, unsigned key)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t root[32], sig[CC_BLS_SIG_LEN];
    SHA256((const unsigned char *)body, body_len, root);
    cc_bls_sign(&g_keys[key % g_nkeys], root, sizeof root, sig);
    char out[512], json[256];
    int jl = snprintf(json, sizeof json, "{\"signature\":\"0x");
    for (int i = 0; i < CC_BLS_SIG_LEN; i++) {
        json[jl++] = hex[sig[i] >> 4];
        json[jl++] = hex[sig[i] & 15];
    }
    jl += snprintf(json + jl, sizeof json - (size_t)jl, "\"}");
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", jl, json);
    for (int off = 0; off < n;) {
        ssize_t w = send(c->fd, out + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the client went away; its read side notices */
        off += (int)w;
    }
}

static void *serve(void *arg)
{
    (void)arg;
    int lfd = listen_socket(), ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    unsigned key = 0;
    struct epoll_event evs[64];
    while (!g_stop) {
        int n = epoll_wait(ep, evs, 64, 200);
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
                }
                continue;
            }
            ssize_t r = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
            if (r <= 0) {
                if (r < 0 && (errno == EAGAIN || errno == EINTR))
                    continue;
                close(c->fd);
                free(c);
                continue;
            }
            c->in_len += (size_t)r;
            const char *body;
            size_t body_len;
            long len;
            while ((len = request_len(c, &body, &body_len)) > 0) {
                answer(c, body, body_len, key++);
                atomic_fetch_add(&g_served, 1);
                memmove(c->in, c->in + len, c->in_len - (size_t)len);
                c->in_len -= (size_t)len;
            }
            if (len < 0) {
                close(c->fd);
                free(c);
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned threads = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            g_port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--keys") == 0)
            g_nkeys = (unsigned)atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: bench_floor --port P [--threads T] [--keys K]\n");
            return 2;
        }
    }
    if (g_port <= 0 || threads == 0 || g_nkeys == 0) {
        fprintf(stderr, "usage: bench_floor --port P [--threads T] [--keys K]\n");
        return 2;
    }
    cc_secret_init();
    g_keys = cc_secret_alloc(sizeof *g_keys * g_nkeys);
    if (!g_keys) {
        fprintf(stderr, "bench_floor: cannot allocate %u keys in secret memory\n", g_nkeys);
        return 1;
    }
    for (unsigned i = 0; i < g_nkeys; i++) {
        uint8_t be[32] = {0};
        be[0] = 0x01; /* below r */
        be[28] = (uint8_t)(i >> 24), be[29] = (uint8_t)(i >> 16), be[30] = (uint8_t)(i >> 8), be[31] = (uint8_t)i;
        cc_error err = {0};
        if (cc_bls_sk_from_bytes(&g_keys[i], be, &err) != CC_OK) {
            fprintf(stderr, "bench_floor: key %u: %s\n", i, err.msg);
            return 1;
        }
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pthread_t *tids = calloc(threads, sizeof *tids);
    for (unsigned i = 0; i < threads; i++)
        pthread_create(&tids[i], NULL, serve, NULL);
    usleep(100 * 1000);
    printf("listening on 127.0.0.1:%d (%u threads, %u keys)\n", g_port, threads, g_nkeys);
    fflush(stdout);
    for (unsigned i = 0; i < threads; i++)
        pthread_join(tids[i], NULL);
    printf("RESULT floor_requests=%llu\n", (unsigned long long)atomic_load(&g_served));
    return 0;
}
