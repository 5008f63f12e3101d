/*
 * state.c — the signer state item in DynamoDB (state.h): encoding, the
 * table's creation, the consistent read and the conditional first write.
 */
#include "chamber/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/base64.h"

#define ACTIVE_TIMEOUT_MS 60000

void cc_state_record_clear(cc_state_record *r)
{
    if (!r)
        return;
    for (unsigned i = 0; i < CC_STATE_MAX_SHARES; i++) {
        free(r->shares[i].blob);
        r->shares[i].blob = NULL;
        r->shares[i].blob_len = 0;
    }
}

void cc_state_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_t *cc_state_share_context(unsigned index, uint32_t version)
{
    char i[16], v[16];
    snprintf(i, sizeof i, "%u", index);
    snprintf(v, sizeof v, "%u", (unsigned)version);
    return json_pack("{s:s, s:s}", "containment-chamber:share", i, "containment-chamber:version", v);
}

static json_t *b64_attr(const uint8_t *data, size_t len, cc_error *err)
{
    char *s = NULL;
    size_t cap = 0;
    if (cc_aws_b64_encode(data, len, 0, &s, &cap, err) != CC_OK)
        return NULL;
    json_t *v = json_pack("{s:s}", "B", s);
    free(s);
    return v;
}

cc_status cc_state_record_to_item(const cc_state_record *r, json_t **item, cc_error *err)
{
    *item = NULL;
    char n[16], v[16];
    snprintf(n, sizeof n, "%u", r->threshold);
    snprintf(v, sizeof v, "%u", (unsigned)r->version);
    json_t *it = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "pk", "S", CC_STATE_PK, "mode",
                           "S", r->mode, "threshold", "N", n, "version", "N", v, "created_at", "S", r->created_at,
                           "updated_at", "S", r->updated_at);
    json_t *list = json_array();
    json_t *check = b64_attr(r->check, sizeof r->check, err);
    if (!it || !list || !check)
        goto oom;
    json_object_set_new(it, "check", check);
    check = NULL;
    for (unsigned i = 0; i < r->share_count; i++) {
        const cc_state_share *s = &r->shares[i];
        char idx[8];
        snprintf(idx, sizeof idx, "%u", (unsigned)s->index);
        json_t *blob = b64_attr(s->blob, s->blob_len, err);
        json_t *m = blob ? json_pack("{s:{s:{s:s}, s:{s:s}, s:o}}", "M", "index", "N", idx, "kms_key_arn", "S",
                                     s->kms_key_arn, "blob", blob)
                         : NULL;
        if (!m || json_array_append_new(list, m) != 0)
            goto oom;
    }
    json_object_set_new(it, "shares", json_pack("{s:o}", "L", list));
    if (strcmp(r->mode, "quorum") == 0 && cc_quorum_to_item(&r->quorum, it, err) != CC_OK) { /* operator quorum */
        json_decref(it);
        return err ? err->code : CC_ENOMEM;
    }
    *item = it;
    return CC_OK;
oom:
    json_decref(it);
    json_decref(list);
    json_decref(check);
    return cc_error_set(err, CC_ENOMEM, "signer state: out of memory encoding the item");
}

static const char *attr_s(json_t *obj, const char *name, const char *type)
{
    return json_string_value(json_object_get(json_object_get(obj, name), type));
}

static cc_status attr_u32(json_t *obj, const char *name, uint32_t lo, uint32_t hi, uint32_t *out, cc_error *err)
{
    const char *s = attr_s(obj, name, "N");
    char *end = NULL;
    unsigned long long x = s ? strtoull(s, &end, 10) : 0;
    if (!s || !*s || *end || x < lo || x > hi)
        return cc_error_set(err, CC_EINVAL, "signer state item: attribute %s is missing or not a number in %u..%u",
                            name, (unsigned)lo, (unsigned)hi);
    *out = (uint32_t)x;
    return CC_OK;
}

static cc_status attr_b(json_t *obj, const char *name, uint8_t **out, size_t *len, cc_error *err)
{
    const char *s = attr_s(obj, name, "B");
    if (!s)
        return cc_error_set(err, CC_EINVAL, "signer state item: attribute %s is missing or not binary", name);
    size_t cap = 0;
    return cc_aws_b64_decode(s, strlen(s), 0, name, out, len, &cap, err);
}

