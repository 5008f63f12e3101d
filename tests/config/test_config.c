/*
 * Tests for config: defaults, the YAML / environment / flag layers and their
 * order, messages that name the key and the layer, validation rules, and
 * config.example.yaml, which must be exactly what the key table generates.
 *
 * Runs from the repository root.  CC_WRITE_EXAMPLE=1 rewrites
 * config.example.yaml from the table instead of comparing.
 */
#include <unistd.h>

#include "config/config.h"
#include "test.h"

#define EXAMPLE "config.example.yaml"

/* Writes text to a fresh temporary .yaml file; returns its path (static buffer per slot). */
static const char *tmp_yaml(const char *text)
{
    static char paths[8][64];
    static int slot;
    char *p = paths[slot++ % 8];
    snprintf(p, 64, "/tmp/cc-config-test-XXXXXX.yaml");
    int fd = mkstemps(p, 5);
    if (fd < 0)
        return "/nonexistent";
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len)
        p[0] = '\0';
    close(fd);
    return p;
}

/* Loads YAML text with no env and no flags; returns the status, fills err. */
static cc_status load_yaml(cc_config *cfg, const char *text, cc_error *err)
{
    const char *path = tmp_yaml(text);
    char *envp[] = {NULL};
    cc_status st = cc_config_load(cfg, path, envp, 0, NULL, err);
    unlink(path);
    return st;
}

#define HAS(msg, s) CHECK_MSG(strstr((msg), (s)) != NULL, "\"%s\" lacks \"%s\"", (msg), (s))

TEST(defaults)
{
    cc_config c;
    cc_config_defaults(&c);
    CHECK_EQ_STR(c.server_listen_address, "0.0.0.0");
    CHECK_EQ_INT(c.server_listen_port, 9000);
    CHECK_EQ_STR(c.metrics_listen_address, "0.0.0.0");
    CHECK_EQ_INT(c.metrics_listen_port, 3000);
    CHECK_EQ_INT(c.metrics_enabled, 1);
    CHECK_EQ_STR(c.network, "mainnet");
    CHECK_EQ_STR(c.genesis_validators_root, "");
    CHECK_EQ_INT(c.filesystem_path_count, 0);
    CHECK_EQ_STR(c.anti_slashing_backend, "sqlite");
    CHECK_EQ_STR(c.anti_slashing_path, "./slashing_protection.sqlite");
    CHECK_EQ_STR(c.anti_slashing_url, "");
    CHECK_EQ_INT(c.anti_slashing_pool_size, 8);
    CHECK_EQ_STR(c.anti_slashing_table, "");
    CHECK_EQ_INT(c.key_manager_api_enabled, 0);
    CHECK_EQ_INT(c.key_manager_api_max_items, 100);
    CHECK_EQ_INT(c.backpressure_max_concurrent, 0);
    CHECK_EQ_INT(c.backpressure_max_queue, 1024);
    CHECK_EQ_INT(c.backpressure_timeout_seconds, 30);
    CHECK_EQ_STR(c.tls_mode, "disabled");
    CHECK_EQ_INT(c.tls_listen_port, 9443);
    CHECK_EQ_STR(c.tls_cert_path, "");
    CHECK_EQ_STR(c.tls_key_path, "");
    CHECK_EQ_INT(c.tls_reload_interval_seconds, 60);
    CHECK_EQ_STR(c.tee_platform, "none");
    CHECK_EQ_STR(c.log_level, "info");
    CHECK(cc_config_validate(&c, NULL) == CC_OK);

    /* load with nothing at all gives the defaults */
    cc_config l;
    char *envp[] = {"PATH=/bin", "HOME=/root", NULL};
    cc_error err;
    CHECK(cc_config_load(&l, NULL, envp, 0, NULL, &err) == CC_OK);
    CHECK(memcmp(&l, &c, sizeof c) == 0);
    cc_config_free(&l);
    cc_config_free(&c);
}

