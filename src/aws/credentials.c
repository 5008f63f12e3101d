/*
 * credentials.c — the AWS credential providers, the default chain and the
 * refreshing cache (see credentials.h for the order and the rules).
 *
 * Each provider is a struct whose first member is cc_aws_credentials_provider
 * (the ops pointer), as key sources are.  Files and answers that hold secrets
 * (credentials files, web identity tokens, STS / container / IMDS answers) are
 * read into memory that is wiped after use.
 */
#include "aws/credentials.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "aws/http.h"
#include "util/log.h"
#include "util/secret.h"

#define MAX_SECRET_FILE (1u << 20)

/* ---------------------------------------------------------------- credentials */

static char *secret_strdup(const char *s, size_t *size)
{
    size_t n = strlen(s) + 1;
    char *p = cc_secret_alloc(n);
    if (p)
        memcpy(p, s, n);
    *size = n;
    return p;
}

cc_status cc_aws_credentials_new(const char *access_key_id, const char *secret_access_key,
                                 const char *session_token, time_t expiration, const char *source,
                                 cc_aws_credentials **out, cc_error *err)
{
    *out = NULL;
    if (!access_key_id || !*access_key_id)
        return cc_error_set(err, CC_EINVAL, "%s: access key id is empty", source);
    if (!secret_access_key || !*secret_access_key)
        return cc_error_set(err, CC_EINVAL, "%s: secret access key is empty", source);
    for (const char *p = access_key_id; *p; p++)
        if (!isalnum((unsigned char)*p))
            return cc_error_set(err, CC_EINVAL, "%s: access key id holds characters other than A-Z and 0-9",
                                source);
    cc_aws_credentials *c = calloc(1, sizeof *c);
    if (!c)
        return cc_error_set(err, CC_ENOMEM, "%s: out of memory", source);
    c->access_key_id = secret_strdup(access_key_id, &c->sizes[0]);
    c->secret_access_key = secret_strdup(secret_access_key, &c->sizes[1]);
    if (session_token && *session_token)
        c->session_token = secret_strdup(session_token, &c->sizes[2]);
    c->expiration = expiration;
    snprintf(c->source, sizeof c->source, "%s", source);
    if (!c->access_key_id || !c->secret_access_key || (session_token && *session_token && !c->session_token)) {
        cc_aws_credentials_free(c);
        return cc_error_set(err, CC_ENOMEM, "%s: out of memory", source);
    }
    *out = c;
    return CC_OK;
}

cc_aws_credentials *cc_aws_credentials_dup(const cc_aws_credentials *c)
{
    cc_aws_credentials *d = NULL;
    if (cc_aws_credentials_new(c->access_key_id, c->secret_access_key, c->session_token, c->expiration, c->source,
                               &d, NULL) != CC_OK)
        return NULL;
    return d;
}

void cc_aws_credentials_free(cc_aws_credentials *c)
{
    if (!c)
        return;
    cc_secret_free(c->access_key_id, c->sizes[0]);
    cc_secret_free(c->secret_access_key, c->sizes[1]);
    cc_secret_free(c->session_token, c->sizes[2]);
    free(c);
}

time_t cc_aws_parse_iso8601(const char *s)
{
    if (!s)
        return -1;
    struct tm tm = {0};
    int n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, &n) != 6 || n != 19)
        return -1;
    const char *p = s + n;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++) {
        }
    long off = 0;
    if (*p == 'Z' && p[1] == '\0') {
        /* UTC */
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
            return -1;
        off = (hh * 3600L + mm * 60L) * (*p == '+' ? 1 : -1);
    } else {
        return -1;
    }
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? -1 : t - off;
}

cc_status cc_aws_credentials_get(cc_aws_credentials_provider *p, cc_aws_credentials **out, cc_error *err)
{
    *out = NULL;
    if (!p)
        return cc_error_set(err, CC_ECONFIG, "no AWS credentials provider");
    return p->ops->fetch(p, out, err);
}

void cc_aws_credentials_provider_free(cc_aws_credentials_provider *p)
{
    if (p)
        p->ops->free(p);
}

/* ---------------------------------------------------------------- helpers */

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* Reads a whole (small) file into wiped memory; *size is the allocation size. */
static cc_status read_secret_file(const char *path, const char *what, char **out, size_t *size, cc_error *err)
{
    *out = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cc_error_set(err, errno == ENOENT ? CC_ENOTFOUND : CC_EIO, "%s %s: %s", what, path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (size_t)st.st_size > MAX_SECRET_FILE) {
        fclose(f);
        return cc_error_set(err, CC_EIO, "%s %s: unreadable or larger than %u bytes", what, path,
                            MAX_SECRET_FILE);
    }
    size_t cap = (size_t)st.st_size + 1;
    char *b = cc_secret_alloc(cap);
    if (!b) {
        fclose(f);
        return cc_error_set(err, CC_ENOMEM, "%s %s: out of memory", what, path);
    }
    size_t n = fread(b, 1, cap - 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        cc_secret_free(b, cap);
        return cc_error_set(err, CC_EIO, "%s %s: read failed", what, path);
    }
    b[n] = '\0';
    *out = b;
    *size = cap;
    return CC_OK;
}

