/*
 * relay.c — accept threads and one pump thread per relayed connection
 * (relay.h).  Pumps poll both sockets and copy through a 16 KiB buffer;
 * an EOF on one side becomes shutdown(SHUT_WR) on the other, and the pump
 * ends when both directions are done or on any error.  cc_relay_stop wakes
 * the accept threads through a pipe and shuts every live socket down, then
 * waits for every pump (they end at once: their reads return 0).
 */
#include "enclave/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "enclave/transport.h"
#include "util/log.h"

#define BUF 16384
#define CONNECT_TIMEOUT_MS 5000

typedef struct conn conn;

typedef struct route {
    struct cc_relay *relay;
    size_t index;
    char name[33];
    const cc_transport_ops *lops, *cops;
    cc_transport_addr laddr, caddr;
    int lfd;
    uint32_t port;
    pthread_t thread;
    int started;
    unsigned long accepted;
    unsigned live; /* under relay->lock */
} route;

struct conn {
    route *rt;
    int a, b; /* a: accepted side, b: destination */
    unsigned long n;
    conn *next;
};

struct cc_relay {
    route routes[CC_RELAY_MAX_ROUTES];
    size_t n;
    char capture_dir[512];
    int wake[2];
    pthread_mutex_t lock;
    pthread_cond_t idle;
    int stopping;
    unsigned live;
    conn *conns; /* live connections (under lock) */
};

static int name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 32)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_'))
            return 0;
    return 1;
}

static FILE *capture_open(const conn *c, const char *dir)
{
    if (!c->rt->relay->capture_dir[0])
        return NULL;
    char path[700];
    snprintf(path, sizeof path, "%s/%s.%lu.%s", c->rt->relay->capture_dir, c->rt->name, c->n, dir);
    return fopen(path, "ab");
}

