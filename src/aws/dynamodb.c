/*
 * dynamodb.c — DynamoDB JSON 1.0 requests over aws/http (see dynamodb.h).
 */
#include "aws/dynamodb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#define TARGET "DynamoDB_20120810"
#define CONTENT_TYPE "application/x-amz-json-1.0"

cc_status cc_dynamodb_init(cc_dynamodb *db, cc_aws_http *http, cc_aws_credentials_provider *creds,
                           const char *region, const char *endpoint, cc_error *err)
{
    return cc_aws_service_init(&db->svc, http, creds, "dynamodb", region, endpoint, TARGET, CONTENT_TYPE, err);
}

cc_status cc_dynamodb_call_info(const cc_dynamodb *db, const char *operation, json_t *request, json_t **response,
                                cc_aws_call_info *info, cc_error *err)
{
    return cc_aws_json_request(&db->svc, operation, request, response, info, err);
}

cc_status cc_dynamodb_call(const cc_dynamodb *db, const char *operation, json_t *request, json_t **response,
                           cc_error *err)
{
    return cc_aws_json_request(&db->svc, operation, request, response, NULL, err);
}

/* Sends req (consumed) and drops the answer unless wanted. */
static cc_status ddb_send(const cc_dynamodb *db, const char *op, json_t *req, json_t **resp, cc_aws_call_info *info,
                      cc_error *err)
{
    json_t *r = NULL;
    cc_status st = req ? cc_dynamodb_call_info(db, op, req, &r, info, err)
                       : cc_error_set(err, CC_ENOMEM, "dynamodb %s: out of memory", op);
    json_decref(req);
    if (resp)
        *resp = r;
    else
        json_decref(r);
    return st;
}

/* Adds the optional expression parts to req. */
static void add_expr(json_t *req, const char *key, const char *expr, json_t *names, json_t *values)
{
    if (expr)
        json_object_set_new(req, key, json_string(expr));
    if (names)
        json_object_set(req, "ExpressionAttributeNames", names);
    if (values)
        json_object_set(req, "ExpressionAttributeValues", values);
}

cc_status cc_dynamodb_create_table(const cc_dynamodb *db, const char *table, const char *hash_key,
                                   const char *hash_type, const char *range_key, const char *range_type,
                                   cc_error *err)
{
    json_t *attrs = json_pack("[{s:s, s:s}]", "AttributeName", hash_key, "AttributeType", hash_type);
    json_t *schema = json_pack("[{s:s, s:s}]", "AttributeName", hash_key, "KeyType", "HASH");
    if (range_key && attrs && schema) {
        json_array_append_new(attrs, json_pack("{s:s, s:s}", "AttributeName", range_key, "AttributeType",
                                               range_type ? range_type : "S"));
        json_array_append_new(schema, json_pack("{s:s, s:s}", "AttributeName", range_key, "KeyType", "RANGE"));
    }
    json_t *req = json_pack("{s:s, s:o?, s:o?, s:s}", "TableName", table, "AttributeDefinitions", attrs,
                            "KeySchema", schema, "BillingMode", "PAY_PER_REQUEST");
    cc_aws_call_info info;
    cc_status st = ddb_send(db, "CreateTable", req, NULL, &info, err);
    if (st != CC_OK && strcmp(info.aws_error, "ResourceInUseException") == 0 && err)
        err->code = st = CC_ECONFLICT;
    return st;
}

cc_status cc_dynamodb_create_table_indexed(const cc_dynamodb *db, const char *table, json_t *attribute_definitions,
                                           json_t *key_schema, json_t *global_secondary_indexes, cc_error *err)
{
    json_t *req = json_pack("{s:s, s:O, s:O, s:s}", "TableName", table, "AttributeDefinitions",
                            attribute_definitions, "KeySchema", key_schema, "BillingMode", "PAY_PER_REQUEST");
    if (req && global_secondary_indexes)
        json_object_set(req, "GlobalSecondaryIndexes", global_secondary_indexes);
    cc_aws_call_info info;
    cc_status st = ddb_send(db, "CreateTable", req, NULL, &info, err);
    if (st != CC_OK && strcmp(info.aws_error, "ResourceInUseException") == 0 && err)
        err->code = st = CC_ECONFLICT;
    return st;
}

