/*
 * operator.c — `containment-chamber operator init|status|seal|unseal`: an
 * operator's client for the Chamber API (api/chamber.h) of a running signer.
 *
 *   operator init   --setup-token T --kms-key-arns a,b,c --kms-threshold 2 --signer-url URL
 *   operator status --signer-url URL
 *   operator seal   --signer-url URL
 *   operator unseal --signer-url URL
 *
 *   operator generate-root-token --auth-token ROOT   a new root token (printed once)
 *   operator auth policy list|get NAME|delete NAME    --auth-token ROOT
 *   operator auth policy put NAME --file policy.json   {"rules": [{effect, scopes, keys, operations}]}
 *   operator auth token create --policies a,b [--expires-in-seconds N]
 *   operator auth token list | revoke ID
 *
 * Common: [--auth-token T] (alias --token; Authorization: Bearer, for when auth
 * policies exist, and a root token for generate-root-token and auth ...),
 * [--ca-file PEM] (trust for an https signer), [--allow-plaintext-signer]
 * (an http:// URL is refused without it: the setup token and operator
 * tokens would cross the network in the clear).  Every secret flag
 * (--setup-token, --token) also takes env:VAR, so the secret need not appear
 * in the process list or shell history.
 * Prints the signer's JSON answer.  Exit codes: 0 done, 1 refused or
 * unreachable, 2 usage.
 */
#include <curl/curl.h>
#include <stddef.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "enclave/atls_pin.h" /* Nitro (issue 8) */
#include "util/hex.h"
#include "util/secret.h"

typedef struct op_args {
    const char *signer_url, *setup_token, *kms_key_arns, *kms_threshold, *token, *ca_file;
    const char *file, *policies, *expires_in;
    const char *pos[3];       /* positional words after the subcommand: auth policy put NAME */
    int npos;
    int allow_plaintext;
    /* Nitro (issue 8): aTLS check before anything is sent (enclave/atls_pin.h) */
    const char *attestation_root, *expect_pcr0, *expect_pcr3, *expect_pcr8, *attestation_max_age;
    char atls_pin[CC_ATLS_PIN_MAX]; /* set once the signer's aTLS certificate verified */
    /* operator quorum (issue 7) */
    const char *operators, *operator_threshold, *argon2_t, *argon2_m, *argon2_p;
    const char *to; /* rotate mode --to */
    const char *registration_token, *passphrase, *yubikey_response, *operator_name;
} op_args;