cc_status cc_state_record_from_item(json_t *item, cc_state_record *r, cc_error *err)
{
    memset(r, 0, sizeof *r);
    const char *pk = attr_s(item, "pk", "S"), *mode = attr_s(item, "mode", "S");
    if (!pk || strcmp(pk, CC_STATE_PK) != 0)
        return cc_error_set(err, CC_EINVAL, "signer state item: pk is not \"%s\"", CC_STATE_PK);
    if (!mode || strlen(mode) >= sizeof r->mode)
        return cc_error_set(err, CC_EINVAL, "signer state item: attribute mode is missing or too long");
    strcpy(r->mode, mode);
    uint32_t thr = 0;
    cc_status st;
    if ((st = attr_u32(item, "threshold", 1, CC_STATE_MAX_SHARES, &thr, err)) != CC_OK ||
        (st = attr_u32(item, "version", 1, UINT32_MAX, &r->version, err)) != CC_OK)
        return st;
    r->threshold = thr;
    uint8_t *check = NULL;
    size_t check_len = 0;
    if ((st = attr_b(item, "check", &check, &check_len, err)) != CC_OK)
        return st;
    if (check_len != CC_MASTER_CHECK_LEN) {
        free(check);
        return cc_error_set(err, CC_EINVAL, "signer state item: check is %zu bytes, not %d", check_len,
                            CC_MASTER_CHECK_LEN);
    }
    memcpy(r->check, check, sizeof r->check);
    free(check);
    const char *c = attr_s(item, "created_at", "S"), *u = attr_s(item, "updated_at", "S");
    snprintf(r->created_at, sizeof r->created_at, "%s", c ? c : "");
    snprintf(r->updated_at, sizeof r->updated_at, "%s", u ? u : "");

    json_t *list = json_object_get(json_object_get(item, "shares"), "L");
    size_t n = json_array_size(list);
    if (!json_is_array(list) || n < r->threshold || n > CC_STATE_MAX_SHARES)
        return cc_error_set(err, CC_EINVAL, "signer state item: shares must list threshold (%u) to %d entries, not %zu",
                            r->threshold, CC_STATE_MAX_SHARES, n);
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_object_get(json_array_get(list, i), "M");
        cc_state_share *s = &r->shares[i];
        uint32_t idx = 0;
        const char *arn = attr_s(m, "kms_key_arn", "S");
        if ((st = attr_u32(m, "index", 1, 255, &idx, err)) != CC_OK)
            goto bad;
        if (!arn || !*arn || strlen(arn) > CC_STATE_ARN_MAX) {
            st = cc_error_set(err, CC_EINVAL, "signer state item: kms_key_arn is missing or too long");
            goto bad;
        }
        for (size_t j = 0; j < i; j++)
            if (r->shares[j].index == idx) {
                st = cc_error_set(err, CC_EINVAL, "signer state item: share index %u appears twice", (unsigned)idx);
                goto bad;
            }
        s->index = (uint8_t)idx;
        strcpy(s->kms_key_arn, arn);
        if ((st = attr_b(m, "blob", &s->blob, &s->blob_len, err)) != CC_OK)
            goto bad;
        r->share_count = (unsigned)i + 1;
        continue;
    bad:
        cc_error_prefix(err, "shares[%zu]", i);
        cc_state_record_clear(r);
        return st;
    }
    /* operator quorum: the q_* attributes */
    if (strcmp(r->mode, "quorum") == 0 && (st = cc_quorum_from_item(item, &r->quorum, err)) != CC_OK) {
        cc_state_record_clear(r);
        return st;
    }
    return CC_OK;
}

static int schema_ok(json_t *desc)
{
    json_t *ks = json_object_get(desc, "KeySchema"), *ad = json_object_get(desc, "AttributeDefinitions");
    if (json_array_size(ks) != 1)
        return 0;
    json_t *e = json_array_get(ks, 0);
    const char *name = json_string_value(json_object_get(e, "AttributeName"));
    const char *type = json_string_value(json_object_get(e, "KeyType"));
    if (!name || !type || strcmp(name, "pk") != 0 || strcmp(type, "HASH") != 0)
        return 0;
    size_t j;
    json_t *d;
    json_array_foreach(ad, j, d) {
        const char *an = json_string_value(json_object_get(d, "AttributeName"));
        const char *at = json_string_value(json_object_get(d, "AttributeType"));
        if (an && at && strcmp(an, "pk") == 0 && strcmp(at, "S") == 0)
            return 1;
    }
    return 0;
}