static void *pump(void *arg)
{
    conn *c = arg;
    cc_relay *r = c->rt->relay;
    FILE *up = capture_open(c, "up"), *down = capture_open(c, "down");
    char *buf = malloc(BUF);
    int open_ab = 1, open_ba = 1; /* a→b (up), b→a (down) */
    while (buf && (open_ab || open_ba)) {
        /* a finished direction is left out (fd -1), so its POLLHUP cannot spin the loop */
        struct pollfd p[2] = {{open_ab ? c->a : -1, POLLIN, 0}, {open_ba ? c->b : -1, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        int fail = 0;
        for (int i = 0; i < 2 && !fail; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int from = i == 0 ? c->a : c->b, to = i == 0 ? c->b : c->a;
            ssize_t k = read(from, buf, BUF);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                if (k < 0)
                    fail = 1;
                shutdown(to, SHUT_WR);
                if (i == 0)
                    open_ab = 0;
                else
                    open_ba = 0;
                continue;
            }
            FILE *cap = i == 0 ? up : down;
            if (cap)
                fwrite(buf, 1, (size_t)k, cap);
            for (ssize_t off = 0; off < k;) {
                ssize_t w = send(to, buf + off, (size_t)(k - off), MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0) {
                    fail = 1;
                    break;
                }
                off += w;
            }
        }
        if (fail)
            break;
    }
    free(buf);
    if (up)
        fclose(up);
    if (down)
        fclose(down);
    pthread_mutex_lock(&r->lock);
    for (conn **pp = &r->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    close(c->a);
    close(c->b);
    c->rt->live--;
    free(c);
    if (--r->live == 0)
        pthread_cond_broadcast(&r->idle);
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

static void *accepter(void *arg)
{
    route *rt = arg;
    cc_relay *r = rt->relay;
    for (;;) {
        struct pollfd p[2] = {{rt->lfd, POLLIN, 0}, {r->wake[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        int a = accept4(rt->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (a < 0)
            continue;
        pthread_mutex_lock(&r->lock);
        int full = r->stopping || rt->live >= CC_RELAY_MAX_CONNS;
        pthread_mutex_unlock(&r->lock);
        int b = -1;
        cc_error err;
        cc_error_clear(&err);
        if (full || rt->cops->connect(&rt->caddr, CONNECT_TIMEOUT_MS, &b, &err) != CC_OK) {
            cc_log(CC_LOG_WARN, "relay: connection refused", "route", rt->name, "to", rt->caddr.text, "reason",
                   full ? "too many connections or stopping" : err.msg, NULL);
            close(a);
            continue;
        }
        conn *c = calloc(1, sizeof *c);
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_mutex_lock(&r->lock);
        int ok = 0;
        if (c) {
            *c = (conn){rt, a, b, ++rt->accepted, r->conns};
            pthread_t t;
            r->live++;
            rt->live++;
            if (pthread_create(&t, &at, pump, c) == 0) {
                r->conns = c;
                ok = 1;
            } else {
                r->live--;
                rt->live--;
            }
        }
        pthread_mutex_unlock(&r->lock);
        pthread_attr_destroy(&at);
        if (!ok) {
            free(c);
            close(a);
            close(b);
        }
    }
    return NULL;
}

cc_status cc_relay_start(const cc_relay_route *routes, size_t n, const char *capture_dir, cc_relay **out,
                         cc_error *err)
{
    *out = NULL;
    if (n < 1 || n > CC_RELAY_MAX_ROUTES)
        return cc_error_set(err, CC_EINVAL, "relay: 1 to %d routes, not %zu", CC_RELAY_MAX_ROUTES, n);
    cc_relay *r = calloc(1, sizeof *r);
    if (!r)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->idle, NULL);
    r->wake[0] = r->wake[1] = -1;
    if (capture_dir)
        snprintf(r->capture_dir, sizeof r->capture_dir, "%s", capture_dir);
    cc_status st = CC_OK;
    if (pipe2(r->wake, O_CLOEXEC) != 0) {
        st = cc_error_set(err, CC_EIO, "relay: pipe: %s", strerror(errno));
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        route *rt = &r->routes[i];
        rt->relay = r;
        rt->index = i;
        rt->lfd = -1;
        r->n = i + 1;
        if (!name_ok(routes[i].name)) {
            st = cc_error_set(err, CC_EINVAL, "routes[%zu].name: 1 to 32 of [A-Za-z0-9_-]", i);
            goto fail;
        }
        snprintf(rt->name, sizeof rt->name, "%s", routes[i].name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->routes[j].name, rt->name) == 0) {
                st = cc_error_set(err, CC_EINVAL, "routes[%zu].name: %s is used twice", i, rt->name);
                goto fail;
            }
        if ((st = cc_transport_parse(routes[i].listen, &rt->lops, &rt->laddr, err)) != CC_OK ||
            (st = cc_transport_parse(routes[i].connect, &rt->cops, &rt->caddr, err)) != CC_OK) {
            cc_error_prefix(err, "routes[%zu] (%s)", i, rt->name);
            goto fail;
        }
        if ((st = rt->lops->listen(&rt->laddr, 128, &rt->lfd, err)) != CC_OK) {
            cc_error_prefix(err, "routes[%zu] (%s).listen", i, rt->name);
            goto fail;
        }
        rt->port = rt->lops->bound_port(rt->lfd);
    }
    for (size_t i = 0; i < n; i++) {
        route *rt = &r->routes[i];
        if (pthread_create(&rt->thread, NULL, accepter, rt) != 0) {
            st = cc_error_set(err, CC_EIO, "relay: cannot start a thread");
            goto fail;
        }
        rt->started = 1;
        char port[16];
        snprintf(port, sizeof port, "%u", (unsigned)rt->port);
        cc_log(CC_LOG_INFO, "relay route", "route", rt->name, "listen", rt->laddr.text, "port", port, "to",
               rt->caddr.text, NULL);
    }
    *out = r;
    return CC_OK;
fail:
    cc_relay_stop(r);
    return st;
}

cc_status cc_relay_route_parse(char *buf, cc_relay_route *out, cc_error *err)
{
    char *save = NULL, *f[4] = {NULL, NULL, NULL, NULL};
    int n = 0;
    for (char *t = strtok_r(buf, " \t", &save); t && n < 4; t = strtok_r(NULL, " \t", &save))
        f[n++] = t;
    if (n != 3)
        return cc_error_set(err, CC_EINVAL, "expected \"NAME LISTEN CONNECT\"");
    *out = (cc_relay_route){f[0], f[1], f[2]};
    return CC_OK;
}

uint32_t cc_relay_port(const cc_relay *r, size_t i) { return i < r->n ? r->routes[i].port : 0; }

unsigned long cc_relay_connections(cc_relay *r, size_t i)
{
    pthread_mutex_lock(&r->lock);
    unsigned long n = i < r->n ? r->routes[i].accepted : 0;
    pthread_mutex_unlock(&r->lock);
    return n;
}

void cc_relay_stop(cc_relay *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = 1;
    pthread_mutex_unlock(&r->lock);
    if (r->wake[1] >= 0 && write(r->wake[1], "x", 1) < 0) {
        /* nothing to do: the accept threads then end at their next wake-up */
    }
    for (size_t i = 0; i < r->n; i++)
        if (r->routes[i].started)
            pthread_join(r->routes[i].thread, NULL);
    pthread_mutex_lock(&r->lock);
    for (conn *c = r->conns; c; c = c->next) {
        shutdown(c->a, SHUT_RDWR);
        shutdown(c->b, SHUT_RDWR);
    }
    while (r->live)
        pthread_cond_wait(&r->idle, &r->lock);
    pthread_mutex_unlock(&r->lock);
    for (size_t i = 0; i < r->n; i++)
        if (r->routes[i].lfd >= 0)
            close(r->routes[i].lfd);
    if (r->wake[0] >= 0)
        close(r->wake[0]);
    if (r->wake[1] >= 0)
        close(r->wake[1]);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->idle);
    free(r);
}