TEST(yaml_nesting)
{
    cc_config c;
    cc_error err;
    cc_status st = load_yaml(&c,
                             "# a comment\n"
                             "server:\n"
                             "  listen_address: 127.0.0.1\n"
                             "  listen_port: 9100\n"
                             "metrics: {enabled: no, listen_port: \"3100\"}\n"
                             "network: hoodi\n"
                             "key_sources:\n"
                             "  filesystem:\n"
                             "    paths:\n"
                             "      - /keys/a\n"
                             "      - \"/keys/b c\"\n"
                             "anti_slashing:\n"
                             "  backend: postgres\n"
                             "  url: postgres://u:p@db/x\n"
                             "  pool_size: 16\n"
                             "http:\n"
                             "  key_manager_api:\n"
                             "    enabled: true\n"
                             "    max_items_per_request: 7\n"
                             "tls:\n"
                             "  mode: file\n"
                             "  file:\n"
                             "    cert_path: /c.pem\n"
                             "    key_path: /k.pem\n"
                             "    reload_interval_seconds: 0\n"
                             "log:\n"
                             "  level: DEBUG\n",
                             &err);
    CHECK_MSG(st == CC_OK, "%s", err.msg);
    CHECK_EQ_STR(c.server_listen_address, "127.0.0.1");
    CHECK_EQ_INT(c.server_listen_port, 9100);
    CHECK_EQ_INT(c.metrics_enabled, 0);
    CHECK_EQ_INT(c.metrics_listen_port, 3100);
    CHECK_EQ_STR(c.network, "hoodi");
    CHECK_EQ_INT(c.filesystem_path_count, 2);
    if (c.filesystem_path_count == 2) {
        CHECK_EQ_STR(c.filesystem_paths[0], "/keys/a");
        CHECK_EQ_STR(c.filesystem_paths[1], "/keys/b c");
    }
    CHECK_EQ_STR(c.anti_slashing_backend, "postgres");
    CHECK_EQ_STR(c.anti_slashing_url, "postgres://u:p@db/x");
    CHECK_EQ_INT(c.anti_slashing_pool_size, 16);
    CHECK_EQ_INT(c.key_manager_api_enabled, 1);
    CHECK_EQ_INT(c.key_manager_api_max_items, 7);
    CHECK_EQ_STR(c.tls_mode, "file");
    CHECK_EQ_STR(c.tls_cert_path, "/c.pem");
    CHECK_EQ_INT(c.tls_reload_interval_seconds, 0);
    CHECK_EQ_STR(c.log_level, "debug"); /* enums are stored in canonical case */
    CHECK_EQ_INT(c.backpressure_max_queue, 1024); /* untouched keys keep defaults */
    cc_config_free(&c);
}

TEST(yaml_empty_and_comment_only)
{
    cc_config c;
    cc_error err;
    CHECK_MSG(load_yaml(&c, "", &err) == CC_OK, "%s", err.msg);
    CHECK_EQ_INT(c.server_listen_port, 9000);
    cc_config_free(&c);
    CHECK_MSG(load_yaml(&c, "# nothing\n\n   # here either\n", &err) == CC_OK, "%s", err.msg);
    cc_config_free(&c);
    CHECK_MSG(load_yaml(&c, "---\n...\n", &err) == CC_OK, "%s", err.msg);
    cc_config_free(&c);
    /* a section whose keys are all commented out is null: fine */
    CHECK_MSG(load_yaml(&c, "server:\n  # listen_port: 1\ntls:\n  file:\n", &err) == CC_OK, "%s", err.msg);
    cc_config_free(&c);
    /* an empty list and a null list are the empty list */
    CHECK_MSG(load_yaml(&c, "key_sources: {filesystem: {paths: []}}\n", &err) == CC_OK, "%s", err.msg);
    CHECK_EQ_INT(c.filesystem_path_count, 0);
    cc_config_free(&c);
    CHECK_MSG(load_yaml(&c, "key_sources:\n  filesystem:\n    paths:\n", &err) == CC_OK, "%s", err.msg);
    cc_config_free(&c);
}