typedef struct buf {
    char *data;
    size_t len;
} buf;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: containment-chamber operator <init|status|seal|unseal|generate-root-token|auth ...> --signer-url URL\n"
            "       [options]\n"
            "\n"
            "  init     --setup-token T --kms-key-arns ARN,ARN,... --kms-threshold M\n"
            "           initialise an uninitialized signer (KMS-only mode: any M of the keys unseal)\n"
            "  status   state, mode, threshold, KMS key ARNs, master-key version\n"
            "  seal     emergency seal of that replica: its master key is wiped at once\n"
            "  unseal   unseal a sealed replica with KMS now\n"
            "  init ... --operators alice,bob,carol --operator-threshold T [--argon2-iterations 3\n"
            "           --argon2-memory-kib 65536 --argon2-parallelism 1]   operator-quorum mode: prints the one-time\n"
            "           registration tokens (KMS and T operators are both needed to unseal)\n"
            "  register --registration-token R (--passphrase P | --yubikey-response-hex H)   an operator registers\n"
            "           (H = `ykchalresp -2 -x <their yubikey_challenge from status>`)\n"
            "  unseal --operator NAME (--passphrase P | --yubikey-response-hex H)   one operator's unseal submission\n"
            "  rotate kms --kms-key-arns ARN,ARN,... --kms-threshold M\n"
            "           re-wrap the master key for a new KMS key set / threshold (the old keys stop unsealing)\n"
            "  rotate master   a new master key; every stored key re-sealed in the background (status.rotation)\n"
            "  rotate quorum --operators dave,erin,frank --operator-threshold T [--argon2-...]   (alias rotate unseal)\n"
            "           a new operator set for the same master key: prints one-time registration tokens; the old\n"
            "           operators unseal until every new one has registered with that replica, then no longer\n"
            "  rotate mode --to kms   operator quorum → KMS-only: a new master key (every stored key re-sealed\n"
            "           in the background, status.rotation); the operators no longer unseal afterwards\n"
            "  rotate mode --to quorum --operators dave,erin,frank --operator-threshold T [--argon2-...]\n"
            "           KMS-only → operator quorum: a new master key; prints one-time registration tokens; once\n"
            "           every new operator registered with that replica every key is re-sealed (status.rotation)\n"
            "  generate-root-token          a new root token (needs a root token; the old one keeps working)\n"
            "  auth policy list             auth policies (root token)\n"
            "  auth policy get NAME\n"
            "  auth policy put NAME --file policy.json   create or replace: {\"rules\": [{effect, scopes, keys, operations}]}\n"
            "  auth policy delete NAME\n"
            "  auth token create --policies a,b [--expires-in-seconds N]   prints the token once\n"
            "  auth token list              ids, policies, expiry (never secrets)\n"
            "  auth token revoke ID\n"
            "\n"
            "options:\n"
            "  --signer-url URL            the signer's base URL (https://...; http:// needs the next flag)\n"
            "  --allow-plaintext-signer    allow an http:// signer URL (secrets travel in the clear)\n"
            "  --auth-token T              API token (Authorization: Bearer); --token is an alias\n"
            "  --ca-file PEM               CA certificate(s) trusted for an https signer\n"
            "  --expect-pcr0|--expect-pcr3|--expect-pcr8 HEX   the signer is a Nitro Enclave serving aTLS: verify its\n"
            "                              attestation document and these PCRs before sending anything, then pin its key\n"
            "  --attestation-root PEM      root for that check (default: the built-in AWS Nitro root; tests: a simulator's)\n"
            "  --attestation-max-age S     refuse a document older than S seconds [600]\n"
            "  secrets (--setup-token, --auth-token, --registration-token, --passphrase,\n"
            "  --yubikey-response-hex) also take env:VAR to read the value from the environment\n");
}

/* "env:VAR" → the variable's value; anything else as given. NULL if the variable is unset. */
static const char *secret_value(const char *flag, const char *v)
{
    if (v && strncmp(v, "env:", 4) == 0) {
        const char *e = getenv(v + 4);
        if (!e || !*e) {
            fprintf(stderr, "containment-chamber operator: %s: environment variable %s is not set\n", flag, v + 4);
            return NULL;
        }
        return e;
    }
    return v;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    buf *b = arg;
    size_t k = size * n;
    char *d = realloc(b->data, b->len + k + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, k);
    b->len += k;
    d[b->len] = '\0';
    b->data = d;
    return k;
}

static int call(const op_args *a, const char *method, const char *route, const char *body)
{
    size_t ulen = strlen(a->signer_url);
    while (ulen && a->signer_url[ulen - 1] == '/')
        ulen--;
    char url[2048];
    if (snprintf(url, sizeof url, "%.*s/api/v1/chamber/%s", (int)ulen, a->signer_url, route) >= (int)sizeof url) {
        fprintf(stderr, "containment-chamber operator: --signer-url is too long\n");
        return 2;
    }
    CURL *c = curl_easy_init();
    if (!c) {
        fprintf(stderr, "containment-chamber operator: cannot start libcurl\n");
        return 1;
    }
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: application/json");
    char *auth = NULL;
    size_t auth_cap = 0;
    if (a->token) {
        auth_cap = strlen(a->token) + 32;
        if ((auth = cc_secret_alloc(auth_cap))) {
            snprintf(auth, auth_cap, "Authorization: Bearer %s", a->token);
            h = curl_slist_append(h, auth);
        }
    }
    buf out = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 120000L); /* init and unseal wait for KMS */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, a->allow_plaintext ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (a->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, a->ca_file);
    if (a->atls_pin[0]) { /* Nitro (issue 8): trust is the verified document, held to that key */
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, a->atls_pin);
    }
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    }
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    cc_secret_free(auth, auth_cap);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        fprintf(stderr, "containment-chamber operator: %s %s: %s\n", method, url, curl_easy_strerror(rc));
        free(out.data);
        return 1;
    }
    int ok = status >= 200 && status < 300;
    if (ok)
        printf("%s\n", out.data ? out.data : "");
    else
        fprintf(stderr, "containment-chamber operator: %s %s: HTTP %ld: %s\n", method, url, status,
                out.data ? out.data : "");
    free(out.data);
    return ok ? 0 : 1;
}

