/*
 * sigv4.h — AWS Signature Version 4 request signing (header form).
 *
 * Every call to AWS (DynamoDB, KMS, STS) carries an Authorization header that
 * proves knowledge of the secret access key without sending it:
 *
 *   canonical request  METHOD \n path \n query \n (name:value\n)* \n signed-headers \n hex(sha256(body))
 *   string to sign     "AWS4-HMAC-SHA256" \n amz-date \n scope \n hex(sha256(canonical request))
 *   signing key        HMAC chain "AWS4"+secret → date → region → service → "aws4_request"
 *   Authorization      AWS4-HMAC-SHA256 Credential=AKID/scope, SignedHeaders=…, Signature=…
 *
 * The rules are the non-S3 ones (AWS's aws-sig-v4-test-suite): the path is
 * normalised (".", ".." and empty segments removed) and percent-encoded as it
 * stands on the wire, so an already-encoded "%20" is encoded again to "%2520",
 * as botocore does; query parameters are percent-encoded (existing %XX kept)
 * and sorted by name then value; header names are lower-cased, values trimmed
 * with inner runs of spaces folded to one, headers sorted by name, and
 * repeated headers joined with "," in the order given.
 *
 * The signer signs every header it is given and adds none itself: the caller
 * includes host, x-amz-date and, for temporary credentials,
 * x-amz-security-token (cc_sigv4_sign writes none of them).  Nothing here
 * allocates secret-dependent state outside the stack, and the derived keys are
 * wiped before return.
 */
#ifndef CC_AWS_SIGV4_H
#define CC_AWS_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "util/err.h"

typedef struct cc_sigv4_header {
    const char *name;
    const char *value;
} cc_sigv4_header;

/* One HTTP request as it will be sent. */
typedef struct cc_sigv4_request {
    const char *method;              /* "POST" */
    const char *path;                /* request path as on the wire, e.g. "/" */
    const char *query;               /* after the '?', without it; NULL or "" for none */
    const cc_sigv4_header *headers;  /* every header to sign (host and x-amz-date included) */
    size_t header_count;
    const void *body;                /* NULL allowed when body_len is 0 */
    size_t body_len;
} cc_sigv4_request;

/* Who signs, when, and for which service. */
typedef struct cc_sigv4_params {
    const char *access_key_id;
    const char *secret_access_key;
    const char *amz_date;            /* YYYYMMDDTHHMMSSZ, equal to the x-amz-date header */
    const char *region;              /* "us-east-1" */
    const char *service;             /* "dynamodb", "kms", "sts" */
} cc_sigv4_params;

/* What a signature produced; every string is malloc'ed (cc_sigv4_result_free). */
typedef struct cc_sigv4_result {
    char *canonical_request;
    char *string_to_sign;
    char *signed_headers;            /* "host;x-amz-date" */
    char *authorization;             /* the Authorization header's value */
} cc_sigv4_result;

/* Formats t (UTC) as YYYYMMDDTHHMMSSZ into out[17]. */
void cc_sigv4_amz_date(time_t t, char out[17]);

/* The canonical request (malloc'ed) and its signed-header list (malloc'ed; may be NULL). */
cc_status cc_sigv4_canonical_request(const cc_sigv4_request *req, char **creq, char **signed_headers,
                                     cc_error *err);

/* The string to sign for a canonical request (malloc'ed). */
cc_status cc_sigv4_string_to_sign(const cc_sigv4_params *p, const char *canonical_request, char **sts,
                                  cc_error *err);

/* hex(HMAC(signing key, string_to_sign)) into hex[65]. */
cc_status cc_sigv4_signature_hex(const cc_sigv4_params *p, const char *string_to_sign, char hex[65],
                                 cc_error *err);

/* All of the above: fills out (cc_sigv4_result_free it, also after a failure). */
cc_status cc_sigv4_sign(const cc_sigv4_request *req, const cc_sigv4_params *p, cc_sigv4_result *out,
                        cc_error *err);

void cc_sigv4_result_free(cc_sigv4_result *r);

#endif
