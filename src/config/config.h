/*
 * config.h — containment-chamber's configuration: one struct, one table of
 * keys, three layers.
 *
 * Layers, later wins: the YAML file (-c), then the environment
 * (CONTAINMENT_ prefix, "__" for nesting: CONTAINMENT_ANTI_SLASHING__BACKEND),
 * then command-line flags (--anti_slashing.backend=sqlite, or with the value
 * as the next argument; '-' and '_' are interchangeable in flag names).
 * An unknown key or a bad value at any layer stops start-up with a message
 * naming the key and the layer it came from.  Every key, with its default,
 * is documented in config.example.yaml.
 */
#ifndef CC_CONFIG_H
#define CC_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

#define CC_CONFIG_MAX_PATHS 64

typedef struct cc_config {
    /* server */
    char server_listen_address[64];        /* server.listen_address [0.0.0.0] */
    uint16_t server_listen_port;           /* server.listen_port [9000] */
    /* metrics */
    char metrics_listen_address[64];       /* metrics.listen_address [0.0.0.0] */
    uint16_t metrics_listen_port;          /* metrics.listen_port [3000] */
    int metrics_enabled;                   /* metrics.enabled [true] */
    /* network */
    char network[1024];                    /* network [mainnet] | sepolia | hoodi | path of config.yaml */
    char genesis_validators_root[80];      /* genesis_validators_root [implied by named network] */
    /* key sources */
    char *filesystem_paths[CC_CONFIG_MAX_PATHS]; /* key_sources.filesystem.paths [] */
    size_t filesystem_path_count;
    char dynamodb_keys_table[256];         /* key_sources.dynamodb.table (empty = no DynamoDB key source) */
    char dynamodb_keys_status_filter[16];  /* key_sources.dynamodb.status_filter [active] | all */
    uint32_t dynamodb_keys_refresh_seconds; /* key_sources.dynamodb.refresh_interval_seconds [1] */
    uint32_t dynamodb_keys_max_concurrent_reads; /* key_sources.dynamodb.max_concurrent_reads [16] */
    /* anti-slashing */
    char anti_slashing_backend[16];        /* anti_slashing.backend [sqlite] | noop */
    char anti_slashing_path[1024];         /* anti_slashing.path [./slashing_protection.sqlite] */
    char anti_slashing_url[1024];          /* anti_slashing.url (postgres) */
    uint32_t anti_slashing_pool_size;      /* anti_slashing.pool_size [8] */
    char anti_slashing_table[256];         /* anti_slashing.table (dynamodb) */
    /* signer state (chamber) */
    char signer_state_backend[16];         /* signer_state.backend [dynamodb] */
    char signer_state_table[256];          /* signer_state.table (empty = no chamber: signing as without one) */
    uint32_t signer_state_refresh_seconds; /* signer_state.refresh_interval_seconds [1] */
    uint32_t signer_state_unseal_timeout_minutes; /* signer_state.unseal_timeout_minutes [30] */
    uint32_t signer_state_rotation_test_delay_ms; /* signer_state.rotation_test_delay_ms [0]: TEST ONLY (rotation, issue 7) */
    uint32_t signer_state_unseal_timeout_seconds; /* signer_state.unseal_timeout_seconds [0 = use the minutes; tests] */
    /* http */
    int key_manager_api_enabled;           /* http.key_manager_api.enabled [false] */
    uint32_t key_manager_api_max_items;    /* http.key_manager_api.max_items_per_request [100] */
    /* chamber key API (api/chamber_keys.c) */
    int chamber_keys_generate_enabled;     /* chamber.keys.generate.enabled [false] */
    uint32_t chamber_keys_generate_max_items; /* chamber.keys.generate.max_items_per_request [100] */
    int chamber_keys_backup_enabled;       /* chamber.keys.generate.backup.enabled [false] */
    char *chamber_keys_backup_recipients[CC_CONFIG_MAX_PATHS]; /* chamber.keys.generate.backup.recipients [] */
    size_t chamber_keys_backup_recipient_count;
    int chamber_keys_import_enabled;       /* chamber.keys.import.enabled [false] */
    uint32_t chamber_keys_import_max_items; /* chamber.keys.import.max_items_per_request [100] */
    int chamber_keys_lifecycle_enabled;    /* chamber.keys.lifecycle.enabled [false] (PATCH and DELETE) */
    /* backpressure */
    uint32_t backpressure_max_concurrent;  /* backpressure.max_concurrent [0 = number of cores] */
    uint32_t backpressure_max_queue;       /* backpressure.max_queue [1024] */
    uint32_t backpressure_timeout_seconds; /* backpressure.timeout_seconds [30] */
    /* tls */
    char tls_mode[16];                     /* tls.mode [disabled] | file | atls */
    uint16_t tls_listen_port;              /* tls.listen_port [9443] */
    char tls_cert_path[1024];              /* tls.file.cert_path */
    char tls_key_path[1024];               /* tls.file.key_path */
    uint32_t tls_reload_interval_seconds;  /* tls.file.reload_interval_seconds [60] */
    char tls_client_ca_path[1024];         /* tls.file.client_ca_path (optional: require client certs) */
    /* aws */
    char aws_region[64];                   /* aws.region [AWS_REGION, AWS_DEFAULT_REGION, else us-east-1] */
    char aws_endpoint_dynamodb[1024];      /* aws.endpoint_urls.dynamodb [https://dynamodb.<region>.amazonaws.com] */
    char aws_endpoint_kms[1024];           /* aws.endpoint_urls.kms [https://kms.<region>.amazonaws.com] */
    char aws_endpoint_sts[1024];           /* aws.endpoint_urls.sts [AWS_ENDPOINT_URL_STS, else https://sts.<region>.amazonaws.com] */
    /* tee */
    char tee_platform[16];                 /* tee.platform [none] | nitro */
    /* tee, Nitro runtime (issue 8; src/enclave/tee.h) */
    char tee_nsm[16];                      /* tee.nsm [device] | simulated (tests only) */
    char tee_nsm_device_path[256];         /* tee.nsm_device_path [/dev/nsm] */
    char tee_nsm_sim_state_dir[1024];      /* tee.nsm_simulator.state_dir (simulated: its test chain) */
    char *tee_nsm_sim_pcrs[CC_CONFIG_MAX_PATHS]; /* tee.nsm_simulator.pcrs ["N=HEX", ...] */
    size_t tee_nsm_sim_pcr_count;
    char tee_auto_unseal_kms_key_arn[2049]; /* tee.auto_unseal.kms_key_arn ("" = no auto-unseal blob) */
    uint32_t tee_atls_renew_seconds;       /* tee.atls.renew_interval_seconds [1800] */
    char *tee_relays[CC_CONFIG_MAX_PATHS]; /* tee.relays ["NAME LISTEN CONNECT", ...] (enclave/relay.h) */
    size_t tee_relay_count;
    /* logging */
    char log_level[16];                    /* log.level [info] */
} cc_config;

