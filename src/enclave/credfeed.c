/*
 * credfeed.c — the parent's credential feed (credfeed.h): a lifetime cap
 * over the parent's chain, the cache, and a one-route HTTP/1.1 server.
 */
#include "enclave/credfeed.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <linux/vm_sockets.h>

#include "enclave/transport.h"
#include "util/log.h"
#include "util/secret.h"

#define REQ_MAX 8192
#define RECV_TIMEOUT_S 2
#define POLL_MS 250

/* ---------------------------------------------------------------- the lifetime cap */

typedef struct capped_provider {
    cc_aws_credentials_provider base;
    cc_aws_credentials_provider *inner;
    unsigned lifetime;
} capped_provider;

static cc_status capped_fetch(cc_aws_credentials_provider *p, cc_aws_credentials **out, cc_error *err)
{
    capped_provider *c = (capped_provider *)p;
    cc_status st = c->inner->ops->fetch(c->inner, out, err);
    if (st != CC_OK)
        return st;
    time_t cap = time(NULL) + (time_t)c->lifetime;
    if ((*out)->expiration == 0 || (*out)->expiration > cap)
        (*out)->expiration = cap;
    return CC_OK;
}

static void capped_free(cc_aws_credentials_provider *p)
{
    capped_provider *c = (capped_provider *)p;
    cc_aws_credentials_provider_free(c->inner);
    free(c);
}

static const cc_aws_credentials_provider_ops capped_ops = {"capped", capped_fetch, capped_free};

cc_status cc_credfeed_capped_new(cc_aws_credentials_provider *inner, unsigned lifetime_seconds,
                                 cc_aws_credentials_provider **out, cc_error *err)
{
    *out = NULL;
    if (lifetime_seconds < CC_CREDFEED_LIFETIME_MIN || lifetime_seconds > CC_CREDFEED_LIFETIME_MAX) {
        cc_aws_credentials_provider_free(inner);
        return cc_error_set(err, CC_ECONFIG, "credentials.lifetime_seconds: must be %d..%d", CC_CREDFEED_LIFETIME_MIN,
                            CC_CREDFEED_LIFETIME_MAX);
    }
    capped_provider *c = calloc(1, sizeof *c);
    if (!c) {
        cc_aws_credentials_provider_free(inner);
        return cc_error_set(err, CC_ENOMEM, "credential feed: out of memory");
    }
    c->base.ops = &capped_ops;
    c->inner = inner;
    c->lifetime = lifetime_seconds;
    *out = &c->base;
    return CC_OK;
}

/* ---------------------------------------------------------------- one answer */

/* Printable ASCII without '"' and '\\': what AWS key ids, secrets and tokens are made of. */
static int json_safe(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
            return 0;
    return 1;
}

static cc_status plain(const char *status_line, char **resp, size_t *resp_len, size_t *resp_size, cc_error *err)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s\n", status_line, strlen(status_line) + 1, status_line);
    *resp = cc_secret_alloc((size_t)n + 1);
    if (!*resp)
        return cc_error_set(err, CC_ENOMEM, "credential feed: out of memory");
    memcpy(*resp, buf, (size_t)n + 1);
    *resp_len = (size_t)n;
    *resp_size = (size_t)n + 1;
    return CC_OK;
}

