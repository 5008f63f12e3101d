/*
 * main.c — the kms-local command line: flags → kl_config, open the key
 * store, serve until SIGINT/SIGTERM.  See docs/kms-local.md.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "kmslocal/kmslocal.h"
#include "util/log.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: kms-local --listen HOST:PORT --state FILE\n"
            "                 (--access-key-id ID --secret-access-key SECRET [--principal-arn ARN])...\n"
            "                 [--credentials-file FILE] [--region us-east-1] [--account 000000000000]\n"
            "                 [--attestation-root root.pem] [--attestation-max-age SECONDS]\n"
            "                 [--admin-open] [--log-level info]\n"
            "A local KMS-compatible server (JSON 1.1, SigV4, key policies with attestation conditions).\n");
}

static int die(const char *msg, const char *detail)
{
    fprintf(stderr, "kms-local: %s%s%s\n", msg, detail ? ": " : "", detail ? detail : "");
    return 2;
}

/* Split "HOST:PORT" (IPv6 as [::1]:PORT). */
static int parse_listen(const char *s, char *host, size_t cap, unsigned *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon)
        return -1;
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= cap)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    char *end;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (*end || p > 65535 || colon[1] == '\0')
        return -1;
    *port = (unsigned)p;
    return 0;
}

typedef struct cred_flags {
    const char *akid, *secret, *principal;
} cred_flags;

/* Everything after the flags: credentials, root, store, server; returns the exit code. */
static int serve(kl_config *cfg, const char *host, unsigned port, const char *state, const char *root_pem,
                 const char *creds_file, const cred_flags *groups, size_t ngroups)
{
    cc_error err;
    for (size_t g = 0; g < ngroups; g++)
        if (kl_config_add_cred(cfg, groups[g].akid, groups[g].secret, groups[g].principal, NULL, &err) != CC_OK)
            return die(err.msg, NULL);
    if (creds_file && kl_config_load_credentials(cfg, creds_file, &err) != CC_OK)
        return die(err.msg, NULL);
    if (cfg->ncreds == 0)
        return die("no credentials: give --access-key-id/--secret-access-key or --credentials-file", NULL);
    if (root_pem) {
        FILE *f = fopen(root_pem, "r");
        if (!f)
            return die("cannot open --attestation-root", root_pem);
        cfg->attestation_root = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
        if (!cfg->attestation_root)
            return die("--attestation-root is not a PEM certificate", root_pem);
    }

    kl_store store;
    if (kl_store_open(&store, state, cfg->region, cfg->account, &err) != CC_OK)
        return die(err.msg, NULL);
    kl_server_ctx ctx = {.cfg = cfg, .store = &store};

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    kl_server *srv;
    if (kl_server_start(&ctx, host, (uint16_t)port, &srv, &err) != CC_OK) {
        kl_store_close(&store);
        return die(err.msg, NULL);
    }
    char portbuf[8], nkeys[16], ncreds[16];
    snprintf(portbuf, sizeof portbuf, "%u", kl_server_port(srv));
    snprintf(nkeys, sizeof nkeys, "%zu", store.nkeys);
    snprintf(ncreds, sizeof ncreds, "%zu", cfg->ncreds);
    cc_log(CC_LOG_INFO, "kms-local listening", "address", host, "port", portbuf, "region", cfg->region, "account",
           cfg->account, "keys", nkeys, "credentials", ncreds, "attestation_root", root_pem ? root_pem : "none",
           "admin_open", cfg->admin_open ? "true" : "false", NULL);
    int sig = 0;
    sigwait(&set, &sig);
    cc_log(CC_LOG_INFO, "kms-local stopping", NULL);
    kl_server_stop(srv);
    kl_store_close(&store);
    return 0;
}

int main(int argc, char **argv)
{
    const char *listen = NULL, *state = NULL, *root_pem = NULL, *creds_file = NULL;
    kl_config cfg = {.region = "us-east-1", .account = "000000000000", .attestation_max_age_s = 300,
                     .max_skew_s = 300};
    /* Credential groups: --access-key-id starts one, --secret-access-key and --principal-arn fill it. */
    cred_flags groups[64];
    size_t ngroups = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--admin-open") == 0) {
            cfg.admin_open = 1;
            continue;
        }
        if (!v) {
            usage(stderr);
            return die("missing value for", a);
        }
        i++;
        if (strcmp(a, "--listen") == 0) listen = v;
        else if (strcmp(a, "--state") == 0) state = v;
        else if (strcmp(a, "--region") == 0) cfg.region = v;
        else if (strcmp(a, "--account") == 0) cfg.account = v;
        else if (strcmp(a, "--attestation-root") == 0) root_pem = v;
        else if (strcmp(a, "--credentials-file") == 0) creds_file = v;
        else if (strcmp(a, "--attestation-max-age") == 0) cfg.attestation_max_age_s = atoi(v);
        else if (strcmp(a, "--log-level") == 0) {
            int l = cc_log_level_parse(v);
            if (l < 0)
                return die("--log-level must be debug, info, warn or error", v);
            cc_log_set_level((cc_log_level)l);
        } else if (strcmp(a, "--access-key-id") == 0) {
            if (ngroups == sizeof groups / sizeof groups[0])
                return die("too many credentials on the command line", NULL);
            groups[ngroups].akid = v;
            groups[ngroups].secret = groups[ngroups].principal = NULL;
            ngroups++;
        } else if (strcmp(a, "--secret-access-key") == 0 || strcmp(a, "--principal-arn") == 0) {
            if (!ngroups)
                return die("give --access-key-id before", a);
            const char **slot = a[2] == 's' ? &groups[ngroups - 1].secret : &groups[ngroups - 1].principal;
            if (*slot)
                return die("given twice for one --access-key-id", a);
            *slot = v;
        } else {
            usage(stderr);
            return die("unknown flag", a);
        }
    }
    if (!listen || !state) {
        usage(stderr);
        return die("--listen and --state are required", NULL);
    }
    char host[256];
    unsigned port;
    if (parse_listen(listen, host, sizeof host, &port) != 0)
        return die("--listen must be HOST:PORT", listen);
    int rc = serve(&cfg, host, port, state, root_pem, creds_file, groups, ngroups);
    kl_config_free(&cfg);
    return rc;
}
