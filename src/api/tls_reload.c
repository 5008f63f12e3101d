/*
 * tls_reload.c — HTTPS from certificate files that may be replaced at any
 * time (certificate rotation by cert-manager, certbot, a cron job...).
 *
 * The files are parsed and cross-checked with OpenSSL before GnuTLS (inside
 * libmicrohttpd) ever sees them, so every refusal names the file and the
 * reason.  The watcher thread owns every change of the server after start:
 * it swaps certificates and reaps the daemons that served the old ones.
 */
#include "api/tls_reload.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "util/log.h"
#include "util/secret.h"

#define CC_TLS_MAX_FILE (1024 * 1024) /* no PEM certificate chain or key is near this */
#define CC_TLS_REAP_SECONDS 10        /* how often retired daemons are looked at */

/* ---------------------------------------------------------------- files */

static cc_status read_file(const char *key, const char *path, int secret, char **out, size_t *alloc,
                           cc_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cc_error_set(err, CC_EIO, "%s (%s): %s", key, path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CC_TLS_MAX_FILE) {
        close(fd);
        return cc_error_set(err, CC_EIO, "%s (%s): not a regular file of at most 1 MiB", key, path);
    }
    size_t cap = (size_t)st.st_size + 1;
    char *buf = secret ? cc_secret_alloc(cap) : calloc(1, cap);
    if (!buf) {
        close(fd);
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    size_t n = 0;
    while (n < cap - 1) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    if (memchr(buf, '\0', n)) { /* PEM is text; MHD takes NUL-terminated strings */
        if (secret)
            cc_secret_free(buf, cap);
        else
            free(buf);
        return cc_error_set(err, CC_EINVAL, "%s (%s): not a PEM file (binary content)", key, path);
    }
    *out = buf;
    if (alloc)
        *alloc = cap;
    return CC_OK;
}

static int has(const char *s) { return s && s[0]; }

/* Reads the files (no checks) and hashes them. */
static cc_status read_files(const cc_tls_files *files, cc_tls_pem *pem, cc_error *err)
{
    memset(pem, 0, sizeof *pem);
    if (read_file("tls.file.cert_path", files->cert_path, 0, &pem->cert, NULL, err) != CC_OK ||
        read_file("tls.file.key_path", files->key_path, 1, &pem->key, &pem->key_size, err) != CC_OK ||
        (has(files->client_ca_path) &&
         read_file("tls.file.client_ca_path", files->client_ca_path, 0, &pem->ca, NULL, err) != CC_OK)) {
        cc_tls_pem_free(pem);
        return err ? err->code : CC_EIO;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned dlen = 0;
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(md, pem->cert, strlen(pem->cert) + 1) &&
             EVP_DigestUpdate(md, pem->key, strlen(pem->key) + 1) &&
             (!pem->ca || EVP_DigestUpdate(md, pem->ca, strlen(pem->ca) + 1)) &&
             EVP_DigestFinal_ex(md, pem->digest, &dlen);
    EVP_MD_CTX_free(md);
    if (!ok) {
        cc_tls_pem_free(pem);
        return cc_error_set(err, CC_ECRYPTO, "SHA-256 failed");
    }
    return CC_OK;
}

void cc_tls_pem_free(cc_tls_pem *pem)
{
    if (!pem)
        return;
    free(pem->cert);
    free(pem->ca);
    cc_secret_free(pem->key, pem->key_size);
    memset(pem, 0, sizeof *pem);
}

/* ---------------------------------------------------------------- checks */

/* Never prompt for a passphrase (OpenSSL's default would read the terminal). */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* The last OpenSSL error as a short phrase; clears the queue. */
static const char *ossl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return r ? r : "no PEM data";
}

/* True if the last error is the normal end of a PEM sequence (then clears it). */
static int pem_end(void)
{
    unsigned long e = ERR_peek_last_error();
    int end = !e || (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
    if (end)
        ERR_clear_error();
    return end;
}

/* Parses every certificate of pem; returns the first (caller frees) or NULL with err set. */
static X509 *parse_certs(const char *key, const char *path, const char *pem, cc_error *err)
{
    ERR_clear_error();
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *first = bio ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
    if (!first) {
        cc_error_set(err, CC_EINVAL, "%s (%s): no PEM certificate (%s)", key, path, ossl_reason());
        BIO_free(bio);
        return NULL;
    }
    for (int i = 2;; i++) {
        X509 *x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
        if (x) {
            X509_free(x);
            continue;
        }
        if (!pem_end()) {
            cc_error_set(err, CC_EINVAL, "%s (%s): certificate %d does not parse (%s)", key, path, i,
                         ossl_reason());
            X509_free(first);
            first = NULL;
        }
        break;
    }
    BIO_free(bio);
    return first;
}

static void describe(X509 *leaf, cc_tls_pem *pem)
{
    X509_NAME_oneline(X509_get_subject_name(leaf), pem->subject, sizeof pem->subject);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    snprintf(pem->serial, sizeof pem->serial, "%s", hex ? hex : "?");
    OPENSSL_free(hex);
    BN_free(bn);
    struct tm tm;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) == 1)
        strftime(pem->not_after, sizeof pem->not_after, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else
        snprintf(pem->not_after, sizeof pem->not_after, "?");
}

/* The certificate chain parses, the key parses and belongs to the leaf, the client CA parses. */
static cc_status check_pem(const cc_tls_files *files, cc_tls_pem *pem, cc_error *err)
{
    X509 *leaf = parse_certs("tls.file.cert_path", files->cert_path, pem->cert, err);
    if (!leaf)
        return CC_EINVAL;
    cc_status st = CC_OK;
    BIO *bio = BIO_new_mem_buf(pem->key, -1);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    if (!pkey) {
        const char *why = ossl_reason();
        st = cc_error_set(err, CC_EINVAL, "tls.file.key_path (%s): no usable PEM private key (%s%s)",
                          files->key_path, why,
                          strstr(pem->key, "ENCRYPTED") ? "; encrypted keys are not supported" : "");
    } else if (X509_check_private_key(leaf, pkey) != 1) {
        ERR_clear_error();
        st = cc_error_set(err, CC_EINVAL, "tls.file.key_path (%s): the key does not belong to the certificate in %s",
                          files->key_path, files->cert_path);
    }
    EVP_PKEY_free(pkey);
    if (st == CC_OK && pem->ca) {
        X509 *ca = parse_certs("tls.file.client_ca_path", files->client_ca_path, pem->ca, err);
        if (!ca)
            st = CC_EINVAL;
        X509_free(ca);
    }
    if (st == CC_OK)
        describe(leaf, pem);
    X509_free(leaf);
    return st;
}

cc_status cc_tls_pem_load(const cc_tls_files *files, cc_tls_pem *out, cc_error *err)
{
    if (read_files(files, out, err) != CC_OK)
        return err ? err->code : CC_EIO;
    if (check_pem(files, out, err) != CC_OK) {
        cc_tls_pem_free(out);
        return err ? err->code : CC_EINVAL;
    }
    return CC_OK;
}

/* ---------------------------------------------------------------- listener */

struct cc_tls_listener {
    cc_server *srv;
    char cert_path[1024], key_path[1024], ca_path[1024];
    cc_tls_files files; /* points at the copies above */
    uint32_t interval;
    unsigned char served[32]; /* digest of the files now served */
    unsigned char seen[32];   /* digest of what was last tried (or of the last read error) */
    pthread_t thread;
    int thread_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stopping;
};

static void log_certificate(const char *msg, const cc_tls_listener *l, const cc_tls_pem *pem)
{
    cc_log(CC_LOG_INFO, msg, "cert_path", l->cert_path, "subject", pem->subject, "serial", pem->serial,
           "not_after", pem->not_after, NULL);
    if (strcmp(pem->not_after, "?") != 0) {
        struct tm tm = {0};
        if (strptime(pem->not_after, "%Y-%m-%dT%H:%M:%SZ", &tm) && timegm(&tm) < time(NULL))
            cc_log(CC_LOG_WARN, "https: the certificate has expired", "cert_path", l->cert_path, "not_after",
                   pem->not_after, NULL);
    }
}

static void digest_of(const char *text, unsigned char out[32])
{
    unsigned dlen = 0;
    if (EVP_Digest(text, strlen(text), out, &dlen, EVP_sha256(), NULL) != 1)
        memset(out, 0, 32);
}

/* One look at the files: swap if they changed and check out. Runs on the watcher thread. */
static void check_files(cc_tls_listener *l)
{
    cc_tls_pem pem;
    cc_error err;
    cc_error_clear(&err);
    if (read_files(&l->files, &pem, &err) != CC_OK) {
        /* Between a rename and the next write a file may be missing: report each distinct failure once. */
        unsigned char d[32];
        digest_of(err.msg, d);
        if (memcmp(d, l->seen, 32) != 0)
            cc_log(CC_LOG_WARN, "https: certificate files unreadable; the current certificate keeps serving",
                   "reason", err.msg, NULL);
        memcpy(l->seen, d, 32);
        return;
    }
    int same_as_seen = memcmp(pem.digest, l->seen, 32) == 0;
    int same_as_served = memcmp(pem.digest, l->served, 32) == 0;
    memcpy(l->seen, pem.digest, 32);
    if (same_as_seen || same_as_served) {
        cc_tls_pem_free(&pem);
        return;
    }
    if (check_pem(&l->files, &pem, &err) != CC_OK) {
        cc_log(CC_LOG_WARN, "https: new certificate refused; the current one keeps serving", "reason", err.msg,
               NULL);
        cc_tls_pem_free(&pem);
        return;
    }
    cc_server_tls t = {pem.cert, pem.key, pem.ca};
    if (cc_server_tls_swap(l->srv, &t, &err) != CC_OK) {
        cc_log(CC_LOG_ERROR, "https: certificate not reloaded", "cert_path", l->cert_path, "reason", err.msg, NULL);
    } else {
        memcpy(l->served, pem.digest, 32);
        log_certificate("https: certificate reloaded", l, &pem);
    }
    cc_tls_pem_free(&pem);
}

static void add_seconds(struct timespec *t, unsigned s) { t->tv_sec += (time_t)s; }

static int before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void *watch(void *arg)
{
    cc_tls_listener *l = arg;
    struct timespec now, next_check;
    clock_gettime(CLOCK_MONOTONIC, &next_check);
    add_seconds(&next_check, l->interval);
    pthread_mutex_lock(&l->lock);
    while (!l->stopping) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        struct timespec wake = now;
        add_seconds(&wake, CC_TLS_REAP_SECONDS);
        if (before(&next_check, &wake))
            wake = next_check;
        pthread_cond_timedwait(&l->cond, &l->lock, &wake);
        if (l->stopping)
            break;
        pthread_mutex_unlock(&l->lock);
        cc_server_tls_reap(l->srv);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (!before(&now, &next_check)) {
            check_files(l);
            clock_gettime(CLOCK_MONOTONIC, &next_check);
            add_seconds(&next_check, l->interval);
        }
        pthread_mutex_lock(&l->lock);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

cc_status cc_tls_listener_start(const cc_tls_files *files, uint32_t reload_interval_seconds,
                                cc_http_handler handler, void *ctx, const char *address, uint16_t port,
                                cc_tls_listener **out, cc_error *err)
{
    cc_tls_listener *l = calloc(1, sizeof *l);
    if (!l)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    snprintf(l->cert_path, sizeof l->cert_path, "%s", files->cert_path ? files->cert_path : "");
    snprintf(l->key_path, sizeof l->key_path, "%s", files->key_path ? files->key_path : "");
    snprintf(l->ca_path, sizeof l->ca_path, "%s", has(files->client_ca_path) ? files->client_ca_path : "");
    l->files = (cc_tls_files){l->cert_path, l->key_path, l->ca_path[0] ? l->ca_path : NULL};
    l->interval = reload_interval_seconds;

    cc_tls_pem pem;
    if (cc_tls_pem_load(&l->files, &pem, err) != CC_OK) {
        free(l);
        return err ? err->code : CC_EINVAL;
    }
    cc_server_tls t = {pem.cert, pem.key, pem.ca};
    cc_status st = cc_server_start_tls(handler, ctx, address, port, &t, &l->srv, err);
    if (st != CC_OK) {
        if (st == CC_ECRYPTO)
            cc_error_prefix(err, "tls.file (%s, %s)", l->cert_path, l->key_path);
        cc_tls_pem_free(&pem);
        free(l);
        return st;
    }
    log_certificate("https certificate", l, &pem);
    memcpy(l->served, pem.digest, 32);
    memcpy(l->seen, pem.digest, 32);
    cc_tls_pem_free(&pem);

    if (l->interval) {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&l->cond, &ca);
        pthread_condattr_destroy(&ca);
        pthread_mutex_init(&l->lock, NULL);
        if (pthread_create(&l->thread, NULL, watch, l) != 0) {
            cc_tls_listener_stop(l);
            return cc_error_set(err, CC_EIO, "cannot start the certificate watcher thread");
        }
        l->thread_started = 1;
    }
    *out = l;
    return CC_OK;
}

uint16_t cc_tls_listener_port(const cc_tls_listener *l) { return cc_server_port(l->srv); }

void cc_tls_listener_stop(cc_tls_listener *l)
{
    if (!l)
        return;
    if (l->interval) {
        if (l->thread_started) {
            pthread_mutex_lock(&l->lock);
            l->stopping = 1;
            pthread_cond_signal(&l->cond);
            pthread_mutex_unlock(&l->lock);
            pthread_join(l->thread, NULL);
        }
        pthread_cond_destroy(&l->cond);
        pthread_mutex_destroy(&l->lock);
    }
    cc_server_stop(l->srv);
    free(l);
}
