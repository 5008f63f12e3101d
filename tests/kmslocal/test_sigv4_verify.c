/*
 * test_sigv4_verify.c — kms-local's SigV4 verifier against AWS's own
 * signature test suite (vectors/aws-sigv4): every signed request (.sreq)
 * must verify, and tampering with any signed part must not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kmslocal/kmslocal.h"
#include "test.h"

#define SUITE "aws-sigv4/raw/aws-sig-v4-test-suite/"
#define SUITE_NOW 1440938160 /* 20150830T123600Z */

/* A parsed .sreq: owns its strings. */
typedef struct sreq {
    char *text;
    char method[16];
    char *path, *query;
    kl_header h[32];
    size_t nh;
    char *body;
    size_t body_len;
} sreq;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static int parse_sreq(const char *name, sreq *r)
{
    char rel[512];
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    snprintf(rel, sizeof rel, SUITE "%s/%s.sreq", name, base);
    memset(r, 0, sizeof *r);
    r->text = slurp(test_vectors_path(rel));
    if (!r->text)
        return -1;
    char *body = strstr(r->text, "\n\n");
    if (body) {
        *body = '\0';
        body += 2;
    }
    r->body = body ? body : (char *)"";
    r->body_len = strlen(r->body);
    char *save = NULL, *line = strtok_r(r->text, "\n", &save);
    /* request line: METHOD SP TARGET SP HTTP/1.1 (the target may hold a space: get-space) */
    char *sp = strchr(line, ' '), *last = strrchr(line, ' ');
    if (!sp || sp == last)
        return -1;
    *sp = '\0';
    *last = '\0';
    snprintf(r->method, sizeof r->method, "%s", line);
    r->path = sp + 1;
    char *q = strchr(r->path, '?');
    r->query = (char *)"";
    if (q) {
        *q = '\0';
        r->query = q + 1;
    }
    while ((line = strtok_r(NULL, "\n", &save)) != NULL && r->nh < 32) {
        if ((line[0] == ' ' || line[0] == '\t') && r->nh) {
            /* obsolete line folding: append to the previous value */
            size_t a = strlen(r->h[r->nh - 1].value), b = strlen(line);
            char *v = malloc(a + b + 2);
            snprintf(v, a + b + 2, "%s %s", r->h[r->nh - 1].value, line);
            r->h[r->nh - 1].value = v; /* leaked in the test: a few bytes */
            continue;
        }
        char *colon = strchr(line, ':');
        if (!colon)
            return -1;
        *colon = '\0';
        for (char *p = line; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        r->h[r->nh].name = line;
        r->h[r->nh].value = colon + 1 + (colon[1] == ' ' && strcmp(line, "authorization") == 0);
        r->nh++;
    }
    return 0;
}

static kl_request as_request(sreq *r)
{
    return (kl_request){.method = r->method, .path = r->path, .query = r->query, .headers = r->h,
                        .nheaders = r->nh, .body = r->body, .body_len = r->body_len};
}

static kl_config suite_config(const char *token)
{
    kl_config cfg = {.region = "us-east-1", .account = "000000000000", .max_skew_s = 300, .service = "service"};
    cc_error err;
    kl_config_add_cred(&cfg, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, token, &err);
    return cfg;
}

static const char *sreq_header(sreq *r, const char *n)
{
    for (size_t i = 0; i < r->nh; i++)
        if (strcmp(r->h[i].name, n) == 0)
            return r->h[i].value;
    return NULL;
}

/* Cases whose canonical form kms-local does not produce, and why (none matter for KMS: POST /). */
static int known_unsupported(const char *name)
{
    static const char *const skip[] = {
        "normalize-path/get-relative", "normalize-path/get-relative-relative", "normalize-path/get-slash-dot-slash",
        "normalize-path/get-slash-pointless-dot", "normalize-path/get-slashes",
        "normalize-path/get-slash",                                           /* no path normalisation */
        "normalize-path/get-space",                                           /* raw space in the request line */
        "get-utf8",                                                           /* raw UTF-8 path bytes */
        "post-sts-token/post-sts-header-after",                               /* token added after signing */
        "get-header-value-multiline",             /* obsolete line folding: HTTP servers refuse it */
        "post-x-www-form-urlencoded-parameters",  /* the suite's own .creq/.sts mismatch (NOTES §6.1) */
    };
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (strcmp(skip[i], name) == 0)
            return 1;
    return 0;
}

static const char *const cases[] = {
    "get-header-key-duplicate", "get-header-value-multiline", "get-header-value-order", "get-header-value-trim",
    "get-unreserved", "get-utf8", "get-vanilla", "get-vanilla-empty-query-key", "get-vanilla-query",
    "get-vanilla-query-order-key", "get-vanilla-query-order-key-case", "get-vanilla-query-order-value",
    "get-vanilla-query-unreserved", "get-vanilla-utf8-query", "normalize-path/get-relative",
    "normalize-path/get-relative-relative", "normalize-path/get-slash", "normalize-path/get-slash-dot-slash",
    "normalize-path/get-slash-pointless-dot", "normalize-path/get-slashes", "normalize-path/get-space",
    "post-header-key-case", "post-header-key-sort", "post-header-value-case", "post-sts-token/post-sts-header-after",
    "post-sts-token/post-sts-header-before", "post-vanilla", "post-vanilla-empty-query-value", "post-vanilla-query",
    "post-x-www-form-urlencoded", "post-x-www-form-urlencoded-parameters",
};

TEST(suite_requests_verify)
{
    int verified = 0, expected = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (known_unsupported(cases[i]))
            continue;
        expected++;
        sreq r;
        CHECK_MSG(parse_sreq(cases[i], &r) == 0, "%s: cannot read .sreq", cases[i]);
        if (!r.text)
            continue;
        kl_config cfg = suite_config(sreq_header(&r, "x-amz-security-token"));
        kl_request req = as_request(&r);
        kl_reply rep = {0};
        const kl_cred *who = NULL;
        int ok = kl_sigv4_verify(&cfg, &req, SUITE_NOW, &who, &rep);
        CHECK_MSG(ok, "%s: %s", cases[i], rep.body ? rep.body : "");
        verified += ok;
        free(rep.body);
        kl_config_free(&cfg);
        free(r.text);
    }
    CHECK_EQ_INT(verified, expected);
    CHECK(expected >= 20);
}