static cc_status check_schema(const cc_dynamodb *ddb, const char *table, cc_error *err)
{
    json_t *desc = NULL;
    char status[16];
    cc_status st = cc_dynamodb_describe_table(ddb, table, &desc, status, err);
    if (st != CC_OK)
        return st;
    int ok = schema_ok(desc);
    json_decref(desc);
    if (!ok)
        return cc_error_set(err, CC_ECONFIG,
                            "dynamodb table %s: wrong key schema for the signer state table (want partition key pk (S) "
                            "and no sort key)", table);
    return CC_OK;
}

cc_status cc_state_create_table(const cc_dynamodb *ddb, const char *table, int *created, cc_error *err)
{
    if (created)
        *created = 0;
    cc_status st = check_schema(ddb, table, err);
    if (st == CC_ENOTFOUND) {
        st = cc_dynamodb_create_table(ddb, table, "pk", "S", NULL, NULL, err);
        if (st == CC_OK && created)
            *created = 1;
        if (st == CC_ECONFLICT) /* created by someone else meanwhile */
            st = check_schema(ddb, table, err);
        if (st != CC_OK)
            return st;
    } else if (st != CC_OK) {
        return st;
    }
    if ((st = cc_dynamodb_wait_active(ddb, table, ACTIVE_TIMEOUT_MS, err)) != CC_OK)
        return st;
    return check_schema(ddb, table, err);
}

cc_status cc_state_load(const cc_dynamodb *ddb, const char *table, cc_state_record *r, int *found, cc_error *err)
{
    *found = 0;
    json_t *key = json_pack("{s:{s:s}}", "pk", "S", CC_STATE_PK), *item = NULL;
    if (!key)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    cc_status st = cc_dynamodb_get_item(ddb, table, key, 1, &item, err);
    json_decref(key);
    if (st != CC_OK)
        return st;
    if (!item)
        return CC_OK;
    st = cc_state_record_from_item(item, r, err);
    json_decref(item);
    if (st != CC_OK)
        return cc_error_prefix(err, "signer state table %s", table);
    *found = 1;
    return CC_OK;
}

cc_status cc_state_put_initial(const cc_dynamodb *ddb, const char *table, const cc_state_record *r, cc_error *err)
{
    json_t *item = NULL;
    cc_status st = cc_state_record_to_item(r, &item, err);
    if (st != CC_OK)
        return st;
    json_t *names = json_pack("{s:s}", "#k", "pk");
    st = names ? cc_dynamodb_put_item(ddb, table, item, "attribute_not_exists(#k)", names, NULL, NULL, err)
               : cc_error_set(err, CC_ENOMEM, "out of memory");
    json_decref(item);
    json_decref(names);
    if (st == CC_ECONFLICT)
        return cc_error_set(err, CC_ECONFLICT, "the signer state in table %s was initialised by another replica first",
                            table);
    return st;
}

cc_status cc_state_check_arns(const char *const *arns, size_t n, unsigned threshold, cc_error *err)
{
    if (n < 1 || n > CC_STATE_MAX_SHARES)
        return cc_error_set(err, CC_EINVAL, "kms_key_arns: need 1 to %d KMS keys, not %zu", CC_STATE_MAX_SHARES, n);
    if (threshold < 1 || threshold > n)
        return cc_error_set(err, CC_EINVAL, "kms_threshold: %u is not between 1 and the number of keys (%zu)",
                            threshold, n);
    for (size_t i = 0; i < n; i++) {
        if (!arns[i] || !*arns[i] || strlen(arns[i]) > CC_STATE_ARN_MAX)
            return cc_error_set(err, CC_EINVAL, "kms_key_arns[%zu]: empty or longer than %d characters", i,
                                CC_STATE_ARN_MAX);
        for (size_t j = 0; j < i; j++)
            if (strcmp(arns[i], arns[j]) == 0)
                return cc_error_set(err, CC_EINVAL, "kms_key_arns[%zu]: %.200s is listed twice", i, arns[i]);
    }
    return CC_OK;
}
