/*
 * config.c — the configuration table and its three layers.
 *
 * Every key is declared once, in cc_config_keys[] below: its dotted name,
 * its kind (string, port, bounded u32, bool, enum, list of strings), where it
 * lives in cc_config (offsetof), its default as text and a one-line doc.
 * Defaults, the YAML file, the environment, the flags and the generated
 * config.example.yaml all go through that table and the one setter, so a key
 * can never be known to one layer and unknown to another.
 *
 * Error messages name the layer and the key; a value is echoed only for
 * kinds that cannot hold a secret (ports, numbers, booleans, enums), never for
 * strings (anti_slashing.url may carry a database password).
 */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "keys/age.h"
#include "util/hex.h"

/* ---------------------------------------------------------------- the table */

typedef enum cc_config_kind {
    CC_KEY_STRING, /* char[size]; value up to size-1 bytes */
    CC_KEY_PORT,   /* uint16_t, 1-65535 */
    CC_KEY_U32,    /* uint32_t, [min, max] */
    CC_KEY_BOOL,   /* int, 0 or 1 */
    CC_KEY_ENUM,   /* char[size], one of allowed[] (stored in canonical case) */
    CC_KEY_LIST    /* char *[CC_CONFIG_MAX_PATHS] at off, size_t count at count_off */
} cc_config_kind;

typedef struct cc_config_key {
    const char *name;
    cc_config_kind kind;
    size_t off;
    size_t size;       /* STRING/ENUM: sizeof the array */
    size_t count_off;  /* LIST: offset of the count */
    uint32_t min, max; /* U32 */
    const char *const *allowed; /* ENUM: NULL-terminated */
    const char *def;
    const char *doc;
} cc_config_key;

static const char *const backend_values[] = {"sqlite", "postgres", "dynamodb", "noop", NULL};
static const char *const signer_state_values[] = {"dynamodb", NULL};
static const char *const tls_mode_values[] = {"disabled", "file", "atls", NULL};
static const char *const tee_values[] = {"none", "nitro", NULL};
static const char *const nsm_values[] = {"device", "simulated", NULL};
static const char *const log_values[] = {"debug", "info", "warn", "error", NULL};
static const char *const key_status_values[] = {"active", "all", NULL};

#define FIELD_SIZE(f) sizeof(((cc_config *)0)->f)
#define K_STR(n, f, d, doc) {n, CC_KEY_STRING, offsetof(cc_config, f), FIELD_SIZE(f), 0, 0, 0, NULL, d, doc}
#define K_PORT(n, f, d, doc) {n, CC_KEY_PORT, offsetof(cc_config, f), FIELD_SIZE(f), 0, 1, 65535, NULL, d, doc}
#define K_U32(n, f, lo, hi, d, doc) {n, CC_KEY_U32, offsetof(cc_config, f), FIELD_SIZE(f), 0, lo, hi, NULL, d, doc}
#define K_BOOL(n, f, d, doc) {n, CC_KEY_BOOL, offsetof(cc_config, f), FIELD_SIZE(f), 0, 0, 0, NULL, d, doc}
#define K_ENUM(n, f, vals, d, doc) {n, CC_KEY_ENUM, offsetof(cc_config, f), FIELD_SIZE(f), 0, 0, 0, vals, d, doc}
#define K_LIST(n, f, cnt, doc) {n, CC_KEY_LIST, offsetof(cc_config, f), FIELD_SIZE(f), offsetof(cc_config, cnt), 0, 0, NULL, "", doc}

/*
 * Keys of one section must stay together: the example generator opens a
 * section once, and a YAML file with a section twice is a duplicate key.
 */