static void trim_in_place(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] && isspace((unsigned char)s[i]))
        i++;
    if (i)
        memmove(s, s + i, n - i + 1);
}

/* A file named by a set variable that is missing is a configuration error, not "not configured". */
static cc_status configured_but_missing(cc_status st, cc_error *err)
{
    if (st == CC_ENOTFOUND) {
        st = CC_ECONFIG;
        if (err)
            err->code = st;
    }
    return st;
}

/* Bounded back-off loop shared by the network providers: 1 attempt + 2 retries. */
#define NET_ATTEMPTS 3

static int retryable_status(long status) { return status >= 500 || status == 429; }

/* ---------------------------------------------------------------- static */

typedef struct static_provider {
    cc_aws_credentials_provider base;
    cc_aws_credentials *creds;
} static_provider;

static cc_status static_fetch(cc_aws_credentials_provider *p, cc_aws_credentials **out, cc_error *err)
{
    static_provider *s = (static_provider *)p;
    *out = cc_aws_credentials_dup(s->creds);
    return *out ? CC_OK : cc_error_set(err, CC_ENOMEM, "static credentials: out of memory");
}

static void static_free(cc_aws_credentials_provider *p)
{
    static_provider *s = (static_provider *)p;
    cc_aws_credentials_free(s->creds);
    free(s);
}

static const cc_aws_credentials_provider_ops static_ops = {"static", static_fetch, static_free};

cc_status cc_aws_credentials_static_new(const char *access_key_id, const char *secret_access_key,
                                        const char *session_token, cc_aws_credentials_provider **out,
                                        cc_error *err)
{
    *out = NULL;
    static_provider *s = calloc(1, sizeof *s);
    if (!s)
        return cc_error_set(err, CC_ENOMEM, "static credentials: out of memory");
    s->base.ops = &static_ops;
    cc_status st = cc_aws_credentials_new(access_key_id, secret_access_key, session_token, 0, "static", &s->creds,
                                          err);
    if (st != CC_OK) {
        free(s);
        return st;
    }
    *out = &s->base;
    return CC_OK;
}

/* ---------------------------------------------------------------- environment */

static cc_status env_fetch(cc_aws_credentials_provider *p, cc_aws_credentials **out, cc_error *err)
{
    (void)p;
    const char *id = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");
    if (!id && !secret)
        return cc_error_set(err, CC_ENOTFOUND, "environment: AWS_ACCESS_KEY_ID not set");
    if (!id || !secret)
        return cc_error_set(err, CC_ECONFIG, "environment: %s is set but %s is not",
                            id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                            id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    return cc_aws_credentials_new(id, secret, env("AWS_SESSION_TOKEN"), 0, "environment", out, err);
}

static void plain_free(cc_aws_credentials_provider *p) { free(p); }

static const cc_aws_credentials_provider_ops env_ops = {"environment", env_fetch, plain_free};

cc_status cc_aws_credentials_env_new(cc_aws_credentials_provider **out, cc_error *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return cc_error_set(err, CC_ENOMEM, "environment credentials: out of memory");
    (*out)->ops = &env_ops;
    return CC_OK;
}

/* ---------------------------------------------------------------- profile */

typedef struct profile_keys {
    char *id, *secret, *token; /* point into the file's buffer */
    int found;                 /* the profile's section exists */
} profile_keys;

/*
 * Scans an INI file (in place) for the section of `profile`: "[profile]" in
 * the credentials file, "[profile name]" (or "[default]") in the config file.
 */
static void ini_scan(char *text, const char *profile, int is_config, profile_keys *k)
{
    int in = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        trim_in_place(line);
        if (!*line || *line == '#' || *line == ';')
            continue;
        if (*line == '[') {
            char *close = strrchr(line, ']');
            if (!close) {
                in = 0;
                continue;
            }
            *close = '\0';
            char *name = line + 1;
            trim_in_place(name);
            if (is_config && strncmp(name, "profile", 7) == 0 && isspace((unsigned char)name[7])) {
                name += 8;
                trim_in_place(name);
                in = strcmp(name, profile) == 0;
            } else {
                in = strcmp(name, profile) == 0 && (!is_config || strcmp(name, "default") == 0);
            }
            if (in)
                k->found = 1;
            continue;
        }
        if (!in)
            continue;
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *key = line, *val = eq + 1;
        trim_in_place(key);
        trim_in_place(val);
        if (strcmp(key, "aws_access_key_id") == 0)
            k->id = val;
        else if (strcmp(key, "aws_secret_access_key") == 0)
            k->secret = val;
        else if (strcmp(key, "aws_session_token") == 0)
            k->token = val;
    }
}

