/*
 * sigv4.c — AWS Signature Version 4: canonical request, string to sign,
 * signing key and Authorization header (see sigv4.h for the rules).
 *
 * Checked against every case of AWS's aws-sig-v4-test-suite
 * (tests/aws/test_sigv4.c) and against @smithy/signature-v4
 * (tests/integration/aws_sigv4_crosscheck.sh).  SHA-256 and HMAC come from
 * OpenSSL; nothing cryptographic is written here.
 */
#include "aws/sigv4.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* ---------------------------------------------------------------- a growable string */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_addn(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_add(sbuf *b, const char *s) { sb_addn(b, s, strlen(s)); }
static void sb_addc(sbuf *b, char c) { sb_addn(b, &c, 1); }

/* Hands the string over (never NULL unless out of memory). */
static char *sb_take(sbuf *b)
{
    if (b->oom) {
        free(b->p);
        return NULL;
    }
    if (!b->p)
        sb_addn(b, "", 0);
    return b->p;
}

/* ---------------------------------------------------------------- encoding */

static int unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static void sb_pct(sbuf *b, unsigned char c)
{
    static const char hx[] = "0123456789ABCDEF";
    char e[3] = {'%', hx[c >> 4], hx[c & 15]};
    sb_addn(b, e, 3);
}

/* Query names and values: unreserved kept, an existing %XX kept (hex upper-cased), all else encoded. */
static void sb_query_enc(sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c)) {
            sb_addc(b, (char)c);
        } else if (c == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
                   isxdigit((unsigned char)s[i + 2])) {
            sb_addc(b, '%');
            sb_addc(b, (char)toupper((unsigned char)s[i + 1]));
            sb_addc(b, (char)toupper((unsigned char)s[i + 2]));
            i += 2;
        } else {
            sb_pct(b, c);
        }
    }
}

/*
 * The canonical path: segments "", "." dropped, ".." pops one, a trailing
 * slash kept; then every byte but unreserved ones and '/' percent-encoded.
 */
static void sb_canonical_path(sbuf *b, const char *path)
{
    if (!path || !*path)
        path = "/";
    size_t n = strlen(path);
    /* Segment boundaries: at most n segments. */
    size_t *start = malloc((n + 1) * sizeof *start), *len = malloc((n + 1) * sizeof *len);
    if (!start || !len) {
        free(start);
        free(len);
        b->oom = 1;
        return;
    }
    size_t depth = 0;
    for (size_t i = 0; i <= n;) {
        size_t j = i;
        while (j < n && path[j] != '/')
            j++;
        size_t l = j - i;
        if (l == 0 || (l == 1 && path[i] == '.')) {
            /* skip */
        } else if (l == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (depth)
                depth--;
        } else {
            start[depth] = i;
            len[depth] = l;
            depth++;
        }
        i = j + 1;
    }
    for (size_t d = 0; d < depth; d++) {
        sb_addc(b, '/');
        for (size_t k = 0; k < len[d]; k++) {
            unsigned char c = (unsigned char)path[start[d] + k];
            if (unreserved(c))
                sb_addc(b, (char)c);
            else
                sb_pct(b, c);
        }
    }
    if (depth == 0 || path[n - 1] == '/')
        sb_addc(b, '/');
    free(start);
    free(len);
}

/* ---------------------------------------------------------------- query */

typedef struct qparam {
    char *name, *value; /* encoded */
} qparam;

static int qparam_cmp(const void *a, const void *b)
{
    const qparam *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static void sb_canonical_query(sbuf *b, const char *query)
{
    if (!query || !*query)
        return;
    size_t n = strlen(query), count = 1;
    for (size_t i = 0; i < n; i++)
        count += query[i] == '&';
    qparam *ps = calloc(count, sizeof *ps);
    if (!ps) {
        b->oom = 1;
        return;
    }
    size_t np = 0;
    for (size_t i = 0; i <= n;) {
        size_t j = i;
        while (j < n && query[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(query + i, '=', j - i);
            size_t kl = eq ? (size_t)(eq - (query + i)) : j - i;
            sbuf k = {0}, v = {0};
            sb_query_enc(&k, query + i, kl);
            if (eq)
                sb_query_enc(&v, eq + 1, (size_t)(query + j - (eq + 1)));
            ps[np].name = sb_take(&k);
            ps[np].value = sb_take(&v);
            if (!ps[np].name || !ps[np].value)
                b->oom = 1;
            np++;
        }
        i = j + 1;
    }
    if (!b->oom) {
        qsort(ps, np, sizeof *ps, qparam_cmp);
        for (size_t i = 0; i < np; i++) {
            if (i)
                sb_addc(b, '&');
            sb_add(b, ps[i].name);
            sb_addc(b, '=');
            sb_add(b, ps[i].value);
        }
    }
    for (size_t i = 0; i < np; i++) {
        free(ps[i].name);
        free(ps[i].value);
    }
    free(ps);
}

/* ---------------------------------------------------------------- headers */

typedef struct hentry {
    char *name; /* lower-case */
    const char *value;
    size_t order;
} hentry;

static int hentry_cmp(const void *a, const void *b)
{
    const hentry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Trimmed value with every inner run of whitespace folded to one space. */
static void sb_header_value(sbuf *b, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    int pending_space = 0;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
            pending_space = 1;
            continue;
        }
        if (pending_space)
            sb_addc(b, ' ');
        pending_space = 0;
        sb_addc(b, *v);
    }
}

/* ---------------------------------------------------------------- digests */

static int sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (!EVP_Digest(data ? data : "", len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return -1;
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = hx[md[i] >> 4];
        hex[2 * i + 1] = hx[md[i] & 15];
    }
    hex[64] = '\0';
    return 0;
}

static int hmac256(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32])
{
    unsigned int olen = 0;
    if (!HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &olen) || olen != 32)
        return -1;
    return 0;
}

