/*
 * autounseal.c — the Nitro auto-unseal item (autounseal.h).
 */
#include "chamber/autounseal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/base64.h"
#include "chamber/master.h"
#include "util/secret.h"

json_t *cc_autounseal_context(uint32_t version)
{
    char v[16];
    snprintf(v, sizeof v, "%u", (unsigned)version);
    return json_pack("{s:s, s:s}", "containment-chamber:purpose", "nitro-auto-unseal", "containment-chamber:version", v);
}

typedef struct au_item {
    char kms_key_arn[CC_STATE_ARN_MAX + 1];
    uint32_t version;
    uint8_t *blob;
    size_t blob_len;
} au_item;

static const char *attr(json_t *item, const char *name, const char *type)
{
    return json_string_value(json_object_get(json_object_get(item, name), type));
}

/* *found = 0 when absent. */
static cc_status au_load(const cc_dynamodb *ddb, const char *table, au_item *out, int *found, cc_error *err)
{
    memset(out, 0, sizeof *out);
    *found = 0;
    json_t *key = json_pack("{s:{s:s}}", "pk", "S", CC_AUTOUNSEAL_PK), *item = NULL;
    if (!key)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cc_status st = cc_dynamodb_get_item(ddb, table, key, 1, &item, err);
    json_decref(key);
    if (st != CC_OK || !item)
        return st;
    const char *arn = attr(item, "kms_key_arn", "S"), *ver = attr(item, "version", "N"), *blob = attr(item, "blob", "B");
    char *end = NULL;
    unsigned long v = ver ? strtoul(ver, &end, 10) : 0;
    if (!arn || !*arn || strlen(arn) > CC_STATE_ARN_MAX || !ver || !end || *end || v < 1 || v > UINT32_MAX || !blob) {
        json_decref(item);
        return cc_error_set(err, CC_EINVAL, "signer state table %s: item %s is malformed (kms_key_arn, version, blob)",
                            table, CC_AUTOUNSEAL_PK);
    }
    snprintf(out->kms_key_arn, sizeof out->kms_key_arn, "%s", arn);
    out->version = (uint32_t)v;
    size_t cap = 0;
    st = cc_aws_b64_decode(blob, strlen(blob), 0, "blob", &out->blob, &out->blob_len, &cap, err);
    json_decref(item);
    if (st != CC_OK)
        return cc_error_prefix(err, "signer state table %s: item %s", table, CC_AUTOUNSEAL_PK);
    *found = 1;
    return CC_OK;
}

cc_status cc_autounseal_open(const cc_dynamodb *ddb, const char *table, const cc_kms *kms, cc_unwrapper *u,
                             const cc_state_record *rec, uint8_t master[CC_MASTER_KEY_LEN], cc_error *err)
{
    au_item it;
    int found = 0;
    cc_status st = au_load(ddb, table, &it, &found, err);
    if (st != CC_OK)
        return st;
    if (!found)
        return cc_error_set(err, CC_ENOTFOUND, "no auto-unseal blob in the table yet");
    if (it.version != rec->version) {
        free(it.blob);
        return cc_error_set(err, CC_ENOTFOUND, "the auto-unseal blob wraps master-key version %u, the table is at %u",
                            (unsigned)it.version, (unsigned)rec->version);
    }
    json_t *ctx = cc_autounseal_context(it.version);
    cc_kms_bytes pt = {0};
    st = ctx ? cc_unwrap_once(u, kms, it.kms_key_arn, it.blob, it.blob_len, ctx, &pt, err)
             : cc_error_set(err, CC_ENOMEM, "out of memory");
    json_decref(ctx);
    free(it.blob);
    if (st != CC_OK)
        return cc_error_prefix(err, "auto-unseal blob under %.200s", it.kms_key_arn);
    if (pt.len != CC_MASTER_KEY_LEN)
        st = cc_error_set(err, CC_ECRYPTO, "auto-unseal blob under %.200s: decrypted to %zu bytes, not %d",
                          it.kms_key_arn, pt.len, CC_MASTER_KEY_LEN);
    else if (cc_master_verify(pt.data, rec->version, rec->check, NULL) != CC_OK)
        st = cc_error_set(err, CC_ECRYPTO,
                          "auto-unseal blob under %.200s: the key fails the master key's integrity check (refused)",
                          it.kms_key_arn);
    else
        memcpy(master, pt.data, CC_MASTER_KEY_LEN);
    cc_kms_bytes_free(&pt);
    return st;
}

cc_status cc_autounseal_store(const cc_dynamodb *ddb, const char *table, const cc_kms *kms, const char *kms_key_arn,
                              const uint8_t master[CC_MASTER_KEY_LEN], uint32_t version, int force, int *written,
                              cc_error *err)
{
    *written = 0;
    if (!kms_key_arn || !*kms_key_arn || strlen(kms_key_arn) > CC_STATE_ARN_MAX)
        return cc_error_set(err, CC_ECONFIG, "tee.auto_unseal.kms_key_arn: empty or longer than %d characters",
                            CC_STATE_ARN_MAX);
    au_item it;
    int found = 0;
    cc_status st = au_load(ddb, table, &it, &found, err);
    if (st != CC_OK && st != CC_EINVAL) /* a malformed item is replaced */
        return st;
    if (found) {
        int same = it.version == version && strcmp(it.kms_key_arn, kms_key_arn) == 0;
        free(it.blob);
        if (same && !force)
            return CC_OK;
    }
    json_t *ctx = cc_autounseal_context(version);
    cc_kms_bytes blob = {0};
    st = ctx ? cc_kms_encrypt(kms, kms_key_arn, master, CC_MASTER_KEY_LEN, ctx, &blob, err)
             : cc_error_set(err, CC_ENOMEM, "out of memory");
    json_decref(ctx);
    if (st != CC_OK)
        return cc_error_prefix(err, "tee.auto_unseal.kms_key_arn (%.200s)", kms_key_arn);
    char *b64 = NULL;
    size_t cap = 0;
    st = cc_aws_b64_encode(blob.data, blob.len, 0, &b64, &cap, err);
    cc_kms_bytes_free(&blob);
    if (st != CC_OK)
        return st;
    char v[16], now[32];
    snprintf(v, sizeof v, "%u", (unsigned)version);
    cc_state_now(now);
    json_t *item = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "pk", "S", CC_AUTOUNSEAL_PK,
                             "kms_key_arn", "S", kms_key_arn, "version", "N", v, "blob", "B", b64, "updated_at", "S",
                             now);
    json_t *names = json_pack("{s:s, s:s}", "#k", "pk", "#v", "version");
    json_t *values = json_pack("{s:{s:s}}", ":v", "N", v);
    free(b64);
    if (!item || !names || !values)
        st = cc_error_set(err, CC_ENOMEM, "out of memory");
    else
        st = cc_dynamodb_put_item(ddb, table, item, "attribute_not_exists(#k) OR #v <= :v", names, values, NULL, err);
    json_decref(item);
    json_decref(names);
    json_decref(values);
    if (st == CC_ECONFLICT)
        return cc_error_set(err, CC_ECONFLICT, "signer state table %s: a newer auto-unseal blob is already stored",
                            table);
    if (st == CC_OK)
        *written = 1;
    return st;
}
