/*
 * Tests for api/tls_reload (reading and checking certificate files) and the
 * TLS side of api/server (start, swap, refusal of bad material), against an
 * OpenSSL client over loopback.  Certificates are made here with OpenSSL.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "api/server.h"
#include "api/tls_reload.h"
#include "test.h"

static char dir[] = "/tmp/cc-tls-test.XXXXXX";

static char *path_of(const char *name)
{
    static char buf[8][512];
    static int i;
    char *p = buf[i++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static void write_text(const char *name, const char *text)
{
    FILE *f = fopen(path_of(name), "wb");
    if (f) {
        fwrite(text, 1, strlen(text), f);
        fclose(f);
    }
}

/* A P-256 key and a self-signed certificate (CN, serial) written as name.pem / name.key. */
static X509 *make_cert(const char *name, const char *cn, long serial)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509_sign(x, key, EVP_sha256());
    char file[64];
    snprintf(file, sizeof file, "%s.pem", name);
    FILE *f = fopen(path_of(file), "wb");
    PEM_write_X509(f, x);
    fclose(f);
    snprintf(file, sizeof file, "%s.key", name);
    f = fopen(path_of(file), "wb");
    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    snprintf(file, sizeof file, "%s.enc.key", name);
    f = fopen(path_of(file), "wb");
    PEM_write_PrivateKey(f, key, EVP_aes_128_cbc(), (unsigned char *)"pw", 2, NULL, NULL);
    fclose(f);
    EVP_PKEY_free(key);
    return x;
}