static cc_status profile_from_file(const char *path, const char *profile, int is_config, cc_aws_credentials **out,
                                   cc_error *err)
{
    char *text;
    size_t size;
    cc_status st = read_secret_file(path, is_config ? "AWS config file" : "AWS credentials file", &text, &size, err);
    if (st != CC_OK)
        return st;
    profile_keys k = {0};
    ini_scan(text, profile, is_config, &k);
    if (!k.id && !k.secret) {
        st = cc_error_set(err, CC_ENOTFOUND, "profile %s: no keys in %s", profile, path);
    } else if (!k.id || !k.secret) {
        st = cc_error_set(err, CC_ECONFIG, "profile %s in %s: %s is missing", profile, path,
                          k.id ? "aws_secret_access_key" : "aws_access_key_id");
    } else {
        st = cc_aws_credentials_new(k.id, k.secret, k.token, 0, "profile", out, err);
        if (st != CC_OK)
            cc_error_prefix(err, "%s", path);
    }
    cc_secret_free(text, size);
    return st;
}

static cc_status profile_fetch(cc_aws_credentials_provider *p, cc_aws_credentials **out, cc_error *err)
{
    (void)p;
    const char *profile = env("AWS_PROFILE");
    if (!profile)
        profile = "default";
    const char *home = env("HOME");
    char cred_path[4096], conf_path[4096];
    const char *c = env("AWS_SHARED_CREDENTIALS_FILE"), *f = env("AWS_CONFIG_FILE");
    if (!c && home)
        snprintf(cred_path, sizeof cred_path, "%s/.aws/credentials", home), c = cred_path;
    if (!f && home)
        snprintf(conf_path, sizeof conf_path, "%s/.aws/config", home), f = conf_path;
    /* The credentials file wins over the config file for the same profile. */
    const char *files[2] = {c, f};
    for (int i = 0; i < 2; i++) {
        if (!files[i])
            continue;
        cc_status st = profile_from_file(files[i], profile, i == 1, out, err);
        if (st != CC_ENOTFOUND)
            return st;
    }
    return cc_error_set(err, CC_ENOTFOUND, "profile: no keys for profile '%s'", profile);
}

static const cc_aws_credentials_provider_ops profile_ops = {"profile", profile_fetch, plain_free};

cc_status cc_aws_credentials_profile_new(cc_aws_credentials_provider **out, cc_error *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return cc_error_set(err, CC_ENOMEM, "profile credentials: out of memory");
    (*out)->ops = &profile_ops;
    return CC_OK;
}

/* ---------------------------------------------------------------- web identity (STS) */

typedef struct web_identity_provider {
    cc_aws_credentials_provider base;
    cc_aws_http *http;
    char region[64];
    char sts_endpoint[1024];
} web_identity_provider;

/* application/x-www-form-urlencoded value (unreserved bytes kept). */
static size_t form_escape(const char *s, char *out, size_t cap)
{
    static const char hx[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            if (o + 1 < cap)
                out[o] = (char)ch;
            o++;
        } else {
            if (o + 3 < cap) {
                out[o] = '%';
                out[o + 1] = hx[ch >> 4];
                out[o + 2] = hx[ch & 15];
            }
            o += 3;
        }
    }
    if (o < cap)
        out[o] = '\0';
    return o;
}

/*
 * Copies the text of the first <tag>…</tag> inside xml into out (wiped
 * memory, caller frees with the returned size), decoding the five XML
 * entities.  NULL if absent.
 */
static char *xml_text(const char *xml, const char *tag, size_t *size)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = strstr(xml, open);
    if (!a)
        return NULL;
    a += strlen(open);
    const char *b = strstr(a, close);
    if (!b)
        return NULL;
    size_t n = (size_t)(b - a);
    char *o = cc_secret_alloc(n + 1);
    if (!o)
        return NULL;
    size_t j = 0;
    static const struct {
        const char *ent;
        char ch;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (size_t i = 0; i < n;) {
        int done = 0;
        if (a[i] == '&')
            for (size_t e = 0; e < 5 && !done; e++) {
                size_t el = strlen(ents[e].ent);
                if (i + el <= n && memcmp(a + i, ents[e].ent, el) == 0) {
                    o[j++] = ents[e].ch;
                    i += el;
                    done = 1;
                }
            }
        if (!done)
            o[j++] = a[i++];
    }
    o[j] = '\0';
    *size = n + 1;
    return o;
}

static cc_status parse_sts_reply(const char *xml, cc_aws_credentials **out, cc_error *err)
{
    const char *creds = strstr(xml, "<Credentials>");
    if (!creds)
        return cc_error_set(err, CC_EIO, "STS AssumeRoleWithWebIdentity: answer has no Credentials");
    size_t s1 = 0, s2 = 0, s3 = 0, s4 = 0;
    char *id = xml_text(creds, "AccessKeyId", &s1), *secret = xml_text(creds, "SecretAccessKey", &s2);
    char *token = xml_text(creds, "SessionToken", &s3), *exp = xml_text(creds, "Expiration", &s4);
    cc_status st;
    time_t t = exp ? cc_aws_parse_iso8601(exp) : -1;
    if (!id || !secret || !token)
        st = cc_error_set(err, CC_EIO, "STS AssumeRoleWithWebIdentity: answer lacks AccessKeyId, "
                                       "SecretAccessKey or SessionToken");
    else if (t < 0)
        st = cc_error_set(err, CC_EIO, "STS AssumeRoleWithWebIdentity: Expiration missing or not ISO-8601");
    else
        st = cc_aws_credentials_new(id, secret, token, t, "web-identity", out, err);
    cc_secret_free(id, s1);
    cc_secret_free(secret, s2);
    cc_secret_free(token, s3);
    cc_secret_free(exp, s4);
    return st;
}