cc_status cc_credfeed_answer(cc_aws_credentials_provider *p, const char *request, size_t len, char **resp,
                             size_t *resp_len, size_t *resp_size, cc_error *err)
{
    *resp = NULL;
    *resp_len = *resp_size = 0;
    const char *eol = memchr(request, '\n', len);
    if (!eol)
        return plain("400 Bad Request", resp, resp_len, resp_size, err);
    char line[256];
    size_t ll = (size_t)(eol - request);
    if (ll && request[ll - 1] == '\r')
        ll--;
    if (ll >= sizeof line)
        return plain("400 Bad Request", resp, resp_len, resp_size, err);
    memcpy(line, request, ll);
    line[ll] = '\0';
    char method[16], target[200], version[16], extra;
    if (sscanf(line, "%15s %199s %15s %c", method, target, version, &extra) != 3 ||
        strncmp(version, "HTTP/1.", 7) != 0)
        return plain("400 Bad Request", resp, resp_len, resp_size, err);
    if (strcmp(target, "/credentials") != 0)
        return plain("404 Not Found", resp, resp_len, resp_size, err);
    if (strcmp(method, "GET") != 0)
        return plain("405 Method Not Allowed", resp, resp_len, resp_size, err);

    cc_aws_credentials *c = NULL;
    cc_error e;
    cc_error_clear(&e);
    if (cc_aws_credentials_get(p, &c, &e) != CC_OK) {
        cc_log(CC_LOG_ERROR, "credential feed: the parent's credential chain failed", "error", e.msg, NULL);
        return plain("503 Service Unavailable", resp, resp_len, resp_size, err);
    }
    const char *tok = c->session_token ? c->session_token : "";
    if (!json_safe(c->access_key_id) || !json_safe(c->secret_access_key) || !json_safe(tok)) {
        cc_aws_credentials_free(c);
        cc_log(CC_LOG_ERROR, "credential feed: the source credentials hold characters AWS never issues", NULL);
        return plain("503 Service Unavailable", resp, resp_len, resp_size, err);
    }
    char exp[32];
    struct tm tm;
    gmtime_r(&c->expiration, &tm);
    strftime(exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    static const char fmt_body[] =
        "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"%s\",\"SecretAccessKey\":\"%s\","
        "\"Token\":\"%s\",\"Expiration\":\"%s\"}";
    static const char fmt_head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                                   "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
    size_t body_len = sizeof fmt_body - 9 + strlen(c->access_key_id) + strlen(c->secret_access_key) + strlen(tok) +
                      strlen(exp);
    size_t size = body_len + sizeof fmt_head + 32;
    char *out = cc_secret_alloc(size);
    if (!out) {
        cc_aws_credentials_free(c);
        return cc_error_set(err, CC_ENOMEM, "credential feed: out of memory");
    }
    int h = snprintf(out, size, fmt_head, body_len);
    int b = h < 0 ? -1
                  : snprintf(out + h, size - (size_t)h, fmt_body, c->access_key_id, c->secret_access_key, tok, exp);
    cc_aws_credentials_free(c);
    if (h < 0 || b < 0 || (size_t)b != body_len || (size_t)(h + b) >= size) {
        cc_secret_free(out, size);
        return cc_error_set(err, CC_EINTERNAL, "credential feed: answer length mismatch");
    }
    *resp = out;
    *resp_len = (size_t)(h + b);
    *resp_size = size;
    return CC_OK;
}

/* ---------------------------------------------------------------- the server */

struct cc_credfeed {
    cc_aws_credentials_provider *creds; /* cached(capped(source)) */
    int fd;
    uint32_t port;
    int64_t enclave_cid;
    char listen[300];
    atomic_int stop;
    atomic_ulong served;
    pthread_t thread;
};

/* 1 if the peer may ask; *who names it for the log. */
int cc_credfeed_peer_allowed(int64_t enclave_cid, int fd, char *who, size_t who_len)
{
    struct sockaddr_storage ss;
    socklen_t l = sizeof ss;
    snprintf(who, who_len, "?");
    if (getpeername(fd, (struct sockaddr *)&ss, &l) != 0)
        return 0;
    if (ss.ss_family == AF_VSOCK) {
        const struct sockaddr_vm *v = (const struct sockaddr_vm *)&ss;
        snprintf(who, who_len, "vsock:%u", v->svm_cid);
        return enclave_cid < 0 || (int64_t)v->svm_cid == enclave_cid;
    }
    char a[INET6_ADDRSTRLEN] = "?";
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
        snprintf(who, who_len, "tcp:%s", a);
        return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
        snprintf(who, who_len, "tcp:[%s]", a);
        if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127;
    }
    return 0;
}