static char *slurp(const char *name)
{
    FILE *f = fopen(path_of(name), "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static cc_status load(const char *cert, const char *key, const char *ca, cc_tls_pem *pem, cc_error *err)
{
    cc_tls_files files = {path_of(cert), path_of(key), ca ? path_of(ca) : NULL};
    cc_error_clear(err);
    return cc_tls_pem_load(&files, pem, err);
}

static X509 *cert_one, *cert_two;

TEST(loads_a_good_pair)
{
    cc_tls_pem pem;
    cc_error err;
    CHECK_MSG(load("one.pem", "one.key", NULL, &pem, &err) == CC_OK, "%s", err.msg);
    CHECK_EQ_STR(pem.subject, "/CN=signer one");
    CHECK_EQ_STR(pem.serial, "1001");
    CHECK(pem.ca == NULL);
    CHECK(strstr(pem.key, "PRIVATE KEY") != NULL);
    unsigned char d1[32];
    memcpy(d1, pem.digest, 32);
    cc_tls_pem_free(&pem);
    CHECK(load("one.pem", "one.key", NULL, &pem, &err) == CC_OK);
    CHECK(memcmp(d1, pem.digest, 32) == 0);
    cc_tls_pem_free(&pem);
    CHECK(load("two.pem", "two.key", NULL, &pem, &err) == CC_OK);
    CHECK(memcmp(d1, pem.digest, 32) != 0);
    cc_tls_pem_free(&pem);
    /* a chain of two certificates, and a client CA */
    char *a = slurp("one.pem"), *b = slurp("two.pem");
    char *chain = malloc(strlen(a) + strlen(b) + 1);
    strcpy(chain, a);
    strcat(chain, b);
    write_text("chain.pem", chain);
    CHECK_MSG(load("chain.pem", "one.key", "two.pem", &pem, &err) == CC_OK, "%s", err.msg);
    CHECK(pem.ca && strstr(pem.ca, "BEGIN CERTIFICATE"));
    cc_tls_pem_free(&pem);
    free(a), free(b), free(chain);
}

TEST(refusals_name_the_key_and_the_file)
{
    cc_tls_pem pem;
    cc_error err;
    CHECK(load("missing.pem", "one.key", NULL, &pem, &err) == CC_EIO);
    CHECK(strstr(err.msg, "tls.file.cert_path") && strstr(err.msg, path_of("missing.pem")));
    CHECK(load("one.pem", "missing.key", NULL, &pem, &err) == CC_EIO);
    CHECK(strstr(err.msg, "tls.file.key_path") && strstr(err.msg, "missing.key"));
    CHECK(load("one.pem", "one.key", "missing-ca.pem", &pem, &err) == CC_EIO);
    CHECK(strstr(err.msg, "tls.file.client_ca_path"));

    write_text("empty.pem", "");
    CHECK(load("empty.pem", "one.key", NULL, &pem, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "tls.file.cert_path") && strstr(err.msg, "no PEM certificate"));
    write_text("garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
    CHECK(load("garbage.pem", "one.key", NULL, &pem, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "garbage.pem"));
    CHECK(load("one.pem", "garbage.pem", NULL, &pem, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "tls.file.key_path") && strstr(err.msg, "no usable PEM private key"));
    CHECK(load("one.pem", "one.key", "garbage.pem", &pem, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "tls.file.client_ca_path"));

    /* binary content */
    FILE *f = fopen(path_of("nul.pem"), "wb");
    fwrite("abc\0def", 1, 7, f);
    fclose(f);
    CHECK(load("nul.pem", "one.key", NULL, &pem, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "binary"));

    /* a second certificate of the chain that does not parse */
    char *a = slurp("one.pem");
    char *bad = malloc(strlen(a) + 128);
    sprintf(bad, "%s-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", a);
    write_text("badchain.pem", bad);
    CHECK(load("badchain.pem", "one.key", NULL, &pem, &err) == CC_EINVAL);
    CHECK_MSG(strstr(err.msg, "certificate 2 does not parse") != NULL, "%s", err.msg);
    free(a), free(bad);

    CHECK(load("one.pem", "two.key", NULL, &pem, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "tls.file.key_path") && strstr(err.msg, "does not belong to the certificate"));
    CHECK(load("one.pem", "one.enc.key", NULL, &pem, &err) == CC_EINVAL);
    CHECK_MSG(strstr(err.msg, "encrypted keys are not supported") != NULL, "%s", err.msg);
    CHECK(load(".", "one.key", NULL, &pem, &err) == CC_EIO); /* a directory */
}

/* ---------------------------------------------------------------- server */

static void hello(void *ctx, const cc_http_request *req, cc_http_response *res)
{
    (void)ctx, (void)req;
    res->status = 200;
    res->content_type = "text/plain";
    res->body = strdup("hi");
    res->body_len = 2;
}

/* The certificate a new TLS connection to port is served (NULL if the handshake fails). */
static X509 *served(uint16_t port, const char *client_cert, const char *client_key)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return NULL;
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (client_cert) {
        SSL_CTX_use_certificate_file(ctx, path_of(client_cert), SSL_FILETYPE_PEM);
        SSL_CTX_use_PrivateKey_file(ctx, path_of(client_key), SSL_FILETYPE_PEM);
    }
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    X509 *peer = NULL;
    if (SSL_connect(ssl) == 1) {
        /* TLS 1.3 reports a refused client certificate only on the first read. */
        const char *get = "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        char buf[256];
        if (SSL_write(ssl, get, (int)strlen(get)) > 0 && SSL_read(ssl, buf, sizeof buf - 1) > 0)
            peer = SSL_get1_peer_certificate(ssl);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return peer;
}

/* In TLS 1.2 a refused client certificate fails the handshake itself, before any request. */
static int tls12_handshake_completes(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        struct timeval tv = {5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
        SSL *ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        ok = SSL_connect(ssl) == 1;
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }
    close(fd);
    return ok;
}

static int served_is(uint16_t port, X509 *want)
{
    X509 *got = served(port, NULL, NULL);
    int same = got && X509_cmp(got, want) == 0;
    X509_free(got);
    return same;
}

TEST(server_swaps_certificates_and_keeps_the_old_one_on_bad_material)
{
    char *c1 = slurp("one.pem"), *k1 = slurp("one.key"), *c2 = slurp("two.pem"), *k2 = slurp("two.key");
    cc_server *srv = NULL;
    cc_error err;
    cc_server_tls t1 = {c1, k1, NULL};
    CHECK_MSG(cc_server_start_tls(hello, NULL, "127.0.0.1", 0, &t1, &srv, &err) == CC_OK, "%s", err.msg);
    if (!srv)
        return;
    uint16_t port = cc_server_port(srv);
    CHECK(port != 0);
    CHECK(served_is(port, cert_one));
    CHECK(tls12_handshake_completes(port)); /* no client certificate asked */

    cc_server_tls bad = {c2, k1, NULL}; /* key of another certificate: GnuTLS refuses it too */
    CHECK(cc_server_tls_swap(srv, &bad, &err) == CC_ECRYPTO);
    CHECK(served_is(port, cert_one));
    cc_server_tls junk = {"junk", "junk", NULL};
    CHECK(cc_server_tls_swap(srv, &junk, &err) == CC_ECRYPTO);
    cc_server_tls with_ca = {c2, k2, c1};
    CHECK(cc_server_tls_swap(srv, &with_ca, &err) == CC_EINTERNAL); /* cannot turn client certs on */
    CHECK(served_is(port, cert_one));

    for (int i = 0; i < 6; i++) {
        cc_server_tls t = i % 2 ? (cc_server_tls){c1, k1, NULL} : (cc_server_tls){c2, k2, NULL};
        CHECK_MSG(cc_server_tls_swap(srv, &t, &err) == CC_OK, "%s", err.msg);
        CHECK(cc_server_port(srv) == port);
        CHECK(served_is(port, i % 2 ? cert_one : cert_two));
        cc_server_tls_reap(srv);
    }
    cc_server_stop(srv);
    CHECK(served(port, NULL, NULL) == NULL); /* the socket is closed on stop */
    free(c1), free(k1), free(c2), free(k2);
}

TEST(client_certificates_are_required_by_the_handshake)
{
    char *c1 = slurp("one.pem"), *k1 = slurp("one.key"), *ca = slurp("two.pem");
    cc_server *srv = NULL;
    cc_error err;
    /* "two" is the client CA: a client presenting two.pem (self-signed by the CA key) is trusted. */
    cc_server_tls t = {c1, k1, ca};
    CHECK_MSG(cc_server_start_tls(hello, NULL, "127.0.0.1", 0, &t, &srv, &err) == CC_OK, "%s", err.msg);
    if (!srv)
        return;
    uint16_t port = cc_server_port(srv);
    CHECK(!tls12_handshake_completes(port));
    X509 *p = served(port, NULL, NULL);
    CHECK(p == NULL);
    X509_free(p);
    p = served(port, "one.pem", "one.key"); /* a certificate from another issuer */
    CHECK(p == NULL);
    X509_free(p);
    p = served(port, "two.pem", "two.key");
    CHECK(p && X509_cmp(p, cert_one) == 0);
    X509_free(p);
    cc_server_stop(srv);
    free(c1), free(k1), free(ca);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* a refused handshake closes the socket under our client */
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    cert_one = make_cert("one", "signer one", 0x1001);
    cert_two = make_cert("two", "signer two", 0x1002);
    RUN(loads_a_good_pair);
    RUN(refusals_name_the_key_and_the_file);
    RUN(server_swaps_certificates_and_keeps_the_old_one_on_bad_material);
    RUN(client_certificates_are_required_by_the_handshake);
    X509_free(cert_one);
    X509_free(cert_two);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    TEST_MAIN_END();
}