static cc_status web_identity_fetch(cc_aws_credentials_provider *p, cc_aws_credentials **out, cc_error *err)
{
    web_identity_provider *w = (web_identity_provider *)p;
    const char *token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE"), *role = env("AWS_ROLE_ARN");
    if (!token_file || !role)
        return cc_error_set(err, CC_ENOTFOUND, "web identity: AWS_WEB_IDENTITY_TOKEN_FILE or AWS_ROLE_ARN not set");
    char session[128];
    const char *sn = env("AWS_ROLE_SESSION_NAME");
    if (sn)
        snprintf(session, sizeof session, "%s", sn);
    else
        snprintf(session, sizeof session, "containment-chamber-%lld", (long long)time(NULL));

    char *tok;
    size_t tok_size;
    cc_status st = read_secret_file(token_file, "AWS_WEB_IDENTITY_TOKEN_FILE", &tok, &tok_size, err);
    if (st != CC_OK)
        return configured_but_missing(st, err);
    trim_in_place(tok);
    if (!*tok) {
        cc_secret_free(tok, tok_size);
        return cc_error_set(err, CC_ECONFIG, "AWS_WEB_IDENTITY_TOKEN_FILE %s is empty", token_file);
    }

    /* Body: Action=…&Version=…&RoleArn=…&RoleSessionName=…&WebIdentityToken=… (wiped memory). */
    size_t cap = 3 * (strlen(tok) + strlen(role) + strlen(session)) + 256;
    char *body = cc_secret_alloc(cap);
    if (!body) {
        cc_secret_free(tok, tok_size);
        return cc_error_set(err, CC_ENOMEM, "web identity: out of memory");
    }
    size_t o = (size_t)snprintf(body, cap, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=");
    o += form_escape(role, body + o, cap - o);
    o += (size_t)snprintf(body + o, cap - o, "&RoleSessionName=");
    o += form_escape(session, body + o, cap - o);
    o += (size_t)snprintf(body + o, cap - o, "&WebIdentityToken=");
    o += form_escape(tok, body + o, cap - o);
    cc_secret_free(tok, tok_size);

    char url[1100];
    const char *ep = w->sts_endpoint[0] ? w->sts_endpoint : env("AWS_ENDPOINT_URL_STS");
    if (ep)
        snprintf(url, sizeof url, "%s%s", ep, ep[strlen(ep) - 1] == '/' ? "" : "/");
    else
        snprintf(url, sizeof url, "https://sts.%s.amazonaws.com/", w->region);
    const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8",
                          "Accept: text/xml"};
    cc_aws_http_request req = {"POST", url, hdrs, 2, body, o, 0, 0};
    cc_aws_http_response resp = {0};
    for (unsigned a = 1; a <= NET_ATTEMPTS; a++) {
        if (a > 1)
            cc_aws_http_backoff(w->http, a - 1);
        cc_aws_http_response_free(&resp);
        st = cc_aws_http_send(w->http, &req, &resp, err);
        if (st != CC_OK) {
            cc_error_prefix(err, "STS AssumeRoleWithWebIdentity");
            continue;
        }
        if (resp.status == 200)
            break;
        size_t s1 = 0, s2 = 0;
        char *code = xml_text(resp.body, "Code", &s1), *msg = xml_text(resp.body, "Message", &s2);
        int retry = retryable_status(resp.status) ||
                    (code && (!strcmp(code, "IDPCommunicationError") || cc_aws_error_is_throttling(code)));
        st = cc_error_set(err, retry ? CC_EUNAVAILABLE : CC_EFORBIDDEN,
                          "sts AssumeRoleWithWebIdentity: %s: %s (HTTP %ld, role %.200s)",
                          code ? code : "error", msg ? msg : "(no message)", resp.status, role);
        cc_secret_free(code, s1);
        cc_secret_free(msg, s2);
        if (!retry)
            break;
    }
    cc_secret_free(body, cap);
    if (st == CC_OK)
        st = parse_sts_reply(resp.body, out, err);
    cc_aws_http_response_free(&resp);
    return st;
}

static const cc_aws_credentials_provider_ops web_identity_ops = {"web-identity", web_identity_fetch, plain_free};

cc_status cc_aws_credentials_web_identity_new(cc_aws_http *http, const char *region, const char *sts_endpoint,
                                              cc_aws_credentials_provider **out, cc_error *err)
{
    *out = NULL;
    web_identity_provider *w = calloc(1, sizeof *w);
    if (!w)
        return cc_error_set(err, CC_ENOMEM, "web identity: out of memory");
    w->base.ops = &web_identity_ops;
    w->http = http;
    if (region && *region)
        snprintf(w->region, sizeof w->region, "%s", region);
    else
        cc_aws_region_default(w->region);
    if (sts_endpoint && *sts_endpoint) {
        if (strlen(sts_endpoint) >= sizeof w->sts_endpoint) {
            free(w);
            return cc_error_set(err, CC_ECONFIG, "aws.endpoint_urls.sts: too long");
        }
        snprintf(w->sts_endpoint, sizeof w->sts_endpoint, "%s", sts_endpoint);
    }
    *out = &w->base;
    return CC_OK;
}