static const cc_config_key cc_config_keys[] = {
    K_STR("server.listen_address", server_listen_address, "0.0.0.0",
          "Address the signing API (HTTP) listens on."),
    K_PORT("server.listen_port", server_listen_port, "9000",
           "Port of the signing API (Web3Signer-compatible, plain HTTP)."),
    K_STR("metrics.listen_address", metrics_listen_address, "0.0.0.0",
          "Address the Prometheus /metrics endpoint listens on."),
    K_PORT("metrics.listen_port", metrics_listen_port, "3000",
           "Port of the Prometheus /metrics endpoint."),
    K_BOOL("metrics.enabled", metrics_enabled, "true",
           "Serve /metrics at all."),
    K_STR("network", network, "mainnet",
          "mainnet, sepolia, hoodi, or the path of a consensus-spec config.yaml (devnet)."),
    K_STR("genesis_validators_root", genesis_validators_root, "",
          "0x + 64 hex. Implied by a named network; required when network is a path."),
    K_LIST("key_sources.filesystem.paths", filesystem_paths, filesystem_path_count,
           "Directories of key descriptors (file-raw / file-keystore YAML). Env and flags: comma-separated."),
    K_STR("key_sources.dynamodb.table", dynamodb_keys_table, "",
          "The DynamoDB key table (keys sealed under the chamber's master key; needs signer_state.table)."
          " Empty = no DynamoDB keys. Create it with `containment-chamber dynamodb create-tables`."),
    K_ENUM("key_sources.dynamodb.status_filter", dynamodb_keys_status_filter, key_status_values, "active",
           "Which keys of the table sign: active, or all (inactive ones too)."),
    K_U32("key_sources.dynamodb.refresh_interval_seconds", dynamodb_keys_refresh_seconds, 1, 3600, "1",
          "How often the table's generation counter is read; the keys are re-read when it moved."),
    K_U32("key_sources.dynamodb.max_concurrent_reads", dynamodb_keys_max_concurrent_reads, 1, 256, "16",
          "Index shards (Query streams) read at once when loading the keys."),
    K_ENUM("anti_slashing.backend", anti_slashing_backend, backend_values, "sqlite",
           "Where slashing protection is recorded; noop turns it off (dangerous)."),
    K_STR("anti_slashing.path", anti_slashing_path, "./slashing_protection.sqlite",
          "sqlite: the database file."),
    K_STR("anti_slashing.url", anti_slashing_url, "",
          "postgres: libpq URI or key=value string, e.g. postgresql://user:pass@db.internal:5432/slashing"
          "?sslrootcert=/etc/ssl/pg-ca.crt (required for postgres). TLS by default: without sslmode in the URL"
          " (or PGSSLMODE) it connects with sslmode=verify-full, so the server certificate must chain to"
          " sslrootcert (default ~/.postgresql/root.crt) and name the host. Tables are created if missing."),
    K_U32("anti_slashing.pool_size", anti_slashing_pool_size, 1, 1024, "8",
          "postgres: connections per signer process, each with a worker that commits up to 32 checks"
          " per transaction."),
    K_STR("anti_slashing.table", anti_slashing_table, "",
          "dynamodb: table name (required for dynamodb)."),
    K_ENUM("signer_state.backend", signer_state_backend, signer_state_values, "dynamodb",
           "Where the signer state (seal state, KMS-wrapped master-key shares) lives."),
    K_STR("signer_state.table", signer_state_table, "",
          "dynamodb: the signer state table. Empty = no chamber (no seal; signing as without one). Create it with"
          " `containment-chamber dynamodb create-tables`."),
    K_U32("signer_state.refresh_interval_seconds", signer_state_refresh_seconds, 1, 3600, "1",
          "How often every replica re-reads the signer state (follows an initialisation done elsewhere)."),
    K_U32("signer_state.unseal_timeout_minutes", signer_state_unseal_timeout_minutes, 1, 10080, "30",
          "Operator-quorum mode: operator unseal submissions are discarded when the threshold is not reached"
          " this long after the first one (unused in KMS-only mode)."),
    K_U32("signer_state.unseal_timeout_seconds", signer_state_unseal_timeout_seconds, 0, 604800, "0",
          "For tests: the same window in seconds, overriding unseal_timeout_minutes when not 0. Leave 0 in production."),
    K_U32("signer_state.rotation_test_delay_ms", signer_state_rotation_test_delay_ms, 0, 60000, "0",
          "TEST ONLY: a master-key rotation waits this long before re-sealing each key (and before promoting), so"
          " crash tests can kill it mid-way. Leave 0 in production."),
    K_BOOL("http.key_manager_api.enabled", key_manager_api_enabled, "false",
           "Serve the Key Manager API (/eth/v1/keystores)."),
    K_U32("http.key_manager_api.max_items_per_request", key_manager_api_max_items, 1, 100000, "100",
          "Most keystores one Key Manager request may import or delete."),
    K_BOOL("chamber.keys.generate.enabled", chamber_keys_generate_enabled, "false",
           "Serve POST /api/v1/chamber/keys/generate: new keys from a fresh BIP-39 mnemonic, stored sealed in"
           " key_sources.dynamodb.table. Without a backup the table is the only copy of these keys."),
    K_U32("chamber.keys.generate.max_items_per_request", chamber_keys_generate_max_items, 1, 10000, "100",
          "Most keys one generate request may derive."),
    K_BOOL("chamber.keys.generate.backup.enabled", chamber_keys_backup_enabled, "false",
           "Encrypt each generated mnemonic to the age recipients below; returned once and kept in every key's"
           " item. Requires recipients."),
    K_LIST("chamber.keys.generate.backup.recipients", chamber_keys_backup_recipients,
           chamber_keys_backup_recipient_count,
           "age X25519 recipients (age1...) that can open the mnemonic backups. Env and flags: comma-separated."),
    K_BOOL("chamber.keys.import.enabled", chamber_keys_import_enabled, "false",
           "Serve POST /api/v1/chamber/keys: import EIP-2335 keystores, sealed into the key table or memory only."),
    K_U32("chamber.keys.import.max_items_per_request", chamber_keys_import_max_items, 1, 10000, "100",
          "Most keystores one chamber import request may carry."),
    K_BOOL("chamber.keys.lifecycle.enabled", chamber_keys_lifecycle_enabled, "false",
           "Serve PATCH (activate / deactivate) and DELETE /api/v1/chamber/keys/{pubkey}."),
    K_U32("backpressure.max_concurrent", backpressure_max_concurrent, 0, 65536, "0",
          "Signing requests processed at once; 0 = number of CPU cores."),
    K_U32("backpressure.max_queue", backpressure_max_queue, 0, 1000000, "1024",
          "Signing requests that may wait for a slot; beyond that the answer is 503."),
    K_U32("backpressure.timeout_seconds", backpressure_timeout_seconds, 1, 3600, "30",
          "A request waiting longer than this is answered 503."),
    K_ENUM("tls.mode", tls_mode, tls_mode_values, "disabled",
           "HTTPS listener: file = the PEM certificate and key below; atls = attested TLS (enclave mode)."),
    K_PORT("tls.listen_port", tls_listen_port, "9443",
           "Port of the HTTPS listener when tls.mode is not disabled."),
    K_STR("tls.file.cert_path", tls_cert_path, "",
          "file: PEM certificate chain (required for tls.mode file)."),
    K_STR("tls.file.key_path", tls_key_path, "",
          "file: PEM private key (required for tls.mode file)."),
    K_U32("tls.file.reload_interval_seconds", tls_reload_interval_seconds, 0, 86400, "60",
          "file: re-read cert and key this often (certificate rotation); 0 = never."),
    K_STR("tls.file.client_ca_path", tls_client_ca_path, "",
          "file: PEM CA certificate(s); when set, HTTPS clients must present a certificate chaining to it."),
    K_STR("aws.region", aws_region, "",
          "AWS region for DynamoDB, KMS and STS; empty = AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1."),
    K_STR("aws.endpoint_urls.dynamodb", aws_endpoint_dynamodb, "",
          "DynamoDB endpoint override (e.g. http://127.0.0.1:8000); empty = https://dynamodb.<region>.amazonaws.com."),
    K_STR("aws.endpoint_urls.kms", aws_endpoint_kms, "",
          "KMS endpoint override (e.g. kms-local); empty = https://kms.<region>.amazonaws.com."),
    K_STR("aws.endpoint_urls.sts", aws_endpoint_sts, "",
          "STS endpoint for web identity (IRSA); empty = AWS_ENDPOINT_URL_STS, else https://sts.<region>.amazonaws.com."),
    K_ENUM("tee.platform", tee_platform, tee_values, "none",
           "nitro = run inside an AWS Nitro Enclave (vsock, /dev/nsm, aTLS)."),
    /* Nitro runtime (issue 8; docs/enclave.md) */
    K_ENUM("tee.nsm", tee_nsm, nsm_values, "device",
           "nitro: the NSM. simulated is for tests only (a test certificate chain, PCRs from below) and is refused"
           " unless the environment has CC_TEST_ALLOW_NSM_SIMULATOR=1."),
    K_STR("tee.nsm_device_path", tee_nsm_device_path, "/dev/nsm",
          "nitro, tee.nsm device: the NSM device file."),
    K_STR("tee.nsm_simulator.state_dir", tee_nsm_sim_state_dir, "",
          "Tests only (tee.nsm simulated): directory of the simulator's chain (root.pem is its root; made if missing)."),
    K_LIST("tee.nsm_simulator.pcrs", tee_nsm_sim_pcrs, tee_nsm_sim_pcr_count,
           "Tests only (tee.nsm simulated): PCRs the simulator reports, as N=HEX (N 0..15, 96 hex digits)."),
    K_STR("tee.auto_unseal.kms_key_arn", tee_auto_unseal_kms_key_arn, "",
          "nitro: KMS key (full ARN) wrapping the master key for unattended enclave restarts; its policy must require"
          " the enclave's PCRs. Empty = off. Puts the whole master key behind this one key (docs/enclave.md)."),
    K_U32("tee.atls.renew_interval_seconds", tee_atls_renew_seconds, 10, 86400, "1800",
          "nitro, tls.mode atls: a fresh key, document and certificate this often (and before the document's"
          " certificate expires)."),
    K_LIST("tee.relays", tee_relays, tee_relay_count,
           "nitro: byte relays inside the enclave, each \"NAME LISTEN CONNECT\" with tcp:HOST:PORT / vsock:CID:PORT"
           " addresses, e.g. \"api vsock:-1:9000 tcp:127.0.0.1:9000\" (the API over vsock) and"
           " \"kms tcp:127.0.0.1:443 vsock:3:8000\" (KMS through the parent; map the AWS host name to 127.0.0.1)."),
    K_ENUM("log.level", log_level, log_values, "info",
           "Lowest log level written (JSON lines on stderr)."),
};

