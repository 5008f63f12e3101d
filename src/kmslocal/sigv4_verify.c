/*
 * sigv4_verify.c — kms-local's side of AWS Signature Version 4.
 *
 * For each request we rebuild the canonical request from what arrived — the
 * method, the raw path and query, the headers the client listed in
 * SignedHeaders (lower-cased, values trimmed, inner runs of spaces folded)
 * and the SHA-256 of the body we actually received — derive the signing key
 * from the secret of the access key named in Credential=, and compare our
 * signature with the client's in constant time.  This is deliberately an
 * independent implementation from the client signer (src/aws/sigv4.c), so
 * each checks the other; both are checked against AWS's own SDK by
 * tests/integration/kms_local.sh.
 */
#include "kmslocal/kmslocal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "util/hex.h"
#include "util/secret.h"

/* A growable string; on allocation failure `oom` is set and appends are dropped. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_addn(sbuf *b, const char *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}
static void sb_add(sbuf *b, const char *p) { sb_addn(b, p, strlen(p)); }
static void sb_addc(sbuf *b, char c) { sb_addn(b, &c, 1); }

static int unreserved(unsigned char c) { return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~'; }

/* RFC 3986 percent-encoding as SigV4 wants it (upper-case hex); '/' kept when keep_slash. */
static void sb_uri_encode(sbuf *b, const char *p, size_t n, int keep_slash)
{
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            sb_addc(b, (char)c);
        } else {
            char e[3] = {'%', hx[c >> 4], hx[c & 15]};
            sb_addn(b, e, 3);
        }
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes n bytes ('+' stays '+': SigV4 clients encode a space as %20). */
static char *uri_decode(const char *p, size_t n)
{
    char *o = malloc(n + 1);
    if (!o)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            o[j++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            i += 2;
        } else {
            o[j++] = p[i];
        }
    }
    o[j] = '\0';
    return o;
}

typedef struct qpair {
    char *k, *v;  /* encoded once, canonical */
} qpair;

static int qpair_cmp(const void *a, const void *b)
{
    const qpair *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

/* The canonical query string: each name and value decoded, re-encoded, sorted. */
static int canonical_query(sbuf *out, const char *q)
{
    size_t n = 0;
    for (const char *p = q; *p; p++)
        n += *p == '&';
    qpair *v = calloc(n + 1, sizeof *v);
    if (!v)
        return -1;
    size_t cnt = 0;
    int rc = 0;
    const char *p = q;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t kl = eq ? (size_t)(eq - p) : len;
            char *k = uri_decode(p, kl), *val = uri_decode(eq ? eq + 1 : "", eq ? len - kl - 1 : 0);
            sbuf kb = {0}, vb = {0};
            if (k && val) {
                sb_uri_encode(&kb, k, strlen(k), 0);
                sb_uri_encode(&vb, val, strlen(val), 0);
                if (!kb.s) sb_add(&kb, "");
                if (!vb.s) sb_add(&vb, "");
            }
            free(k);
            free(val);
            if (!kb.s || !vb.s || kb.oom || vb.oom) {
                free(kb.s);
                free(vb.s);
                rc = -1;
                break;
            }
            v[cnt].k = kb.s;
            v[cnt].v = vb.s;
            cnt++;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    if (rc == 0) {
        qsort(v, cnt, sizeof *v, qpair_cmp);
        for (size_t i = 0; i < cnt; i++) {
            if (i)
                sb_addc(out, '&');
            sb_add(out, v[i].k);
            sb_addc(out, '=');
            sb_add(out, v[i].v);
        }
    }
    for (size_t i = 0; i < cnt; i++) {
        free(v[i].k);
        free(v[i].v);
    }
    free(v);
    return rc;
}

/* Header value as SigV4 canonicalises it: trimmed, runs of spaces folded into one. */
static void sb_add_trimmed(sbuf *b, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    int space = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == ' ' || v[i] == '\t') {
            space = 1;
            continue;
        }
        if (space)
            sb_addc(b, ' ');
        space = 0;
        sb_addc(b, v[i]);
    }
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    uint8_t d[32];
    SHA256(p, n, d);
    cc_hex_encode(d, 32, out);
}

