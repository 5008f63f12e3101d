/*
 * loadgen.c — HTTP/1.1 keep-alive load generator for the signing API.
 *
 * One thread, epoll, non-blocking sockets: C connections to 127.0.0.1:PORT,
 * each with exactly one request in flight.  Every request is a NEW distinct
 * ATTESTATION for one of K public keys (round robin over the keys; per key an
 * epoch counter e gives source=e, target=e+1, slot=(e+1)*32), so each request
 * writes a fresh anti-slashing record.  It is deliberately cheap: it shares
 * the cores with the signer it measures, and reports its own CPU time.
 *
 * It measures and prints; it asserts nothing.  Every non-200 answer and every
 * transport error is counted and reported.
 *
 *   loadgen --port P --keys FILE [--connections 64] [--duration 10] [--warmup 2]
 *           [--gvr 0x..] [--fork-version 0x05000000] [--prev-version 0x04000000]
 *           [--fork-epoch 364032] [--start-epoch 370000] [--timeout 30]
 *
 * Last line (machine-readable):
 *   RESULT rps=NNNN p50_ms=X p99_ms=Y ok=N non200=M ...
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 4096
#define OUT_CAP 2048
#define IN_CAP 65536

enum cstate { C_CONNECTING, C_SENDING, C_RECEIVING, C_IDLE, C_DEAD };

typedef struct conn {
    int fd;
    enum cstate state;
    char out[OUT_CAP];
    size_t out_len, out_off;
    char in[IN_CAP];
    size_t in_len;
    double started; /* when the current request was first written */
    unsigned key;   /* which key the current request is for */
    int failures;   /* consecutive transport failures (reconnect backoff) */
} conn;

/* ---- options and global counters --------------------------------------------------- */

static int opt_port = 0;
static unsigned opt_conns = 64;
static double opt_duration = 10, opt_warmup = 2, opt_timeout = 30;
static const char *opt_keys = NULL;
static const char *opt_gvr = "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95";
static const char *opt_cur = "0x05000000";
static const char *opt_prev = "0x04000000";
static unsigned long long opt_fork_epoch = 364032;
static unsigned long long opt_start_epoch = 370000;

static char **g_keys;
static unsigned g_nkeys;
static unsigned long long *g_key_epoch; /* next source epoch per key */
static unsigned long long g_seq;         /* requests issued so far */

static unsigned long long g_status[600]; /* measured window, by status code */
static unsigned long long g_status_all[600];
static unsigned long long g_transport_err, g_transport_err_all, g_timeouts, g_bad_body, g_reconnects;
static unsigned long long g_ok_all;
static uint32_t *g_lat; /* latencies in microseconds (measured window, status 200) */
static size_t g_lat_len, g_lat_cap;
static uint32_t *g_lat_bad; /* latencies of measured non-200 answers */
static size_t g_lat_bad_len, g_lat_bad_cap;

static double t_start, t_measure, t_end;
static struct sockaddr_in g_addr;
static int g_epfd;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "loadgen: %s\n", what);
    exit(2);
}

static void push_lat(uint32_t **arr, size_t *len, size_t *cap, uint32_t us)
{
    if (*len == *cap) {
        size_t ncap = *cap ? *cap * 2 : 65536;
        uint32_t *n = realloc(*arr, ncap * sizeof *n);
        if (!n)
            die("out of memory (latency array)");
        *arr = n;
        *cap = ncap;
    }
    (*arr)[(*len)++] = us;
}

/* ---- keys ------------------------------------------------------------------------- */

static void load_keys(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "loadgen: cannot open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    char line[512];
    unsigned cap = 0;
    while (fgets(line, sizeof line, f)) {
        char *s = line, *e;
        while (*s == ' ' || *s == '\t' || *s == '"')
            s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t' || e[-1] == '"' ||
                         e[-1] == ','))
            *--e = 0;
        if (!*s)
            continue;
        if (strncmp(s, "0x", 2) != 0 || strlen(s) != 98) {
            fprintf(stderr, "loadgen: %s: not a 0x-prefixed 48-byte public key: %.40s\n", path, s);
            exit(2);
        }
        if (g_nkeys == cap) {
            cap = cap ? cap * 2 : 1024;
            g_keys = realloc(g_keys, cap * sizeof *g_keys);
            if (!g_keys)
                die("out of memory (keys)");
        }
        g_keys[g_nkeys] = strdup(s);
        if (!g_keys[g_nkeys])
            die("out of memory (keys)");
        g_nkeys++;
    }
    fclose(f);
    if (g_nkeys == 0)
        die("no public keys in the keys file");
    g_key_epoch = calloc(g_nkeys, sizeof *g_key_epoch);
    if (!g_key_epoch)
        die("out of memory (keys)");
    for (unsigned i = 0; i < g_nkeys; i++)
        g_key_epoch[i] = opt_start_epoch;
}