TEST(yaml_errors_name_key_and_file)
{
    cc_config c;
    cc_error err;
    const char *path = tmp_yaml("server:\n  listen_prot: 9000\n");
    char *envp[] = {NULL};
    CHECK(cc_config_load(&c, path, envp, 0, NULL, &err) == CC_ECONFIG);
    char want[128];
    snprintf(want, sizeof want, "%s: unknown key 'server.listen_prot'", path);
    HAS(err.msg, want);
    HAS(err.msg, "did you mean 'server.listen_port'");
    HAS(err.msg, "line 2");
    unlink(path);

    CHECK(load_yaml(&c, "server:\n  listen_port: abc\n", &err) == CC_ECONFIG);
    HAS(err.msg, "server.listen_port: \"abc\" is not a port (1-65535)");
    CHECK(load_yaml(&c, "bogus: 1\n", &err) == CC_ECONFIG);
    HAS(err.msg, "unknown key 'bogus'");

    /* scalar where a mapping is expected, and the reverse */
    CHECK(load_yaml(&c, "server: 5\n", &err) == CC_ECONFIG);
    HAS(err.msg, "server: is a section");
    CHECK(load_yaml(&c, "tls:\n  file: [a]\n", &err) == CC_ECONFIG);
    HAS(err.msg, "tls.file: is a section");
    CHECK(load_yaml(&c, "server:\n  listen_port:\n    x: 1\n", &err) == CC_ECONFIG);
    HAS(err.msg, "server.listen_port: expected a single value, found a mapping");
    CHECK(load_yaml(&c, "network: [mainnet]\n", &err) == CC_ECONFIG);
    HAS(err.msg, "network: expected a single value, found a list");
    CHECK(load_yaml(&c, "key_sources: {filesystem: {paths: {a: b}}}\n", &err) == CC_ECONFIG);
    HAS(err.msg, "key_sources.filesystem.paths: expected a list, found a mapping");
    CHECK(load_yaml(&c, "key_sources: {filesystem: {paths: [[a]]}}\n", &err) == CC_ECONFIG);
    HAS(err.msg, "key_sources.filesystem.paths: list entries must be single values");
    CHECK(load_yaml(&c, "server:\n  listen_port:\n", &err) == CC_ECONFIG);
    HAS(err.msg, "server.listen_port: needs a value");

    /* duplicates, at a leaf and at a section */
    CHECK(load_yaml(&c, "network: mainnet\nnetwork: hoodi\n", &err) == CC_ECONFIG);
    HAS(err.msg, "duplicate key 'network'");
    CHECK(load_yaml(&c, "server:\n  listen_port: 1\nserver:\n  listen_address: x\n", &err) == CC_ECONFIG);
    HAS(err.msg, "duplicate key 'server'");

    /* structure and syntax */
    CHECK(load_yaml(&c, "- a\n- b\n", &err) == CC_ECONFIG);
    HAS(err.msg, "top level must be a mapping");
    CHECK(load_yaml(&c, "a: 1\n---\nb: 2\n", &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "unknown key 'a'") || strstr(err.msg, "more than one"));
    CHECK(load_yaml(&c, "network: mainnet\n---\nnetwork: hoodi\n", &err) == CC_ECONFIG);
    HAS(err.msg, "more than one YAML document");
    CHECK(load_yaml(&c, "server: {listen_port: 1\n", &err) == CC_ECONFIG);
    HAS(err.msg, "YAML syntax error");
    CHECK(load_yaml(&c, "x: &a 1\nnetwork: *a\n", &err) == CC_ECONFIG);
    CHECK(load_yaml(&c, "network: *a\n", &err) == CC_ECONFIG);
    CHECK(load_yaml(&c, "network: \"a\\0b\"\n", &err) == CC_ECONFIG);
    HAS(err.msg, "NUL");

    /* missing file names the path */
    CHECK(cc_config_load(&c, "/nonexistent/cc.yaml", envp, 0, NULL, &err) == CC_ECONFIG);
    HAS(err.msg, "/nonexistent/cc.yaml");
    HAS(err.msg, "No such file");
    /* a directory is unreadable as a file */
    CHECK(cc_config_load(&c, "/tmp", envp, 0, NULL, &err) == CC_ECONFIG);
    HAS(err.msg, "/tmp");
    cc_config_free(&c);
}

TEST(env_overrides_file)
{
    cc_config c;
    cc_error err;
    const char *path = tmp_yaml("server:\n  listen_port: 9100\nnetwork: hoodi\n"
                                "key_sources: {filesystem: {paths: [/a, /b, /c]}}\n");
    char *envp[] = {"PATH=/bin",
                    "CONTAINMENT_SERVER__LISTEN_PORT=9200",
                    "containment_anti_slashing__backend=NOOP",
                    "CONTAINMENT_Http__Key_Manager_Api__Enabled=on",
                    "CONTAINMENT_KEY_SOURCES__FILESYSTEM__PATHS= /x , /y",
                    "CONTAINMENT_CONFIG=/ignored-because-c-was-given.yaml",
                    NULL};
    CHECK_MSG(cc_config_load(&c, path, envp, 0, NULL, &err) == CC_OK, "%s", err.msg);
    CHECK_EQ_INT(c.server_listen_port, 9200);
    CHECK_EQ_STR(c.network, "hoodi");
    CHECK_EQ_STR(c.anti_slashing_backend, "noop");
    CHECK_EQ_INT(c.key_manager_api_enabled, 1);
    CHECK_EQ_INT(c.filesystem_path_count, 2); /* replaced, not appended */
    if (c.filesystem_path_count == 2) {
        CHECK_EQ_STR(c.filesystem_paths[0], "/x");
        CHECK_EQ_STR(c.filesystem_paths[1], "/y");
    }
    cc_config_free(&c);
    unlink(path);
}