/* ---------------------------------------------------------------- public */

void cc_sigv4_amz_date(time_t t, char out[17])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

cc_status cc_sigv4_canonical_request(const cc_sigv4_request *req, char **creq, char **signed_headers,
                                     cc_error *err)
{
    *creq = NULL;
    if (signed_headers)
        *signed_headers = NULL;
    if (!req->method || !*req->method)
        return cc_error_set(err, CC_EINVAL, "sigv4: request has no method");
    if (req->header_count == 0)
        return cc_error_set(err, CC_EINVAL, "sigv4: request has no headers (host is required)");
    if (req->body_len && !req->body)
        return cc_error_set(err, CC_EINVAL, "sigv4: body is NULL with a length");

    hentry *hs = calloc(req->header_count, sizeof *hs);
    if (!hs)
        return cc_error_set(err, CC_ENOMEM, "sigv4: out of memory");
    cc_status st = CC_OK;
    int have_host = 0;
    for (size_t i = 0; i < req->header_count; i++) {
        const char *name = req->headers[i].name;
        if (!name || !*name || !req->headers[i].value) {
            st = cc_error_set(err, CC_EINVAL, "sigv4: header %zu has no name or value", i);
            goto out;
        }
        size_t nl = strlen(name);
        hs[i].name = malloc(nl + 1);
        if (!hs[i].name) {
            st = cc_error_set(err, CC_ENOMEM, "sigv4: out of memory");
            goto out;
        }
        for (size_t k = 0; k <= nl; k++)
            hs[i].name[k] = (char)tolower((unsigned char)name[k]);
        hs[i].value = req->headers[i].value;
        hs[i].order = i;
        if (strcmp(hs[i].name, "host") == 0)
            have_host = 1;
    }
    if (!have_host) {
        st = cc_error_set(err, CC_EINVAL, "sigv4: the host header is required");
        goto out;
    }
    qsort(hs, req->header_count, sizeof *hs, hentry_cmp);

    sbuf b = {0}, sh = {0};
    sb_add(&b, req->method);
    sb_addc(&b, '\n');
    sb_canonical_path(&b, req->path);
    sb_addc(&b, '\n');
    sb_canonical_query(&b, req->query);
    sb_addc(&b, '\n');
    for (size_t i = 0; i < req->header_count; i++) {
        int same = i > 0 && strcmp(hs[i].name, hs[i - 1].name) == 0;
        if (same) {
            sb_addc(&b, ',');
        } else {
            if (i > 0) {
                sb_addc(&b, '\n');
                sb_addc(&sh, ';');
            }
            sb_add(&b, hs[i].name);
            sb_addc(&b, ':');
            sb_add(&sh, hs[i].name);
        }
        sb_header_value(&b, hs[i].value);
    }
    sb_addc(&b, '\n');
    sb_addc(&b, '\n');
    sb_add(&b, sh.p ? sh.p : "");
    sb_addc(&b, '\n');
    char hex[65];
    if (sha256_hex(req->body, req->body_len, hex) != 0) {
        free(b.p);
        free(sh.p);
        st = cc_error_set(err, CC_ECRYPTO, "sigv4: SHA-256 of the body failed");
        goto out;
    }
    sb_add(&b, hex);
    *creq = sb_take(&b);
    char *shs = sb_take(&sh);
    if (!*creq || !shs) {
        free(*creq);
        free(shs);
        *creq = NULL;
        st = cc_error_set(err, CC_ENOMEM, "sigv4: out of memory");
        goto out;
    }
    if (signed_headers)
        *signed_headers = shs;
    else
        free(shs);
out:
    for (size_t i = 0; i < req->header_count; i++)
        free(hs[i].name);
    free(hs);
    return st;
}

static cc_status check_params(const cc_sigv4_params *p, cc_error *err)
{
    if (!p->amz_date || strlen(p->amz_date) != 16 || p->amz_date[8] != 'T' || p->amz_date[15] != 'Z')
        return cc_error_set(err, CC_EINVAL, "sigv4: amz_date must be YYYYMMDDTHHMMSSZ");
    if (!p->region || !*p->region || strchr(p->region, '/'))
        return cc_error_set(err, CC_EINVAL, "sigv4: region is missing or holds '/'");
    if (!p->service || !*p->service || strchr(p->service, '/'))
        return cc_error_set(err, CC_EINVAL, "sigv4: service is missing or holds '/'");
    return CC_OK;
}

