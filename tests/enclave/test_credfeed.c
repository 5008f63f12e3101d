/*
 * test_credfeed.c — the parent's credential feed (src/enclave/credfeed.c):
 * answers by request line; the lifetime cap on long-term and long-lived
 * sources; the container provider (AWS_CONTAINER_CREDENTIALS_FULL_URI on
 * loopback, as inside the enclave) reads exactly the source's keys through
 * the feed; a rotated source reaches a cached container client within the
 * lifetime; a failing source answers 503 and the secrets never reach the
 * log line; a non-loopback, non-vsock peer is refused.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aws/credentials.h"
#include "aws/http.h"
#include "enclave/credfeed.h"
#include "enclave/transport.h"
#include "util/secret.h"
#include "test.h"

/* A source whose keys the test switches: generation 0 → A, 1 → B; fail = 1 → CC_EIO. */
typedef struct switch_provider {
    cc_aws_credentials_provider base;
    atomic_int gen, fail, calls;
    time_t expiration;
} switch_provider;

static cc_status switch_fetch(cc_aws_credentials_provider *p, cc_aws_credentials **out, cc_error *err)
{
    switch_provider *s = (switch_provider *)p;
    atomic_fetch_add(&s->calls, 1);
    if (atomic_load(&s->fail))
        return cc_error_set(err, CC_EIO, "test source down");
    int g = atomic_load(&s->gen);
    return cc_aws_credentials_new(g ? "AKIDBBBBBBBB" : "AKIDAAAAAAAA", g ? "secret/B+key=" : "secret/A+key=",
                                  g ? "token-B" : NULL, s->expiration, "static", out, err);
}
static void switch_free(cc_aws_credentials_provider *p)
{
    free(p);
}
static const cc_aws_credentials_provider_ops switch_ops = {"switch", switch_fetch, switch_free};
static switch_provider *switch_new(void)
{
    switch_provider *s = calloc(1, sizeof *s);
    s->base.ops = &switch_ops;
    return s;
}

static char *answer(cc_aws_credentials_provider *p, const char *req)
{
    char *r;
    size_t rl, rs;
    cc_error err;
    if (cc_credfeed_answer(p, req, strlen(req), &r, &rl, &rs, &err) != CC_OK)
        return NULL;
    char *copy = strndup(r, rl);
    cc_secret_free(r, rs);
    return copy;
}

TEST(answers)
{
    switch_provider *s = switch_new();
    cc_aws_credentials_provider *p = &s->base;
    char *a = answer(p, "GET /credentials HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(a && strncmp(a, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(a && strstr(a, "\"AccessKeyId\":\"AKIDAAAAAAAA\"") && strstr(a, "\"SecretAccessKey\":\"secret/A+key=\"") &&
          strstr(a, "\"Token\":\"\"") && strstr(a, "Cache-Control: no-store"));
    /* Content-Length is the body's length */
    const char *body = a ? strstr(a, "\r\n\r\n") : NULL;
    size_t cl = 0;
    CHECK(a && sscanf(strstr(a, "Content-Length: "), "Content-Length: %zu", &cl) == 1 && body &&
          strlen(body + 4) == cl);
    free(a);
    static const struct {
        const char *req, *status;
    } cases[] = {
        {"GET /other HTTP/1.1\r\n\r\n", "404"},        {"POST /credentials HTTP/1.1\r\n\r\n", "405"},
        {"GET /credentials\r\n\r\n", "400"},           {"garbage", "400"},
        {"GET /credentials/ HTTP/1.1\r\n\r\n", "404"}, {"GET /credentials HTTP/2.0\r\n\r\n", "400"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        a = answer(p, cases[i].req);
        CHECK_MSG(a && strncmp(a + 9, cases[i].status, 3) == 0 && !strstr(a, "AKID"), "%s → %s", cases[i].req,
                  a ? a : "(null)");
        free(a);
    }
    atomic_store(&s->fail, 1);
    a = answer(p, "GET /credentials HTTP/1.1\r\n\r\n");
    CHECK(a && strncmp(a, "HTTP/1.1 503", 12) == 0);
    free(a);
    cc_aws_credentials_provider_free(p);
}

TEST(lifetime_cap)
{
    switch_provider *s = switch_new();
    cc_aws_credentials_provider *p = NULL;
    cc_error err;
    CHECK(cc_credfeed_capped_new(&s->base, 60, &p, &err) == CC_OK);
    cc_aws_credentials *c = NULL;
    time_t now = time(NULL);
    CHECK(cc_aws_credentials_get(p, &c, &err) == CC_OK); /* long-term key: no expiration → capped */
    CHECK(c && c->expiration >= now + 60 && c->expiration <= now + 61);
    cc_aws_credentials_free(c);
    s->expiration = now + 20; /* sooner than the cap: kept */
    CHECK(cc_aws_credentials_get(p, &c, &err) == CC_OK && c->expiration == now + 20);
    cc_aws_credentials_free(c);
    s->expiration = now + 6 * 3600; /* IMDS-like: capped */
    CHECK(cc_aws_credentials_get(p, &c, &err) == CC_OK && c->expiration <= now + 61);
    cc_aws_credentials_free(c);
    cc_aws_credentials_provider_free(p);
    switch_provider *s2 = switch_new();
    CHECK(cc_credfeed_capped_new(&s2->base, 1, &p, &err) == CC_ECONFIG && p == NULL);
    s2 = switch_new();
    CHECK(cc_credfeed_capped_new(&s2->base, 43201, &p, &err) == CC_ECONFIG);
}