#define NKEYS (sizeof cc_config_keys / sizeof cc_config_keys[0])

/* A comment written above a section header in config.example.yaml. */
static const struct {
    const char *name, *doc;
} cc_config_sections[] = {
    {"server", "Web3Signer-compatible signing API."},
    {"metrics", "Prometheus metrics."},
    {"key_sources", "Where validator keys come from (sources add up)."},
    {"anti_slashing", "EIP-3076 slashing protection, checked and recorded before every block or attestation signature."},
    {"signer_state", "The chamber: seal state and the master key's KMS-wrapped Shamir shares, shared by every replica."},
    {"chamber", "The Chamber API's key management (/api/v1/chamber/keys); every verb is off by default."},
    {"http", "Optional HTTP APIs."},
    {"backpressure", "Bounded signing concurrency and queue; excess requests get 503 fast."},
    {"tls", "HTTPS listener, in addition to the plain HTTP one."},
    {"aws", "AWS access (DynamoDB, KMS, STS). Credentials come from the standard chain: environment, profile files, web identity (IRSA), container (ECS / EKS Pod Identity), IMDSv2."},
    {"tee", "Trusted execution environment."},
    {"log", "Logging."},
};

/* ---------------------------------------------------------------- lookup */

static const cc_config_key *key_find(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(cc_config_keys[i].name, name) == 0)
            return &cc_config_keys[i];
    return NULL;
}