TEST(tampering_is_refused)
{
    sreq r;
    CHECK(parse_sreq("post-vanilla-query", &r) == 0);
    if (!r.text)
        return;
    kl_config cfg = suite_config(NULL);
    const kl_cred *who = NULL;

    kl_request req = as_request(&r);
    kl_reply rep = {0};
    CHECK(kl_sigv4_verify(&cfg, &req, SUITE_NOW, &who, &rep));
    CHECK_EQ_STR(who->principal_arn, "arn:aws:iam::000000000000:root");

    /* another query value */
    req.query = "Param1=value2";
    CHECK(!kl_sigv4_verify(&cfg, &req, SUITE_NOW, &who, &rep));
    CHECK_EQ_STR(rep.error, "InvalidSignatureException");
    req = as_request(&r);

    /* a body the signature did not cover */
    req.body = "x";
    req.body_len = 1;
    CHECK(!kl_sigv4_verify(&cfg, &req, SUITE_NOW, &who, &rep));
    CHECK_EQ_STR(rep.error, "InvalidSignatureException");
    req = as_request(&r);

    /* clock skew of more than 5 minutes either way */
    CHECK(!kl_sigv4_verify(&cfg, &req, SUITE_NOW + 301, &who, &rep));
    CHECK(rep.body && strstr(rep.body, "Signature expired"));
    CHECK(!kl_sigv4_verify(&cfg, &req, SUITE_NOW - 301, &who, &rep));
    CHECK_EQ_STR(rep.error, "InvalidSignatureException");
    CHECK(kl_sigv4_verify(&cfg, &req, SUITE_NOW + 299, &who, &rep));

    /* wrong secret for the same access key */
    kl_config bad = {.region = "us-east-1", .account = "000000000000", .max_skew_s = 300, .service = "service"};
    cc_error err;
    kl_config_add_cred(&bad, "AKIDEXAMPLE", "not-the-secret", NULL, NULL, &err);
    CHECK(!kl_sigv4_verify(&bad, &req, SUITE_NOW, &who, &rep));
    CHECK_EQ_STR(rep.error, "InvalidSignatureException");
    kl_config_free(&bad);

    /* unknown access key */
    kl_config other = {.region = "us-east-1", .account = "000000000000", .max_skew_s = 300, .service = "service"};
    kl_config_add_cred(&other, "AKIDOTHER", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, NULL, &err);
    CHECK(!kl_sigv4_verify(&other, &req, SUITE_NOW, &who, &rep));
    CHECK_EQ_STR(rep.error, "UnrecognizedClientException");
    kl_config_free(&other);

    /* wrong region or service in the scope */
    kl_config reg = suite_config(NULL);
    reg.region = "eu-west-1";
    CHECK(!kl_sigv4_verify(&reg, &req, SUITE_NOW, &who, &rep));
    CHECK_EQ_STR(rep.error, "InvalidSignatureException");
    reg.region = "us-east-1";
    reg.service = NULL; /* kms */
    CHECK(!kl_sigv4_verify(&reg, &req, SUITE_NOW, &who, &rep));
    CHECK_EQ_STR(rep.error, "InvalidSignatureException");
    kl_config_free(&reg);

    /* no Authorization at all */
    kl_header only[1] = {{.name = "host", .value = "example.amazonaws.com"}};
    kl_request bare = {.method = "POST", .path = "/", .query = "", .headers = only, .nheaders = 1, .body = ""};
    CHECK(!kl_sigv4_verify(&cfg, &bare, SUITE_NOW, &who, &rep));
    CHECK_EQ_STR(rep.error, "MissingAuthenticationTokenException");

    free(rep.body);
    kl_config_free(&cfg);
    free(r.text);
}

TEST(session_token_must_match)
{
    sreq r;
    CHECK(parse_sreq("post-sts-token/post-sts-header-before", &r) == 0);
    if (!r.text)
        return;
    kl_config cfg = suite_config("a-different-token");
    kl_request req = as_request(&r);
    kl_reply rep = {0};
    const kl_cred *who = NULL;
    CHECK(!kl_sigv4_verify(&cfg, &req, SUITE_NOW, &who, &rep));
    CHECK_EQ_STR(rep.error, "UnrecognizedClientException");
    free(rep.body);
    kl_config_free(&cfg);
    free(r.text);
}

int main(void)
{
    RUN(suite_requests_verify);
    RUN(tampering_is_refused);
    RUN(session_token_must_match);
    TEST_MAIN_END();
}
