/*
 * atls.c — fetches an aTLS server's certificate (see atls.h) with OpenSSL.
 * The handshake completes (so the server proved it holds the certificate's
 * key) before the certificate is handed back.
 */
#include "enclave/atls.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static cc_status parse_url(const char *url, char *host, size_t hcap, char *port, size_t pcap, cc_error *err)
{
    if (strncmp(url, "https://", 8) != 0)
        return cc_error_set(err, CC_EINVAL, "--url: must start with https://");
    const char *h = url + 8, *end = h + strcspn(h, "/?#");
    const char *colon = NULL;
    if (*h == '[') { /* [v6]:port */
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb || rb + 1 >= end || rb[1] != ':')
            return cc_error_set(err, CC_EINVAL, "--url: expected https://[ADDRESS]:PORT");
        colon = rb + 1;
        h++;
        if ((size_t)(rb - h) >= hcap)
            return cc_error_set(err, CC_EINVAL, "--url: host too long");
        memcpy(host, h, (size_t)(rb - h));
        host[rb - h] = '\0';
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        if (!colon)
            return cc_error_set(err, CC_EINVAL, "--url: expected https://HOST:PORT");
        if ((size_t)(colon - h) >= hcap || colon == h)
            return cc_error_set(err, CC_EINVAL, "--url: bad host");
        memcpy(host, h, (size_t)(colon - h));
        host[colon - h] = '\0';
    }
    size_t pl = (size_t)(end - colon - 1);
    if (pl == 0 || pl >= pcap || strspn(colon + 1, "0123456789") < pl)
        return cc_error_set(err, CC_EINVAL, "--url: bad port");
    memcpy(port, colon + 1, pl);
    port[pl] = '\0';
    return CC_OK;
}

cc_status cc_atls_fetch_certificate(const char *url, int timeout_s, X509 **out, cc_error *err)
{
    char host[256], port[8];
    cc_status s = parse_url(url, host, sizeof host, port, sizeof port, err);
    if (s != CC_OK)
        return s;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    BIO *bio = NULL;
    SSL *ssl = NULL;
    if (!ctx) {
        s = cc_error_set(err, CC_ENOMEM, "TLS: cannot make a context");
        goto out;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* the attestation document is the trust */
    bio = BIO_new_ssl_connect(ctx);
    if (!bio) {
        s = cc_error_set(err, CC_ENOMEM, "TLS: cannot make a connection");
        goto out;
    }
    BIO_get_ssl(bio, &ssl);
    char hostport[300];
    snprintf(hostport, sizeof hostport, "%s:%s", host, port);
    BIO_set_conn_hostname(bio, hostport);
    if (strspn(host, "0123456789.:") != strlen(host))
        SSL_set_tlsext_host_name(ssl, host);
    /* Bounded: a blocking connect with SO_RCVTIMEO-like limits is not portable through BIO; use a non-blocking loop. */
    BIO_set_nbio(bio, 1);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (BIO_do_handshake(bio) == 1)
            break;
        if (!BIO_should_retry(bio)) {
            unsigned long e = ERR_get_error();
            char buf[200];
            ERR_error_string_n(e, buf, sizeof buf);
            s = cc_error_set(err, CC_EIO, "%s: TLS connection failed: %s", hostport, e ? buf : "connection refused");
            goto out;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= timeout_s) {
            s = cc_error_set(err, CC_EUNAVAILABLE, "%s: TLS handshake timed out after %d s", hostport, timeout_s);
            goto out;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    X509 *peer = SSL_get1_peer_certificate(ssl);
    if (!peer) {
        s = cc_error_set(err, CC_EFORBIDDEN, "%s: the server presented no certificate", hostport);
        goto out;
    }
    *out = peer;
out:
    BIO_free_all(bio);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return s;
}
