/*
 * server.c — `containment-chamber server -c config.yaml [--key=value ...]`.
 *
 * Builds the app from the configuration (network, anti-slashing database,
 * keyring with the filesystem keys), serves it, and waits for a signal:
 * SIGHUP re-scans the keys, SIGINT/SIGTERM stop cleanly (in-flight requests
 * finish, the anti-slashing writer drains, every secret is wiped).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/app.h"
#include "api/keymanager.h"
#include "chamber/auth_store.h"
#include "chamber/chamber.h"
#include "chamber/rotate.h"
#include "api/metrics.h"
#include "api/server.h"
#include "api/tls_reload.h"
#include "aws/credentials.h"
#include "aws/dynamodb.h"
#include "cli/cli.h"
#include "config/config.h"
#include "chamber/unwrap.h" /* Nitro (issue 8) */
#include "enclave/entropy.h" /* Nitro (issue 8) */
#include "enclave/tee.h"    /* Nitro (issue 8) */
#include "api/atls_listener.h" /* Nitro (issue 8) */
#include "enclave/relay.h"       /* Nitro (issue 8) */
#include "keys/dynamodb.h"
#include "util/hex.h"
#include "util/log.h"

extern char **environ;

static int fail(const cc_error *err)
{
    cc_log(CC_LOG_ERROR, "start-up failed", "reason", err->msg, NULL);
    fprintf(stderr, "containment-chamber: %s\n", err->msg);
    return err->code == CC_ECONFIG || err->code == CC_EINVAL ? 2 : 1;
}

static int server_usage(void)
{
    fprintf(stderr, "usage: containment-chamber server [-c config.yaml] [--<key>=<value> ...]\n"
                    "  every key of config.example.yaml can be given as a flag, e.g. --server.listen_port=9001\n");
    return 2;
}

/* The DynamoDB key source's client (key_sources.dynamodb.table); freed after the source at exit. */
static cc_aws_http *keys_http;
static cc_aws_credentials_provider *keys_creds;
static cc_dynamodb keys_ddb;

static cc_status keys_with_master(void *ctx, cc_status (*fn)(void *arg, const uint8_t master[32], uint32_t version),
                                  void *arg, cc_error *err)
{
    return cc_chamber_with_master_key(ctx, fn, arg, err);
}

/* rotation (issue 7): the older master a rotation in flight still holds, for records not yet re-sealed. */
static const uint8_t *keys_other_master(void *ctx, uint32_t *version)
{
    return cc_chamber_other_master_locked(ctx, version);
}

static void keys_on_seal(void *src) { cc_key_source_dynamodb_wipe(src); }

/*
 * The DynamoDB key source: keys sealed under the chamber's master key.  They
 * appear within refresh_interval_seconds of an unseal (the refresh asks the
 * chamber every round) and are wiped by the chamber's on-seal hook.
 */
static cc_status start_dynamodb_keys(cc_app *app, const cc_config *cfg, cc_error *err)
{
    if (!app->chamber) /* cc_config_validate refuses this already */
        return cc_error_set(err, CC_ECONFIG, "table: needs signer_state.table (the master key)");
    cc_status st;
    if ((st = cc_aws_http_new(NULL, &keys_http, err)) != CC_OK ||
        (st = cc_aws_credentials_default_new(keys_http, cfg->aws_region, cfg->aws_endpoint_sts, &keys_creds, err)) !=
            CC_OK ||
        (st = cc_dynamodb_init(&keys_ddb, keys_http, keys_creds, cfg->aws_region, cfg->aws_endpoint_dynamodb, err)) !=
            CC_OK)
        return st;
    char status[16];
    if ((st = cc_dynamodb_describe_table(&keys_ddb, cfg->dynamodb_keys_table, NULL, status, err)) != CC_OK) {
        if (st == CC_ENOTFOUND)
            cc_error_set(err, CC_ECONFIG, "table %s does not exist; create it with `containment-chamber dynamodb "
                                          "create-tables`", cfg->dynamodb_keys_table);
        return st == CC_ENOTFOUND ? CC_ECONFIG : st;
    }
    cc_key_source_dynamodb_config dcfg = {
        .ddb = &keys_ddb,
        .table = cfg->dynamodb_keys_table,
        .status_filter = strcmp(cfg->dynamodb_keys_status_filter, "all") == 0 ? -1 : CC_KEY_ACTIVE,
        .refresh_interval_seconds = cfg->dynamodb_keys_refresh_seconds,
        .max_concurrent_reads = cfg->dynamodb_keys_max_concurrent_reads,
        .with_master = keys_with_master,
        .with_master_ctx = app->chamber,
        .other_master = keys_other_master, /* rotation (issue 7) */
    };
    if ((st = cc_key_source_dynamodb_new(&dcfg, &app->dynamodb_keys, err)) != CC_OK)
        return st;
    app->dynamodb = &keys_ddb;
    if ((st = cc_chamber_on_seal(app->chamber, keys_on_seal, app->dynamodb_keys, err)) != CC_OK)
        return st;
    return cc_key_source_dynamodb_start_refresh(app->dynamodb_keys, app->keyring, err);
}