/* True if name is a strict prefix section of some key ("tls", "tls.file"). */
static int is_section(const char *name)
{
    size_t n = strlen(name);
    if (n == 0)
        return 0;
    for (size_t i = 0; i < NKEYS; i++)
        if (strncmp(cc_config_keys[i].name, name, n) == 0 && cc_config_keys[i].name[n] == '.')
            return 1;
    return 0;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return (size_t)-1;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* "unknown key 'x'" plus a suggestion when a key is a couple of typos away. */
static cc_status unknown_key(const char *name, cc_error *err)
{
    if (is_section(name)) {
        size_t n = strlen(name);
        const char *example = "";
        for (size_t i = 0; i < NKEYS && !*example; i++)
            if (strncmp(cc_config_keys[i].name, name, n) == 0)
                example = cc_config_keys[i].name;
        return cc_error_set(err, CC_ECONFIG, "'%.200s' is a section, not a key (set e.g. '%s')", name, example);
    }
    const char *best = NULL;
    size_t best_d = 3, len = strlen(name);
    for (size_t i = 0; i < NKEYS; i++) {
        /* The distance is at least the difference in length: most keys are skipped unscored. */
        size_t klen = strlen(cc_config_keys[i].name);
        if ((len > klen ? len - klen : klen - len) >= best_d)
            continue;
        size_t d = edit_distance(name, cc_config_keys[i].name);
        if (d < best_d) {
            best_d = d;
            best = cc_config_keys[i].name;
        }
    }
    if (best)
        return cc_error_set(err, CC_ECONFIG, "unknown key '%.200s' (did you mean '%s'?)", name, best);
    return cc_error_set(err, CC_ECONFIG, "unknown key '%.200s'", name);
}

/* ---------------------------------------------------------------- setters */

static cc_status parse_u32_range(const char *value, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v;
    if (cc_parse_u64(value, &v, NULL) != CC_OK || v < min || v > max)
        return CC_ECONFIG;
    *out = (uint32_t)v;
    return CC_OK;
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"true", "yes", "1", "on"};
    static const char *const no[] = {"false", "no", "0", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

static void list_clear(cc_config *cfg, const cc_config_key *k)
{
    char **items = (char **)((char *)cfg + k->off);
    size_t *count = (size_t *)((char *)cfg + k->count_off);
    for (size_t i = 0; i < *count; i++) {
        free(items[i]);
        items[i] = NULL;
    }
    *count = 0;
}

#define CC_CONFIG_ITEM_MAX 4095

/*
 * Replaces the list with copies of items[0..n): a later layer that sets a list
 * replaces what an earlier one set.  On error the old list is kept.  Messages
 * carry no key name (the caller adds it).
 */
static cc_status list_set(cc_config *cfg, const cc_config_key *k, const char *const *items, size_t n,
                          cc_error *err)
{
    size_t cap = k->size / sizeof(char *);
    if (n > cap)
        return cc_error_set(err, CC_ECONFIG, "%zu entries, at most %zu allowed", n, cap);
    char *copies[CC_CONFIG_MAX_PATHS];
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(items[i]);
        cc_status st = CC_OK;
        if (len == 0)
            st = cc_error_set(err, CC_ECONFIG, "entry %zu is empty", i + 1);
        else if (len > CC_CONFIG_ITEM_MAX)
            st = cc_error_set(err, CC_ECONFIG, "entry %zu is too long (at most %d bytes)", i + 1,
                              CC_CONFIG_ITEM_MAX);
        else if (!(copies[i] = strdup(items[i])))
            st = cc_error_set(err, CC_ENOMEM, "out of memory");
        if (st != CC_OK) {
            for (size_t j = 0; j < i; j++)
                free(copies[j]);
            return st;
        }
    }
    list_clear(cfg, k);
    char **dst = (char **)((char *)cfg + k->off);
    for (size_t i = 0; i < n; i++)
        dst[i] = copies[i];
    *(size_t *)((char *)cfg + k->count_off) = n;
    return CC_OK;
}

/* Comma-separated list (environment, flags, a YAML scalar); "" is the empty list. */
static cc_status list_set_csv(cc_config *cfg, const cc_config_key *k, const char *value, cc_error *err)
{
    size_t cap = k->size / sizeof(char *);
    char *buf = strdup(value);
    if (!buf)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    const char *items[CC_CONFIG_MAX_PATHS];
    size_t n = 0;
    cc_status st = CC_OK;
    if (*buf) {
        char *p = buf;
        for (;;) {
            char *comma = strchr(p, ',');
            if (comma)
                *comma = '\0';
            while (isspace((unsigned char)*p))
                p++;
            char *end = p + strlen(p);
            while (end > p && isspace((unsigned char)end[-1]))
                *--end = '\0';
            if (n == cap) {
                st = cc_error_set(err, CC_ECONFIG, "more than %zu entries", cap);
                break;
            }
            items[n++] = p;
            if (!comma)
                break;
            p = comma + 1;
        }
    }
    if (st == CC_OK)
        st = list_set(cfg, k, items, n, err);
    free(buf);
    return st;
}

/* Sets one key; the message on failure does not name the key (callers prefix it). */
static cc_status key_set(cc_config *cfg, const cc_config_key *k, const char *value, cc_error *err)
{
    char *field = (char *)cfg + k->off;
    switch (k->kind) {
    case CC_KEY_STRING: {
        size_t len = strlen(value);
        if (len >= k->size)
            return cc_error_set(err, CC_ECONFIG, "value is too long (%zu bytes, at most %zu)", len,
                                k->size - 1);
        memcpy(field, value, len + 1);
        return CC_OK;
    }
    case CC_KEY_PORT: {
        uint32_t v;
        if (parse_u32_range(value, 1, 65535, &v) != CC_OK)
            return cc_error_set(err, CC_ECONFIG, "\"%.64s\" is not a port (1-65535)", value);
        *(uint16_t *)field = (uint16_t)v;
        return CC_OK;
    }
    case CC_KEY_U32: {
        uint32_t v;
        if (parse_u32_range(value, k->min, k->max, &v) != CC_OK)
            return cc_error_set(err, CC_ECONFIG, "\"%.64s\" is not a whole number in %u-%u", value,
                                (unsigned)k->min, (unsigned)k->max);
        *(uint32_t *)field = v;
        return CC_OK;
    }
    case CC_KEY_BOOL: {
        int b;
        if (parse_bool(value, &b) != 0)
            return cc_error_set(err, CC_ECONFIG,
                                "\"%.64s\" is not a boolean (true/false, yes/no, on/off, 1/0)", value);
        *(int *)field = b;
        return CC_OK;
    }
    case CC_KEY_ENUM: {
        for (size_t i = 0; k->allowed[i]; i++)
            if (strcasecmp(value, k->allowed[i]) == 0) {
                snprintf(field, k->size, "%s", k->allowed[i]);
                return CC_OK;
            }
        char allowed[256] = "";
        for (size_t i = 0; k->allowed[i]; i++) {
            size_t used = strlen(allowed);
            snprintf(allowed + used, sizeof allowed - used, "%s%s", i ? ", " : "", k->allowed[i]);
        }
        return cc_error_set(err, CC_ECONFIG, "\"%.64s\" is not one of: %s", value, allowed);
    }
    case CC_KEY_LIST:
        return list_set_csv(cfg, k, value, err);
    }
    return cc_error_set(err, CC_EINTERNAL, "bad key kind");
}

cc_status cc_config_set(cc_config *cfg, const char *key, const char *value, cc_error *err)
{
    const cc_config_key *k = key_find(key);
    if (!k)
        return unknown_key(key, err);
    cc_status st = key_set(cfg, k, value, err);
    if (st != CC_OK)
        cc_error_prefix(err, "%s", k->name);
    return st;
}

void cc_config_defaults(cc_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NKEYS; i++) {
        cc_status st = key_set(cfg, &cc_config_keys[i], cc_config_keys[i].def, NULL);
        (void)st; /* defaults are tested to parse (test_config: defaults) */
    }
}

void cc_config_free(cc_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < NKEYS; i++)
        if (cc_config_keys[i].kind == CC_KEY_LIST)
            list_clear(cfg, &cc_config_keys[i]);
}

/* ---------------------------------------------------------------- YAML layer */

#define CC_CONFIG_FILE_MAX (1 << 20)

typedef struct yaml_reader {
    yaml_parser_t parser;
    cc_config *cfg;
    const char *path;
    cc_error *err;
    char **seen; /* every dotted name met so far, for duplicate detection */
    size_t nseen, capseen;
} yaml_reader;

