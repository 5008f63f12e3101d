/*
 * dynamodb.h — a thin DynamoDB client (JSON 1.0 over the aws/http layer).
 *
 *     POST /   Content-Type: application/x-amz-json-1.0
 *              X-Amz-Target: DynamoDB_20120810.<Operation>
 *
 * cc_dynamodb_call sends any operation with a jansson request and returns
 * the jansson answer; the helpers below build the few requests the signer and
 * its tests use.  Items, keys and values are DynamoDB's typed JSON
 * ({"pk":{"S":"x"},"n":{"N":"42"}}); the helpers borrow the caller's values
 * (they never steal a reference).
 *
 * A failed condition is CC_ECONFLICT with aws_error
 * "ConditionalCheckFailedException" and is never retried: it is an answer.
 */
#ifndef CC_AWS_DYNAMODB_H
#define CC_AWS_DYNAMODB_H

#include <jansson.h>

#include "aws/http.h"

typedef struct cc_dynamodb {
    cc_aws_service svc;
} cc_dynamodb;

/* region / endpoint NULL or "" = defaults (aws.region, aws.endpoint_urls.dynamodb). http and creds are borrowed. */
cc_status cc_dynamodb_init(cc_dynamodb *db, cc_aws_http *http, cc_aws_credentials_provider *creds,
                           const char *region, const char *endpoint, cc_error *err);

/* Any operation.  info (may be NULL) receives the AWS error name of a failure. */
cc_status cc_dynamodb_call_info(const cc_dynamodb *db, const char *operation, json_t *request, json_t **response,
                                cc_aws_call_info *info, cc_error *err);
cc_status cc_dynamodb_call(const cc_dynamodb *db, const char *operation, json_t *request, json_t **response,
                           cc_error *err);

/*
 * CreateTable, on-demand billing, a hash key and an optional range key
 * (types "S", "N" or "B").  A table that already exists is CC_ECONFLICT
 * (ResourceInUseException).
 */
cc_status cc_dynamodb_create_table(const cc_dynamodb *db, const char *table, const char *hash_key,
                                   const char *hash_type, const char *range_key, const char *range_type,
                                   cc_error *err);

/*
 * CreateTable with the caller's AttributeDefinitions, KeySchema and
 * GlobalSecondaryIndexes (may be NULL; borrowed), on-demand billing.
 * CC_ECONFLICT when the table already exists.
 */
cc_status cc_dynamodb_create_table_indexed(const cc_dynamodb *db, const char *table, json_t *attribute_definitions,
                                           json_t *key_schema, json_t *global_secondary_indexes, cc_error *err);

/*
 * TransactWriteItems: actions (borrowed) is the TransactItems array
 * ({Put|Update|Delete|ConditionCheck: {...}}), applied all or nothing.  A
 * random ClientRequestToken makes the HTTP layer's retries idempotent.
 * Cancelled because a condition failed: CC_ECONFLICT and *failed_index (may
 * be NULL) = the first action whose reason is ConditionalCheckFailed;
 * cancelled by a concurrent transaction on the same items: CC_EUNAVAILABLE.
 */
cc_status cc_dynamodb_transact_write(const cc_dynamodb *db, json_t *actions, size_t *failed_index, cc_error *err);

/* DescribeTable: *table_desc (may be NULL) receives the "Table" object; *status "ACTIVE", … (16 bytes). */
cc_status cc_dynamodb_describe_table(const cc_dynamodb *db, const char *table, json_t **table_desc,
                                     char status[16], cc_error *err);

/* Polls DescribeTable until ACTIVE, at most timeout_ms. */
cc_status cc_dynamodb_wait_active(const cc_dynamodb *db, const char *table, unsigned timeout_ms, cc_error *err);

/*
 * PutItem; condition (may be NULL) is a ConditionExpression, names/values
 * (may be NULL) its ExpressionAttributeNames/Values.
 */
cc_status cc_dynamodb_put_item(const cc_dynamodb *db, const char *table, json_t *item, const char *condition,
                               json_t *names, json_t *values, cc_aws_call_info *info, cc_error *err);

/* GetItem (ConsistentRead if consistent): *item is the item or NULL when absent. */
cc_status cc_dynamodb_get_item(const cc_dynamodb *db, const char *table, json_t *key, int consistent,
                               json_t **item, cc_error *err);

/* UpdateItem; *attributes (may be NULL) receives the item after the update (ReturnValues ALL_NEW). */
cc_status cc_dynamodb_update_item(const cc_dynamodb *db, const char *table, json_t *key, const char *update,
                                  const char *condition, json_t *names, json_t *values, json_t **attributes,
                                  cc_aws_call_info *info, cc_error *err);

/*
 * One Query page: *items (array) and *last_key (NULL when this was the last
 * page; pass it back as start_key for the next).  index may be NULL; limit 0 =
 * no limit.
 */
cc_status cc_dynamodb_query(const cc_dynamodb *db, const char *table, const char *index, const char *key_condition,
                            json_t *names, json_t *values, int consistent, unsigned limit, json_t *start_key,
                            json_t **items, json_t **last_key, cc_error *err);

#endif