/* Fills cfg with every default. */
void cc_config_defaults(cc_config *cfg);

/*
 * Builds the configuration from the three layers.  path may be NULL (no
 * file).  envp is the environment (NULL-terminated "K=V" strings).  argv
 * holds only the --key=value flags (the caller removes its own flags first).
 *
 * Starts from cc_config_defaults, so cfg need not be initialised.  When path
 * is NULL, the file named by CONTAINMENT_CONFIG in envp (if set and non-empty)
 * is read instead.  Ends with cc_config_validate.  On failure cfg owns nothing
 * (cc_config_free is still safe to call); on success call cc_config_free.
 */
cc_status cc_config_load(cc_config *cfg, const char *path, char *const *envp, int argc, char **argv,
                         cc_error *err);

/* Sets one key by its dotted name from a string value, as every layer does. */
cc_status cc_config_set(cc_config *cfg, const char *key, const char *value, cc_error *err);

/* Checks the values hang together (e.g. a devnet config.yaml needs a genesis_validators_root). */
cc_status cc_config_validate(const cc_config *cfg, cc_error *err);

/* Frees what cc_config_load allocated (path lists). */
void cc_config_free(cc_config *cfg);

/* The three layers one by one, each on top of cfg (cc_config_load calls them in order). */
cc_status cc_config_load_file(cc_config *cfg, const char *path, cc_error *err);
/* The file layer from text in memory (len bytes); name stands for the file in messages (fuzzing, tests). */
cc_status cc_config_load_yaml_string(cc_config *cfg, const char *text, size_t len, const char *name, cc_error *err);
cc_status cc_config_apply_env(cc_config *cfg, char *const *envp, cc_error *err);
cc_status cc_config_apply_flags(cc_config *cfg, int argc, char **argv, cc_error *err);

/* The value of CONTAINMENT_CONFIG in envp, or NULL. */
const char *cc_config_env_path(char *const *envp);

/*
 * Writes config.example.yaml: every key in its YAML place with its doc and
 * default.  commented != 0 comments every key out (the shipped file);
 * 0 writes every default explicitly.
 */
void cc_config_write_example(FILE *out, int commented);

#endif