static void hmac256(const void *key, size_t klen, const void *msg, size_t mlen, uint8_t out[32])
{
    unsigned int ol = 32;
    HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &ol);
}

void kl_sigv4_signature(const char *secret, const char *amz_date, const char *region, const char *service,
                        const char *canonical_request, char out[65])
{
    char date[9];
    memcpy(date, amz_date, 8);
    date[8] = '\0';
    char creq_hash[65];
    sha256_hex(canonical_request, strlen(canonical_request), creq_hash);
    char sts[512];
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz_date, date, region, service,
             creq_hash);

    size_t sl = strlen(secret);
    uint8_t *k0 = cc_secret_alloc(sl + 4);
    uint8_t *k = cc_secret_alloc(32);
    if (!k0 || !k) {
        cc_secret_free(k0, sl + 4);
        cc_secret_free(k, 32);
        memset(out, '0', 64);
        out[64] = '\0';
        return;
    }
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, sl);
    hmac256(k0, sl + 4, date, 8, k);
    hmac256(k, 32, region, strlen(region), k);
    hmac256(k, 32, service, strlen(service), k);
    hmac256(k, 32, "aws4_request", 12, k);
    uint8_t sig[32];
    hmac256(k, 32, sts, strlen(sts), sig);
    cc_hex_encode(sig, 32, out);
    cc_secret_free(k0, sl + 4);
    cc_secret_free(k, 32);
}