int cc_cmd_server(int argc, char **argv)
{
    const char *config_path = getenv("CONTAINMENT_CONFIG");
    char **flags = calloc((size_t)argc + 1, sizeof *flags);
    int nflags = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                free(flags);
                return server_usage();
            }
            config_path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            config_path = argv[i] + 9;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            free(flags);
            return server_usage();
        } else {
            flags[nflags++] = argv[i];
        }
    }

    cc_config cfg;
    cc_error err;
    cc_error_clear(&err);
    cc_status st = cc_config_load(&cfg, config_path, environ, nflags, flags, &err);
    free(flags);
    if (st == CC_OK)
        st = cc_config_validate(&cfg, &err);
    if (st != CC_OK)
        return fail(&err);
    cc_log_set_level((cc_log_level)cc_log_level_parse(cfg.log_level));

    /* Nitro runtime (issue 8): the NSM and the share unwrapper (enclave/tee.h, chamber/unwrap.h) */
    cc_nsm *nsm = NULL;
    cc_unwrapper *unwrapper = NULL;
    cc_entropy_feeder *entropy = NULL;
    if (strcmp(cfg.tee_platform, "nitro") == 0) {
        cc_tee_nsm_config ncfg = {cfg.tee_nsm, cfg.tee_nsm_device_path, cfg.tee_nsm_sim_state_dir, cfg.tee_nsm_sim_pcrs,
                                  cfg.tee_nsm_sim_pcr_count, getenv(CC_TEE_SIM_ENV)};
        if (cc_tee_nsm_open(&ncfg, &nsm, &err) != CC_OK || cc_unwrapper_recipient_new(nsm, &unwrapper, &err) != CC_OK) {
            cc_nsm_close(nsm);
            cc_config_free(&cfg);
            return fail(&err);
        }
        cc_log(CC_LOG_INFO, "tee: nitro; shares are decrypted with KMS Recipient (attestation)", "nsm",
               nsm->ops->name, NULL);
        /* NSM GetRandom into OpenSSL's RNG now and every 5 min (enclave/entropy.h); failures only logged */
        if (cc_entropy_feeder_start(nsm, CC_ENTROPY_INTERVAL_SECONDS * 1000u, &entropy, &err) != CC_OK) {
            cc_unwrapper_free(unwrapper);
            cc_nsm_close(nsm);
            cc_config_free(&cfg);
            return fail(&err);
        }
    }
    /* the enclave's relays (tee.relays): API over vsock in, AWS endpoints through the parent out */
    cc_relay *relays = NULL;
    static char *relay_bufs[CC_CONFIG_MAX_PATHS];
    if (cfg.tee_relay_count) {
        cc_relay_route routes[CC_CONFIG_MAX_PATHS];
        cc_status rst = CC_OK;
        for (size_t i = 0; i < cfg.tee_relay_count && rst == CC_OK; i++) {
            relay_bufs[i] = strdup(cfg.tee_relays[i]);
            rst = relay_bufs[i] ? cc_relay_route_parse(relay_bufs[i], &routes[i], &err)
                                : cc_error_set(&err, CC_ENOMEM, "out of memory");
            if (rst != CC_OK)
                cc_error_prefix(&err, "tee.relays[%zu]", i);
        }
        if (rst == CC_OK && cc_relay_start(routes, cfg.tee_relay_count, NULL, &relays, &err) != CC_OK)
            rst = cc_error_prefix(&err, "tee.relays");
        if (rst != CC_OK) {
            for (size_t i = 0; i < cfg.tee_relay_count; i++)
                free(relay_bufs[i]);
            cc_entropy_feeder_stop(entropy);
            cc_unwrapper_free(unwrapper);
            cc_nsm_close(nsm);
            cc_config_free(&cfg);
            return fail(&err);
        }
    }
    /* end Nitro */
    cc_tls_files tls_files = {cfg.tls_cert_path, cfg.tls_key_path, cfg.tls_client_ca_path};
    if (strcmp(cfg.tls_mode, "file") == 0) {
        /* Check the certificate now, not after minutes of keystore decryption. */
        cc_tls_pem pem;
        if (cc_tls_pem_load(&tls_files, &pem, &err) != CC_OK) {
            cc_config_free(&cfg);
            return fail(&err);
        }
        cc_tls_pem_free(&pem);
    }

    static cc_app app; /* static: its address is shared with server threads until exit */
    memset(&app, 0, sizeof app);
    app.cfg = &cfg;
    pthread_mutex_init(&app.reload_lock, NULL);
    cc_server_set_pool_size(cfg.backpressure_max_concurrent);
    cc_limiter_init(&app.limiter, cfg.backpressure_max_concurrent, cfg.backpressure_max_queue,
                    cfg.backpressure_timeout_seconds);
    int rc = 1;
    cc_server *srv = NULL, *metrics = NULL;
    cc_tls_listener *https = NULL;
    cc_atls_listener *atls = NULL; /* Nitro (issue 8) */

    if (cc_network_load(cfg.network, cfg.genesis_validators_root[0] ? cfg.genesis_validators_root : NULL,
                        &app.network, &err) != CC_OK) {
        cc_error_prefix(&err, "network");
        rc = fail(&err);
        goto out;
    }
    char gvr_hex[67];
    cc_hex_encode0x(app.network.genesis_validators_root, 32, gvr_hex);
    cc_log(CC_LOG_INFO, "network", "name", app.network.name, "preset", app.network.preset.name,
           "genesis_validators_root", gvr_hex, NULL);

    cc_slashing_config scfg = {
        .backend = cfg.anti_slashing_backend,
        .path = cfg.anti_slashing_path,
        .url = cfg.anti_slashing_url,
        .pool_size = cfg.anti_slashing_pool_size,
        .table = cfg.anti_slashing_table,
        .aws_region = cfg.aws_region,
        .aws_endpoint_dynamodb = cfg.aws_endpoint_dynamodb,
        .aws_endpoint_sts = cfg.aws_endpoint_sts,
    };
    if (cc_slashing_open(&scfg, app.network.genesis_validators_root, &app.slashing, &err) != CC_OK) {
        cc_error_prefix(&err, "anti_slashing");
        rc = fail(&err);
        goto out;
    }

    app.keyring = cc_keyring_new();
    if (!app.keyring) {
        cc_error_set(&err, CC_ENOMEM, "out of memory");
        rc = fail(&err);
        goto out;
    }
    if (cfg.key_manager_api_enabled && cc_keymanager_new(&app.keymanager, &err) != CC_OK) {
        cc_error_prefix(&err, "http.key_manager_api");
        rc = fail(&err);
        goto out;
    }
    if (cfg.signer_state_table[0]) {
        cc_chamber_config ccfg = {
            .table = cfg.signer_state_table,
            .refresh_interval_seconds = cfg.signer_state_refresh_seconds,
            .unseal_timeout_minutes = cfg.signer_state_unseal_timeout_minutes,
            .unseal_timeout_seconds = cfg.signer_state_unseal_timeout_seconds, /* operator quorum (issue 7) */
            .aws_region = cfg.aws_region,
            .aws_endpoint_dynamodb = cfg.aws_endpoint_dynamodb,
            .aws_endpoint_kms = cfg.aws_endpoint_kms,
            .aws_endpoint_sts = cfg.aws_endpoint_sts,
            .unwrapper = unwrapper,                                  /* Nitro (issue 8) */
            .auto_unseal_kms_key_arn = cfg.tee_auto_unseal_kms_key_arn, /* Nitro (issue 8) */
            .key_table = cfg.dynamodb_keys_table,                    /* rotation (issue 7) */
            .rotation_test_delay_ms = cfg.signer_state_rotation_test_delay_ms, /* rotation (issue 7): tests only */
        };
        if (cc_chamber_open(&ccfg, &app.chamber, &err) != CC_OK) {
            cc_error_prefix(&err, "signer_state");
            rc = fail(&err);
            goto out;
        }
        /* Auth policies and token hashes live in the same table (chamber/auth_store.h). */
        if (cc_auth_store_open(cc_chamber_dynamodb(app.chamber), cc_chamber_table(app.chamber),
                               cc_chamber_refresh_seconds(app.chamber), &app.auth, &err) != CC_OK) {
            cc_error_prefix(&err, "signer_state (auth)");
            rc = fail(&err);
            goto out;
        }
    }
    if (cfg.dynamodb_keys_table[0] && start_dynamodb_keys(&app, &cfg, &err) != CC_OK) {
        cc_error_prefix(&err, "key_sources.dynamodb");
        rc = fail(&err);
        goto out;
    }
    if (cfg.filesystem_path_count) {
        if (cc_key_source_filesystem_new(cfg.filesystem_paths, cfg.filesystem_path_count, &app.filesystem,
                                         &err) != CC_OK) {
            cc_error_prefix(&err, "key_sources.filesystem");
            rc = fail(&err);
            goto out;
        }
        /* Keys load before we serve: validator clients ask for publicKeys once, at their start. */
        if (app.filesystem->ops->load(app.filesystem, app.keyring, &app.last_load, &err) != CC_OK) {
            cc_error_prefix(&err, "key_sources.filesystem");
            rc = fail(&err);
            goto out;
        }
    }
    cc_metrics_add_key_load_failures(app.last_load.failed);
    char nkeys[24];
    snprintf(nkeys, sizeof nkeys, "%zu", cc_keyring_count(app.keyring, -1));
    cc_log(CC_LOG_INFO, "keys ready", "count", nkeys, NULL);

    /* Signals are taken by this thread alone (sigwait below); block them before any thread starts. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (cc_server_start(cc_app_handle, &app, cfg.server_listen_address, cfg.server_listen_port, &srv, &err) != CC_OK) {
        cc_error_prefix(&err, "server");
        rc = fail(&err);
        goto out;
    }
    char port[8];
    snprintf(port, sizeof port, "%u", cc_server_port(srv));
    cc_log(CC_LOG_INFO, "listening", "address", cfg.server_listen_address, "port", port, "version", CC_VERSION,
           NULL);

    if (strcmp(cfg.tls_mode, "file") == 0) {
        if (cc_tls_listener_start(&tls_files, cfg.tls_reload_interval_seconds, cc_app_handle, &app,
                                  cfg.server_listen_address, cfg.tls_listen_port, &https, &err) != CC_OK) {
            cc_error_prefix(&err, "tls");
            rc = fail(&err);
            goto out;
        }
        snprintf(port, sizeof port, "%u", cc_tls_listener_port(https));
        cc_log(CC_LOG_INFO, "https listening", "address", cfg.server_listen_address, "port", port, NULL);
    }
    /* Nitro (issue 8): attested TLS, the certificate carries the NSM document (api/atls_listener.h) */
    if (strcmp(cfg.tls_mode, "atls") == 0) {
        if (cc_atls_listener_start(nsm, cfg.tee_atls_renew_seconds, cc_app_handle, &app, cfg.server_listen_address,
                                   cfg.tls_listen_port, &atls, &err) != CC_OK) {
            cc_error_prefix(&err, "tls (atls)");
            rc = fail(&err);
            goto out;
        }
        snprintf(port, sizeof port, "%u", cc_atls_listener_port(atls));
        cc_log(CC_LOG_INFO, "https (atls) listening", "address", cfg.server_listen_address, "port", port, NULL);
    }

    if (cfg.metrics_enabled) {
        if (cc_server_start(cc_metrics_handle, &app, cfg.metrics_listen_address, cfg.metrics_listen_port, &metrics,
                            &err) != CC_OK) {
            cc_error_prefix(&err, "metrics");
            rc = fail(&err);
            goto out;
        }
        snprintf(port, sizeof port, "%u", cc_server_port(metrics));
        cc_log(CC_LOG_INFO, "metrics listening", "address", cfg.metrics_listen_address, "port", port, NULL);
    }

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            if (cc_app_reload_start(&app, &err) != CC_OK)
                cc_log(CC_LOG_WARN, "reload not started", "reason", err.msg, NULL);
            continue;
        }
        cc_log(CC_LOG_INFO, "shutting down", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
        break;
    }
    rc = 0;