/* ---------------------------------------------------------------- JSON credential answers */

/* {AccessKeyId, SecretAccessKey, Token, Expiration} (container and IMDS answers). */
static cc_status parse_json_creds(const char *body, size_t len, const char *source, cc_aws_credentials **out,
                                  cc_error *err)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return cc_error_set(err, CC_EIO, "%s: answer is not a JSON object", source);
    }
    const char *code = json_string_value(json_object_get(j, "Code"));
    const char *id = json_string_value(json_object_get(j, "AccessKeyId"));
    const char *secret = json_string_value(json_object_get(j, "SecretAccessKey"));
    const char *token = json_string_value(json_object_get(j, "Token"));
    const char *exp = json_string_value(json_object_get(j, "Expiration"));
    cc_status st;
    time_t t = exp ? cc_aws_parse_iso8601(exp) : 0;
    if (code && strcmp(code, "Success") != 0)
        st = cc_error_set(err, CC_EIO, "%s: answer Code is '%.64s'", source, code);
    else if (!id || !secret)
        st = cc_error_set(err, CC_EIO, "%s: answer lacks AccessKeyId or SecretAccessKey", source);
    else if (t < 0)
        st = cc_error_set(err, CC_EIO, "%s: Expiration is not ISO-8601", source);
    else
        st = cc_aws_credentials_new(id, secret, token, t, source, out, err);
    cc_aws_json_wipe(j);
    json_decref(j);
    return st;
}

/* ---------------------------------------------------------------- container (ECS, EKS Pod Identity) */

typedef struct container_provider {
    cc_aws_credentials_provider base;
    cc_aws_http *http;
} container_provider;

/*
 * An http:// FULL_URI may only name a host that cannot be someone else's:
 * loopback, or the ECS / EKS Pod Identity agent addresses.
 */
static int container_host_allowed(const char *uri)
{
    if (strncmp(uri, "https://", 8) == 0)
        return 1;
    if (strncmp(uri, "http://", 7) != 0)
        return 0;
    const char *h = uri + 7;
    char host[256];
    size_t n;
    if (*h == '[') {
        const char *e = strchr(h, ']');
        if (!e)
            return 0;
        n = (size_t)(e - h - 1);
        if (n >= sizeof host)
            return 0;
        memcpy(host, h + 1, n);
    } else {
        n = strcspn(h, ":/?#");
        if (n >= sizeof host)
            return 0;
        memcpy(host, h, n);
    }
    host[n] = '\0';
    if (strchr(host, '@') || strchr(uri + 7, '@'))
        return 0;
    if (!strcasecmp(host, "localhost") || !strcmp(host, "::1") || !strcmp(host, "169.254.170.2") ||
        !strcmp(host, "169.254.170.23") || !strcasecmp(host, "fd00:ec2::23"))
        return 1;
    unsigned a, b, c, d;
    char extra;
    if (sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) == 4 && a == 127 && b < 256 && c < 256 && d < 256)
        return 1;
    return 0;
}