TEST(env_config_names_the_file)
{
    cc_config c;
    cc_error err;
    const char *path = tmp_yaml("network: sepolia\n");
    char var[128];
    snprintf(var, sizeof var, "CONTAINMENT_CONFIG=%s", path);
    char *envp[] = {var, NULL};
    CHECK_EQ_STR(cc_config_env_path(envp), path);
    CHECK_MSG(cc_config_load(&c, NULL, envp, 0, NULL, &err) == CC_OK, "%s", err.msg);
    CHECK_EQ_STR(c.network, "sepolia");
    cc_config_free(&c);
    unlink(path);
    char *empty[] = {"CONTAINMENT_CONFIG=", NULL};
    CHECK(cc_config_load(&c, NULL, empty, 0, NULL, &err) == CC_OK);
    cc_config_free(&c);
}

TEST(env_errors)
{
    cc_config c;
    cc_error err;
    char *e1[] = {"CONTAINMENT_SERVER__LISTEN_PROT=1", NULL};
    CHECK(cc_config_load(&c, NULL, e1, 0, NULL, &err) == CC_ECONFIG);
    HAS(err.msg, "environment CONTAINMENT_SERVER__LISTEN_PROT: unknown key 'server.listen_prot'");
    char *e2[] = {"CONTAINMENT_SERVER__LISTEN_PORT=abc", NULL};
    CHECK(cc_config_load(&c, NULL, e2, 0, NULL, &err) == CC_ECONFIG);
    HAS(err.msg, "environment CONTAINMENT_SERVER__LISTEN_PORT: server.listen_port: \"abc\" is not a port");
    char *e3[] = {"CONTAINMENT_SERVER=1", NULL};
    CHECK(cc_config_load(&c, NULL, e3, 0, NULL, &err) == CC_ECONFIG);
    HAS(err.msg, "environment CONTAINMENT_SERVER: 'server' is a section");
    char *e4[] = {"CONTAINMENT_SERVER_LISTEN_PORT=1", NULL}; /* single _ is not nesting */
    CHECK(cc_config_load(&c, NULL, e4, 0, NULL, &err) == CC_ECONFIG);
    HAS(err.msg, "unknown key 'server_listen_port'");
    char *e5[] = {"CONTAINMENT_TEE__PLATFORM=sgx", NULL};
    CHECK(cc_config_load(&c, NULL, e5, 0, NULL, &err) == CC_ECONFIG);
    HAS(err.msg, "tee.platform: \"sgx\" is not one of: none, nitro");
    char *e6[] = {"NOT_CONTAINMENT_X=1", "CONTAINMENTX=1", NULL}; /* not ours */
    CHECK(cc_config_load(&c, NULL, e6, 0, NULL, &err) == CC_OK);
    cc_config_free(&c);
}

TEST(flags_override_env)
{
    cc_config c;
    cc_error err;
    char *envp[] = {"CONTAINMENT_SERVER__LISTEN_PORT=9200", "CONTAINMENT_LOG__LEVEL=warn",
                    "CONTAINMENT_KEY_SOURCES__FILESYSTEM__PATHS=/x,/y", NULL};
    char *argv[] = {"--server.listen_port=9300",  "--log-level", "error", "--metrics.enabled",
                    "--anti-slashing.pool-size",  "3",           "--key_sources.filesystem.paths=",
                    "--http.key_manager_api.enabled", "false"};
    CHECK_MSG(cc_config_load(&c, NULL, envp, 9, argv, &err) == CC_ECONFIG, "%s", err.msg);
    HAS(err.msg, "flag --log-level: unknown key 'log_level'"); /* '.' is not interchangeable */
    argv[1] = "--log.level";
    CHECK_MSG(cc_config_load(&c, NULL, envp, 9, argv, &err) == CC_OK, "%s", err.msg);
    CHECK_EQ_INT(c.server_listen_port, 9300);
    CHECK_EQ_STR(c.log_level, "error");
    CHECK_EQ_INT(c.metrics_enabled, 1); /* bare boolean flag */
    CHECK_EQ_INT(c.anti_slashing_pool_size, 3);
    CHECK_EQ_INT(c.filesystem_path_count, 0); /* the flag replaced env's list with an empty one */
    CHECK_EQ_INT(c.key_manager_api_enabled, 0);
    cc_config_free(&c);
}

