/*
 * dynamodb.c — `containment-chamber dynamodb create-tables -c config.yaml`:
 * creates every DynamoDB table the configuration names, a thin shell over
 * the modules that own the tables' schemas.
 *
 * Idempotent: a table that exists with the right key schema is left alone, a
 * missing one is created (on-demand billing) and waited for until ACTIVE, a
 * table with another schema is an error naming it.  Region, endpoint and
 * credentials come from aws.* and the default credential chain, as in the
 * server.  IAM: dynamodb:DescribeTable and dynamodb:CreateTable.
 * Exit codes: 0 done, 1 error, 2 usage.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "aws/credentials.h"
#include "aws/dynamodb.h"
#include "chamber/state.h"
#include "cli/cli.h"
#include "config/config.h"
#include "keys/dynamodb.h"
#include "slashing/slashing.h"

extern char **environ;

typedef cc_status (*ensure_fn)(const cc_dynamodb *ddb, const char *table, int *created, cc_error *err);

/*
 * Every table the configuration can name: the config key, where its value
 * lives, and the module function that creates and checks it.  Later tables
 * (the key source's key_sources.dynamodb.table, signer_state.table) are one
 * line each here once their config keys and modules exist.
 */
typedef struct ddb_table {
    const char *key;
    size_t offset;
    ensure_fn ensure;
} ddb_table;

static const ddb_table tables[] = {
    {"anti_slashing.table", offsetof(cc_config, anti_slashing_table), cc_slashing_dynamodb_create_table},
    {"signer_state.table", offsetof(cc_config, signer_state_table), cc_state_create_table},
    {"key_sources.dynamodb.table", offsetof(cc_config, dynamodb_keys_table), cc_key_table_create},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: containment-chamber dynamodb create-tables -c config.yaml\n"
               "\n"
               "  create-tables    create every DynamoDB table the configuration names (anti_slashing.table,\n"
               "                   signer_state.table, key_sources.dynamodb.table),\n"
               "                   wait until ACTIVE, check the key schema of those that exist\n");
}

static int create_tables(const char *config_path)
{
    cc_config cfg;
    cc_error err;
    if (cc_config_load(&cfg, config_path, environ, 0, NULL, &err) != CC_OK) {
        fprintf(stderr, "containment-chamber dynamodb: %s\n", err.msg);
        return 1;
    }
    int rc = 1;
    cc_aws_http *http = NULL;
    cc_aws_credentials_provider *creds = NULL;
    cc_dynamodb ddb;
    if (cc_aws_http_new(NULL, &http, &err) != CC_OK ||
        cc_aws_credentials_default_new(http, cfg.aws_region, cfg.aws_endpoint_sts, &creds, &err) != CC_OK ||
        cc_dynamodb_init(&ddb, http, creds, cfg.aws_region, cfg.aws_endpoint_dynamodb, &err) != CC_OK) {
        fprintf(stderr, "containment-chamber dynamodb: %s\n", err.msg);
        goto out;
    }
    size_t named = 0;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        const char *name = (const char *)&cfg + tables[i].offset;
        if (!*name)
            continue;
        named++;
        int created = 0;
        if (tables[i].ensure(&ddb, name, &created, &err) != CC_OK) {
            fprintf(stderr, "containment-chamber dynamodb: %s (%s): %s\n", tables[i].key, name, err.msg);
            goto out;
        }
        printf("%s %s (%s)\n", created ? "created" : "exists ", name, tables[i].key);
    }
    if (!named)
        printf("no DynamoDB table named in %s (set anti_slashing.table, signer_state.table or key_sources.dynamodb.table)\n", config_path);
    rc = 0;
out:
    cc_aws_credentials_provider_free(creds);
    cc_aws_http_free(http);
    cc_config_free(&cfg);
    return rc;
}

int cc_cmd_dynamodb(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL, *config = NULL;
    if (sub && (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (!sub || strcmp(sub, "create-tables") != 0) {
        if (sub)
            fprintf(stderr, "containment-chamber dynamodb: unknown subcommand '%s'\n", sub);
        usage(stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            config = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            config = argv[i] + 9;
        else {
            fprintf(stderr, "containment-chamber dynamodb: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!config) {
        fprintf(stderr, "containment-chamber dynamodb create-tables: -c config.yaml is required\n");
        return 2;
    }
    return create_tables(config);
}