/* ---- requests --------------------------------------------------------------------- */

/* Writes the next distinct ATTESTATION request into c->out. */
static void build_request(conn *c)
{
    unsigned k = (unsigned)(g_seq % g_nkeys);
    unsigned long long e = g_key_epoch[k]++;
    unsigned long long slot = (e + 1) * 32, seq = g_seq++;
    char body[1024];
    int blen = snprintf(body, sizeof body,
                        "{\"type\":\"ATTESTATION\","
                        "\"fork_info\":{\"fork\":{\"previous_version\":\"%s\",\"current_version\":\"%s\","
                        "\"epoch\":\"%llu\"},\"genesis_validators_root\":\"%s\"},"
                        "\"attestation\":{\"slot\":\"%llu\",\"index\":\"%u\","
                        "\"beacon_block_root\":\"0x%016llx%048x\","
                        "\"source\":{\"epoch\":\"%llu\",\"root\":\"0x%016llx%048x\"},"
                        "\"target\":{\"epoch\":\"%llu\",\"root\":\"0x%016llx%048x\"}}}",
                        opt_prev, opt_cur, opt_fork_epoch, opt_gvr, slot, (unsigned)(seq % 64), seq, 0xbbu,
                        e, e, 0x5u, e + 1, e + 1, 0x7u);
    if (blen < 0 || (size_t)blen >= sizeof body)
        die("request body too long");
    int n = snprintf(c->out, OUT_CAP,
                     "POST /api/v1/eth2/sign/%s HTTP/1.1\r\n"
                     "Host: 127.0.0.1:%d\r\n"
                     "Content-Type: application/json\r\n"
                     "Accept: application/json\r\n"
                     "Content-Length: %d\r\n"
                     "\r\n%s",
                     g_keys[k], opt_port, blen, body);
    if (n < 0 || n >= OUT_CAP)
        die("request too long");
    c->out_len = (size_t)n;
    c->out_off = 0;
    c->in_len = 0;
    c->key = k;
    c->started = now_s();
}

static void conn_open(conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket() failed");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->in_len = 0;
    c->state = C_CONNECTING;
    /* edge-triggered, registered once: no epoll_ctl per request (it must stay cheap) */
    struct epoll_event e = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
    if (epoll_ctl(g_epfd, EPOLL_CTL_ADD, c->fd, &e) != 0)
        die("epoll_ctl ADD failed");
    if (connect(c->fd, (struct sockaddr *)&g_addr, sizeof g_addr) != 0 && errno != EINPROGRESS) {
        /* reported by the EPOLLOUT/EPOLLERR path below through SO_ERROR */
    }
}

