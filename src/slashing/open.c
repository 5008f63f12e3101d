/*
 * open.c — cc_slashing_open: picks the configured anti-slashing backend.
 */
#include "slashing/slashing.h"

#include <string.h>

cc_status cc_slashing_open(const cc_slashing_config *cfg, const uint8_t gvr[32], cc_slashing **out,
                           cc_error *err)
{
    *out = NULL;
    const char *name = cfg && cfg->backend && *cfg->backend ? cfg->backend : "sqlite";
    if (strcmp(name, "sqlite") == 0) {
        const char *path = cfg && cfg->path && *cfg->path ? cfg->path : "./slashing_protection.sqlite";
        cc_status st = cc_slashing_sqlite_open(path, gvr, out, err);
        if (st == CC_ECONFIG)
            cc_error_prefix(err, "anti_slashing.path");
        return st;
    }
    if (strcmp(name, "noop") == 0)
        return cc_slashing_noop_open(gvr, out, err);
    if (strcmp(name, "dynamodb") == 0)
        return cc_slashing_dynamodb_open(cfg, gvr, out, err);
    if (strcmp(name, "postgres") == 0) /* its messages name anti_slashing.url / pool_size */
        return cc_slashing_postgres_open(cfg->url, cfg->pool_size, gvr, out, err);
    return cc_error_set(err, CC_ECONFIG,
                        "anti_slashing.backend: unknown backend '%s' (expected sqlite, postgres, dynamodb, noop)",
                        name);
}