static cc_status yr_fail(yaml_reader *yr, const yaml_mark_t *mark, cc_status code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static cc_status yr_fail(yaml_reader *yr, const yaml_mark_t *mark, cc_status code, const char *fmt, ...)
{
    char msg[CC_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (mark)
        return cc_error_set(yr->err, code, "%s: %s (line %zu)", yr->path, msg, mark->line + 1);
    return cc_error_set(yr->err, code, "%s: %s", yr->path, msg);
}

static cc_status yr_next(yaml_reader *yr, yaml_event_t *ev)
{
    if (yaml_parser_parse(&yr->parser, ev))
        return CC_OK;
    const char *problem = yr->parser.problem ? yr->parser.problem : "malformed YAML";
    return cc_error_set(yr->err, CC_ECONFIG, "%s: YAML syntax error: %s (line %zu, column %zu)", yr->path,
                        problem, yr->parser.problem_mark.line + 1, yr->parser.problem_mark.column + 1);
}

/* A plain empty scalar, "~" or "null": YAML's way of writing "nothing here". */
static int scalar_is_null(const yaml_event_t *ev)
{
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *v = (const char *)ev->data.scalar.value;
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

static int scalar_has_nul(const yaml_event_t *ev)
{
    return strlen((const char *)ev->data.scalar.value) != ev->data.scalar.length;
}

static cc_status yr_mark_seen(yaml_reader *yr, const char *name, const yaml_mark_t *mark)
{
    for (size_t i = 0; i < yr->nseen; i++)
        if (strcmp(yr->seen[i], name) == 0)
            return yr_fail(yr, mark, CC_ECONFIG, "duplicate key '%.200s'", name);
    if (yr->nseen == yr->capseen) {
        size_t cap = yr->capseen ? yr->capseen * 2 : 32;
        char **s = realloc(yr->seen, cap * sizeof *s);
        if (!s)
            return cc_error_set(yr->err, CC_ENOMEM, "out of memory");
        yr->seen = s;
        yr->capseen = cap;
    }
    if (!(yr->seen[yr->nseen] = strdup(name)))
        return cc_error_set(yr->err, CC_ENOMEM, "out of memory");
    yr->nseen++;
    return CC_OK;
}

static const char *event_what(yaml_event_type_t t)
{
    switch (t) {
    case YAML_SCALAR_EVENT:         return "a single value";
    case YAML_SEQUENCE_START_EVENT: return "a list";
    case YAML_MAPPING_START_EVENT:  return "a mapping";
    case YAML_ALIAS_EVENT:          return "an alias (*name)";
    default:                        return "something else";
    }
}

/* Reads the items of a sequence (after its start event) into a list key. */
static cc_status yr_sequence(yaml_reader *yr, const cc_config_key *k, const yaml_mark_t *mark)
{
    char *items[CC_CONFIG_MAX_PATHS + 1];
    size_t n = 0;
    cc_status st = CC_OK;
    for (;;) {
        yaml_event_t ev;
        if ((st = yr_next(yr, &ev)) != CC_OK)
            break;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (ev.type != YAML_SCALAR_EVENT) {
            st = yr_fail(yr, &ev.start_mark, CC_ECONFIG, "%s: list entries must be single values, found %s",
                         k->name, event_what(ev.type));
        } else if (scalar_has_nul(&ev)) {
            st = yr_fail(yr, &ev.start_mark, CC_ECONFIG, "%s: entry %zu contains a NUL byte", k->name, n + 1);
        } else if (n == CC_CONFIG_MAX_PATHS) {
            st = yr_fail(yr, &ev.start_mark, CC_ECONFIG, "%s: more than %d entries", k->name,
                         CC_CONFIG_MAX_PATHS);
        } else if (!(items[n] = strdup((const char *)ev.data.scalar.value))) {
            st = cc_error_set(yr->err, CC_ENOMEM, "out of memory");
        } else {
            n++;
        }
        yaml_event_delete(&ev);
        if (st != CC_OK)
            break;
    }
    if (st == CC_OK) {
        cc_error e;
        if (list_set(yr->cfg, k, (const char *const *)items, n, &e) != CC_OK)
            st = yr_fail(yr, mark, e.code, "%s: %s", k->name, e.msg);
    }
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    return st;
}

static cc_status yr_mapping(yaml_reader *yr, const char *prefix);

/* Handles the value event of key `name` (already checked for duplicates). */
static cc_status yr_value(yaml_reader *yr, const char *name, yaml_event_t *ev)
{
    const cc_config_key *k = key_find(name);
    if (k) {
        if (ev->type == YAML_SCALAR_EVENT) {
            if (scalar_has_nul(ev))
                return yr_fail(yr, &ev->start_mark, CC_ECONFIG, "%s: value contains a NUL byte", name);
            const char *v = (const char *)ev->data.scalar.value;
            if (scalar_is_null(ev)) {
                if (k->kind != CC_KEY_STRING && k->kind != CC_KEY_LIST)
                    return yr_fail(yr, &ev->start_mark, CC_ECONFIG, "%s: needs a value", name);
                v = "";
            }
            cc_error e;
            if (key_set(yr->cfg, k, v, &e) != CC_OK)
                return yr_fail(yr, &ev->start_mark, e.code, "%s: %s", name, e.msg);
            return CC_OK;
        }
        if (ev->type == YAML_SEQUENCE_START_EVENT && k->kind == CC_KEY_LIST)
            return yr_sequence(yr, k, &ev->start_mark);
        return yr_fail(yr, &ev->start_mark, CC_ECONFIG, "%s: expected %s, found %s", name,
                       k->kind == CC_KEY_LIST ? "a list" : "a single value", event_what(ev->type));
    }
    if (is_section(name)) {
        if (ev->type == YAML_MAPPING_START_EVENT)
            return yr_mapping(yr, name);
        if (ev->type == YAML_SCALAR_EVENT && scalar_is_null(ev))
            return CC_OK; /* "server:" with every key below commented out */
        return yr_fail(yr, &ev->start_mark, CC_ECONFIG, "%s: is a section and expects a mapping of keys, found %s",
                       name, event_what(ev->type));
    }
    cc_error e;
    unknown_key(name, &e);
    return yr_fail(yr, &ev->start_mark, CC_ECONFIG, "%s", e.msg);
}

/* Reads key/value pairs after a mapping start, flattening keys under prefix. */
static cc_status yr_mapping(yaml_reader *yr, const char *prefix)
{
    for (;;) {
        yaml_event_t key;
        cc_status st = yr_next(yr, &key);
        if (st != CC_OK)
            return st;
        if (key.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&key);
            return CC_OK;
        }
        if (key.type != YAML_SCALAR_EVENT || scalar_has_nul(&key)) {
            st = yr_fail(yr, &key.start_mark, CC_ECONFIG, "%s%skeys must be plain names, found %s",
                         prefix, *prefix ? ": " : "", event_what(key.type));
            yaml_event_delete(&key);
            return st;
        }
        char name[512];
        int n = snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", (const char *)key.data.scalar.value);
        yaml_mark_t mark = key.start_mark;
        yaml_event_delete(&key);
        if (n < 0 || (size_t)n >= sizeof name)
            return yr_fail(yr, &mark, CC_ECONFIG, "unknown key '%.200s...'", name);
        if ((st = yr_mark_seen(yr, name, &mark)) != CC_OK)
            return st;
        yaml_event_t val;
        if ((st = yr_next(yr, &val)) != CC_OK)
            return st;
        st = yr_value(yr, name, &val);
        yaml_event_delete(&val);
        if (st != CC_OK)
            return st;
    }
}

static cc_status yr_stream(yaml_reader *yr)
{
    yaml_event_t ev;
    cc_status st = yr_next(yr, &ev); /* STREAM-START */
    if (st != CC_OK)
        return st;
    yaml_event_delete(&ev);
    if ((st = yr_next(yr, &ev)) != CC_OK)
        return st;
    if (ev.type == YAML_STREAM_END_EVENT) { /* empty, or only comments */
        yaml_event_delete(&ev);
        return CC_OK;
    }
    yaml_event_delete(&ev); /* DOCUMENT-START */
    if ((st = yr_next(yr, &ev)) != CC_OK)
        return st;
    if (ev.type == YAML_MAPPING_START_EVENT)
        st = yr_mapping(yr, "");
    else if (!(ev.type == YAML_SCALAR_EVENT && scalar_is_null(&ev)))
        st = yr_fail(yr, &ev.start_mark, CC_ECONFIG, "the top level must be a mapping of keys, found %s",
                     event_what(ev.type));
    yaml_event_delete(&ev);
    if (st != CC_OK)
        return st;
    if ((st = yr_next(yr, &ev)) != CC_OK) /* DOCUMENT-END */
        return st;
    yaml_event_delete(&ev);
    if ((st = yr_next(yr, &ev)) != CC_OK)
        return st;
    if (ev.type != YAML_STREAM_END_EVENT)
        st = yr_fail(yr, &ev.start_mark, CC_ECONFIG, "more than one YAML document");
    yaml_event_delete(&ev);
    return st;
}

static cc_status read_file(const char *path, char **out, size_t *out_len, cc_error *err)
{
    *out = NULL;
    *out_len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cc_error_set(err, CC_ECONFIG, "%s: cannot open the configuration file: %s", path, strerror(errno));
    size_t cap = 0, len = 0;
    char *buf = NULL;
    cc_status st = CC_OK;
    for (;;) {
        if (len == cap) {
            if (cap >= CC_CONFIG_FILE_MAX) {
                st = cc_error_set(err, CC_ECONFIG, "%s: the configuration file is larger than %d bytes", path,
                                  CC_CONFIG_FILE_MAX);
                break;
            }
            size_t ncap = cap ? cap * 2 : 4096;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                st = cc_error_set(err, CC_ENOMEM, "out of memory");
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                st = cc_error_set(err, CC_ECONFIG, "%s: cannot read the configuration file: %s", path,
                                  strerror(errno ? errno : EIO));
            break;
        }
    }
    fclose(f);
    if (st != CC_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    *out_len = len;
    return CC_OK;
}

/* Applies YAML text (len bytes; name stands for the file in messages) on top of cfg. */
cc_status cc_config_load_yaml_string(cc_config *cfg, const char *text, size_t len, const char *name, cc_error *err)
{
    yaml_reader yr = {.cfg = cfg, .path = name, .err = err};
    if (!yaml_parser_initialize(&yr.parser))
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    yaml_parser_set_input_string(&yr.parser, (const unsigned char *)text, len);
    cc_status st = yr_stream(&yr);
    yaml_parser_delete(&yr.parser);
    for (size_t i = 0; i < yr.nseen; i++)
        free(yr.seen[i]);
    free(yr.seen);
    return st;
}

/* Applies a YAML file on top of cfg. */
cc_status cc_config_load_file(cc_config *cfg, const char *path, cc_error *err)
{
    char *text;
    size_t len;
    cc_status st = read_file(path, &text, &len, err);
    if (st != CC_OK)
        return st;
    st = cc_config_load_yaml_string(cfg, text, len, path, err);
    free(text);
    return st;
}

/* ---------------------------------------------------------------- environment */

#define ENV_PREFIX "CONTAINMENT_"
#define ENV_PREFIX_LEN (sizeof ENV_PREFIX - 1)
#define ENV_CONFIG "CONTAINMENT_CONFIG"

const char *cc_config_env_path(char *const *envp)
{
    for (char *const *e = envp; e && *e; e++)
        if (strncmp(*e, ENV_CONFIG "=", sizeof ENV_CONFIG) == 0)
            return *e + sizeof ENV_CONFIG;
    return NULL;
}

/* CONTAINMENT_ANTI_SLASHING__BACKEND → anti_slashing.backend; 0 if it does not fit. */
static int env_to_key(const char *var, size_t var_len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = ENV_PREFIX_LEN; i < var_len; i++) {
        char c;
        if (var[i] == '_' && i + 1 < var_len && var[i + 1] == '_') {
            c = '.';
            i++;
        } else {
            c = (char)tolower((unsigned char)var[i]);
        }
        if (o + 1 >= cap)
            return 0;
        out[o++] = c;
    }
    out[o] = '\0';
    return 1;
}

cc_status cc_config_apply_env(cc_config *cfg, char *const *envp, cc_error *err)
{
    for (char *const *e = envp; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || strncasecmp(*e, ENV_PREFIX, ENV_PREFIX_LEN) != 0)
            continue;
        size_t var_len = (size_t)(eq - *e);
        int var_shown = var_len > 200 ? 200 : (int)var_len;
        if (var_len == sizeof ENV_CONFIG - 1 && strncasecmp(*e, ENV_CONFIG, var_len) == 0)
            continue;
        char key[256];
        cc_error e2;
        const cc_config_key *k = NULL;
        if (env_to_key(*e, var_len, key, sizeof key))
            k = key_find(key);
        if (!k) {
            unknown_key(key, &e2);
            return cc_error_set(err, CC_ECONFIG, "environment %.*s: %s", var_shown, *e, e2.msg);
        }
        if (key_set(cfg, k, eq + 1, &e2) != CC_OK)
            return cc_error_set(err, e2.code, "environment %.*s: %s: %s", var_shown, *e, k->name, e2.msg);
    }
    return CC_OK;
}

/* ---------------------------------------------------------------- flags */

cc_status cc_config_apply_flags(cc_config *cfg, int argc, char **argv, cc_error *err)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0' || arg[2] == '=')
            return cc_error_set(err, CC_ECONFIG, "flag '%.200s': expected --key=value or --key value", arg);
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        int shown = name_len > 200 ? 200 : (int)name_len;
        char key[256];
        if (name_len - 2 >= sizeof key)
            return cc_error_set(err, CC_ECONFIG, "flag %.*s: unknown key", shown, arg);
        for (size_t j = 2; j < name_len; j++)
            key[j - 2] = arg[j] == '-' ? '_' : arg[j];
        key[name_len - 2] = '\0';
        const cc_config_key *k = key_find(key);
        cc_error e2;
        if (!k) {
            unknown_key(key, &e2);
            return cc_error_set(err, CC_ECONFIG, "flag %.*s: %s", shown, arg, e2.msg);
        }
        const char *value;
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
            value = argv[++i];
        } else if (k->kind == CC_KEY_BOOL) {
            value = "true"; /* a bare --metrics.enabled */
        } else {
            return cc_error_set(err, CC_ECONFIG, "flag %.*s: needs a value", shown, arg);
        }
        if (key_set(cfg, k, value, &e2) != CC_OK)
            return cc_error_set(err, e2.code, "flag %.*s: %s", shown, arg, e2.msg);
    }
    return CC_OK;
}