/* ---- operator quorum (issue 7): init --operators, register, unseal --operator ---- */

/* A positive number flag; -1 (after a message) when malformed. */
static long quorum_number(const char *flag, const char *v, long max)
{
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < 1 || n > max) {
        fprintf(stderr, "containment-chamber operator: %s: '%s' is not a number from 1 to %ld\n", flag, v, max);
        return -1;
    }
    return n;
}

/* Adds operators, operator_threshold and argon2 to an init body; 0, or 2 on a usage error. */
static int quorum_init_fields(const op_args *a, json_t *body)
{
    if (!a->operators && !a->operator_threshold)
        return 0;
    if (!a->operators || !a->operator_threshold) {
        fprintf(stderr, "containment-chamber operator init: --operators and --operator-threshold go together\n");
        return 2;
    }
    long t = quorum_number("--operator-threshold", a->operator_threshold, 16);
    if (t < 0)
        return 2;
    json_t *ops = json_array();
    char *list = strdup(a->operators), *save = NULL;
    for (char *w = list ? strtok_r(list, ",", &save) : NULL; w; w = strtok_r(NULL, ",", &save))
        if (*w)
            json_array_append_new(ops, json_string(w));
    free(list);
    json_object_set_new(body, "operators", ops);
    json_object_set_new(body, "operator_threshold", json_integer(t));
    if (a->argon2_t || a->argon2_m || a->argon2_p) {
        json_t *k = json_object();
        const char *v[] = {a->argon2_t, a->argon2_m, a->argon2_p};
        const char *flag[] = {"--argon2-iterations", "--argon2-memory-kib", "--argon2-parallelism"};
        const char *key[] = {"iterations", "memory_kib", "parallelism"};
        for (int i = 0; i < 3; i++) {
            if (!v[i])
                continue;
            long n = quorum_number(flag[i], v[i], 1L << 30);
            if (n < 0) {
                json_decref(k);
                return 2;
            }
            json_object_set_new(k, key[i], json_integer(n));
        }
        json_object_set_new(body, "argon2", k);
    }
    return 0;
}

/* The credential flags into body: passphrase or yubikey_response (env:VAR allowed); 0, or 2. */
static int quorum_credential(const op_args *a, const char *sub, json_t *body)
{
    if ((a->passphrase != NULL) == (a->yubikey_response != NULL)) {
        fprintf(stderr, "containment-chamber operator %s: give exactly one of --passphrase and --yubikey-response-hex "
                        "(each takes env:VAR)\n", sub);
        return 2;
    }
    const char *v = a->passphrase ? secret_value("--passphrase", a->passphrase)
                                  : secret_value("--yubikey-response-hex", a->yubikey_response);
    if (!v)
        return 2;
    json_object_set_new(body, a->passphrase ? "passphrase" : "yubikey_response", json_string(v));
    return 0;
}

static int quorum_send(const op_args *a, const char *route, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        fprintf(stderr, "containment-chamber operator: out of memory\n");
        return 1;
    }
    int rc = call(a, "POST", route, text);
    cc_secret_wipe(text, strlen(text));
    free(text);
    return rc;
}

/* operator register --registration-token R (--passphrase P | --yubikey-response-hex H) */
static int cmd_register(const op_args *a)
{
    const char *tok = a->registration_token ? secret_value("--registration-token", a->registration_token) : NULL;
    if (!tok) {
        if (!a->registration_token)
            fprintf(stderr, "containment-chamber operator register: --registration-token is required\n");
        return 2;
    }
    json_t *body = json_pack("{s:s}", "registration_token", tok);
    if (!body || quorum_credential(a, "register", body) != 0) {
        json_decref(body);
        return 2;
    }
    return quorum_send(a, "operators/register", body);
}

/* operator unseal --operator NAME (--passphrase P | --yubikey-response-hex H) */
static int cmd_quorum_unseal(const op_args *a)
{
    json_t *body = json_pack("{s:s}", "operator", a->operator_name);
    if (!body || quorum_credential(a, "unseal", body) != 0) {
        json_decref(body);
        return 2;
    }
    return quorum_send(a, "unseal", body);
}
/* ---- end operator quorum ---- */