static void conn_close(conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(g_epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = C_DEAD;
}

static int issuing(double t)
{
    return t < t_end;
}

/* Starts the next request on an open connection, or parks it once the run is over. */
static void next_request(conn *c, double t)
{
    if (!issuing(t)) {
        c->state = C_IDLE;
        return;
    }
    build_request(c);
    c->state = C_SENDING;
}

/* A transport failure (reset, EOF mid-answer, timeout): count it, reconnect. */
static void transport_fail(conn *c, double t, int timed_out)
{
    if (timed_out)
        g_timeouts++;
    g_transport_err_all++;
    if (t >= t_measure && t < t_end)
        g_transport_err++;
    conn_close(c);
    c->failures++;
    if (!issuing(t))
        return;
    if (c->failures > 50)
        die("more than 50 consecutive transport failures on one connection — is the server up?");
    if (c->failures > 1) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    g_reconnects++;
    conn_open(c);
}

/* ---- response parsing ------------------------------------------------------------- */

/* Finds header `name` in [h, end); returns its value (not NUL-terminated) and length. */
static const char *find_header(const char *h, const char *end, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *p = h;
    /* skip the status line */
    const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
    if (!eol)
        return NULL;
    p = eol + 2;
    while (p < end) {
        eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol || eol == p)
            return NULL;
        if ((size_t)(eol - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = eol + 2;
    }
    return NULL;
}

/*
 * Decodes a chunked body starting at b (n bytes available).  Returns 1 when
 * complete (setting *consumed and the decoded body length), 0 when more bytes
 * are needed, -1 on a malformed stream.  With dst it also decodes (in place is
 * fine: dst never overtakes the input); call it without dst until complete.
 */
static int dechunk(const char *b, size_t n, size_t *consumed, char *dst, size_t *dlen)
{
    size_t off = 0, out = 0;
    for (;;) {
        const char *eol = memmem(b + off, n - off, "\r\n", 2);
        if (!eol)
            return 0;
        char *endp;
        unsigned long sz = strtoul(b + off, &endp, 16);
        if (endp == b + off)
            return -1;
        off = (size_t)(eol - b) + 2;
        if (sz == 0) {
            /* trailers until an empty line */
            for (;;) {
                const char *t = memmem(b + off, n - off, "\r\n", 2);
                if (!t)
                    return 0;
                if (t == b + off) {
                    *consumed = off + 2;
                    *dlen = out;
                    return 1;
                }
                off = (size_t)(t - b) + 2;
            }
        }
        if (n - off < sz + 2)
            return 0;
        if (dst)
            memmove(dst + out, b + off, sz);
        out += sz;
        off += sz + 2;
    }
}

/*
 * Tries to parse one complete response from c->in.  Returns 1 when a response
 * was consumed, 0 when more bytes are needed, -1 on a malformed response.
 */
static int parse_response(conn *c, int *status, int *close_after, int *body_ok)
{
    char *buf = c->in;
    const char *hend = memmem(buf, c->in_len, "\r\n\r\n", 4);
    if (!hend)
        return c->in_len >= IN_CAP ? -1 : 0;
    if (c->in_len < 12 || strncmp(buf, "HTTP/1.", 7) != 0)
        return -1;
    int st = atoi(buf + 9);
    if (st < 100 || st > 599)
        return -1;
    size_t hlen = (size_t)(hend - buf) + 4;
    size_t vlen;
    const char *v;
    int cl_close = 0;
    if ((v = find_header(buf, hend + 2, "Connection", &vlen)) && vlen == 5 && strncasecmp(v, "close", 5) == 0)
        cl_close = 1;
    if (strncmp(buf, "HTTP/1.0", 8) == 0 &&
        !((v = find_header(buf, hend + 2, "Connection", &vlen)) && vlen == 10 && strncasecmp(v, "keep-alive", 10) == 0))
        cl_close = 1;

    size_t total, blen;
    const char *body = buf + hlen;
    if ((v = find_header(buf, hend + 2, "Transfer-Encoding", &vlen)) && vlen >= 7 &&
        strncasecmp(v + vlen - 7, "chunked", 7) == 0) {
        size_t consumed;
        int r = dechunk(buf + hlen, c->in_len - hlen, &consumed, NULL, &blen);
        if (r <= 0)
            return r == 0 && c->in_len < IN_CAP ? 0 : -1;
        dechunk(buf + hlen, c->in_len - hlen, &consumed, buf + hlen, &blen);
        total = hlen + consumed;
    } else if ((v = find_header(buf, hend + 2, "Content-Length", &vlen))) {
        char tmp[24];
        if (vlen == 0 || vlen >= sizeof tmp)
            return -1;
        memcpy(tmp, v, vlen);
        tmp[vlen] = 0;
        char *endp;
        unsigned long long cl = strtoull(tmp, &endp, 10);
        if (*endp || cl > IN_CAP)
            return -1;
        if (c->in_len < hlen + cl)
            return hlen + cl > IN_CAP ? -1 : 0;
        blen = (size_t)cl;
        total = hlen + blen;
    } else if (st == 204 || st == 304 || st < 200) {
        blen = 0;
        total = hlen;
    } else {
        return -1; /* body delimited by close: not something a keep-alive signer should send */
    }

    *status = st;
    *close_after = cl_close;
    /* a 200 must carry {"signature":"0x<192 hex>"} */
    *body_ok = 1;
    if (st == 200) {
        static const char pfx[] = "\"signature\":\"0x";
        const char *s = blen >= sizeof pfx ? memmem(body, blen, pfx, sizeof pfx - 1) : NULL;
        if (!s || (size_t)(body + blen - (s + sizeof pfx - 1)) < 192 + 1 || s[sizeof pfx - 1 + 192] != '"')
            *body_ok = 0;
    }
    if (c->in_len > total) {
        /* pipelined or trailing bytes: keep them (we never pipeline, so this is unexpected) */
        memmove(buf, buf + total, c->in_len - total);
        c->in_len -= total;
    } else {
        c->in_len = 0;
    }
    return 1;
}

static void on_response(conn *c, double t, int status, int body_ok)
{
    double lat = t - c->started;
    uint32_t us = lat * 1e6 > 4e9 ? 4000000000u : (uint32_t)(lat * 1e6);
    int measured = t >= t_measure && t < t_end;
    g_status_all[status]++;
    if (status == 200)
        g_ok_all++;
    if (measured) {
        g_status[status]++;
        if (status == 200 && body_ok)
            push_lat(&g_lat, &g_lat_len, &g_lat_cap, us);
        else
            push_lat(&g_lat_bad, &g_lat_bad_len, &g_lat_bad_cap, us);
        if (status == 200 && !body_ok)
            g_bad_body++;
    }
    c->failures = 0;
}

/* ---- event handling --------------------------------------------------------------- */

static void handle(conn *c, uint32_t ev, double t)
{
    if (c->state == C_CONNECTING) {
        int err = 0;
        if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        socklen_t el = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err != 0 || (ev & (EPOLLERR | EPOLLHUP))) {
            transport_fail(c, t, 0);
            return;
        }
        next_request(c, t);
        if (c->state != C_SENDING)
            return;
        ev = EPOLLOUT; /* try to write right away */
    }
    if (c->state == C_SENDING) {
        while (c->out_off < c->out_len) {
            ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
            if (n > 0) {
                c->out_off += (size_t)n;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                return; /* wait for EPOLLOUT */
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else {
                transport_fail(c, t, 0);
                return;
            }
        }
        c->state = C_RECEIVING;
        return; /* the answer cannot be there yet; the EPOLLIN edge will tell */
    }
    if (c->state == C_RECEIVING && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        for (;;) {
            if (c->in_len >= IN_CAP) {
                transport_fail(c, t, 0);
                return;
            }
            ssize_t n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
            if (n > 0) {
                c->in_len += (size_t)n;
                int status, close_after, body_ok;
                int r = parse_response(c, &status, &close_after, &body_ok);
                if (r < 0) {
                    transport_fail(c, t, 0);
                    return;
                }
                if (r == 1) {
                    double tr = now_s();
                    on_response(c, tr, status, body_ok);
                    if (close_after) {
                        conn_close(c);
                        if (issuing(tr)) {
                            g_reconnects++;
                            conn_open(c);
                        }
                        return;
                    }
                    next_request(c, tr);
                    if (c->state == C_SENDING)
                        handle(c, EPOLLOUT, tr);
                    return;
                }
                continue; /* partial: read more */
            } else if (n == 0) {
                transport_fail(c, t, 0); /* EOF before a complete answer */
                return;
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            } else if (errno == EINTR) {
                continue;
            } else {
                transport_fail(c, t, 0);
                return;
            }
        }
    }
}

/* ---- report ----------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const uint32_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    if (i >= n)
        i = n - 1;
    return v[i] / 1000.0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen --port P --keys FILE [--connections C] [--duration S] [--warmup S]\n"
            "               [--gvr 0xHEX32] [--fork-version 0xHEX4] [--prev-version 0xHEX4]\n"
            "               [--fork-epoch N] [--start-epoch N] [--timeout S]\n");
    exit(2);
}

static int is_hex(const char *s, size_t bytes)
{
    if (strncmp(s, "0x", 2) != 0 || strlen(s) != 2 + 2 * bytes)
        return 0;
    for (const char *p = s + 2; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (strcmp(a, "--port") == 0)
            opt_port = atoi(v);
        else if (strcmp(a, "--connections") == 0)
            opt_conns = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--duration") == 0)
            opt_duration = strtod(v, NULL);
        else if (strcmp(a, "--warmup") == 0)
            opt_warmup = strtod(v, NULL);
        else if (strcmp(a, "--timeout") == 0)
            opt_timeout = strtod(v, NULL);
        else if (strcmp(a, "--keys") == 0)
            opt_keys = v;
        else if (strcmp(a, "--gvr") == 0)
            opt_gvr = v;
        else if (strcmp(a, "--fork-version") == 0)
            opt_cur = v;
        else if (strcmp(a, "--prev-version") == 0)
            opt_prev = v;
        else if (strcmp(a, "--fork-epoch") == 0)
            opt_fork_epoch = strtoull(v, NULL, 10);
        else if (strcmp(a, "--start-epoch") == 0)
            opt_start_epoch = strtoull(v, NULL, 10);
        else
            usage();
    }
    if (opt_port <= 0 || opt_port > 65535 || !opt_keys)
        usage();
    if (opt_conns == 0 || opt_conns > MAX_CONNS)
        die("--connections must be 1..4096");
    if (opt_duration <= 0 || opt_duration > 3600 || opt_warmup < 0 || opt_warmup > 600 || opt_timeout <= 0)
        die("--duration must be in (0, 3600], --warmup in [0, 600], --timeout > 0");
    if (!is_hex(opt_gvr, 32) || !is_hex(opt_cur, 4) || !is_hex(opt_prev, 4))
        die("--gvr must be 0x + 64 hex, --fork-version/--prev-version 0x + 8 hex");
    signal(SIGPIPE, SIG_IGN);
    load_keys(opt_keys);

    memset(&g_addr, 0, sizeof g_addr);
    g_addr.sin_family = AF_INET;
    g_addr.sin_port = htons((uint16_t)opt_port);
    g_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    g_epfd = epoll_create1(EPOLL_CLOEXEC);
    if (g_epfd < 0)
        die("epoll_create1 failed");
    conn *conns = calloc(opt_conns, sizeof *conns);
    if (!conns)
        die("out of memory (connections)");

    t_start = now_s();
    t_measure = t_start + opt_warmup;
    t_end = t_measure + opt_duration;
    for (unsigned i = 0; i < opt_conns; i++)
        conn_open(&conns[i]);

    double cpu_at_measure = -1, cpu_at_end = -1;
    unsigned long long seq_at_measure = 0;
    struct epoll_event evs[256];
    double drain_deadline = t_end + (opt_timeout < 10 ? opt_timeout : 10);
    for (;;) {
        double t = now_s();
        if (cpu_at_measure < 0 && t >= t_measure) {
            cpu_at_measure = cpu_s();
            seq_at_measure = g_seq;
        }
        if (cpu_at_end < 0 && t >= t_end)
            cpu_at_end = cpu_s();
        /* after the window: wait for in-flight answers (not counted), then stop */
        if (t >= t_end) {
            unsigned busy = 0;
            for (unsigned i = 0; i < opt_conns; i++)
                if (conns[i].state == C_SENDING || conns[i].state == C_RECEIVING)
                    busy++;
            if (busy == 0 || t >= drain_deadline)
                break;
        }
        /* per-request timeouts */
        static double last_scan;
        if (t - last_scan > 0.25) {
            last_scan = t;
            for (unsigned i = 0; i < opt_conns; i++) {
                conn *c = &conns[i];
                if ((c->state == C_SENDING || c->state == C_RECEIVING) && t - c->started > opt_timeout)
                    transport_fail(c, t, 1);
            }
        }
        int n = epoll_wait(g_epfd, evs, 256, 50);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait failed");
        }
        t = now_s();
        for (int i = 0; i < n; i++)
            handle(evs[i].data.ptr, evs[i].events, t);
    }
    unsigned still_busy = 0;
    for (unsigned i = 0; i < opt_conns; i++) {
        if (conns[i].state == C_SENDING || conns[i].state == C_RECEIVING)
            still_busy++;
        conn_close(&conns[i]);
    }
    if (cpu_at_measure < 0)
        cpu_at_measure = 0;
    if (cpu_at_end < 0)
        cpu_at_end = cpu_s();

    /* ---- figures ---- */
    unsigned long long ok = g_status[200], non200 = 0, answered = 0;
    for (int s = 0; s < 600; s++) {
        answered += g_status[s];
        if (s != 200)
            non200 += g_status[s];
    }
    qsort(g_lat, g_lat_len, sizeof *g_lat, cmp_u32);
    qsort(g_lat_bad, g_lat_bad_len, sizeof *g_lat_bad, cmp_u32);
    double rps = (double)(ok - g_bad_body) / opt_duration;
    double p50 = pct_ms(g_lat, g_lat_len, 0.50), p90 = pct_ms(g_lat, g_lat_len, 0.90);
    double p99 = pct_ms(g_lat, g_lat_len, 0.99), p999 = pct_ms(g_lat, g_lat_len, 0.999);
    double mx = g_lat_len ? g_lat[g_lat_len - 1] / 1000.0 : 0;
    double mean = 0;
    for (size_t i = 0; i < g_lat_len; i++)
        mean += g_lat[i];
    mean = g_lat_len ? mean / (double)g_lat_len / 1000.0 : 0;
    double cpu = cpu_at_end - cpu_at_measure;
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);

    printf("loadgen: %u connections to 127.0.0.1:%d, %u keys, %.1f s measured after %.1f s warm-up\n",
           opt_conns, opt_port, g_nkeys, opt_duration, opt_warmup);
    printf("  requests issued (all):   %llu (%llu in warm-up)\n", g_seq, seq_at_measure);
    printf("  answers in window:       %llu\n", answered);
    for (int s = 0; s < 600; s++)
        if (g_status[s])
            printf("    HTTP %d: %llu\n", s, g_status[s]);
    for (int s = 0; s < 600; s++)
        if (g_status_all[s] != g_status[s])
            printf("    (outside the window) HTTP %d: %llu\n", s, g_status_all[s] - g_status[s]);
    if (g_bad_body)
        printf("  200 with a malformed body: %llu (not counted as ok)\n", g_bad_body);
    printf("  transport errors:        %llu in window, %llu total (%llu timeouts, %llu reconnects)\n",
           g_transport_err, g_transport_err_all, g_timeouts, g_reconnects);
    if (still_busy)
        printf("  unanswered at exit:      %u\n", still_busy);
    printf("  throughput:              %.1f signed requests/s\n", rps);
    printf("  latency of 200s (ms):    mean %.2f  p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", mean, p50,
           p90, p99, p999, mx);
    if (g_lat_bad_len)
        printf("  latency of non-200 (ms): p50 %.2f  p99 %.2f  max %.2f\n", pct_ms(g_lat_bad, g_lat_bad_len, 0.5),
               pct_ms(g_lat_bad, g_lat_bad_len, 0.99), g_lat_bad[g_lat_bad_len - 1] / 1000.0);
    printf("  loadgen CPU:             %.2f s over %.1f s = %.1f%% of one core, %.1f%% of %ld cores\n", cpu,
           opt_duration, 100.0 * cpu / opt_duration, 100.0 * cpu / opt_duration / (double)(nproc > 0 ? nproc : 1),
           nproc);
    printf("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f ok=%llu non200=%llu transport_err=%llu "
           "bad_body=%llu conns=%u keys=%u loadgen_cpu_pct=%.1f non200_p50_ms=%.3f non200_p99_ms=%.3f "
           "non200_max_ms=%.3f s503=%llu\n",
           rps, p50, p99, mx, ok - g_bad_body, non200, g_transport_err, g_bad_body, opt_conns, g_nkeys,
           100.0 * cpu / opt_duration / (double)(nproc > 0 ? nproc : 1),
           g_lat_bad_len ? pct_ms(g_lat_bad, g_lat_bad_len, 0.5) : 0.0,
           g_lat_bad_len ? pct_ms(g_lat_bad, g_lat_bad_len, 0.99) : 0.0,
           g_lat_bad_len ? g_lat_bad[g_lat_bad_len - 1] / 1000.0 : 0.0, g_status[503]);
    free(conns);
    return 0;
}
