/*
 * http.c — libcurl transport, SigV4-signed AWS JSON calls, retries.
 *
 * A cc_aws_http owns a small stack of idle curl easy handles.  A call takes
 * one (or makes one), uses it and gives it back after curl_easy_reset, which
 * keeps the handle's live connections and TLS session cache: consecutive
 * calls reuse the connection, and concurrent calls each get their own handle.
 *
 * Bodies of answers are collected in memory that is wiped when it grows and
 * when it is freed, since KMS answers carry plaintext (Decrypt,
 * GenerateRandom).
 */
#include "aws/http.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "aws/sigv4.h"
#include "util/log.h"
#include "util/secret.h"

#define MAX_BODY (32u << 20) /* an answer larger than this is refused */
#define MAX_POOL 64

struct cc_aws_http {
    cc_aws_http_options opt;
    pthread_mutex_t mu;
    CURL *idle[MAX_POOL];
    size_t nidle;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

void cc_aws_http_options_default(cc_aws_http_options *o)
{
    o->connect_timeout_ms = 2000;
    o->timeout_ms = 10000;
    o->max_attempts = 4;
    o->base_delay_ms = 50;
    o->max_delay_ms = 2000;
    o->pool_size = 8;
}

cc_status cc_aws_http_new(const cc_aws_http_options *opt, cc_aws_http **out, cc_error *err)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return cc_error_set(err, CC_EINTERNAL, "aws http: curl_global_init failed: %s",
                            curl_easy_strerror(curl_init_rc));
    cc_aws_http *h = calloc(1, sizeof *h);
    if (!h)
        return cc_error_set(err, CC_ENOMEM, "aws http: out of memory");
    if (opt)
        h->opt = *opt;
    else
        cc_aws_http_options_default(&h->opt);
    if (h->opt.max_attempts == 0)
        h->opt.max_attempts = 1;
    if (h->opt.pool_size > MAX_POOL)
        h->opt.pool_size = MAX_POOL;
    if (h->opt.connect_timeout_ms <= 0 || h->opt.timeout_ms <= 0) {
        free(h);
        return cc_error_set(err, CC_ECONFIG, "aws http: timeouts must be positive");
    }
    pthread_mutex_init(&h->mu, NULL);
    *out = h;
    return CC_OK;
}

void cc_aws_http_free(cc_aws_http *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->nidle; i++)
        curl_easy_cleanup(h->idle[i]);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

const cc_aws_http_options *cc_aws_http_options_of(const cc_aws_http *h) { return &h->opt; }

static CURL *handle_take(cc_aws_http *h)
{
    CURL *c = NULL;
    pthread_mutex_lock(&h->mu);
    if (h->nidle)
        c = h->idle[--h->nidle];
    pthread_mutex_unlock(&h->mu);
    return c ? c : curl_easy_init();
}

static void handle_give(cc_aws_http *h, CURL *c)
{
    curl_easy_reset(c);
    pthread_mutex_lock(&h->mu);
    if (h->nidle < h->opt.pool_size) {
        h->idle[h->nidle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&h->mu);
    if (c)
        curl_easy_cleanup(c);
}

/* ---------------------------------------------------------------- one exchange */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    cc_aws_http_response *r = userp;
    size_t n = size * nmemb;
    if (r->body_len + n + 1 > MAX_BODY)
        return 0; /* curl fails the transfer with CURLE_WRITE_ERROR */
    if (r->body_len + n + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + n + 1)
            cap *= 2;
        char *nb = cc_secret_alloc(cap);
        if (!nb)
            return 0;
        if (r->body) {
            memcpy(nb, r->body, r->body_len);
            cc_secret_free(r->body, r->body_cap);
        }
        r->body = nb;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return n;
}

void cc_aws_http_response_free(cc_aws_http_response *r)
{
    if (!r)
        return;
    cc_secret_free(r->body, r->body_cap);
    memset(r, 0, sizeof *r);
}

/* The URL without its query, for messages (a query could carry anything). */
static void url_for_msg(const char *url, char *out, size_t cap)
{
    size_t n = strcspn(url, "?");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, url, n);
    out[n] = '\0';
}

