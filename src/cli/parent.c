/*
 * parent.c — `containment-chamber parent -c parent.yaml`: the relay on the
 * enclave's parent instance (enclave/relay.h, enclave/parent_config.h).
 * Runs until SIGINT/SIGTERM.  CC_TEST_RELAY_CAPTURE_DIR (tests only) records
 * every relayed byte so a test can show the parent never saw plaintext.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "cli/cli.h"
#include "enclave/parent_config.h"
#include "enclave/relay.h"
#include "util/log.h"

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
    cc_log(CC_LOG_INFO, "parent relay running", NULL);
    int sig = 0;
    while (sigwait(&sigs, &sig) != 0) {
    }
    cc_log(CC_LOG_INFO, "shutting down", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    cc_relay_stop(r);
    cc_parent_config_free(&cfg);
    cc_log(CC_LOG_INFO, "stopped", NULL);
    return 0;
}
