/*
 * atls_listener.c — tls.mode atls: serve, renew, swap (atls_listener.h).
 */
#include "api/atls_listener.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enclave/atls_identity.h"
#include "util/log.h"

#define RENEW_MARGIN_SECONDS 600 /* before the document's certificate expires */
#define RETRY_SECONDS 60
#define REAP_SECONDS 5

struct cc_atls_listener {
    cc_server *srv;
    cc_nsm *nsm;
    uint32_t interval;
    pthread_t thread;
    int thread_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stopping;
    unsigned long renewals;
    time_t next_renew; /* wall clock: the document's expiry is wall-clock time */
};

static time_t renew_at(const cc_atls_listener *l, const cc_atls_identity *id)
{
    time_t now = time(NULL), at = now + (time_t)l->interval;
    if (id->doc_not_after - RENEW_MARGIN_SECONDS < at)
        at = id->doc_not_after - RENEW_MARGIN_SECONDS;
    return at < now + 10 ? now + 10 : at;
}

static void log_identity(const char *msg, const cc_atls_identity *id)
{
    char exp[32];
    struct tm tm;
    gmtime_r(&id->doc_not_after, &tm);
    strftime(exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cc_log(CC_LOG_INFO, msg, "spki_sha256", id->spki_sha256, "document_certificate_not_after", exp, NULL);
}

static void renew(cc_atls_listener *l)
{
    cc_atls_identity id;
    cc_error err;
    cc_error_clear(&err);
    cc_status st = cc_atls_identity_make(l->nsm, &id, &err);
    if (st == CC_OK) {
        cc_server_tls t = {id.cert_pem, id.key_pem, NULL};
        st = cc_server_tls_swap(l->srv, &t, &err);
    }
    pthread_mutex_lock(&l->lock);
    if (st == CC_OK) {
        l->renewals++;
        l->next_renew = renew_at(l, &id);
    } else {
        l->next_renew = time(NULL) + RETRY_SECONDS;
    }
    pthread_mutex_unlock(&l->lock);
    if (st == CC_OK)
        log_identity("atls: certificate renewed", &id);
    else
        cc_log(CC_LOG_ERROR, "atls: renewal failed; the current certificate keeps serving", "reason", err.msg, NULL);
    cc_atls_identity_free(&id); /* safe after a failed make: it is zeroed */
}

static void *renewer(void *arg)
{
    cc_atls_listener *l = arg;
    pthread_mutex_lock(&l->lock);
    while (!l->stopping) {
        struct timespec wake;
        clock_gettime(CLOCK_REALTIME, &wake);
        time_t until = l->next_renew;
        wake.tv_sec = until < wake.tv_sec + REAP_SECONDS ? until : wake.tv_sec + REAP_SECONDS;
        pthread_cond_timedwait(&l->cond, &l->lock, &wake);
        if (l->stopping)
            break;
        int due = time(NULL) >= l->next_renew;
        pthread_mutex_unlock(&l->lock);
        cc_server_tls_reap(l->srv);
        if (due)
            renew(l);
        pthread_mutex_lock(&l->lock);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

cc_status cc_atls_listener_start(cc_nsm *nsm, uint32_t renew_interval_seconds, cc_http_handler handler, void *ctx,
                                 const char *address, uint16_t port, cc_atls_listener **out, cc_error *err)
{
    *out = NULL;
    cc_atls_listener *l = calloc(1, sizeof *l);
    if (!l)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    l->nsm = nsm;
    l->interval = renew_interval_seconds ? renew_interval_seconds : 1800;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->cond, NULL);
    cc_atls_identity id;
    cc_status st = cc_atls_identity_make(nsm, &id, err);
    if (st != CC_OK) {
        cc_atls_listener_stop(l);
        return st;
    }
    cc_server_tls t = {id.cert_pem, id.key_pem, NULL};
    st = cc_server_start_tls(handler, ctx, address, port, &t, &l->srv, err);
    if (st == CC_OK) {
        l->next_renew = renew_at(l, &id);
        log_identity("atls certificate", &id);
    }
    cc_atls_identity_free(&id);
    if (st != CC_OK) {
        cc_atls_listener_stop(l);
        return st;
    }
    if (pthread_create(&l->thread, NULL, renewer, l) != 0) {
        cc_atls_listener_stop(l);
        return cc_error_set(err, CC_EIO, "cannot start the aTLS renewal thread");
    }
    l->thread_started = 1;
    *out = l;
    return CC_OK;
}

uint16_t cc_atls_listener_port(const cc_atls_listener *l) { return cc_server_port(l->srv); }

unsigned long cc_atls_listener_renewals(cc_atls_listener *l)
{
    pthread_mutex_lock(&l->lock);
    unsigned long n = l->renewals;
    pthread_mutex_unlock(&l->lock);
    return n;
}

void cc_atls_listener_stop(cc_atls_listener *l)
{
    if (!l)
        return;
    if (l->thread_started) {
        pthread_mutex_lock(&l->lock);
        l->stopping = 1;
        pthread_cond_signal(&l->cond);
        pthread_mutex_unlock(&l->lock);
        pthread_join(l->thread, NULL);
    }
    cc_server_stop(l->srv);
    pthread_cond_destroy(&l->cond);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