TEST(flag_errors)
{
    cc_config c;
    cc_error err;
    char *envp[] = {NULL};
    char *a1[] = {"--server.listen_prot=1"};
    CHECK(cc_config_load(&c, NULL, envp, 1, a1, &err) == CC_ECONFIG);
    HAS(err.msg, "flag --server.listen_prot: unknown key 'server.listen_prot'");
    char *a2[] = {"--server.listen-port", "70000"};
    CHECK(cc_config_load(&c, NULL, envp, 2, a2, &err) == CC_ECONFIG);
    HAS(err.msg, "flag --server.listen-port: \"70000\" is not a port (1-65535)");
    char *a3[] = {"--network"};
    CHECK(cc_config_load(&c, NULL, envp, 1, a3, &err) == CC_ECONFIG);
    HAS(err.msg, "flag --network: needs a value");
    char *a4[] = {"network=x"};
    CHECK(cc_config_load(&c, NULL, envp, 1, a4, &err) == CC_ECONFIG);
    HAS(err.msg, "flag 'network=x'");
    char *a5[] = {"--metrics.enabled=perhaps"};
    CHECK(cc_config_load(&c, NULL, envp, 1, a5, &err) == CC_ECONFIG);
    HAS(err.msg, "flag --metrics.enabled: \"perhaps\" is not a boolean");
    char *a8[] = {"--network", "--log.level=info"}; /* the next flag is not a value */
    CHECK(cc_config_load(&c, NULL, envp, 2, a8, &err) == CC_ECONFIG);
    HAS(err.msg, "flag --network: needs a value");
    char *a6[] = {"--"};
    CHECK(cc_config_load(&c, NULL, envp, 1, a6, &err) == CC_ECONFIG);
    char *a7[] = {"--metrics.enabled", "maybe"};
    CHECK(cc_config_load(&c, NULL, envp, 2, a7, &err) == CC_ECONFIG);
    HAS(err.msg, "\"maybe\" is not a boolean");
    cc_config_free(&c);
}

