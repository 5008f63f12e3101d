/*
 * test_relay.c — transports (src/enclave/transport_*.c) and the byte relay
 * (src/enclave/relay.c) over the TCP stand-in: addresses parsed or refused
 * by name; 1 MiB through a relay to an echo server comes back intact, with
 * half-close; the capture shows exactly the bytes relayed; an unreachable
 * destination closes the client; stop ends live connections; AF_VSOCK runs
 * as far as this kernel allows (no vsock loopback here, NOTES §8.5).
 */
#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "enclave/relay.h"
#include "enclave/transport.h"
#include "test.h"

TEST(parse)
{
    const cc_transport_ops *o = NULL;
    cc_transport_addr a;
    cc_error err;
    CHECK(cc_transport_parse("tcp:127.0.0.1:9000", &o, &a, &err) == CC_OK && o == &cc_transport_tcp &&
          strcmp(a.host, "127.0.0.1") == 0 && a.port == 9000);
    CHECK(cc_transport_parse("tcp:[::1]:443", &o, &a, &err) == CC_OK && strcmp(a.host, "::1") == 0 && a.port == 443);
    CHECK(cc_transport_parse("tcp:kms.eu-west-1.amazonaws.com:443", &o, &a, &err) == CC_OK);
    CHECK(cc_transport_parse("vsock:3:8000", &o, &a, &err) == CC_OK && o == &cc_transport_vsock && a.cid == 3 &&
          a.port == 8000);
    CHECK(cc_transport_parse("vsock:-1:9000", &o, &a, &err) == CC_OK && a.cid == -1);
    static const char *const bad[] = {"udp:1.2.3.4:5", "tcp:1.2.3.4", "tcp::80", "tcp:h:99999", "vsock:x:1",
                                      "vsock:-2:1", "tcp:[::1:80", "", "tcp:h:", NULL};
    for (int i = 0; bad[i]; i++) {
        CHECK_MSG(cc_transport_parse(bad[i], &o, &a, &err) == CC_EINVAL, "%s accepted", bad[i]);
        CHECK(strstr(err.msg, "address") != NULL);
    }
}

TEST(vsock_as_far_as_the_kernel_allows)
{
    const cc_transport_ops *o = NULL;
    cc_transport_addr a;
    cc_error err;
    int fd = -1;
    /* connecting to CID 1 (local loopback) has no transport here: a clean error naming the address */
    CHECK(cc_transport_parse("vsock:1:5005", &o, &a, &err) == CC_OK);
    CHECK(o->connect(&a, 500, &fd, &err) == CC_EIO && strstr(err.msg, "vsock:1:5005"));
    CHECK(o->listen(&a, 4, &fd, &err) == CC_EIO && strstr(err.msg, "vsock:1:5005"));
    /* listening on any CID works where the virtio transport is loaded; report which */
    CHECK(cc_transport_parse("vsock:-1:0", &o, &a, &err) == CC_OK);
    if (o->listen(&a, 4, &fd, &err) == CC_OK) {
        CHECK(o->bound_port(fd) != 0);
        close(fd);
        fprintf(stderr, "  (AF_VSOCK listen on VMADDR_CID_ANY works here)\n");
    } else {
        CHECK(strstr(err.msg, "vsock:-1:0") != NULL);
        fprintf(stderr, "  (AF_VSOCK listen refused here: %s)\n", err.msg);
    }
}

/* ---- an echo server on the TCP transport */
static int echo_lfd;
static void *echo_main(void *arg)
{
    (void)arg;
    for (int k = 0; k < 4; k++) {
        int c = accept(echo_lfd, NULL, NULL);
        if (c < 0)
            return NULL;
        char buf[8192];
        ssize_t n;
        while ((n = read(c, buf, sizeof buf)) > 0)
            if (write(c, buf, (size_t)n) != n)
                break;
        close(c); /* after the client's half-close: everything was echoed */
    }
    return NULL;
}

static size_t file_size(const char *p)
{
    struct stat s;
    return stat(p, &s) == 0 ? (size_t)s.st_size : 0;
}