static void serve_one(cc_credfeed *f, int c)
{
    char who[80];
    if (!cc_credfeed_peer_allowed(f->enclave_cid, c, who, sizeof who)) {
        cc_log(CC_LOG_WARN, "credential feed: connection refused (not the enclave)", "peer", who, NULL);
        return;
    }
    struct timeval tv = {RECV_TIMEOUT_S, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char req[REQ_MAX];
    size_t len = 0;
    time_t deadline = time(NULL) + 2 * RECV_TIMEOUT_S; /* a dribbling peer cannot hold the feed longer */
    while (len < sizeof req - 1 && time(NULL) <= deadline) {
        ssize_t n = recv(c, req + len, sizeof req - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
            break;
    }
    if (len == 0)
        return;
    char *resp;
    size_t rl, rs;
    cc_error err;
    if (cc_credfeed_answer(f->creds, req, len, &resp, &rl, &rs, &err) != CC_OK) {
        cc_log(CC_LOG_ERROR, "credential feed: no answer", "error", err.msg, NULL);
        return;
    }
    size_t off = 0;
    while (off < rl) {
        ssize_t n = send(c, resp + off, rl - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    if (off == rl && strncmp(resp, "HTTP/1.1 200", 12) == 0)
        atomic_fetch_add(&f->served, 1);
    cc_secret_free(resp, rs);
}

static void *feed_thread(void *arg)
{
    cc_credfeed *f = arg;
    while (!atomic_load(&f->stop)) {
        struct pollfd p = {f->fd, POLLIN, 0};
        int r = poll(&p, 1, POLL_MS);
        if (r <= 0)
            continue;
        int c = accept4(f->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        serve_one(f, c);
        close(c);
    }
    return NULL;
}

cc_status cc_credfeed_start(const cc_credfeed_options *o, cc_aws_credentials_provider *source, cc_credfeed **out,
                            cc_error *err)
{
    *out = NULL;
    cc_aws_credentials_provider *capped = NULL, *cached = NULL;
    cc_status st = cc_credfeed_capped_new(source, o->lifetime_seconds, &capped, err);
    if (st != CC_OK)
        return st;
    if ((st = cc_aws_credentials_cached_new(capped, &cached, err)) != CC_OK)
        return st;
    const cc_transport_ops *ops;
    cc_transport_addr a;
    if ((st = cc_transport_parse(o->listen, &ops, &a, err)) != CC_OK) {
        cc_aws_credentials_provider_free(cached);
        return cc_error_prefix(err, "credentials.listen");
    }
    cc_credfeed *f = calloc(1, sizeof *f);
    if (!f) {
        cc_aws_credentials_provider_free(cached);
        return cc_error_set(err, CC_ENOMEM, "credential feed: out of memory");
    }
    f->creds = cached;
    f->enclave_cid = o->enclave_cid;
    snprintf(f->listen, sizeof f->listen, "%s", o->listen);
    if ((st = ops->listen(&a, 16, &f->fd, err)) != CC_OK) {
        cc_aws_credentials_provider_free(cached);
        free(f);
        return cc_error_prefix(err, "credentials.listen");
    }
    f->port = ops->bound_port(f->fd);
    if (pthread_create(&f->thread, NULL, feed_thread, f) != 0) {
        close(f->fd);
        cc_aws_credentials_provider_free(cached);
        free(f);
        return cc_error_set(err, CC_EIO, "credential feed: cannot start a thread");
    }
    char port[16], life[16];
    snprintf(port, sizeof port, "%u", f->port);
    snprintf(life, sizeof life, "%u", o->lifetime_seconds);
    cc_log(CC_LOG_INFO, "credential feed listening", "listen", o->listen, "port", port, "lifetime_seconds", life, NULL);
    *out = f;
    return CC_OK;
}

uint32_t cc_credfeed_port(const cc_credfeed *f)
{
    return f->port;
}

unsigned long cc_credfeed_served(cc_credfeed *f)
{
    return atomic_load(&f->served);
}

void cc_credfeed_stop(cc_credfeed *f)
{
    if (!f)
        return;
    atomic_store(&f->stop, 1);
    pthread_join(f->thread, NULL);
    close(f->fd);
    cc_aws_credentials_provider_free(f->creds);
    free(f);
}