TEST(set_values)
{
    cc_config c;
    cc_error err;
    cc_config_defaults(&c);
    CHECK(cc_config_set(&c, "server.listen_port", "abc", &err) == CC_ECONFIG);
    CHECK_EQ_STR(err.msg, "server.listen_port: \"abc\" is not a port (1-65535)");
    CHECK(cc_config_set(&c, "server.listen_port", "0", &err) == CC_ECONFIG);
    CHECK(cc_config_set(&c, "server.listen_port", "65536", &err) == CC_ECONFIG);
    CHECK(cc_config_set(&c, "server.listen_port", "-1", &err) == CC_ECONFIG);
    CHECK(cc_config_set(&c, "server.listen_port", " 80", &err) == CC_ECONFIG);
    CHECK(cc_config_set(&c, "server.listen_port", "", &err) == CC_ECONFIG);
    CHECK(cc_config_set(&c, "server.listen_port", "65535", &err) == CC_OK);
    CHECK_EQ_INT(c.server_listen_port, 65535);
    CHECK(cc_config_set(&c, "server.listen_port", "1", &err) == CC_OK);
    CHECK_EQ_INT(c.server_listen_port, 1);

    static const char *const yes[] = {"true", "TRUE", "yes", "1", "on", "On"};
    static const char *const no[] = {"false", "no", "0", "off", "OFF", "No"};
    for (size_t i = 0; i < 6; i++) {
        CHECK(cc_config_set(&c, "metrics.enabled", no[i], &err) == CC_OK && c.metrics_enabled == 0);
        CHECK(cc_config_set(&c, "metrics.enabled", yes[i], &err) == CC_OK && c.metrics_enabled == 1);
    }
    CHECK(cc_config_set(&c, "metrics.enabled", "2", &err) == CC_ECONFIG);
    HAS(err.msg, "metrics.enabled: \"2\" is not a boolean");

    CHECK(cc_config_set(&c, "anti_slashing.backend", "mysql", &err) == CC_ECONFIG);
    CHECK_EQ_STR(err.msg, "anti_slashing.backend: \"mysql\" is not one of: sqlite, postgres, dynamodb, noop");
    CHECK_EQ_STR(c.anti_slashing_backend, "sqlite"); /* a failed set changes nothing */
    CHECK(cc_config_set(&c, "tls.mode", "atls", &err) == CC_OK);
    CHECK(cc_config_set(&c, "tls.mode", "https", &err) == CC_ECONFIG);
    HAS(err.msg, "tls.mode: \"https\" is not one of: disabled, file, atls");
    CHECK(cc_config_set(&c, "log.level", "trace", &err) == CC_ECONFIG);
    HAS(err.msg, "log.level");

    CHECK(cc_config_set(&c, "anti_slashing.pool_size", "0", &err) == CC_ECONFIG);
    HAS(err.msg, "anti_slashing.pool_size: \"0\" is not a whole number in 1-1024");
    CHECK(cc_config_set(&c, "backpressure.max_concurrent", "4294967296", &err) == CC_ECONFIG);
    CHECK(cc_config_set(&c, "backpressure.timeout_seconds", "1.5", &err) == CC_ECONFIG);
    CHECK(cc_config_set(&c, "backpressure.max_concurrent", "0", &err) == CC_OK);

    /* too-long strings are refused without echoing the value (it may be a secret) */
    char big[2000];
    memset(big, 's', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(cc_config_set(&c, "anti_slashing.url", big, &err) == CC_ECONFIG);
    HAS(err.msg, "anti_slashing.url: value is too long");
    CHECK(strstr(err.msg, "ssssssss") == NULL);
    big[1023] = '\0';
    CHECK(cc_config_set(&c, "anti_slashing.url", big, &err) == CC_OK);
    CHECK_EQ_INT(strlen(c.anti_slashing_url), 1023);

    CHECK(cc_config_set(&c, "nope", "1", &err) == CC_ECONFIG);
    CHECK_EQ_STR(err.msg, "unknown key 'nope'");
    CHECK(cc_config_set(&c, "tls.file", "1", &err) == CC_ECONFIG);
    HAS(err.msg, "'tls.file' is a section, not a key");
    CHECK(cc_config_set(&c, "server.listen_port", "80", NULL) == CC_OK); /* NULL err is fine */
    CHECK(cc_config_set(&c, "server.listen_port", "x", NULL) == CC_ECONFIG);
    cc_config_free(&c);
}

TEST(lists)
{
    cc_config c;
    cc_error err;
    cc_config_defaults(&c);
    CHECK(cc_config_set(&c, "key_sources.filesystem.paths", "/a,/b,/c", &err) == CC_OK);
    CHECK_EQ_INT(c.filesystem_path_count, 3);
    CHECK(cc_config_set(&c, "key_sources.filesystem.paths", "/d", &err) == CC_OK);
    CHECK_EQ_INT(c.filesystem_path_count, 1);
    CHECK_EQ_STR(c.filesystem_paths[0], "/d");
    CHECK(c.filesystem_paths[1] == NULL);
    CHECK(cc_config_set(&c, "key_sources.filesystem.paths", "/a,,/b", &err) == CC_ECONFIG);
    HAS(err.msg, "key_sources.filesystem.paths: entry 2 is empty");
    CHECK_EQ_INT(c.filesystem_path_count, 1); /* kept on error */

    char many[CC_CONFIG_MAX_PATHS * 3 + 8] = "";
    for (int i = 0; i <= CC_CONFIG_MAX_PATHS; i++)
        strcat(many, i ? ",/p" : "/p");
    CHECK(cc_config_set(&c, "key_sources.filesystem.paths", many, &err) == CC_ECONFIG);
    HAS(err.msg, "key_sources.filesystem.paths: more than 64 entries");
    many[strlen(many) - 3] = '\0';
    CHECK(cc_config_set(&c, "key_sources.filesystem.paths", many, &err) == CC_OK);
    CHECK_EQ_INT(c.filesystem_path_count, CC_CONFIG_MAX_PATHS);
    CHECK(cc_config_set(&c, "key_sources.filesystem.paths", "", &err) == CC_OK);
    CHECK_EQ_INT(c.filesystem_path_count, 0);
    cc_config_free(&c);
    cc_config_free(&c); /* twice is harmless */

    /* a YAML scalar for a list key is one comma-separated value, like the environment */
    CHECK_MSG(load_yaml(&c, "key_sources: {filesystem: {paths: /a}}\n", &err) == CC_OK, "%s", err.msg);
    CHECK_EQ_INT(c.filesystem_path_count, 1);
    cc_config_free(&c);
    /* a failed load leaves nothing to free (ASan would see a leak) */
    CHECK(load_yaml(&c, "key_sources: {filesystem: {paths: [/a, /b]}}\nserver: {listen_port: 0}\n", &err) ==
          CC_ECONFIG);
    CHECK_EQ_INT(c.filesystem_path_count, 0);
}

/* chamber.keys.generate.backup: recipients are required with backup on, and each must be an age1... recipient. */
TEST(backup_recipients)
{
    cc_config c;
    cc_error err;
    cc_config_defaults(&c);
    CHECK(cc_config_set(&c, "chamber.keys.generate.backup.enabled", "true", NULL) == CC_OK);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    HAS(err.msg, "chamber.keys.generate.backup.recipients: required");
    CHECK(cc_config_set(&c, "chamber.keys.generate.backup.recipients", "age1s43gac0v4cgfhkjrcnwy4p9r82hmvf6frnz8e92uw785ek0xrpzsc9pz0s", NULL) == CC_OK);
    CHECK_MSG(cc_config_validate(&c, &err) == CC_OK, "%s", err.msg);
    CHECK(cc_config_set(&c, "chamber.keys.generate.backup.recipients", "age1s43gac0v4cgfhkjrcnwy4p9r82hmvf6frnz8e92uw785ek0xrpzsc9pz0s, age1notarecipient", NULL) == CC_OK);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    HAS(err.msg, "chamber.keys.generate.backup.recipients[1]");
    HAS(err.msg, "age1notarecipient");
    /* An identity pasted by mistake is refused without being echoed. */
    const char *identity = "AGE-SECRET-KEY-1R5MVD39DE2N0DK7P0XZN3ZTCZSY4QUQCQ5YAE4ZYYPRHF4TNM38QKD6VF5";
    CHECK(cc_config_set(&c, "chamber.keys.generate.backup.recipients", identity, NULL) == CC_OK);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    HAS(err.msg, "chamber.keys.generate.backup.recipients[0]");
    CHECK(strstr(err.msg, "R5MVD39DE2N0DK7P0XZN3") == NULL);
    cc_config_set(&c, "chamber.keys.generate.backup.enabled", "false", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG); /* a bad recipient is refused even with backup off */
    cc_config_free(&c);
}

TEST(validation)
{
    cc_config c;
    cc_error err;
    const char *gvr = "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95";

    cc_config_defaults(&c);
    cc_config_set(&c, "network", "./devnet/config.yaml", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    HAS(err.msg, "genesis_validators_root: required when network is a file path");
    cc_config_set(&c, "network", "devnet.yml", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    cc_config_set(&c, "genesis_validators_root", gvr, NULL);
    CHECK_MSG(cc_config_validate(&c, &err) == CC_OK, "%s", err.msg);
    cc_config_set(&c, "genesis_validators_root", gvr + 2, NULL); /* no 0x */
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    HAS(err.msg, "genesis_validators_root: ");
    HAS(err.msg, "is not 0x + 64 hex digits");
    cc_config_set(&c, "network", "mainnet", NULL);
    cc_config_set(&c, "genesis_validators_root", "0x4b36", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    cc_config_set(&c, "genesis_validators_root", "0xzz363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    cc_config_set(&c, "genesis_validators_root", "", NULL);
    cc_config_set(&c, "network", "", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    HAS(err.msg, "network: must not be empty");

    cc_config_defaults(&c);
    cc_config_set(&c, "anti_slashing.backend", "postgres", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    CHECK_EQ_STR(err.msg, "anti_slashing.url: required when anti_slashing.backend is postgres");
    cc_config_set(&c, "anti_slashing.url", "postgres://db/x", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_OK);
    cc_config_set(&c, "anti_slashing.backend", "dynamodb", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    CHECK_EQ_STR(err.msg, "anti_slashing.table: required when anti_slashing.backend is dynamodb");
    cc_config_set(&c, "anti_slashing.table", "slashing", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_OK);
    cc_config_set(&c, "anti_slashing.backend", "sqlite", NULL);
    cc_config_set(&c, "anti_slashing.path", "", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    HAS(err.msg, "anti_slashing.path");

    cc_config_defaults(&c);
    cc_config_set(&c, "tls.mode", "file", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    HAS(err.msg, "tls.file.cert_path: required");
    cc_config_set(&c, "tls.file.cert_path", "/c.pem", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    HAS(err.msg, "tls.file.key_path: required");
    cc_config_set(&c, "tls.file.key_path", "/k.pem", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_OK);

    /* listeners may not share a port */
    cc_config_set(&c, "tls.listen_port", "9000", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    HAS(err.msg, "tls.listen_port: 9000 is also server.listen_port");
    cc_config_set(&c, "tls.mode", "disabled", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_OK);
    cc_config_set(&c, "metrics.listen_port", "9000", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    HAS(err.msg, "metrics.listen_port");
    cc_config_set(&c, "metrics.enabled", "false", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_OK);

    /* load runs validation too */
    char *envp[] = {"CONTAINMENT_TLS__MODE=file", NULL};
    CHECK(cc_config_load(&c, NULL, envp, 0, NULL, &err) == CC_ECONFIG);
    HAS(err.msg, "tls.file.cert_path");
    cc_config_free(&c);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    FILE *m = open_memstream(&buf, &cap);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    *len = cap;
    return buf;
}

static char *generate(int commented, size_t *len)
{
    char *buf = NULL;
    size_t cap = 0;
    FILE *m = open_memstream(&buf, &cap);
    cc_config_write_example(m, commented);
    fclose(m);
    *len = cap;
    return buf;
}

/* Nitro runtime (issue 8): tee.* keys and how they must hang together. */
TEST(nitro_rules)
{
    cc_config c;
    cc_error err;
    cc_config_defaults(&c);
    CHECK_EQ_STR(c.tee_nsm, "device");
    CHECK_EQ_STR(c.tee_nsm_device_path, "/dev/nsm");
    CHECK_EQ_INT(c.tee_atls_renew_seconds, 1800);
    CHECK(cc_config_set(&c, "tls.mode", "atls", &err) == CC_OK);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    HAS(err.msg, "tls.mode: atls needs tee.platform nitro");
    CHECK(cc_config_set(&c, "tee.platform", "nitro", &err) == CC_OK);
    CHECK_MSG(cc_config_validate(&c, &err) == CC_OK, "%s", err.msg);
    CHECK(cc_config_set(&c, "tls.mode", "file", &err) == CC_OK);
    cc_config_set(&c, "tls.file.cert_path", "c.pem", NULL);
    cc_config_set(&c, "tls.file.key_path", "k.pem", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    HAS(err.msg, "must be atls when tee.platform is nitro");
    cc_config_set(&c, "tls.mode", "atls", NULL);
    CHECK(cc_config_set(&c, "tee.nsm", "simulated", &err) == CC_OK);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    HAS(err.msg, "tee.nsm_simulator.state_dir: required");
    cc_config_set(&c, "tee.nsm_simulator.state_dir", "/tmp/sim", NULL);
    CHECK_MSG(cc_config_validate(&c, &err) == CC_OK, "%s", err.msg);
    CHECK(cc_config_set(&c, "tee.nsm", "emulated", &err) == CC_ECONFIG);
    CHECK(cc_config_set(&c, "tee.auto_unseal.kms_key_arn", "arn:aws:kms:eu-west-1:1:key/x", &err) == CC_OK);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    HAS(err.msg, "tee.auto_unseal.kms_key_arn: needs signer_state.table");
    cc_config_set(&c, "signer_state.table", "t", NULL);
    CHECK_MSG(cc_config_validate(&c, &err) == CC_OK, "%s", err.msg);
    cc_config_set(&c, "tee.platform", "none", NULL);
    cc_config_set(&c, "tls.mode", "disabled", NULL);
    CHECK(cc_config_validate(&c, &err) == CC_ECONFIG);
    HAS(err.msg, "tee.auto_unseal.kms_key_arn: needs tee.platform nitro");
    CHECK(cc_config_set(&c, "tee.atls.renew_interval_seconds", "5", &err) == CC_ECONFIG);
    cc_config_free(&c);
}

TEST(example_file)
{
    size_t glen, flen;
    char *gen = generate(1, &glen);
    if (getenv("CC_WRITE_EXAMPLE")) {
        FILE *f = fopen(EXAMPLE, "wb");
        CHECK(f != NULL);
        if (f) {
            fwrite(gen, 1, glen, f);
            fclose(f);
        }
    }
    char *file = slurp(EXAMPLE, &flen);
    CHECK_MSG(file != NULL, "cannot read %s (run from the repository root)", EXAMPLE);
    CHECK_MSG(file && flen == glen && memcmp(file, gen, glen) == 0,
              "%s differs from the key table; regenerate with CC_WRITE_EXAMPLE=1", EXAMPLE);
    free(file);
    free(gen);

    /* the shipped file loads, and gives the defaults */
    cc_config c, d;
    cc_error err;
    char *envp[] = {NULL};
    CHECK_MSG(cc_config_load(&c, EXAMPLE, envp, 0, NULL, &err) == CC_OK, "%s", err.msg);
    cc_config_defaults(&d);
    CHECK(memcmp(&c, &d, sizeof c) == 0);
    cc_config_free(&c);

    /* every key written out explicitly loads too, and still gives the defaults */
    gen = generate(0, &glen);
    CHECK_MSG(load_yaml(&c, gen, &err) == CC_OK, "%s", err.msg);
    CHECK(memcmp(&c, &d, sizeof c) == 0);
    CHECK(strstr(gen, "\n  listen_port: 9000\n") != NULL);
    CHECK(strstr(gen, "\n    paths: []\n") != NULL);
    free(gen);
    cc_config_free(&c);
    cc_config_free(&d);
}

int main(void)
{
    RUN(defaults);
    RUN(yaml_nesting);
    RUN(yaml_empty_and_comment_only);
    RUN(yaml_errors_name_key_and_file);
    RUN(env_overrides_file);
    RUN(env_config_names_the_file);
    RUN(env_errors);
    RUN(flags_override_env);
    RUN(flag_errors);
    RUN(set_values);
    RUN(lists);
    RUN(validation);
    RUN(backup_recipients);
    RUN(nitro_rules);
    RUN(example_file);
    TEST_MAIN_END();
}
