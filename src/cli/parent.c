/*
 * parent.c — `containment-chamber parent -c parent.yaml`: the relay on the
 * enclave's parent instance (enclave/relay.h, enclave/parent_config.h).
 * With `credentials:` it also serves the parent's own AWS credentials to
 * the enclave (enclave/credfeed.h) from the standard chain, uncached here
 * (the feed caches with its lifetime cap, so a rotated source is seen).
 * Runs until SIGINT/SIGTERM.  CC_TEST_RELAY_CAPTURE_DIR (tests only) records
 * every relayed byte so a test can show the parent never saw plaintext.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "cli/cli.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "enclave/credfeed.h"
#include "enclave/parent_config.h"
#include "enclave/relay.h"
#include "util/log.h"

/* chain(environment, profile, web identity, container, IMDSv2), no cache: the feed adds its own. */
static cc_status parent_chain(cc_aws_http *http, const char *region, cc_aws_credentials_provider **out, cc_error *err)
{
    cc_aws_credentials_provider *ps[5] = {0};
    cc_status st = cc_aws_credentials_env_new(&ps[0], err);
    if (st == CC_OK)
        st = cc_aws_credentials_profile_new(&ps[1], err);
    if (st == CC_OK)
        st = cc_aws_credentials_web_identity_new(http, region, NULL, &ps[2], err);
    if (st == CC_OK)
        st = cc_aws_credentials_container_new(http, &ps[3], err);
    if (st == CC_OK)
        st = cc_aws_credentials_imds_new(http, &ps[4], err);
    if (st != CC_OK) {
        for (int i = 0; i < 5; i++)
            cc_aws_credentials_provider_free(ps[i]);
        return st;
    }
    return cc_aws_credentials_chain_new(ps, 5, out, err);
}

int cc_cmd_parent(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            path = argv[++i];
        else {
            fprintf(stderr, "usage: containment-chamber parent -c parent.yaml\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: containment-chamber parent -c parent.yaml\n");
        return 2;
    }
    cc_parent_config cfg;
    cc_error err;
    cc_error_clear(&err);
    if (cc_parent_config_load(path, &cfg, &err) != CC_OK) {
        fprintf(stderr, "containment-chamber parent: %s\n", err.msg);
        return 2;
    }
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    const char *cap = getenv("CC_TEST_RELAY_CAPTURE_DIR");
    if (cap && *cap)
        cc_log(CC_LOG_WARN, "parent: capturing relayed bytes (tests only)", "dir", cap, NULL);
    cc_relay *r = NULL;
    if (cc_relay_start(cfg.routes, cfg.n, cap && *cap ? cap : NULL, &r, &err) != CC_OK) {
        cc_log(CC_LOG_ERROR, "start-up failed", "reason", err.msg, NULL);
        fprintf(stderr, "containment-chamber parent: %s\n", err.msg);
        cc_parent_config_free(&cfg);
        return 1;
    }
    cc_aws_http *http = NULL;
    cc_credfeed *feed = NULL;
    if (cfg.cred_listen) {
        cc_aws_credentials_provider *chain = NULL;
        cc_credfeed_options fo = {cfg.cred_listen, cfg.cred_enclave_cid, cfg.cred_lifetime_seconds};
        if (cc_aws_http_new(NULL, &http, &err) != CC_OK || parent_chain(http, cfg.cred_region, &chain, &err) != CC_OK ||
            cc_credfeed_start(&fo, chain, &feed, &err) != CC_OK) {
            cc_log(CC_LOG_ERROR, "start-up failed", "reason", err.msg, NULL);
            fprintf(stderr, "containment-chamber parent: %s\n", err.msg);
            cc_relay_stop(r);
            cc_aws_http_free(http);
            cc_parent_config_free(&cfg);
            return 1;
        }
    }
    cc_log(CC_LOG_INFO, "parent relay running", NULL);
    int sig = 0;
    while (sigwait(&sigs, &sig) != 0) {
    }
    cc_log(CC_LOG_INFO, "shutting down", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    cc_credfeed_stop(feed);
    cc_aws_http_free(http);
    cc_relay_stop(r);
    cc_parent_config_free(&cfg);
    cc_log(CC_LOG_INFO, "stopped", NULL);
    return 0;
}