cc_status cc_sigv4_string_to_sign(const cc_sigv4_params *p, const char *canonical_request, char **sts,
                                  cc_error *err)
{
    *sts = NULL;
    cc_status st = check_params(p, err);
    if (st != CC_OK)
        return st;
    char hex[65];
    if (sha256_hex(canonical_request, strlen(canonical_request), hex) != 0)
        return cc_error_set(err, CC_ECRYPTO, "sigv4: SHA-256 of the canonical request failed");
    sbuf b = {0};
    sb_add(&b, "AWS4-HMAC-SHA256\n");
    sb_add(&b, p->amz_date);
    sb_addc(&b, '\n');
    sb_addn(&b, p->amz_date, 8);
    sb_addc(&b, '/');
    sb_add(&b, p->region);
    sb_addc(&b, '/');
    sb_add(&b, p->service);
    sb_add(&b, "/aws4_request\n");
    sb_add(&b, hex);
    *sts = sb_take(&b);
    if (!*sts)
        return cc_error_set(err, CC_ENOMEM, "sigv4: out of memory");
    return CC_OK;
}

cc_status cc_sigv4_signature_hex(const cc_sigv4_params *p, const char *string_to_sign, char hex[65],
                                 cc_error *err)
{
    cc_status st = check_params(p, err);
    if (st != CC_OK)
        return st;
    if (!p->secret_access_key || !*p->secret_access_key)
        return cc_error_set(err, CC_EINVAL, "sigv4: no secret access key");
    size_t sl = strlen(p->secret_access_key);
    if (sl > 256)
        return cc_error_set(err, CC_EINVAL, "sigv4: secret access key longer than 256 bytes");

    unsigned char kbuf[4 + 256], k1[32], k2[32];
    memcpy(kbuf, "AWS4", 4);
    memcpy(kbuf + 4, p->secret_access_key, sl);
    int bad = hmac256(kbuf, 4 + sl, p->amz_date, 8, k1) ||                       /* kDate */
              hmac256(k1, 32, p->region, strlen(p->region), k2) ||               /* kRegion */
              hmac256(k2, 32, p->service, strlen(p->service), k1) ||             /* kService */
              hmac256(k1, 32, "aws4_request", 12, k2) ||                         /* kSigning */
              hmac256(k2, 32, string_to_sign, strlen(string_to_sign), k1);       /* signature */
    if (!bad) {
        static const char hx[] = "0123456789abcdef";
        for (int i = 0; i < 32; i++) {
            hex[2 * i] = hx[k1[i] >> 4];
            hex[2 * i + 1] = hx[k1[i] & 15];
        }
        hex[64] = '\0';
    }
    OPENSSL_cleanse(kbuf, sizeof kbuf);
    OPENSSL_cleanse(k1, sizeof k1);
    OPENSSL_cleanse(k2, sizeof k2);
    if (bad)
        return cc_error_set(err, CC_ECRYPTO, "sigv4: HMAC-SHA256 failed");
    return CC_OK;
}

cc_status cc_sigv4_sign(const cc_sigv4_request *req, const cc_sigv4_params *p, cc_sigv4_result *out,
                        cc_error *err)
{
    memset(out, 0, sizeof *out);
    if (!p->access_key_id || !*p->access_key_id || strchr(p->access_key_id, '/'))
        return cc_error_set(err, CC_EINVAL, "sigv4: access key id is missing or holds '/'");
    cc_status st = cc_sigv4_canonical_request(req, &out->canonical_request, &out->signed_headers, err);
    if (st == CC_OK)
        st = cc_sigv4_string_to_sign(p, out->canonical_request, &out->string_to_sign, err);
    char sig[65];
    if (st == CC_OK)
        st = cc_sigv4_signature_hex(p, out->string_to_sign, sig, err);
    if (st != CC_OK)
        return st;
    sbuf b = {0};
    sb_add(&b, "AWS4-HMAC-SHA256 Credential=");
    sb_add(&b, p->access_key_id);
    sb_addc(&b, '/');
    sb_addn(&b, p->amz_date, 8);
    sb_addc(&b, '/');
    sb_add(&b, p->region);
    sb_addc(&b, '/');
    sb_add(&b, p->service);
    sb_add(&b, "/aws4_request, SignedHeaders=");
    sb_add(&b, out->signed_headers);
    sb_add(&b, ", Signature=");
    sb_add(&b, sig);
    out->authorization = sb_take(&b);
    if (!out->authorization)
        return cc_error_set(err, CC_ENOMEM, "sigv4: out of memory");
    return CC_OK;
}

void cc_sigv4_result_free(cc_sigv4_result *r)
{
    if (!r)
        return;
    free(r->canonical_request);
    free(r->string_to_sign);
    free(r->signed_headers);
    free(r->authorization);
    memset(r, 0, sizeof *r);
}