static cc_status container_fetch(cc_aws_credentials_provider *p, cc_aws_credentials **out, cc_error *err)
{
    container_provider *w = (container_provider *)p;
    const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI"), *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    if (!full && !rel)
        return cc_error_set(err, CC_ENOTFOUND, "container: AWS_CONTAINER_CREDENTIALS_*_URI not set");
    char url[2048];
    if (rel) {
        if (*rel != '/' || strlen(rel) > 1500)
            return cc_error_set(err, CC_ECONFIG, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path");
        snprintf(url, sizeof url, "http://169.254.170.2%s", rel);
    } else {
        if (strlen(full) >= sizeof url)
            return cc_error_set(err, CC_ECONFIG, "AWS_CONTAINER_CREDENTIALS_FULL_URI is too long");
        if (!container_host_allowed(full))
            return cc_error_set(err, CC_ECONFIG,
                                "AWS_CONTAINER_CREDENTIALS_FULL_URI: an http URI must name a loopback address, "
                                "169.254.170.2, 169.254.170.23 or fd00:ec2::23");
        snprintf(url, sizeof url, "%s", full);
    }

    /* The token file is re-read on every fetch: the agent rotates it. */
    char *tok = NULL;
    size_t tok_size = 0;
    const char *tok_file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    cc_status st;
    if (tok_file) {
        st = read_secret_file(tok_file, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &tok, &tok_size, err);
        if (st != CC_OK)
            return configured_but_missing(st, err);
    } else if (env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
        tok = secret_strdup(env("AWS_CONTAINER_AUTHORIZATION_TOKEN"), &tok_size);
        if (!tok)
            return cc_error_set(err, CC_ENOMEM, "container: out of memory");
    }
    char *auth_line = NULL;
    size_t auth_size = 0;
    if (tok) {
        trim_in_place(tok);
        if (strpbrk(tok, "\r\n")) {
            cc_secret_free(tok, tok_size);
            return cc_error_set(err, CC_ECONFIG, "container: the authorization token holds a line break");
        }
        auth_size = strlen(tok) + 32;
        auth_line = cc_secret_alloc(auth_size);
        if (auth_line)
            snprintf(auth_line, auth_size, "Authorization: %s", tok);
        cc_secret_free(tok, tok_size);
        if (!auth_line)
            return cc_error_set(err, CC_ENOMEM, "container: out of memory");
    }
    const char *hdrs[2] = {"Accept: application/json", auth_line};
    cc_aws_http_request req = {"GET", url, hdrs, auth_line ? 2 : 1, NULL, 0, 0, 0};
    cc_aws_http_response resp = {0};
    char where[256];
    snprintf(where, sizeof where, "container credentials %.200s", url);
    st = CC_EINTERNAL;
    for (unsigned a = 1; a <= NET_ATTEMPTS; a++) {
        if (a > 1)
            cc_aws_http_backoff(w->http, a - 1);
        cc_aws_http_response_free(&resp);
        st = cc_aws_http_send(w->http, &req, &resp, err);
        if (st != CC_OK)
            continue;
        if (resp.status == 200)
            break;
        st = cc_error_set(err, retryable_status(resp.status) ? CC_EUNAVAILABLE : CC_EFORBIDDEN, "%s: HTTP %ld",
                          where, resp.status);
        if (!retryable_status(resp.status))
            break;
    }
    cc_secret_free(auth_line, auth_size);
    if (st == CC_OK)
        st = parse_json_creds(resp.body, resp.body_len, "container", out, err);
    cc_aws_http_response_free(&resp);
    return st;
}

static const cc_aws_credentials_provider_ops container_ops = {"container", container_fetch, plain_free};

cc_status cc_aws_credentials_container_new(cc_aws_http *http, cc_aws_credentials_provider **out, cc_error *err)
{
    *out = NULL;
    container_provider *w = calloc(1, sizeof *w);
    if (!w)
        return cc_error_set(err, CC_ENOMEM, "container credentials: out of memory");
    w->base.ops = &container_ops;
    w->http = http;
    *out = &w->base;
    return CC_OK;
}

/* ---------------------------------------------------------------- IMDSv2 */

#define IMDS_TOKEN_TTL 21600

typedef struct imds_provider {
    cc_aws_credentials_provider base;
    cc_aws_http *http;
    pthread_mutex_t mu;
    char token[256];
    time_t token_expires;
} imds_provider;

static const char *imds_base(char *buf, size_t cap)
{
    const char *ep = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (!ep)
        ep = "http://169.254.169.254";
    snprintf(buf, cap, "%s", ep);
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '/')
        buf[--n] = '\0';
    return buf;
}

/* PUT /latest/api/token.  CC_ENOTFOUND when nothing answers (not on EC2). */
static cc_status imds_token(imds_provider *m, const char *base, cc_error *err)
{
    char url[1200];
    snprintf(url, sizeof url, "%s/latest/api/token", base);
    const char *hdrs[] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600"};
    cc_aws_http_request req = {"PUT", url, hdrs, 1, NULL, 0, 1000, 2000};
    cc_aws_http_response resp;
    cc_status st = cc_aws_http_send(m->http, &req, &resp, err);
    if (st != CC_OK)
        return cc_error_set(err, CC_ENOTFOUND, "IMDS: no answer from %.200s (not on EC2?)", base);
    if (resp.status != 200 || resp.body_len == 0 || resp.body_len >= sizeof m->token) {
        st = cc_error_set(err, CC_EIO, "IMDS token: HTTP %ld from %.200s", resp.status, base);
    } else {
        memcpy(m->token, resp.body, resp.body_len + 1);
        trim_in_place(m->token);
        m->token_expires = time(NULL) + IMDS_TOKEN_TTL - 60;
    }
    cc_aws_http_response_free(&resp);
    return st;
}

/* GET path with the session token; one 401 drops the token and tries again with a new one. */
static cc_status imds_get(imds_provider *m, const char *base, const char *path, cc_aws_http_response *resp,
                          cc_error *err)
{
    for (int round = 0; round < 2; round++) {
        if (!m->token[0] || time(NULL) >= m->token_expires) {
            cc_status st = imds_token(m, base, err);
            if (st != CC_OK)
                return st;
        }
        char url[1500], hdr[300];
        snprintf(url, sizeof url, "%s%s", base, path);
        snprintf(hdr, sizeof hdr, "X-aws-ec2-metadata-token: %s", m->token);
        const char *hdrs[] = {hdr};
        cc_aws_http_request req = {"GET", url, hdrs, 1, NULL, 0, 1000, 2000};
        cc_status st = cc_aws_http_send(m->http, &req, resp, err);
        OPENSSL_cleanse(hdr, sizeof hdr);
        if (st != CC_OK)
            return cc_error_prefix(err, "IMDS");
        if (resp->status == 401 && round == 0) {
            cc_log(CC_LOG_INFO, "IMDS token rejected, fetching a new one", NULL);
            m->token[0] = '\0';
            cc_aws_http_response_free(resp);
            continue;
        }
        if (resp->status == 200)
            return CC_OK;
        long status = resp->status;
        cc_aws_http_response_free(resp);
        return cc_error_set(err, status == 404 ? CC_ENOTFOUND : CC_EIO, "IMDS %s: HTTP %ld%s", path, status,
                            status == 404 ? " (no IAM role attached to the instance?)" : "");
    }
    return cc_error_set(err, CC_EIO, "IMDS %s: token rejected twice", path);
}