static int cmd_init(const op_args *a)
{
    const char *token = secret_value("--setup-token", a->setup_token);
    if (!token || !a->kms_key_arns || !a->kms_threshold) {
        if (!a->setup_token || !a->kms_key_arns || !a->kms_threshold)
            fprintf(stderr, "containment-chamber operator init: --setup-token, --kms-key-arns and --kms-threshold "
                            "are required\n");
        return 2;
    }
    char *end = NULL;
    long m = strtol(a->kms_threshold, &end, 10);
    if (!*a->kms_threshold || *end || m < 1 || m > 255) {
        fprintf(stderr, "containment-chamber operator init: --kms-threshold: '%s' is not a number from 1\n",
                a->kms_threshold);
        return 2;
    }
    json_t *arns = json_array();
    char *list = strdup(a->kms_key_arns), *save = NULL;
    for (char *t = list ? strtok_r(list, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        if (*t)
            json_array_append_new(arns, json_string(t));
    }
    free(list);
    json_t *body = json_pack("{s:s, s:o, s:I}", "setup_token", token, "kms_key_arns", arns, "kms_threshold",
                             (json_int_t)m);
    if (body && quorum_init_fields(a, body) != 0) { /* operator quorum (issue 7) */
        json_decref(body);
        return 2;
    }
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        fprintf(stderr, "containment-chamber operator init: out of memory\n");
        return 1;
    }
    int rc = call(a, "POST", "init", text);
    cc_secret_wipe(text, strlen(text));
    free(text);
    return rc;
}

/* ---- rotation (issue 7): operator rotate kms|master|quorum ---- */
static int cmd_rotate(const op_args *a)
{
    const char *kind = a->npos > 0 ? a->pos[0] : NULL;
    if (kind && strcmp(kind, "master") == 0)
        return call(a, "POST", "rotate/master", "{}");
    if (kind && (strcmp(kind, "quorum") == 0 || strcmp(kind, "unseal") == 0)) { /* a new operator set */
        if (!a->operators || !a->operator_threshold) {
            fprintf(stderr, "containment-chamber operator rotate %s: --operators a,b,... and --operator-threshold T "
                            "are required\n", kind);
            return 2;
        }
        json_t *body = json_object();
        if (!body || quorum_init_fields(a, body) != 0) {
            json_decref(body);
            return 2;
        }
        return quorum_send(a, "rotate/quorum", body); /* the answer holds the registration tokens (shown once) */
    }
    if (kind && strcmp(kind, "mode") == 0) { /* rotate mode --to kms | --to quorum --operators ... */
        if (a->to && strcmp(a->to, "quorum") == 0) {
            if (!a->operators || !a->operator_threshold) {
                fprintf(stderr, "containment-chamber operator rotate mode --to quorum: --operators a,b,... and "
                                "--operator-threshold T are required\n");
                return 2;
            }
            json_t *body = json_pack("{s:s}", "to", "quorum");
            if (!body || quorum_init_fields(a, body) != 0) {
                json_decref(body);
                return 2;
            }
            return quorum_send(a, "rotate/mode", body); /* the answer holds the registration tokens (shown once) */
        }
        if (!a->to || strcmp(a->to, "kms") != 0) {
            fprintf(stderr, "containment-chamber operator rotate mode: --to kms or --to quorum (with --operators and "
                            "--operator-threshold) is required\n");
            return 2;
        }
        return call(a, "POST", "rotate/mode", "{\"to\":\"kms\"}");
    }
    if (!kind || strcmp(kind, "kms") != 0) {
        fprintf(stderr, "containment-chamber operator rotate: expected `kms`, `master`, `quorum`, `unseal` or `mode`, "
                        "not '%s'\n", kind ? kind : "");
        return 2;
    }
    char *end = NULL;
    long m = a->kms_threshold ? strtol(a->kms_threshold, &end, 10) : 0;
    if (!a->kms_key_arns || !*a->kms_key_arns || !a->kms_threshold || *end || m < 1 || m > 32) {
        fprintf(stderr, "containment-chamber operator rotate kms: --kms-key-arns a,b,... and --kms-threshold M "
                        "(1..32) are required\n");
        return 2;
    }
    json_t *arns = json_array();
    char *list = strdup(a->kms_key_arns), *save = NULL;
    for (char *t = list ? strtok_r(list, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        if (*t)
            json_array_append_new(arns, json_string(t));
    }
    free(list);
    json_t *body = json_pack("{s:o, s:I}", "kms_key_arns", arns, "kms_threshold", (json_int_t)m);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        fprintf(stderr, "containment-chamber operator rotate kms: out of memory\n");
        return 1;
    }
    int rc = call(a, "POST", "rotate/kms", text);
    free(text);
    return rc;
}
/* ---- end rotation ---- */

