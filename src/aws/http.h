/*
 * http.h — the one HTTP layer every AWS call goes through (libcurl).
 *
 * Two levels:
 *
 *   cc_aws_http_send   one plain HTTP exchange, no signing, no retry: the
 *                      credential providers use it for IMDS, STS and the
 *                      container endpoint.
 *   cc_aws_json_call   one AWS JSON-protocol operation (DynamoDB JSON 1.0,
 *                      KMS JSON 1.1): signs with SigV4 using the service's
 *                      credential provider, sends, and retries with
 *                      full-jitter exponential back-off on transport errors,
 *                      5xx and throttling errors, never on other 4xx (a
 *                      ConditionalCheckFailedException is an answer).
 *
 * The client keeps a small pool of curl handles so that connections (and TLS
 * sessions) are reused across calls and threads; it is thread-safe.
 *
 * AWS errors come back as {"__type":"<ns>#Name","message":"…"}; the name
 * (after '#') is kept in cc_aws_result.aws_error and the cc_error message
 * names the service, the operation and the error:
 *
 *     dynamodb PutItem: ConditionalCheckFailedException: The conditional request failed
 *
 * Beware: a retried request after a transport error may have been applied the
 * first time (AWS SDKs do the same); a conditional write then fails with
 * ConditionalCheckFailedException on the retry although it succeeded.
 */
#ifndef CC_AWS_HTTP_H
#define CC_AWS_HTTP_H

#include <stddef.h>

#include <jansson.h>

#include "aws/credentials.h"
#include "util/err.h"

typedef struct cc_aws_http_options {
    long connect_timeout_ms; /* [2000] */
    long timeout_ms;         /* one attempt, whole exchange [10000] */
    unsigned max_attempts;   /* including the first [4] */
    unsigned base_delay_ms;  /* back-off base: attempt n sleeps up to base·2^n [50] */
    unsigned max_delay_ms;   /* back-off ceiling [2000] */
    unsigned pool_size;      /* idle curl handles kept [8] */
} cc_aws_http_options;

/* The defaults above. */
void cc_aws_http_options_default(cc_aws_http_options *o);

typedef struct cc_aws_http cc_aws_http;

/* opt NULL = defaults.  Free with cc_aws_http_free. */
cc_status cc_aws_http_new(const cc_aws_http_options *opt, cc_aws_http **out, cc_error *err);
void cc_aws_http_free(cc_aws_http *h);
const cc_aws_http_options *cc_aws_http_options_of(const cc_aws_http *h);

typedef struct cc_aws_http_request {
    const char *method;          /* "GET", "PUT", "POST" */
    const char *url;
    const char *const *headers;  /* "Name: value" lines */
    size_t header_count;
    const void *body;
    size_t body_len;
    long connect_timeout_ms;     /* 0 = the client's */
    long timeout_ms;             /* 0 = the client's */
} cc_aws_http_request;

/* The body is NUL-terminated and kept in memory that is wiped when freed. */
typedef struct cc_aws_http_response {
    long status;
    char *body;
    size_t body_len;
    size_t body_cap;
} cc_aws_http_response;

/*
 * One exchange.  CC_OK with resp->status set whenever an HTTP answer came
 * back (any status); CC_EIO (refused, reset) or CC_EUNAVAILABLE (timed out)
 * when none did, naming the URL.  Free resp with cc_aws_http_response_free.
 */
cc_status cc_aws_http_send(cc_aws_http *h, const cc_aws_http_request *req, cc_aws_http_response *resp,
                           cc_error *err);
void cc_aws_http_response_free(cc_aws_http_response *r);

/* Sleeps a full-jitter back-off before attempt `retry` (1 = first retry). */
void cc_aws_http_backoff(const cc_aws_http *h, unsigned retry);

/* ---------------------------------------------------------------- signed JSON calls */

/* One AWS service endpoint, as the service clients (dynamodb.c, kms.c) set it up. */
typedef struct cc_aws_service {
    cc_aws_http *http;
    cc_aws_credentials_provider *creds;
    char service[32];        /* signing name and error prefix: "dynamodb", "kms" */
    char region[64];
    char endpoint[1024];     /* "https://dynamodb.us-east-1.amazonaws.com" or an override */
    char target_prefix[64];  /* "DynamoDB_20120810", "TrentService" */
    char content_type[64];   /* "application/x-amz-json-1.0" */
} cc_aws_service;

/*
 * Fills svc.  endpoint_override NULL or "" = https://<service>.<region>.amazonaws.com;
 * region NULL or "" = cc_aws_region_default.
 */
cc_status cc_aws_service_init(cc_aws_service *svc, cc_aws_http *http, cc_aws_credentials_provider *creds,
                              const char *service, const char *region, const char *endpoint_override,
                              const char *target_prefix, const char *content_type, cc_error *err);

/* AWS_REGION, else AWS_DEFAULT_REGION, else "us-east-1" (into out[64]). */
void cc_aws_region_default(char out[64]);

typedef struct cc_aws_result {
    long http_status;        /* of the last attempt; 0 if none answered */
    unsigned attempts;
    char aws_error[128];     /* e.g. "ConditionalCheckFailedException"; "" on success */
    char *body;              /* the last answer's body (wiped memory); NULL if none */
    size_t body_len;
    size_t body_cap;
} cc_aws_result;

/*
 * Signs and sends `<target_prefix>.<operation>` with the JSON body, retrying
 * as above.  CC_OK only for HTTP 2xx (res->body holds the JSON answer).  On an
 * AWS error: CC_ECONFLICT (ConditionalCheckFailedException,
 * TransactionCanceledException), CC_ENOTFOUND (ResourceNotFoundException,
 * NotFoundException), CC_EFORBIDDEN (access denied, bad or expired
 * credentials), CC_ECRYPTO (InvalidCiphertextException, IncorrectKeyException),
 * CC_EUNAVAILABLE (throttling or 5xx after the last attempt), CC_EIO (others).
 * Free res with cc_aws_result_free in every case.
 */
cc_status cc_aws_json_call(const cc_aws_service *svc, const char *operation, const char *body, size_t body_len,
                           cc_aws_result *res, cc_error *err);
void cc_aws_result_free(cc_aws_result *res);

/* What a call ended with, for callers that branch on the AWS error. */
typedef struct cc_aws_call_info {
    long http_status;
    unsigned attempts;
    char aws_error[128];     /* "" on success or when no AWS error came back */
} cc_aws_call_info;

/*
 * cc_aws_json_call with jansson values: request is serialised (and the text
 * wiped after sending, as it may carry plaintext); on CC_OK *response is the
 * parsed answer (caller json_decref's it; cc_aws_json_wipe first if it holds
 * secrets).  info may be NULL.
 */
cc_status cc_aws_json_request(const cc_aws_service *svc, const char *operation, json_t *request, json_t **response,
                              cc_aws_call_info *info, cc_error *err);

/*
 * Decodes an AWS JSON error body: the name after '#' in __type (or "code"),
 * and message/Message.  Returns 0 if a name was found.
 */
int cc_aws_parse_json_error(const char *body, size_t len, char *name, size_t name_cap, char *message,
                            size_t message_cap);

/* 1 if an AWS error name is a throttling error that is retried. */
int cc_aws_error_is_throttling(const char *name);

/* Wipes every string inside j (before json_decref of an answer that held secrets). */
void cc_aws_json_wipe(json_t *j);

#endif