static cc_status imds_fetch(cc_aws_credentials_provider *p, cc_aws_credentials **out, cc_error *err)
{
    imds_provider *m = (imds_provider *)p;
    const char *dis = env("AWS_EC2_METADATA_DISABLED");
    if (dis && strcasecmp(dis, "true") == 0)
        return cc_error_set(err, CC_ENOTFOUND, "IMDS: disabled by AWS_EC2_METADATA_DISABLED");
    char base[1024];
    imds_base(base, sizeof base);
    pthread_mutex_lock(&m->mu);
    cc_aws_http_response resp;
    const char *dir = "/latest/meta-data/iam/security-credentials/";
    cc_status st = imds_get(m, base, dir, &resp, err);
    if (st == CC_OK) {
        char role[256];
        size_t n = strcspn(resp.body, "\r\n");
        if (n == 0 || n >= sizeof role || strchr(resp.body, '/')) {
            st = cc_error_set(err, CC_EIO, "IMDS: no usable role name");
        } else {
            memcpy(role, resp.body, n);
            role[n] = '\0';
        }
        cc_aws_http_response_free(&resp);
        if (st == CC_OK) {
            char path[400];
            snprintf(path, sizeof path, "%s%s", dir, role);
            st = imds_get(m, base, path, &resp, err);
            if (st == CC_OK) {
                st = parse_json_creds(resp.body, resp.body_len, "imds", out, err);
                cc_aws_http_response_free(&resp);
            }
        }
    }
    pthread_mutex_unlock(&m->mu);
    return st;
}

static void imds_free(cc_aws_credentials_provider *p)
{
    imds_provider *m = (imds_provider *)p;
    pthread_mutex_destroy(&m->mu);
    OPENSSL_cleanse(m->token, sizeof m->token);
    free(m);
}

static const cc_aws_credentials_provider_ops imds_ops = {"imds", imds_fetch, imds_free};

cc_status cc_aws_credentials_imds_new(cc_aws_http *http, cc_aws_credentials_provider **out, cc_error *err)
{
    *out = NULL;
    imds_provider *m = calloc(1, sizeof *m);
    if (!m)
        return cc_error_set(err, CC_ENOMEM, "IMDS credentials: out of memory");
    m->base.ops = &imds_ops;
    m->http = http;
    pthread_mutex_init(&m->mu, NULL);
    *out = &m->base;
    return CC_OK;
}

/* ---------------------------------------------------------------- chain */

#define CHAIN_MAX 8

typedef struct chain_provider {
    cc_aws_credentials_provider base;
    cc_aws_credentials_provider *members[CHAIN_MAX];
    size_t count;
} chain_provider;

static cc_status chain_fetch(cc_aws_credentials_provider *p, cc_aws_credentials **out, cc_error *err)
{
    chain_provider *c = (chain_provider *)p;
    char tried[CC_ERROR_MSG_MAX] = "";
    size_t used = 0;
    for (size_t i = 0; i < c->count; i++) {
        cc_error e;
        cc_error_clear(&e);
        cc_status st = c->members[i]->ops->fetch(c->members[i], out, &e);
        if (st == CC_OK)
            return CC_OK;
        if (st != CC_ENOTFOUND) {
            if (err)
                *err = e;
            return st;
        }
        int w = snprintf(tried + used, sizeof tried - used, "%s%s", used ? "; " : "", e.msg);
        if (w > 0)
            used = used + (size_t)w < sizeof tried ? used + (size_t)w : sizeof tried - 1;
    }
    return cc_error_set(err, CC_ENOTFOUND, "no AWS credentials found (%s)", tried);
}

static void chain_free(cc_aws_credentials_provider *p)
{
    chain_provider *c = (chain_provider *)p;
    for (size_t i = 0; i < c->count; i++)
        cc_aws_credentials_provider_free(c->members[i]);
    free(c);
}

static const cc_aws_credentials_provider_ops chain_ops = {"chain", chain_fetch, chain_free};

cc_status cc_aws_credentials_chain_new(cc_aws_credentials_provider **providers, size_t count,
                                       cc_aws_credentials_provider **out, cc_error *err)
{
    *out = NULL;
    chain_provider *c = count <= CHAIN_MAX ? calloc(1, sizeof *c) : NULL;
    if (!c) {
        for (size_t i = 0; i < count; i++)
            cc_aws_credentials_provider_free(providers[i]);
        return cc_error_set(err, count <= CHAIN_MAX ? CC_ENOMEM : CC_EINTERNAL, "credentials chain: %s",
                            count <= CHAIN_MAX ? "out of memory" : "too many providers");
    }
    c->base.ops = &chain_ops;
    memcpy(c->members, providers, count * sizeof *providers);
    c->count = count;
    *out = &c->base;
    return CC_OK;
}