/* The cancellation reasons of a TransactionCanceledException body: 1 = a condition failed (index in *at), 0 = other. */
static int cancel_reason(const char *body, size_t len, size_t *at, char *codes, size_t codes_cap)
{
    codes[0] = '\0';
    json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
    json_t *reasons = json_object_get(j, "CancellationReasons");
    int condition = 0;
    size_t i, n = 0;
    json_t *r;
    json_array_foreach(reasons, i, r) {
        const char *code = json_string_value(json_object_get(r, "Code"));
        if (!code)
            code = "?";
        int w = snprintf(codes + n, codes_cap - n, "%s%s", i ? ", " : "", code);
        if (w > 0 && (size_t)w < codes_cap - n)
            n += (size_t)w;
        if (!condition && strcmp(code, "ConditionalCheckFailed") == 0) {
            condition = 1;
            *at = i;
        }
    }
    /* AWS documents the CancellationReasons array as set only for its Java SDK;
     * the message always ends "... specific reasons [None, ConditionalCheckFailed]". */
    const char *msg = json_string_value(json_object_get(j, "message"));
    if (!msg)
        msg = json_string_value(json_object_get(j, "Message"));
    const char *open = !json_is_array(reasons) && msg ? strrchr(msg, '[') : NULL;
    for (i = 0; open && *open && *open != ']'; i++) {
        const char *code = open + 1;
        while (*code == ' ')
            code++;
        size_t clen = strcspn(code, ",]");
        int w = snprintf(codes + n, codes_cap - n, "%s%.*s", i ? ", " : "", (int)clen, code);
        if (w > 0 && (size_t)w < codes_cap - n)
            n += (size_t)w;
        if (!condition && clen == strlen("ConditionalCheckFailed") &&
            strncmp(code, "ConditionalCheckFailed", clen) == 0) {
            condition = 1;
            *at = i;
        }
        open = code + clen;
    }
    json_decref(j);
    return condition;
}

cc_status cc_dynamodb_transact_write(const cc_dynamodb *db, json_t *actions, size_t *failed_index, cc_error *err)
{
    uint8_t rnd[16];
    char token[33];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        return cc_error_set(err, CC_ECRYPTO, "dynamodb TransactWriteItems: the random generator failed");
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(token + 2 * i, 3, "%02x", rnd[i]);
    json_t *req = json_pack("{s:O, s:s}", "TransactItems", actions, "ClientRequestToken", token);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body)
        return cc_error_set(err, CC_ENOMEM, "dynamodb TransactWriteItems: out of memory");
    cc_aws_result res;
    cc_status st = cc_aws_json_call(&db->svc, "TransactWriteItems", body, strlen(body), &res, err);
    free(body);
    if (st != CC_OK && strcmp(res.aws_error, "TransactionCanceledException") == 0) {
        size_t at = 0;
        char codes[256];
        if (cancel_reason(res.body, res.body_len, &at, codes, sizeof codes)) {
            if (failed_index)
                *failed_index = at;
            st = cc_error_set(err, CC_ECONFLICT, "dynamodb TransactWriteItems: condition failed on action %zu", at);
        } else {
            st = cc_error_set(err, CC_EUNAVAILABLE,
                              "dynamodb TransactWriteItems: cancelled (reasons: %s); try again", codes);
        }
    }
    cc_aws_result_free(&res);
    return st;
}

cc_status cc_dynamodb_describe_table(const cc_dynamodb *db, const char *table, json_t **table_desc,
                                     char status[16], cc_error *err)
{
    if (table_desc)
        *table_desc = NULL;
    if (status)
        status[0] = '\0';
    json_t *resp;
    cc_status st = ddb_send(db, "DescribeTable", json_pack("{s:s}", "TableName", table), &resp, NULL, err);
    if (st != CC_OK)
        return st;
    json_t *t = json_object_get(resp, "Table");
    if (!json_is_object(t)) {
        json_decref(resp);
        return cc_error_set(err, CC_EIO, "dynamodb DescribeTable %s: answer has no Table", table);
    }
    if (status) {
        const char *ts = json_string_value(json_object_get(t, "TableStatus"));
        snprintf(status, 16, "%s", ts ? ts : "");
    }
    if (table_desc)
        *table_desc = json_incref(t);
    json_decref(resp);
    return CC_OK;
}