cc_status cc_aws_http_send(cc_aws_http *h, const cc_aws_http_request *req, cc_aws_http_response *resp,
                           cc_error *err)
{
    memset(resp, 0, sizeof *resp);
    char where[256];
    url_for_msg(req->url, where, sizeof where);
    CURL *c = handle_take(h);
    if (!c)
        return cc_error_set(err, CC_ENOMEM, "aws http: curl_easy_init failed");
    struct curl_slist *hl = NULL;
    cc_status st = CC_OK;
    for (size_t i = 0; i < req->header_count; i++) {
        struct curl_slist *n = curl_slist_append(hl, req->headers[i]);
        if (!n) {
            st = cc_error_set(err, CC_ENOMEM, "aws http: out of memory");
            goto out;
        }
        hl = n;
    }
    /* curl would otherwise add "Expect: 100-continue" to larger bodies and wait for it. */
    struct curl_slist *n = curl_slist_append(hl, "Expect:");
    if (!n) {
        st = cc_error_set(err, CC_ENOMEM, "aws http: out of memory");
        goto out;
    }
    hl = n;

    long cto = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : h->opt.connect_timeout_ms;
    long to = req->timeout_ms > 0 ? req->timeout_ms : h->opt.timeout_ms;
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    /* Nitro (issue 8): AWS_CA_BUNDLE (the AWS SDKs' variable) replaces the system CA bundle — the CA file
     * built into an enclave image, or a test CA in front of a local stand-in.  Verification stays on. */
    const char *ca_bundle = getenv("AWS_CA_BUNDLE");
    if (ca_bundle && *ca_bundle)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca_bundle);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, cto);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, to);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    if (strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        if (strcmp(req->method, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
        if (!resp->body) {
            resp->body = cc_secret_alloc(1);
            resp->body_cap = 1;
            if (!resp->body)
                st = cc_error_set(err, CC_ENOMEM, "aws http: out of memory");
        }
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        st = cc_error_set(err, CC_EUNAVAILABLE, "%s %s: timed out", req->method, where);
    } else if (rc == CURLE_WRITE_ERROR) {
        st = cc_error_set(err, CC_EIO, "%s %s: answer larger than %u bytes or out of memory", req->method,
                          where, MAX_BODY);
    } else {
        st = cc_error_set(err, CC_EIO, "%s %s: %s", req->method, where, curl_easy_strerror(rc));
    }
    if (st != CC_OK)
        cc_aws_http_response_free(resp);
out:
    curl_slist_free_all(hl);
    handle_give(h, c);
    return st;
}

void cc_aws_http_backoff(const cc_aws_http *h, unsigned retry)
{
    uint64_t cap = h->opt.base_delay_ms;
    for (unsigned i = 1; i < retry && cap < h->opt.max_delay_ms; i++)
        cap *= 2;
    if (cap > h->opt.max_delay_ms)
        cap = h->opt.max_delay_ms;
    uint32_t r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
        r = (uint32_t)time(NULL);
    uint64_t ms = cap ? (uint64_t)r % (cap + 1) : 0; /* full jitter: uniform in [0, cap] */
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---------------------------------------------------------------- services */

void cc_aws_region_default(char out[64])
{
    const char *r = getenv("AWS_REGION");
    if (!r || !*r)
        r = getenv("AWS_DEFAULT_REGION");
    if (!r || !*r || strlen(r) >= 64)
        r = "us-east-1";
    snprintf(out, 64, "%s", r);
}

static int copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

cc_status cc_aws_service_init(cc_aws_service *svc, cc_aws_http *http, cc_aws_credentials_provider *creds,
                              const char *service, const char *region, const char *endpoint_override,
                              const char *target_prefix, const char *content_type, cc_error *err)
{
    memset(svc, 0, sizeof *svc);
    svc->http = http;
    svc->creds = creds;
    if (region && *region) {
        for (const char *p = region; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                return cc_error_set(err, CC_ECONFIG, "aws.region: '%.64s' is not a region name", region);
        if (copy_str(svc->region, sizeof svc->region, region))
            return cc_error_set(err, CC_ECONFIG, "aws.region: too long");
    } else {
        cc_aws_region_default(svc->region);
    }
    if (copy_str(svc->service, sizeof svc->service, service) ||
        copy_str(svc->target_prefix, sizeof svc->target_prefix, target_prefix) ||
        copy_str(svc->content_type, sizeof svc->content_type, content_type))
        return cc_error_set(err, CC_EINTERNAL, "aws %s: service name too long", service);
    if (endpoint_override && *endpoint_override) {
        if (strncmp(endpoint_override, "http://", 7) != 0 && strncmp(endpoint_override, "https://", 8) != 0)
            return cc_error_set(err, CC_ECONFIG, "aws.endpoint_urls.%s: must start with http:// or https://",
                                service);
        if (copy_str(svc->endpoint, sizeof svc->endpoint, endpoint_override))
            return cc_error_set(err, CC_ECONFIG, "aws.endpoint_urls.%s: too long", service);
        size_t n = strlen(svc->endpoint);
        while (n > 0 && svc->endpoint[n - 1] == '/')
            svc->endpoint[--n] = '\0';
    } else {
        snprintf(svc->endpoint, sizeof svc->endpoint, "https://%s.%s.amazonaws.com", svc->service, svc->region);
    }
    return CC_OK;
}

/* Host header value and path for the endpoint URL. */
static cc_status endpoint_parts(const char *endpoint, char *host, size_t hcap, char *path, size_t pcap,
                                cc_error *err)
{
    const char *p = strstr(endpoint, "://");
    if (!p)
        return cc_error_set(err, CC_ECONFIG, "aws endpoint '%.200s' has no scheme", endpoint);
    p += 3;
    size_t hn = strcspn(p, "/?#");
    if (hn == 0 || hn >= hcap)
        return cc_error_set(err, CC_ECONFIG, "aws endpoint '%.200s' has no usable host", endpoint);
    const char *at = memchr(p, '@', hn);
    if (at)
        return cc_error_set(err, CC_ECONFIG, "aws endpoint '%.200s' must not hold user info", endpoint);
    memcpy(host, p, hn);
    host[hn] = '\0';
    /* Drop a default port: curl and AWS see "host", not "host:443". */
    size_t l = strlen(host);
    if (strncmp(endpoint, "https://", 8) == 0 && l > 4 && strcmp(host + l - 4, ":443") == 0)
        host[l - 4] = '\0';
    else if (strncmp(endpoint, "http://", 7) == 0 && l > 3 && strcmp(host + l - 3, ":80") == 0)
        host[l - 3] = '\0';
    const char *rest = p + hn;
    size_t pn = strcspn(rest, "?#");
    if (pn == 0)
        rest = "/", pn = 1;
    if (pn >= pcap)
        return cc_error_set(err, CC_ECONFIG, "aws endpoint '%.200s': path too long", endpoint);
    memcpy(path, rest, pn);
    path[pn] = '\0';
    return CC_OK;
}

int cc_aws_error_is_throttling(const char *name)
{
    static const char *const names[] = {"ThrottlingException", "Throttling", "ThrottledException",
                                        "ProvisionedThroughputExceededException", "RequestLimitExceeded",
                                        "TooManyRequestsException", "RequestThrottled",
                                        "RequestThrottledException", "SlowDown", "LimitExceededException",
                                        "TransactionInProgressException", NULL};
    for (size_t i = 0; names[i]; i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

static cc_status status_for_error(const char *name)
{
    if (!strcmp(name, "ConditionalCheckFailedException") || !strcmp(name, "TransactionCanceledException"))
        return CC_ECONFLICT;
    if (!strcmp(name, "ResourceNotFoundException") || !strcmp(name, "NotFoundException"))
        return CC_ENOTFOUND;
    if (!strcmp(name, "InvalidCiphertextException") || !strcmp(name, "IncorrectKeyException"))
        return CC_ECRYPTO;
    if (!strncmp(name, "AccessDenied", 12) || !strcmp(name, "UnrecognizedClientException") ||
        !strcmp(name, "InvalidSignatureException") || !strcmp(name, "ExpiredTokenException") ||
        !strcmp(name, "MissingAuthenticationTokenException") || !strcmp(name, "IncompleteSignatureException") ||
        !strcmp(name, "KMSInvalidStateException") || !strcmp(name, "DisabledException"))
        return CC_EFORBIDDEN;
    if (cc_aws_error_is_throttling(name))
        return CC_EUNAVAILABLE;
    return CC_EIO;
}

int cc_aws_parse_json_error(const char *body, size_t len, char *name, size_t name_cap, char *message,
                            size_t message_cap)
{
    name[0] = '\0';
    message[0] = '\0';
    if (!body || !len)
        return -1;
    json_t *j = json_loadb(body, len, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return -1;
    }
    const char *t = json_string_value(json_object_get(j, "__type"));
    if (!t)
        t = json_string_value(json_object_get(j, "code"));
    if (!t)
        t = json_string_value(json_object_get(j, "Code"));
    const char *m = json_string_value(json_object_get(j, "message"));
    if (!m)
        m = json_string_value(json_object_get(j, "Message"));
    if (t) {
        const char *hash = strrchr(t, '#');
        if (hash)
            t = hash + 1;
        /* Some services append ":http://internal..." to the name. */
        size_t n = strcspn(t, ":");
        if (n >= name_cap)
            n = name_cap - 1;
        memcpy(name, t, n);
        name[n] = '\0';
    }
    if (m)
        snprintf(message, message_cap, "%s", m);
    json_decref(j);
    return name[0] ? 0 : -1;
}

void cc_aws_json_wipe(json_t *j)
{
    if (json_is_string(j)) {
        OPENSSL_cleanse((char *)json_string_value(j), json_string_length(j));
    } else if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
            cc_aws_json_wipe(v);
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
            cc_aws_json_wipe(v);
    }
}

void cc_aws_result_free(cc_aws_result *res)
{
    if (!res)
        return;
    cc_secret_free(res->body, res->body_cap);
    res->body = NULL;
    res->body_len = res->body_cap = 0;
}

/* One signed attempt: fills resp or returns a transport / credential error. */
static cc_status attempt(const cc_aws_service *svc, const char *operation, const char *body, size_t body_len,
                         cc_aws_http_response *resp, cc_error *err)
{
    char host[512], path[512];
    cc_status st = endpoint_parts(svc->endpoint, host, sizeof host, path, sizeof path, err);
    if (st != CC_OK)
        return st;
    cc_aws_credentials *cr = NULL;
    st = cc_aws_credentials_get(svc->creds, &cr, err);
    if (st != CC_OK)
        return cc_error_prefix(err, "%s %s: credentials", svc->service, operation);

    char date[17], target[160];
    cc_sigv4_amz_date(time(NULL), date);
    snprintf(target, sizeof target, "%s.%s", svc->target_prefix, operation);
    cc_sigv4_header sh[5] = {
        {"Content-Type", svc->content_type},
        {"Host", host},
        {"X-Amz-Date", date},
        {"X-Amz-Target", target},
        {"X-Amz-Security-Token", cr->session_token},
    };
    size_t nsh = cr->session_token ? 5 : 4;
    cc_sigv4_request sreq = {"POST", path, NULL, sh, nsh, body, body_len};
    cc_sigv4_params prm = {cr->access_key_id, cr->secret_access_key, date, svc->region, svc->service};
    cc_sigv4_result sig;
    st = cc_sigv4_sign(&sreq, &prm, &sig, err);
    if (st != CC_OK) {
        cc_sigv4_result_free(&sig);
        cc_aws_credentials_free(cr);
        return cc_error_prefix(err, "%s %s", svc->service, operation);
    }

    /* Header lines; the token line may be long, so it is built on the heap. */
    char l_ct[128], l_host[600], l_date[64], l_target[200];
    snprintf(l_ct, sizeof l_ct, "Content-Type: %s", svc->content_type);
    snprintf(l_host, sizeof l_host, "Host: %s", host);
    snprintf(l_date, sizeof l_date, "X-Amz-Date: %s", date);
    snprintf(l_target, sizeof l_target, "X-Amz-Target: %s", target);
    size_t alen = strlen(sig.authorization) + 32;
    char *l_auth = malloc(alen);
    size_t tlen = cr->session_token ? strlen(cr->session_token) + 32 : 0;
    char *l_tok = tlen ? cc_secret_alloc(tlen) : NULL;
    if (!l_auth || (tlen && !l_tok)) {
        free(l_auth);
        cc_secret_free(l_tok, tlen);
        cc_sigv4_result_free(&sig);
        cc_aws_credentials_free(cr);
        return cc_error_set(err, CC_ENOMEM, "%s %s: out of memory", svc->service, operation);
    }
    snprintf(l_auth, alen, "Authorization: %s", sig.authorization);
    if (l_tok)
        snprintf(l_tok, tlen, "X-Amz-Security-Token: %s", cr->session_token);
    const char *lines[6] = {l_ct, l_host, l_date, l_target, l_auth, l_tok};
    /* An endpoint without a path is sent to "/" (svc->endpoint has no trailing slash). */
    char url[1200];
    const char *authority = strstr(svc->endpoint, "://") + 3;
    snprintf(url, sizeof url, "%s%s", svc->endpoint, strchr(authority, '/') ? "" : "/");
    cc_aws_http_request hreq = {"POST", url, lines, l_tok ? 6 : 5, body, body_len, 0, 0};
    st = cc_aws_http_send(svc->http, &hreq, resp, err);
    if (st != CC_OK)
        cc_error_prefix(err, "%s %s", svc->service, operation);
    free(l_auth);
    cc_secret_free(l_tok, tlen);
    cc_sigv4_result_free(&sig);
    cc_aws_credentials_free(cr);
    return st;
}

cc_status cc_aws_json_call(const cc_aws_service *svc, const char *operation, const char *body, size_t body_len,
                           cc_aws_result *res, cc_error *err)
{
    memset(res, 0, sizeof *res);
    const cc_aws_http_options *o = &svc->http->opt;
    cc_status st = CC_EINTERNAL;
    for (unsigned a = 1; a <= o->max_attempts; a++) {
        if (a > 1)
            cc_aws_http_backoff(svc->http, a - 1);
        cc_aws_result_free(res);
        res->attempts = a;
        res->aws_error[0] = '\0';
        cc_aws_http_response resp;
        st = attempt(svc, operation, body, body_len, &resp, err);
        if (st != CC_OK) {
            res->http_status = 0;
            /* Transport failures are retried; bad credentials or config are not. */
            if ((st == CC_EIO || st == CC_EUNAVAILABLE) && a < o->max_attempts) {
                cc_log(CC_LOG_WARN, "aws call failed, retrying", "service", svc->service, "operation",
                       operation, "error", err ? err->msg : "", NULL);
                continue;
            }
            return st;
        }
        res->http_status = resp.status;
        res->body = resp.body;
        res->body_len = resp.body_len;
        res->body_cap = resp.body_cap;
        if (resp.status >= 200 && resp.status < 300)
            return CC_OK;

        char message[300];
        int named = cc_aws_parse_json_error(res->body, res->body_len, res->aws_error, sizeof res->aws_error,
                                            message, sizeof message) == 0;
        int retry = resp.status >= 500 || resp.status == 429 || (named && cc_aws_error_is_throttling(res->aws_error));
        if (named) {
            st = retry ? CC_EUNAVAILABLE : status_for_error(res->aws_error);
            cc_error_set(err, st, "%s %s: %s: %s", svc->service, operation, res->aws_error,
                         message[0] ? message : "(no message)");
        } else {
            st = retry ? CC_EUNAVAILABLE : resp.status == 403 ? CC_EFORBIDDEN : CC_EIO;
            cc_error_set(err, st, "%s %s: HTTP %ld", svc->service, operation, resp.status);
        }
        if (!retry || a == o->max_attempts)
            return st;
        cc_log(CC_LOG_WARN, "aws call failed, retrying", "service", svc->service, "operation", operation,
               "error", err ? err->msg : "", NULL);
    }
    return st;
}

cc_status cc_aws_json_request(const cc_aws_service *svc, const char *operation, json_t *request, json_t **response,
                              cc_aws_call_info *info, cc_error *err)
{
    *response = NULL;
    if (info)
        memset(info, 0, sizeof *info);
    char *body = json_dumps(request, JSON_COMPACT);
    if (!body)
        return cc_error_set(err, CC_EINVAL, "%s %s: request is not serialisable JSON", svc->service, operation);
    size_t blen = strlen(body);
    cc_aws_result res;
    cc_status st = cc_aws_json_call(svc, operation, body, blen, &res, err);
    OPENSSL_cleanse(body, blen);
    free(body);
    if (info) {
        info->http_status = res.http_status;
        info->attempts = res.attempts;
        memcpy(info->aws_error, res.aws_error, sizeof info->aws_error);
    }
    if (st == CC_OK) {
        json_error_t je;
        *response = json_loadb(res.body, res.body_len, 0, &je);
        if (!json_is_object(*response)) {
            json_decref(*response);
            *response = NULL;
            st = cc_error_set(err, CC_EIO, "%s %s: answer is not a JSON object", svc->service, operation);
        }
    }
    cc_aws_result_free(&res);
    return st;
}