/* ---------------------------------------------------------------- cache */

typedef struct cached_provider {
    cc_aws_credentials_provider base;
    cc_aws_credentials_provider *inner;
    pthread_mutex_t mu;
    cc_aws_credentials *creds;
    time_t refresh_at; /* 0 = never */
} cached_provider;

#define REFRESH_MARGIN 300 /* refresh 5 min before Expiration ... */
#define REFRESH_RETRY 10   /* ... and after a failed refresh, again 10 s later */

static time_t refresh_time(time_t now, time_t expiration)
{
    if (expiration == 0)
        return 0;
    time_t life = expiration - now;
    if (life <= 0)
        return now;
    time_t margin = life / 2 < REFRESH_MARGIN ? life / 2 : REFRESH_MARGIN;
    return expiration - margin;
}

static cc_status cached_fetch(cc_aws_credentials_provider *p, cc_aws_credentials **out, cc_error *err)
{
    cached_provider *c = (cached_provider *)p;
    cc_status st = CC_OK;
    pthread_mutex_lock(&c->mu);
    time_t now = time(NULL);
    if (!c->creds || (c->refresh_at && now >= c->refresh_at)) {
        cc_aws_credentials *fresh = NULL;
        cc_error e;
        cc_error_clear(&e);
        st = c->inner->ops->fetch(c->inner, &fresh, &e);
        if (st == CC_OK) {
            cc_aws_credentials_free(c->creds);
            c->creds = fresh;
            c->refresh_at = refresh_time(now, fresh->expiration);
            char exp[32] = "never";
            if (fresh->expiration) {
                struct tm tm;
                gmtime_r(&fresh->expiration, &tm);
                strftime(exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
            }
            cc_log(CC_LOG_INFO, "aws credentials obtained", "source", fresh->source, "expires", exp, NULL);
        } else if (c->creds && (c->creds->expiration == 0 || now < c->creds->expiration)) {
            cc_log(CC_LOG_WARN, "aws credentials refresh failed; using the current ones until they expire", "error",
                   e.msg, NULL);
            /* Try again in a few seconds, not on every call, and at the latest at expiry. */
            c->refresh_at = now + REFRESH_RETRY;
            if (c->creds->expiration && c->refresh_at > c->creds->expiration)
                c->refresh_at = c->creds->expiration;
            st = CC_OK;
        } else {
            if (err)
                *err = e;
        }
    }
    if (st == CC_OK) {
        *out = cc_aws_credentials_dup(c->creds);
        if (!*out)
            st = cc_error_set(err, CC_ENOMEM, "aws credentials: out of memory");
    }
    pthread_mutex_unlock(&c->mu);
    return st;
}

static void cached_free(cc_aws_credentials_provider *p)
{
    cached_provider *c = (cached_provider *)p;
    cc_aws_credentials_provider_free(c->inner);
    cc_aws_credentials_free(c->creds);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static const cc_aws_credentials_provider_ops cached_ops = {"cached", cached_fetch, cached_free};

cc_status cc_aws_credentials_cached_new(cc_aws_credentials_provider *inner, cc_aws_credentials_provider **out,
                                        cc_error *err)
{
    *out = NULL;
    cached_provider *c = calloc(1, sizeof *c);
    if (!c) {
        cc_aws_credentials_provider_free(inner);
        return cc_error_set(err, CC_ENOMEM, "credentials cache: out of memory");
    }
    c->base.ops = &cached_ops;
    c->inner = inner;
    pthread_mutex_init(&c->mu, NULL);
    *out = &c->base;
    return CC_OK;
}

cc_status cc_aws_credentials_default_new(cc_aws_http *http, const char *region, const char *sts_endpoint,
                                         cc_aws_credentials_provider **out, cc_error *err)
{
    *out = NULL;
    cc_aws_credentials_provider *ps[5] = {0};
    cc_status st = cc_aws_credentials_env_new(&ps[0], err);
    if (st == CC_OK)
        st = cc_aws_credentials_profile_new(&ps[1], err);
    if (st == CC_OK)
        st = cc_aws_credentials_web_identity_new(http, region, sts_endpoint, &ps[2], err);
    if (st == CC_OK)
        st = cc_aws_credentials_container_new(http, &ps[3], err);
    if (st == CC_OK)
        st = cc_aws_credentials_imds_new(http, &ps[4], err);
    if (st != CC_OK) {
        for (int i = 0; i < 5; i++)
            cc_aws_credentials_provider_free(ps[i]);
        return st;
    }
    cc_aws_credentials_provider *chain;
    st = cc_aws_credentials_chain_new(ps, 5, &chain, err);
    if (st != CC_OK)
        return st;
    return cc_aws_credentials_cached_new(chain, out, err);
}