TEST(relay_roundtrip_capture_stop)
{
    cc_error err;
    const cc_transport_ops *o;
    cc_transport_addr a;
    CHECK(cc_transport_parse("tcp:127.0.0.1:0", &o, &a, &err) == CC_OK);
    CHECK(o->listen(&a, 8, &echo_lfd, &err) == CC_OK);
    char dest[64], capdir[] = "/tmp/cc-relay-test.XXXXXX";
    snprintf(dest, sizeof dest, "tcp:127.0.0.1:%u", (unsigned)o->bound_port(echo_lfd));
    CHECK(mkdtemp(capdir) != NULL);
    pthread_t t;
    pthread_create(&t, NULL, echo_main, NULL);
    cc_relay_route routes[2] = {{"echo", "tcp:127.0.0.1:0", dest}, {"dead", "tcp:127.0.0.1:0", "tcp:127.0.0.1:1"}};
    cc_relay *r = NULL;
    CHECK_MSG(cc_relay_start(routes, 2, capdir, &r, &err) == CC_OK, "%s", err.msg);
    if (!r)
        return;
    char via[64];
    snprintf(via, sizeof via, "tcp:127.0.0.1:%u", (unsigned)cc_relay_port(r, 0));
    CHECK(cc_transport_parse(via, &o, &a, &err) == CC_OK);
    int c = -1;
    CHECK(o->connect(&a, 2000, &c, &err) == CC_OK);
    size_t n = 1 << 20;
    uint8_t *data = malloc(n), *back = malloc(n);
    RAND_bytes(data, (int)n);
    /* write everything from a thread-free loop: the echo drains as we go (socket buffers are smaller) */
    size_t sent = 0, got = 0;
    while (got < n) {
        if (sent < n) {
            ssize_t w = send(c, data + sent, n - sent > 65536 ? 65536 : n - sent, MSG_DONTWAIT);
            if (w > 0)
                sent += (size_t)w;
            if (sent == n)
                shutdown(c, SHUT_WR); /* half-close travels through the relay */
        }
        ssize_t k = recv(c, back + got, n - got, MSG_DONTWAIT);
        if (k > 0)
            got += (size_t)k;
        else if (k == 0)
            break;
        else if (errno != EAGAIN && errno != EWOULDBLOCK)
            break;
        else
            usleep(200);
    }
    CHECK_EQ_INT(got, n);
    CHECK(got == n && memcmp(data, back, n) == 0);
    char eof;
    CHECK(recv(c, &eof, 1, 0) == 0); /* the echo's close arrives as EOF */
    close(c);
    CHECK_EQ_INT(cc_relay_connections(r, 0), 1);
    /* the capture holds exactly the relayed bytes, both ways */
    char up[256], down[256];
    snprintf(up, sizeof up, "%s/echo.1.up", capdir);
    snprintf(down, sizeof down, "%s/echo.1.down", capdir);
    for (int i = 0; i < 100 && file_size(down) < n; i++)
        usleep(10000);
    CHECK_EQ_INT(file_size(up), n);
    CHECK_EQ_INT(file_size(down), n);
    FILE *f = fopen(up, "rb");
    if (f) {
        CHECK(fread(back, 1, n, f) == n && memcmp(back, data, n) == 0);
        fclose(f);
    }

    /* an unreachable destination: the client is closed at once */
    snprintf(via, sizeof via, "tcp:127.0.0.1:%u", (unsigned)cc_relay_port(r, 1));
    CHECK(cc_transport_parse(via, &o, &a, &err) == CC_OK);
    CHECK(o->connect(&a, 2000, &c, &err) == CC_OK);
    struct timeval tv = {5, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    CHECK(recv(c, &eof, 1, 0) == 0);
    close(c);

    /* stop with a live, idle connection: it is closed and stop returns */
    snprintf(via, sizeof via, "tcp:127.0.0.1:%u", (unsigned)cc_relay_port(r, 0));
    CHECK(cc_transport_parse(via, &o, &a, &err) == CC_OK);
    CHECK(o->connect(&a, 2000, &c, &err) == CC_OK);
    usleep(50000);
    cc_relay_stop(r);
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    CHECK(recv(c, &eof, 1, 0) == 0);
    close(c);
    shutdown(echo_lfd, SHUT_RDWR);
    close(echo_lfd);
    pthread_join(t, NULL);
    free(data);
    free(back);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", capdir);
    CHECK(system(cmd) == 0);
}

TEST(bad_routes)
{
    char ok[] = "kms tcp:127.0.0.1:443\tvsock:3:8000", two[] = "kms tcp:127.0.0.1:443", four[] = "a b c d";
    cc_relay_route rt;
    cc_error e;
    CHECK(cc_relay_route_parse(ok, &rt, &e) == CC_OK && strcmp(rt.name, "kms") == 0 &&
          strcmp(rt.listen, "tcp:127.0.0.1:443") == 0 && strcmp(rt.connect, "vsock:3:8000") == 0);
    CHECK(cc_relay_route_parse(two, &rt, &e) == CC_EINVAL && strstr(e.msg, "NAME LISTEN CONNECT"));
    CHECK(cc_relay_route_parse(four, &rt, &e) == CC_EINVAL);

    cc_error err;
    cc_relay *r = NULL;
    cc_relay_route bad_name[1] = {{"a b", "tcp:127.0.0.1:0", "tcp:127.0.0.1:1"}};
    CHECK(cc_relay_start(bad_name, 1, NULL, &r, &err) == CC_EINVAL && strstr(err.msg, "routes[0].name"));
    cc_relay_route dup[2] = {{"x", "tcp:127.0.0.1:0", "tcp:127.0.0.1:1"}, {"x", "tcp:127.0.0.1:0", "tcp:127.0.0.1:1"}};
    CHECK(cc_relay_start(dup, 2, NULL, &r, &err) == CC_EINVAL && strstr(err.msg, "used twice"));
    cc_relay_route addr[1] = {{"y", "tcp:127.0.0.1:0", "ftp:h:1"}};
    CHECK(cc_relay_start(addr, 1, NULL, &r, &err) == CC_EINVAL && strstr(err.msg, "routes[0] (y)"));
    CHECK(r == NULL);
}

int main(void)
{
    RUN(parse);
    RUN(vsock_as_far_as_the_kernel_allows);
    RUN(relay_roundtrip_capture_stop);
    RUN(bad_routes);
    TEST_MAIN_END();
}
