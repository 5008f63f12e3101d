/*
 * config.c — kms-local's credentials: access key id → secret and principal.
 * Secrets live in locked memory (cc_secret_alloc) and are wiped on exit.
 */
#include "kmslocal/kmslocal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/secret.h"

cc_status kl_config_add_cred(kl_config *cfg, const char *akid, const char *secret, const char *principal,
                             const char *token, cc_error *err)
{
    if (!akid || !*akid || !secret || !*secret)
        return cc_error_set(err, CC_ECONFIG, "a credential needs an access key id and a secret access key");
    for (size_t i = 0; i < cfg->ncreds; i++)
        if (strcmp(cfg->creds[i].access_key_id, akid) == 0)
            return cc_error_set(err, CC_ECONFIG, "access key id '%s' is given twice", akid);
    kl_cred *c = realloc(cfg->creds, (cfg->ncreds + 1) * sizeof *c);
    if (!c)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cfg->creds = c;
    kl_cred *n = &c[cfg->ncreds];
    memset(n, 0, sizeof *n);
    n->access_key_id = strdup(akid);
    n->secret_cap = strlen(secret) + 1;
    n->secret = cc_secret_alloc(n->secret_cap);
    if (principal) {
        n->principal_arn = strdup(principal);
    } else {
        size_t l = strlen(cfg->account) + 32;
        n->principal_arn = malloc(l);
        if (n->principal_arn)
            snprintf(n->principal_arn, l, "arn:aws:iam::%s:root", cfg->account);
    }
    n->session_token = token ? strdup(token) : NULL;
    cfg->ncreds++;
    if (!n->access_key_id || !n->secret || !n->principal_arn || (token && !n->session_token))
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    memcpy(n->secret, secret, n->secret_cap);
    return CC_OK;
}

cc_status kl_config_load_credentials(kl_config *cfg, const char *path, cc_error *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return cc_error_set(err, CC_ECONFIG, "%s: line %d: %s", path, je.line, je.text);
    cc_status s = CC_OK;
    if (!json_is_array(root)) {
        s = cc_error_set(err, CC_ECONFIG, "%s: must be a JSON list of credentials", path);
        goto out;
    }
    size_t i;
    json_t *c;
    json_array_foreach(root, i, c) {
        const char *akid = json_string_value(json_object_get(c, "access_key_id"));
        const char *sec = json_string_value(json_object_get(c, "secret_access_key"));
        if (!akid || !sec) {
            s = cc_error_set(err, CC_ECONFIG, "%s: [%zu] needs access_key_id and secret_access_key", path, i);
            goto out;
        }
        s = kl_config_add_cred(cfg, akid, sec, json_string_value(json_object_get(c, "principal_arn")),
                               json_string_value(json_object_get(c, "session_token")), err);
        if (s != CC_OK) {
            cc_error_prefix(err, "%s: [%zu]", path, i);
            goto out;
        }
    }
out:
    json_decref(root);
    return s;
}

void kl_config_free(kl_config *cfg)
{
    for (size_t i = 0; i < cfg->ncreds; i++) {
        kl_cred *c = &cfg->creds[i];
        free(c->access_key_id);
        cc_secret_free(c->secret, c->secret_cap);
        free(c->principal_arn);
        free(c->session_token);
    }
    free(cfg->creds);
    cfg->creds = NULL;
    cfg->ncreds = 0;
    X509_free(cfg->attestation_root);
    cfg->attestation_root = NULL;
}