static int need_token(const op_args *a, const char *sub)
{
    if (a->token)
        return 1;
    fprintf(stderr, "containment-chamber operator %s: --auth-token (a root token) is required\n", sub);
    return 0;
}

/* A route word (policy name, token id): what the API accepts, so it can go into the URL as is. */
static int plain_word(const char *what, const char *w)
{
    size_t n = w ? strlen(w) : 0;
    int ok = n > 0 && n <= 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = (w[i] >= 'a' && w[i] <= 'z') || (w[i] >= 'A' && w[i] <= 'Z') || (w[i] >= '0' && w[i] <= '9') ||
             w[i] == '_' || w[i] == '-' || w[i] == '.';
    if (!ok)
        fprintf(stderr, "containment-chamber operator auth: %s: expected 1 to 64 of [A-Za-z0-9_.-]\n", what);
    return ok;
}

static char *read_file(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "containment-chamber operator auth: --file %s: cannot open\n", path);
        return NULL;
    }
    buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (on_body(chunk, 1, n, &b) != n)
            break;
    if (f != stdin)
        fclose(f);
    return b.data ? b.data : strdup("");
}

/* operator auth policy|token <verb> [NAME|ID] */
static int cmd_auth(const op_args *a)
{
    const char *kind = a->npos > 0 ? a->pos[0] : NULL, *verb = a->npos > 1 ? a->pos[1] : NULL;
    const char *arg = a->npos > 2 ? a->pos[2] : NULL;
    char route[128];
    if (kind && verb && strcmp(kind, "policy") == 0) {
        if (strcmp(verb, "list") == 0)
            return call(a, "GET", "auth/policies", NULL);
        if (!plain_word("policy name", arg))
            return 2;
        snprintf(route, sizeof route, "auth/policies/%s", arg);
        if (strcmp(verb, "get") == 0)
            return call(a, "GET", route, NULL);
        if (strcmp(verb, "delete") == 0)
            return call(a, "DELETE", route, NULL);
        if (strcmp(verb, "put") == 0) {
            if (!a->file) {
                fprintf(stderr, "containment-chamber operator auth policy put: --file policy.json is required\n");
                return 2;
            }
            char *text = read_file(a->file);
            if (!text)
                return 1;
            int rc = call(a, "PUT", route, text);
            free(text);
            return rc;
        }
    } else if (kind && verb && strcmp(kind, "token") == 0) {
        if (strcmp(verb, "list") == 0)
            return call(a, "GET", "auth/tokens", NULL);
        if (strcmp(verb, "revoke") == 0) {
            if (!plain_word("token id", arg))
                return 2;
            snprintf(route, sizeof route, "auth/tokens/%s", arg);
            return call(a, "DELETE", route, NULL);
        }
        if (strcmp(verb, "create") == 0) {
            if (!a->policies) {
                fprintf(stderr, "containment-chamber operator auth token create: --policies a,b is required\n");
                return 2;
            }
            json_t *body = json_pack("{s:[]}", "policies");
            char *list = strdup(a->policies), *save = NULL;
            for (char *t = list ? strtok_r(list, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
                if (*t)
                    json_array_append_new(json_object_get(body, "policies"), json_string(t));
            free(list);
            if (a->expires_in) {
                char *end = NULL;
                long long e = strtoll(a->expires_in, &end, 10);
                if (!*a->expires_in || *end || e < 1) {
                    fprintf(stderr, "containment-chamber operator auth token create: --expires-in-seconds: '%s' is "
                                    "not a positive number\n", a->expires_in);
                    json_decref(body);
                    return 2;
                }
                json_object_set_new(body, "expires_in_seconds", json_integer(e));
            }
            char *text = json_dumps(body, JSON_COMPACT);
            json_decref(body);
            int rc = text ? call(a, "POST", "auth/tokens", text) : 1;
            free(text);
            return rc;
        }
    }
    fprintf(stderr, "containment-chamber operator auth: expected 'policy list|get|put|delete' or "
                    "'token create|list|revoke'\n");
    usage(stderr);
    return 2;
}

/* ---- Nitro (issue 8): verify the signer's aTLS certificate and pin its key ---- */
static int attest_signer(op_args *a)
{
    const char *pcr_flag[3] = {a->expect_pcr0, a->expect_pcr3, a->expect_pcr8};
    static const int pcr_index[3] = {0, 3, 8};
    if (!a->expect_pcr0 && !a->expect_pcr3 && !a->expect_pcr8) {
        if (a->attestation_root || a->attestation_max_age) {
            fprintf(stderr, "containment-chamber operator: --attestation-root / --attestation-max-age need at least "
                            "one --expect-pcrN\n");
            return 2;
        }
        return 0;
    }
    if (strncasecmp(a->signer_url, "https://", 8) != 0) {
        fprintf(stderr, "containment-chamber operator: --expect-pcrN needs an https:// (aTLS) --signer-url\n");
        return 2;
    }
    static uint8_t pcrs[3][64];
    cc_attestation_policy pol;
    memset(&pol, 0, sizeof pol);
    for (int i = 0; i < 3; i++) {
        size_t n = 0;
        if (!pcr_flag[i])
            continue;
        if (cc_hex_decode(pcr_flag[i], pcrs[i], sizeof pcrs[i], &n, NULL) != CC_OK || (n != 32 && n != 48 && n != 64)) {
            fprintf(stderr, "containment-chamber operator: --expect-pcr%d: expected 96 hex digits\n", pcr_index[i]);
            return 2;
        }
        pol.expect[pol.n_expect++] = (cc_attestation_pcr){pcr_index[i], pcrs[i], n};
    }
    char *end = NULL;
    pol.max_age_s = 600;
    if (a->attestation_max_age) {
        unsigned long long v = strtoull(a->attestation_max_age, &end, 10);
        if (!*a->attestation_max_age || *end || v == 0 || v > 86400 * 365) {
            fprintf(stderr, "containment-chamber operator: --attestation-max-age: seconds, 1..31536000\n");
            return 2;
        }
        pol.max_age_s = v;
    }
    char *root = NULL;
    if (a->attestation_root) {
        FILE *f = fopen(a->attestation_root, "rb");
        long len = -1;
        if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && len < 65536 && fseek(f, 0, SEEK_SET) == 0 &&
            (root = calloc(1, (size_t)len + 1)) && fread(root, 1, (size_t)len, f) != (size_t)len) {
            free(root);
            root = NULL;
        }
        if (f)
            fclose(f);
        if (!root) {
            fprintf(stderr, "containment-chamber operator: --attestation-root: cannot read %s\n", a->attestation_root);
            return 2;
        }
        pol.root_pem = root;
    }
    cc_error err;
    cc_error_clear(&err);
    cc_status st = cc_atls_verify_url(a->signer_url, &pol, 10, a->atls_pin, &err);
    free(root);
    if (st != CC_OK) {
        fprintf(stderr, "containment-chamber operator: the signer's attestation is refused; nothing was sent: %s\n",
                err.msg);
        return 1;
    }
    return 0;
}
/* ---- end Nitro ---- */

int cc_cmd_operator(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (!sub || strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        usage(sub ? stdout : stderr);
        return sub ? 0 : 2;
    }
    op_args a = {0};
    for (int i = 2; i < argc; i++) {
        static const struct {
            const char *name;
            size_t off;
        } flags[] = {
            {"--signer-url", offsetof(op_args, signer_url)},   {"--setup-token", offsetof(op_args, setup_token)},
            {"--kms-key-arns", offsetof(op_args, kms_key_arns)}, {"--kms-threshold", offsetof(op_args, kms_threshold)},
            {"--token", offsetof(op_args, token)},             {"--ca-file", offsetof(op_args, ca_file)},
            {"--auth-token", offsetof(op_args, token)},        {"--file", offsetof(op_args, file)},
            {"--policies", offsetof(op_args, policies)},       {"--expires-in-seconds", offsetof(op_args, expires_in)},
            /* Nitro (issue 8) */
            {"--attestation-root", offsetof(op_args, attestation_root)},
            {"--expect-pcr0", offsetof(op_args, expect_pcr0)}, {"--expect-pcr3", offsetof(op_args, expect_pcr3)},
            {"--expect-pcr8", offsetof(op_args, expect_pcr8)},
            {"--attestation-max-age", offsetof(op_args, attestation_max_age)},
            /* operator quorum (issue 7) */
            {"--operators", offsetof(op_args, operators)},
            {"--operator-threshold", offsetof(op_args, operator_threshold)},
            {"--to", offsetof(op_args, to)}, /* rotate mode */
            {"--argon2-iterations", offsetof(op_args, argon2_t)},
            {"--argon2-memory-kib", offsetof(op_args, argon2_m)},
            {"--argon2-parallelism", offsetof(op_args, argon2_p)},
            {"--registration-token", offsetof(op_args, registration_token)},
            {"--passphrase", offsetof(op_args, passphrase)},
            {"--yubikey-response-hex", offsetof(op_args, yubikey_response)},
            {"--operator", offsetof(op_args, operator_name)},
        };
        if (argv[i][0] != '-' && a.npos < 3) {
            a.pos[a.npos++] = argv[i];
            continue;
        }
        if (strcmp(argv[i], "--allow-plaintext-signer") == 0) {
            a.allow_plaintext = 1;
            continue;
        }
        int matched = 0;
        for (size_t f = 0; f < sizeof flags / sizeof flags[0] && !matched; f++) {
            size_t nl = strlen(flags[f].name);
            const char **slot = (const char **)((char *)&a + flags[f].off);
            if (strcmp(argv[i], flags[f].name) == 0 && i + 1 < argc) {
                *slot = argv[++i];
                matched = 1;
            } else if (strncmp(argv[i], flags[f].name, nl) == 0 && argv[i][nl] == '=') {
                *slot = argv[i] + nl + 1;
                matched = 1;
            }
        }
        if (!matched) {
            fprintf(stderr, "containment-chamber operator: unknown option or missing value '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!a.signer_url || !*a.signer_url) {
        fprintf(stderr, "containment-chamber operator %s: --signer-url is required\n", sub);
        return 2;
    }
    if (strncasecmp(a.signer_url, "https://", 8) != 0) {
        if (strncasecmp(a.signer_url, "http://", 7) != 0) {
            fprintf(stderr, "containment-chamber operator: --signer-url must be https:// (or http://)\n");
            return 2;
        }
        if (!a.allow_plaintext) {
            fprintf(stderr, "containment-chamber operator: refusing the plaintext signer URL %s (tokens would travel "
                            "in the clear); use https:// or --allow-plaintext-signer\n", a.signer_url);
            return 2;
        }
    }
    if (a.token && !(a.token = secret_value("--auth-token", a.token)))
        return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = attest_signer(&a); /* Nitro (issue 8): before anything is sent */
    if (rc != 0)
        ;
    else if (strcmp(sub, "init") == 0)
        rc = cmd_init(&a);
    else if (strcmp(sub, "status") == 0)
        rc = call(&a, "GET", "status", NULL);
    else if (strcmp(sub, "seal") == 0)
        rc = call(&a, "POST", "seal", NULL);
    else if (strcmp(sub, "unseal") == 0) /* with --operator: a quorum submission (issue 7) */
        rc = a.operator_name ? cmd_quorum_unseal(&a) : call(&a, "POST", "unseal", NULL);
    else if (strcmp(sub, "register") == 0) /* operator quorum (issue 7) */
        rc = cmd_register(&a);
    else if (strcmp(sub, "rotate") == 0) /* rotation (issue 7) */
        rc = cmd_rotate(&a);
    else if (strcmp(sub, "generate-root-token") == 0)
        rc = need_token(&a, sub) ? call(&a, "POST", "auth/root-token", NULL) : 2;
    else if (strcmp(sub, "auth") == 0)
        rc = need_token(&a, sub) ? cmd_auth(&a) : 2;
    else {
        fprintf(stderr, "containment-chamber operator: unknown subcommand '%s'\n", sub);
        usage(stderr);
        rc = 2;
    }
    curl_global_cleanup();
    return rc;
}