/* ---------------------------------------------------------------- load + validate */

cc_status cc_config_load(cc_config *cfg, const char *path, char *const *envp, int argc, char **argv,
                         cc_error *err)
{
    cc_config_defaults(cfg);
    if (!path) {
        path = cc_config_env_path(envp);
        if (path && !*path)
            path = NULL;
    }
    cc_status st = CC_OK;
    if (path)
        st = cc_config_load_file(cfg, path, err);
    if (st == CC_OK)
        st = cc_config_apply_env(cfg, envp, err);
    if (st == CC_OK)
        st = cc_config_apply_flags(cfg, argc, argv, err);
    if (st == CC_OK)
        st = cc_config_validate(cfg, err);
    if (st != CC_OK)
        cc_config_free(cfg);
    return st;
}

static int network_is_path(const char *n)
{
    size_t len = strlen(n);
    if (strchr(n, '/'))
        return 1;
    return (len >= 5 && strcmp(n + len - 5, ".yaml") == 0) || (len >= 4 && strcmp(n + len - 4, ".yml") == 0);
}

static int is_root_hex(const char *s)
{
    if (strncmp(s, "0x", 2) != 0 || strlen(s) != 66)
        return 0;
    for (size_t i = 2; i < 66; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

cc_status cc_config_validate(const cc_config *cfg, cc_error *err)
{
    if (!cfg->network[0])
        return cc_error_set(err, CC_ECONFIG, "network: must not be empty (mainnet, sepolia, hoodi or a path)");
    if (cfg->genesis_validators_root[0] && !is_root_hex(cfg->genesis_validators_root))
        return cc_error_set(err, CC_ECONFIG, "genesis_validators_root: \"%.80s\" is not 0x + 64 hex digits",
                            cfg->genesis_validators_root);
    if (network_is_path(cfg->network) && !cfg->genesis_validators_root[0])
        return cc_error_set(err, CC_ECONFIG,
                            "genesis_validators_root: required when network is a file path (%.200s)",
                            cfg->network);
    if (!cfg->server_listen_address[0])
        return cc_error_set(err, CC_ECONFIG, "server.listen_address: must not be empty");
    if (cfg->metrics_enabled && !cfg->metrics_listen_address[0])
        return cc_error_set(err, CC_ECONFIG, "metrics.listen_address: must not be empty");

    const char *b = cfg->anti_slashing_backend;
    if (strcmp(b, "sqlite") == 0 && !cfg->anti_slashing_path[0])
        return cc_error_set(err, CC_ECONFIG, "anti_slashing.path: required when anti_slashing.backend is sqlite");
    if (strcmp(b, "postgres") == 0 && !cfg->anti_slashing_url[0])
        return cc_error_set(err, CC_ECONFIG, "anti_slashing.url: required when anti_slashing.backend is postgres");
    if (strcmp(b, "dynamodb") == 0 && !cfg->anti_slashing_table[0])
        return cc_error_set(err, CC_ECONFIG, "anti_slashing.table: required when anti_slashing.backend is dynamodb");

    if (cfg->dynamodb_keys_table[0] && !cfg->signer_state_table[0])
        return cc_error_set(err, CC_ECONFIG,
                            "key_sources.dynamodb.table: needs signer_state.table (the keys are sealed under the "
                            "chamber's master key)");

    if (cfg->chamber_keys_backup_enabled && cfg->chamber_keys_backup_recipient_count == 0)
        return cc_error_set(err, CC_ECONFIG,
                            "chamber.keys.generate.backup.recipients: required (at least one age1... recipient) "
                            "when chamber.keys.generate.backup.enabled is true");
    for (size_t i = 0; i < cfg->chamber_keys_backup_recipient_count; i++) {
        uint8_t pk[32];
        cc_error e;
        if (cc_age_parse_recipient(cfg->chamber_keys_backup_recipients[i], pk, &e) != CC_OK)
            return cc_error_set(err, CC_ECONFIG, "chamber.keys.generate.backup.recipients[%zu]: %s", i, e.msg);
    }

    /* Nitro runtime (issue 8) */
    int nitro = strcmp(cfg->tee_platform, "nitro") == 0;
    if (strcmp(cfg->tls_mode, "atls") == 0 && !nitro)
        return cc_error_set(err, CC_ECONFIG, "tls.mode: atls needs tee.platform nitro (an attestation document)");
    if (nitro && strcmp(cfg->tls_mode, "atls") != 0)
        return cc_error_set(err, CC_ECONFIG, "tls.mode: must be atls when tee.platform is nitro (aTLS is mandatory in "
                                             "enclave mode)");
    if (cfg->tee_auto_unseal_kms_key_arn[0] && !nitro)
        return cc_error_set(err, CC_ECONFIG, "tee.auto_unseal.kms_key_arn: needs tee.platform nitro");
    if (cfg->tee_auto_unseal_kms_key_arn[0] && !cfg->signer_state_table[0])
        return cc_error_set(err, CC_ECONFIG, "tee.auto_unseal.kms_key_arn: needs signer_state.table");
    if (cfg->tee_relay_count && !nitro)
        return cc_error_set(err, CC_ECONFIG, "tee.relays: needs tee.platform nitro");
    if (nitro && strcmp(cfg->tee_nsm, "simulated") == 0 && !cfg->tee_nsm_sim_state_dir[0])
        return cc_error_set(err, CC_ECONFIG, "tee.nsm_simulator.state_dir: required when tee.nsm is simulated");

    int tls_on = strcmp(cfg->tls_mode, "disabled") != 0;
    if (strcmp(cfg->tls_mode, "file") == 0) {
        if (!cfg->tls_cert_path[0])
            return cc_error_set(err, CC_ECONFIG, "tls.file.cert_path: required when tls.mode is file");
        if (!cfg->tls_key_path[0])
            return cc_error_set(err, CC_ECONFIG, "tls.file.key_path: required when tls.mode is file");
    }
    if (cfg->metrics_enabled && cfg->metrics_listen_port == cfg->server_listen_port)
        return cc_error_set(err, CC_ECONFIG, "metrics.listen_port: %u is also server.listen_port",
                            (unsigned)cfg->metrics_listen_port);
    if (tls_on && cfg->tls_listen_port == cfg->server_listen_port)
        return cc_error_set(err, CC_ECONFIG, "tls.listen_port: %u is also server.listen_port",
                            (unsigned)cfg->tls_listen_port);
    if (tls_on && cfg->metrics_enabled && cfg->tls_listen_port == cfg->metrics_listen_port)
        return cc_error_set(err, CC_ECONFIG, "tls.listen_port: %u is also metrics.listen_port",
                            (unsigned)cfg->tls_listen_port);
    return CC_OK;
}

/* ---------------------------------------------------------------- example */

static int plain_safe(const char *s)
{
    if (!*s)
        return 0;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._/-", *p))
            return 0;
    return 1;
}

static void write_scalar(FILE *out, const char *s)
{
    if (plain_safe(s)) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fputc('\\', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

static const char *section_doc(const char *name)
{
    for (size_t i = 0; i < sizeof cc_config_sections / sizeof cc_config_sections[0]; i++)
        if (strcmp(cc_config_sections[i].name, name) == 0)
            return cc_config_sections[i].doc;
    return NULL;
}

/* Splits "a.b.c" into parts (pointers into buf); returns the count. */
static size_t split_dots(const char *name, char *buf, size_t cap, char **parts, size_t max)
{
    snprintf(buf, cap, "%s", name);
    size_t n = 0;
    for (char *p = buf; n < max;) {
        parts[n++] = p;
        char *dot = strchr(p, '.');
        if (!dot)
            break;
        *dot = '\0';
        p = dot + 1;
    }
    return n;
}

void cc_config_write_example(FILE *out, int commented)
{
    fputs("# config.example.yaml — every key of containment-chamber, with its default.\n"
          "#\n"
          "# Generated from the key table in src/config/config.c (tests/config checks that\n"
          "# this file matches it); regenerate with CC_WRITE_EXAMPLE=1 build/tests/config/test_config.\n"
          "#\n"
          "# Layers, later wins: this file (-c FILE, or the file named by the environment\n"
          "# variable CONTAINMENT_CONFIG when -c is not given), then the environment, then flags.\n"
          "#   environment:  CONTAINMENT_ + the key in upper or lower case, '__' between levels:\n"
          "#                 CONTAINMENT_ANTI_SLASHING__BACKEND=postgres\n"
          "#                 Any other CONTAINMENT_* variable is an error (a typo never goes unnoticed).\n"
          "#   flags:        --anti_slashing.backend=postgres  or  --anti-slashing.backend postgres\n"
          "# Lists (key_sources.filesystem.paths) are comma-separated in the environment and flags;\n"
          "# a later layer replaces the list, it does not add to it.\n"
          "# Booleans: true/false, yes/no, on/off, 1/0.  Unknown keys and bad values stop start-up.\n",
          out);
    char prev_buf[256] = "";
    char *prev[8];
    size_t nprev = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        const cc_config_key *k = &cc_config_keys[i];
        char buf[256];
        char *parts[8];
        size_t n = split_dots(k->name, buf, sizeof buf, parts, 8);
        size_t common = 0;
        while (common < n - 1 && common + 1 < nprev && strcmp(parts[common], prev[common]) == 0)
            common++;
        if (common == 0)
            fputc('\n', out);
        char path[256] = "";
        for (size_t d = 0; d < n - 1; d++) {
            size_t used = strlen(path);
            snprintf(path + used, sizeof path - used, "%s%s", d ? "." : "", parts[d]);
            if (d < common)
                continue;
            const char *sd = section_doc(path);
            if (sd)
                fprintf(out, "%*s# %s\n", (int)(2 * d), "", sd);
            fprintf(out, "%*s%s:\n", (int)(2 * d), "", parts[d]);
        }
        int ind = (int)(2 * (n - 1));
        fprintf(out, "%*s# %s", ind, "", k->doc);
        if (k->kind == CC_KEY_ENUM) {
            fputs(" One of:", out);
            for (size_t j = 0; k->allowed[j]; j++)
                fprintf(out, "%s %s", j ? "," : "", k->allowed[j]);
            fputc('.', out);
        } else if (k->kind == CC_KEY_U32) {
            fprintf(out, " Range %u-%u.", (unsigned)k->min, (unsigned)k->max);
        }
        fputc('\n', out);
        fprintf(out, "%*s%s%s: ", ind, "", commented ? "# " : "", parts[n - 1]);
        if (k->kind == CC_KEY_LIST)
            fputs("[]", out);
        else
            write_scalar(out, k->def);
        fputc('\n', out);
        snprintf(prev_buf, sizeof prev_buf, "%s", k->name);
        nprev = split_dots(k->name, prev_buf, sizeof prev_buf, prev, 8);
    }
}