/* The enclave's view: the container provider, cached as the default chain caches it. */
TEST(container_provider_through_feed_and_rotation)
{
    switch_provider *s = switch_new();
    cc_credfeed_options o = {"tcp:127.0.0.1:0", -1, 2};
    cc_credfeed *f = NULL;
    cc_error err;
    CHECK(cc_credfeed_start(&o, &s->base, &f, &err) == CC_OK);
    if (!f)
        return;
    char uri[128];
    snprintf(uri, sizeof uri, "http://127.0.0.1:%u/credentials", cc_credfeed_port(f));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri, 1);
    unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    cc_aws_http *http = NULL;
    cc_aws_credentials_provider *cont = NULL, *cached = NULL;
    CHECK(cc_aws_http_new(NULL, &http, &err) == CC_OK);
    CHECK(cc_aws_credentials_container_new(http, &cont, &err) == CC_OK);
    CHECK(cc_aws_credentials_cached_new(cont, &cached, &err) == CC_OK);
    cc_aws_credentials *c = NULL;
    time_t now = time(NULL);
    CHECK(cc_aws_credentials_get(cached, &c, &err) == CC_OK);
    CHECK(c && strcmp(c->access_key_id, "AKIDAAAAAAAA") == 0 && strcmp(c->secret_access_key, "secret/A+key=") == 0 &&
          strcmp(c->source, "container") == 0);
    CHECK(c && c->expiration >= now && c->expiration <= now + 3);
    cc_aws_credentials_free(c);
    /* rotate the parent's source: the enclave-side cache has B within ~2 lifetimes */
    atomic_store(&s->gen, 1);
    int got_b = 0;
    for (int i = 0; i < 60 && !got_b; i++) { /* ≤ 6 s */
        usleep(100 * 1000);
        c = NULL;
        if (cc_aws_credentials_get(cached, &c, &err) == CC_OK && strcmp(c->access_key_id, "AKIDBBBBBBBB") == 0)
            got_b = c->session_token && strcmp(c->session_token, "token-B") == 0 &&
                    strcmp(c->secret_access_key, "secret/B+key=") == 0;
        cc_aws_credentials_free(c);
    }
    CHECK_MSG(got_b, "the rotated source never reached the enclave side");
    for (int i = 0; i < 20 && cc_credfeed_served(f) < 2; i++) /* counted after the last byte is sent */
        usleep(50 * 1000);
    CHECK(cc_credfeed_served(f) >= 2);
    /* the source is asked about once per half-lifetime, not once per request */
    CHECK_MSG(atomic_load(&s->calls) <= 10, "%d source calls", atomic_load(&s->calls));
    cc_aws_credentials_provider_free(cached);
    cc_aws_http_free(http);
    cc_credfeed_stop(f);
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
}

/* Only the enclave: a loopback TCP peer (the stand-in) is served; any other kind of peer is closed unanswered. */
TEST(peer_check)
{
    char who[80];
    int sp[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
    CHECK(cc_credfeed_peer_allowed(-1, sp[0], who, sizeof who) == 0);
    close(sp[0]);
    close(sp[1]);
    switch_provider *s = switch_new();
    cc_credfeed_options o = {"tcp:127.0.0.1:0", 16, 60};
    cc_credfeed *f = NULL;
    cc_error err;
    CHECK(cc_credfeed_start(&o, &s->base, &f, &err) == CC_OK);
    if (!f)
        return;
    const cc_transport_ops *ops;
    cc_transport_addr ad;
    int fd = -1;
    char a[64];
    snprintf(a, sizeof a, "tcp:127.0.0.1:%u", cc_credfeed_port(f));
    CHECK(cc_transport_parse(a, &ops, &ad, &err) == CC_OK && ops->connect(&ad, 2000, &fd, &err) == CC_OK);
    CHECK(cc_credfeed_peer_allowed(16, fd, who, sizeof who) == 1 && strncmp(who, "tcp:127.0.0.1", 13) == 0);
    const char req[] = "GET /credentials HTTP/1.1\r\n\r\n";
    CHECK(send(fd, req, sizeof req - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof req - 1));
    char buf[1024] = "";
    size_t got = 0;
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (ssize_t n; got < sizeof buf - 1 && (n = recv(fd, buf + got, sizeof buf - 1 - got, 0)) > 0;)
        got += (size_t)n;
    CHECK(strncmp(buf, "HTTP/1.1 200", 12) == 0 && strstr(buf, "AKIDAAAAAAAA"));
    close(fd);
    cc_credfeed_stop(f);
}

TEST(bad_listen)
{
    switch_provider *s = switch_new();
    cc_credfeed_options o = {"http://x", -1, 60};
    cc_credfeed *f = NULL;
    cc_error err;
    CHECK(cc_credfeed_start(&o, &s->base, &f, &err) == CC_EINVAL && f == NULL && strstr(err.msg, "credentials.listen"));
}

int main(void)
{
    cc_secret_init();
    RUN(answers);
    RUN(lifetime_cap);
    RUN(container_provider_through_feed_and_rotation);
    RUN(peer_check);
    RUN(bad_listen);
    TEST_MAIN_END();
}