cc_status cc_dynamodb_wait_active(const cc_dynamodb *db, const char *table, unsigned timeout_ms, cc_error *err)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        char status[16];
        cc_status st = cc_dynamodb_describe_table(db, table, NULL, status, err);
        if (st != CC_OK)
            return st;
        if (strcmp(status, "ACTIVE") == 0)
            return CC_OK;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L;
        if (elapsed >= (long)timeout_ms)
            return cc_error_set(err, CC_EUNAVAILABLE, "dynamodb table %s: still %s after %u ms", table, status,
                                timeout_ms);
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

cc_status cc_dynamodb_put_item(const cc_dynamodb *db, const char *table, json_t *item, const char *condition,
                               json_t *names, json_t *values, cc_aws_call_info *info, cc_error *err)
{
    json_t *req = json_pack("{s:s, s:O}", "TableName", table, "Item", item);
    if (req)
        add_expr(req, "ConditionExpression", condition, names, values);
    return ddb_send(db, "PutItem", req, NULL, info, err);
}

cc_status cc_dynamodb_get_item(const cc_dynamodb *db, const char *table, json_t *key, int consistent,
                               json_t **item, cc_error *err)
{
    *item = NULL;
    json_t *resp;
    cc_status st = ddb_send(db, "GetItem",
                        json_pack("{s:s, s:O, s:b}", "TableName", table, "Key", key, "ConsistentRead", consistent),
                        &resp, NULL, err);
    if (st != CC_OK)
        return st;
    json_t *it = json_object_get(resp, "Item");
    if (json_is_object(it))
        *item = json_incref(it);
    json_decref(resp);
    return CC_OK;
}

cc_status cc_dynamodb_update_item(const cc_dynamodb *db, const char *table, json_t *key, const char *update,
                                  const char *condition, json_t *names, json_t *values, json_t **attributes,
                                  cc_aws_call_info *info, cc_error *err)
{
    if (attributes)
        *attributes = NULL;
    json_t *req = json_pack("{s:s, s:O, s:s, s:s}", "TableName", table, "Key", key, "UpdateExpression", update,
                            "ReturnValues", attributes ? "ALL_NEW" : "NONE");
    if (req)
        add_expr(req, "ConditionExpression", condition, names, values);
    json_t *resp;
    cc_status st = ddb_send(db, "UpdateItem", req, &resp, info, err);
    if (st == CC_OK && attributes) {
        json_t *a = json_object_get(resp, "Attributes");
        if (json_is_object(a))
            *attributes = json_incref(a);
    }
    json_decref(resp);
    return st;
}

cc_status cc_dynamodb_query(const cc_dynamodb *db, const char *table, const char *index, const char *key_condition,
                            json_t *names, json_t *values, int consistent, unsigned limit, json_t *start_key,
                            json_t **items, json_t **last_key, cc_error *err)
{
    *items = NULL;
    if (last_key)
        *last_key = NULL;
    json_t *req = json_pack("{s:s, s:b}", "TableName", table, "ConsistentRead", consistent);
    if (req) {
        add_expr(req, "KeyConditionExpression", key_condition, names, values);
        if (index)
            json_object_set_new(req, "IndexName", json_string(index));
        if (limit)
            json_object_set_new(req, "Limit", json_integer(limit));
        if (start_key)
            json_object_set(req, "ExclusiveStartKey", start_key);
    }
    json_t *resp;
    cc_status st = ddb_send(db, "Query", req, &resp, NULL, err);
    if (st != CC_OK)
        return st;
    json_t *its = json_object_get(resp, "Items");
    *items = json_is_array(its) ? json_incref(its) : json_array();
    json_t *lk = json_object_get(resp, "LastEvaluatedKey");
    if (last_key && json_is_object(lk))
        *last_key = json_incref(lk);
    json_decref(resp);
    return *items ? CC_OK : cc_error_set(err, CC_ENOMEM, "dynamodb Query: out of memory");
}