/* "20260101T000000Z" → unix time; -1 if malformed. */
static time_t parse_amz_date(const char *s)
{
    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return -1;
    for (int i = 0; i < 15; i++)
        if (i != 8 && !isdigit((unsigned char)s[i]))
            return -1;
    struct tm tm = {0};
    if (sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

/* Copies the value of "Name=" inside the Authorization header, up to ',' or end. */
static int auth_field(const char *auth, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = auth;
    while ((p = strstr(p, name)) != NULL) {
        if ((p == auth || p[-1] == ' ' || p[-1] == ',') && p[nl] == '=') {
            p += nl + 1;
            size_t n = strcspn(p, ", ");
            if (n >= cap)
                return -1;
            memcpy(out, p, n);
            out[n] = '\0';
            return 0;
        }
        p += nl;
    }
    return -1;
}

int kl_sigv4_verify(const kl_config *cfg, const kl_request *req, time_t now, const kl_cred **cred, kl_reply *reply)
{
    const char *auth = kl_request_header(req, "authorization");
    if (!auth) {
        kl_reply_error(reply, 400, "MissingAuthenticationTokenException", "Missing Authentication Token");
        return 0;
    }
    const char *algo = "AWS4-HMAC-SHA256 ";
    if (strncmp(auth, algo, strlen(algo)) != 0) {
        kl_reply_error(reply, 400, "IncompleteSignatureException",
                       "Authorization header must use AWS4-HMAC-SHA256");
        return 0;
    }
    char credential[256], signed_headers[1024], signature[128];
    if (auth_field(auth, "Credential", credential, sizeof credential) ||
        auth_field(auth, "SignedHeaders", signed_headers, sizeof signed_headers) ||
        auth_field(auth, "Signature", signature, sizeof signature)) {
        kl_reply_error(reply, 400, "IncompleteSignatureException",
                       "Authorization header requires Credential, SignedHeaders and Signature");
        return 0;
    }
    /* Credential = AKID/date/region/service/aws4_request */
    char *parts[5] = {0};
    int np = 0;
    for (char *s = credential, *tok; np < 5 && (tok = strsep(&s, "/")) != NULL;)
        parts[np++] = tok;
    if (np != 5 || strcmp(parts[4], "aws4_request") != 0 || strlen(parts[1]) != 8) {
        kl_reply_error(reply, 400, "IncompleteSignatureException", "malformed Credential scope in Authorization");
        return 0;
    }
    const kl_cred *c = NULL;
    for (size_t i = 0; i < cfg->ncreds; i++)
        if (strcmp(cfg->creds[i].access_key_id, parts[0]) == 0)
            c = &cfg->creds[i];
    if (!c) {
        kl_reply_error(reply, 400, "UnrecognizedClientException", "The security token included in the request is invalid.");
        return 0;
    }
    if (c->session_token) {
        const char *tok = kl_request_header(req, "x-amz-security-token");
        if (!tok || strlen(tok) != strlen(c->session_token) ||
            !cc_ct_equal(tok, c->session_token, strlen(tok))) {
            kl_reply_error(reply, 400, "UnrecognizedClientException",
                           "The security token included in the request is invalid.");
            return 0;
        }
    }
    const char *amz_date = kl_request_header(req, "x-amz-date");
    time_t t = parse_amz_date(amz_date);
    if (t < 0) {
        kl_reply_error(reply, 400, "IncompleteSignatureException", "missing or malformed X-Amz-Date");
        return 0;
    }
    if (strncmp(amz_date, parts[1], 8) != 0) {
        kl_reply_error(reply, 400, "InvalidSignatureException",
                       "Date in Credential scope does not match YYYYMMDD from X-Amz-Date");
        return 0;
    }
    const char *service = cfg->service ? cfg->service : "kms";
    if (strcmp(parts[3], service) != 0) {
        kl_reply_error(reply, 400, "InvalidSignatureException", "Credential should be scoped to correct service: '%s'.",
                       service);
        return 0;
    }
    if (strcmp(parts[2], cfg->region) != 0) {
        kl_reply_error(reply, 400, "InvalidSignatureException",
                       "Credential should be scoped to a valid region, not '%s'.", parts[2]);
        return 0;
    }
    long long skew = (long long)t - (long long)now;
    if (skew > cfg->max_skew_s || skew < -cfg->max_skew_s) {
        kl_reply_error(reply, 400, "InvalidSignatureException",
                       "Signature expired: %s is more than %d seconds from the server's time", amz_date,
                       cfg->max_skew_s);
        return 0;
    }

    /* The canonical request. */
    sbuf cr = {0};
    sb_add(&cr, req->method);
    sb_addc(&cr, '\n');
    const char *path = req->path && *req->path ? req->path : "/";
    sb_uri_encode(&cr, path, strlen(path), 1);
    sb_addc(&cr, '\n');
    if (canonical_query(&cr, req->query ? req->query : "") != 0)
        cr.oom = 1;
    sb_addc(&cr, '\n');
    int has_host = 0;
    char sh[1024];
    snprintf(sh, sizeof sh, "%s", signed_headers);
    for (char *s = sh, *name; (name = strsep(&s, ";")) != NULL;) {
        if (!*name)
            continue;
        if (strcmp(name, "host") == 0)
            has_host = 1;
        /* Repeated headers are joined with ',' in arrival order. */
        int found = 0;
        sb_add(&cr, name);
        sb_addc(&cr, ':');
        for (size_t i = 0; i < req->nheaders; i++) {
            if (strcmp(req->headers[i].name, name) == 0) {
                if (found)
                    sb_addc(&cr, ',');
                sb_add_trimmed(&cr, req->headers[i].value);
                found = 1;
            }
        }
        sb_addc(&cr, '\n');
        if (!found) {
            free(cr.s);
            kl_reply_error(reply, 400, "InvalidSignatureException", "signed header '%s' is not in the request", name);
            return 0;
        }
    }
    if (!has_host) {
        free(cr.s);
        kl_reply_error(reply, 400, "InvalidSignatureException", "SignedHeaders must include host");
        return 0;
    }
    sb_addc(&cr, '\n');
    sb_add(&cr, signed_headers);
    sb_addc(&cr, '\n');
    char body_hash[65];
    sha256_hex(req->body ? req->body : "", req->body_len, body_hash);
    sb_add(&cr, body_hash);
    if (cr.oom || !cr.s) {
        free(cr.s);
        kl_reply_error(reply, 500, "KMSInternalException", "out of memory");
        return 0;
    }
    char want[65];
    kl_sigv4_signature(c->secret, amz_date, parts[2], parts[3], cr.s, want);
    free(cr.s);
    if (strlen(signature) != 64 || !cc_ct_equal(signature, want, 64)) {
        kl_reply_error(reply, 400, "InvalidSignatureException",
                       "The request signature we calculated does not match the signature you provided. "
                       "Check your AWS Secret Access Key and signing method.");
        return 0;
    }
    *cred = c;
    return 1;
}
