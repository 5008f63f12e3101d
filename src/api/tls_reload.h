/*
 * tls_reload.h — the HTTPS listener of tls.mode file: a certificate and key
 * read from PEM files, re-read when the files change.
 *
 * A watcher thread hashes the files every reload interval.  New content is
 * checked first (both parse; the key belongs to the certificate; the client
 * CA, if any, parses) and only then swapped in (cc_server_tls_swap), so a
 * half-written or wrong file is logged, with the file named, and the old
 * certificate keeps serving.  The same content is tried once: a broken file
 * is reported once, not every interval.
 */
#ifndef CC_TLS_RELOAD_H
#define CC_TLS_RELOAD_H

#include <stddef.h>
#include <stdint.h>

#include "api/server.h"
#include "util/err.h"

typedef struct cc_tls_files {
    const char *cert_path;      /* PEM certificate chain, leaf first */
    const char *key_path;       /* PEM private key (unencrypted) */
    const char *client_ca_path; /* NULL or "": no client certificates */
} cc_tls_files;

/* The files' content, checked.  key lives in secret memory. */
typedef struct cc_tls_pem {
    char *cert, *key, *ca;    /* NUL-terminated; ca NULL when no client CA is configured */
    size_t key_size;          /* bytes allocated for key */
    unsigned char digest[32]; /* SHA-256 over the three files, to see a change */
    char subject[256];        /* of the leaf certificate, for the logs */
    char serial[80];          /* hex */
    char not_after[40];
} cc_tls_pem;

/* Reads the files and checks them (key matches certificate).  Errors name the key and the file. */
cc_status cc_tls_pem_load(const cc_tls_files *files, cc_tls_pem *out, cc_error *err);
void cc_tls_pem_free(cc_tls_pem *pem);

typedef struct cc_tls_listener cc_tls_listener;

/*
 * Serves handler over HTTPS on address:port with the files' certificate;
 * reload_interval_seconds 0 = never re-read.  Fails (naming the file) if
 * the certificate or key is missing or bad.
 */
cc_status cc_tls_listener_start(const cc_tls_files *files, uint32_t reload_interval_seconds,
                                cc_http_handler handler, void *ctx, const char *address, uint16_t port,
                                cc_tls_listener **out, cc_error *err);
uint16_t cc_tls_listener_port(const cc_tls_listener *l);
/* Stops the watcher, then the server (in-flight requests finish). NULL is allowed. */
void cc_tls_listener_stop(cc_tls_listener *l);

#endif