out:
    cc_server_stop(metrics);
    cc_tls_listener_stop(https);
    cc_atls_listener_stop(atls); /* Nitro (issue 8) */
    cc_server_stop(srv);
    cc_app_reload_join(&app);
    if (app.dynamodb_keys) /* stops its refresh before the chamber and the client go */
        app.dynamodb_keys->ops->free(app.dynamodb_keys);
    app.dynamodb_keys = NULL;
    cc_auth_store_close(app.auth); /* before the chamber: it borrows the chamber's DynamoDB client */
    cc_chamber_close(app.chamber);
    cc_unwrapper_free(unwrapper); /* Nitro (issue 8): after the chamber, which borrows it */
    cc_entropy_feeder_stop(entropy); /* Nitro (issue 8): before the NSM it borrows */
    cc_nsm_close(nsm);
    cc_relay_stop(relays); /* Nitro (issue 8): after everything that talks through them */
    for (size_t i = 0; i < CC_CONFIG_MAX_PATHS; i++)
        free(relay_bufs[i]);
    cc_aws_credentials_provider_free(keys_creds);
    cc_aws_http_free(keys_http);
    cc_slashing_close(app.slashing);
    if (app.filesystem)
        app.filesystem->ops->free(app.filesystem);
    cc_keymanager_free(app.keymanager);
    cc_keyring_free(app.keyring);
    cc_config_free(&cfg);
    if (rc == 0)
        cc_log(CC_LOG_INFO, "stopped", NULL);
    return rc;
}
