/*
 * Tests for aws/http and aws/base64 without a network: AWS JSON error
 * decoding, which errors are retried, endpoints and regions, the back-off
 * bound, base64 strictness.  Retries over real sockets run in
 * tests/integration/aws_live.sh.
 */
#include "test.h"

#include <time.h>

#include "aws/base64.h"
#include "aws/http.h"
#include "util/secret.h"

TEST(json_error_decoding)
{
    char name[128], msg[256];
    const char *b1 = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\","
                     "\"message\":\"The conditional request failed\"}";
    CHECK(cc_aws_parse_json_error(b1, strlen(b1), name, sizeof name, msg, sizeof msg) == 0);
    CHECK_EQ_STR(name, "ConditionalCheckFailedException");
    CHECK_EQ_STR(msg, "The conditional request failed");
    const char *b2 = "{\"__type\":\"InvalidCiphertextException\",\"Message\":\"capital M\"}";
    CHECK(cc_aws_parse_json_error(b2, strlen(b2), name, sizeof name, msg, sizeof msg) == 0);
    CHECK_EQ_STR(name, "InvalidCiphertextException");
    CHECK_EQ_STR(msg, "capital M");
    const char *b3 = "{\"code\":\"ThrottlingException:http://internal.amazon.com/\"}";
    CHECK(cc_aws_parse_json_error(b3, strlen(b3), name, sizeof name, msg, sizeof msg) == 0);
    CHECK_EQ_STR(name, "ThrottlingException");
    CHECK_EQ_STR(msg, "");
    CHECK(cc_aws_parse_json_error("<html>", 6, name, sizeof name, msg, sizeof msg) != 0);
    CHECK(cc_aws_parse_json_error("{}", 2, name, sizeof name, msg, sizeof msg) != 0);
    CHECK(cc_aws_parse_json_error(NULL, 0, name, sizeof name, msg, sizeof msg) != 0);
}

TEST(retry_classification)
{
    CHECK(cc_aws_error_is_throttling("ThrottlingException"));
    CHECK(cc_aws_error_is_throttling("ProvisionedThroughputExceededException"));
    CHECK(cc_aws_error_is_throttling("RequestLimitExceeded"));
    CHECK(cc_aws_error_is_throttling("TooManyRequestsException"));
    CHECK(!cc_aws_error_is_throttling("ConditionalCheckFailedException"));
    CHECK(!cc_aws_error_is_throttling("ValidationException"));
    CHECK(!cc_aws_error_is_throttling("AccessDeniedException"));
}

TEST(endpoints_and_regions)
{
    cc_aws_http *http;
    CHECK(cc_aws_http_new(NULL, &http, NULL) == CC_OK);
    cc_aws_service s;
    cc_error err;
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    CHECK(cc_aws_service_init(&s, http, NULL, "dynamodb", NULL, NULL, "DynamoDB_20120810",
                              "application/x-amz-json-1.0", &err) == CC_OK);
    CHECK_EQ_STR(s.region, "us-east-1");
    CHECK_EQ_STR(s.endpoint, "https://dynamodb.us-east-1.amazonaws.com");
    setenv("AWS_DEFAULT_REGION", "eu-central-1", 1);
    CHECK(cc_aws_service_init(&s, http, NULL, "kms", "", "", "TrentService", "application/x-amz-json-1.1", &err) ==
          CC_OK);
    CHECK_EQ_STR(s.endpoint, "https://kms.eu-central-1.amazonaws.com");
    setenv("AWS_REGION", "ap-south-2", 1);
    CHECK(cc_aws_service_init(&s, http, NULL, "kms", NULL, "http://127.0.0.1:4566//", "TrentService",
                              "application/x-amz-json-1.1", &err) == CC_OK);
    CHECK_EQ_STR(s.region, "ap-south-2");
    CHECK_EQ_STR(s.endpoint, "http://127.0.0.1:4566");
    CHECK(cc_aws_service_init(&s, http, NULL, "kms", "us-west-2", "127.0.0.1:4566", "TrentService",
                              "application/x-amz-json-1.1", &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "aws.endpoint_urls.kms") != NULL);
    CHECK(cc_aws_service_init(&s, http, NULL, "kms", "us west", NULL, "TrentService", "application/x-amz-json-1.1",
                              &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "aws.region") != NULL);
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    cc_aws_http_free(http);
}

TEST(backoff_is_bounded)
{
    cc_aws_http_options o;
    cc_aws_http_options_default(&o);
    CHECK_EQ_INT(o.max_attempts, 4);
    o.base_delay_ms = 5;
    o.max_delay_ms = 20;
    cc_aws_http *http;
    CHECK(cc_aws_http_new(&o, &http, NULL) == CC_OK);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (unsigned i = 1; i <= 10; i++)
        cc_aws_http_backoff(http, i);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    CHECK_MSG(ms <= 10 * 20 + 50, "10 back-offs capped at 20 ms took %ld ms", ms);
    cc_aws_http_free(http);
    o.timeout_ms = 0;
    CHECK(cc_aws_http_new(&o, &http, NULL) == CC_ECONFIG);
}

TEST(base64_strict)
{
    const uint8_t in[] = {0, 1, 2, 0xfe, 0xff};
    char *b64;
    size_t cap;
    CHECK(cc_aws_b64_encode(in, sizeof in, 1, &b64, &cap, NULL) == CC_OK);
    CHECK_EQ_STR(b64, "AAEC/v8=");
    uint8_t *out;
    size_t len, ocap;
    CHECK(cc_aws_b64_decode(b64, strlen(b64), 1, "f", &out, &len, &ocap, NULL) == CC_OK);
    CHECK(len == sizeof in && memcmp(out, in, len) == 0);
    cc_secret_free(out, ocap);
    cc_secret_free(b64, cap);
    for (size_t n = 0; n <= sizeof in; n++) {
        CHECK(cc_aws_b64_encode(in, n, 0, &b64, &cap, NULL) == CC_OK);
        CHECK(cc_aws_b64_decode(b64, strlen(b64), 0, "f", &out, &len, &ocap, NULL) == CC_OK);
        CHECK(len == n && (n == 0 || memcmp(out, in, n) == 0));
        free(out);
        free(b64);
    }
    cc_error err;
    CHECK(cc_aws_b64_decode("AAE", 3, 0, "CiphertextBlob", &out, &len, &ocap, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "CiphertextBlob") != NULL);
    CHECK(cc_aws_b64_decode("AA=C", 4, 0, "f", &out, &len, &ocap, &err) == CC_EINVAL);
    CHECK(cc_aws_b64_decode("AA C", 4, 0, "f", &out, &len, &ocap, &err) == CC_EINVAL);
    CHECK(cc_aws_b64_decode("A===", 4, 0, "f", &out, &len, &ocap, &err) == CC_EINVAL);
}

TEST(json_wipe)
{
    json_t *j = json_pack("{s:s, s:[s, {s:s}]}", "Plaintext", "c2VjcmV0", "a", "x", "k", "yy");
    cc_aws_json_wipe(j);
    const char *p = json_string_value(json_object_get(j, "Plaintext"));
    CHECK(p && p[0] == 0 && p[7] == 0);
    json_decref(j);
}

TEST(send_reports_unreachable)
{
    cc_aws_http_options o;
    cc_aws_http_options_default(&o);
    o.connect_timeout_ms = 500;
    cc_aws_http *http;
    CHECK(cc_aws_http_new(&o, &http, NULL) == CC_OK);
    cc_aws_http_request req = {"GET", "http://127.0.0.1:1/secret?token=abc", NULL, 0, NULL, 0, 0, 0};
    cc_aws_http_response resp;
    cc_error err;
    CHECK(cc_aws_http_send(http, &req, &resp, &err) == CC_EIO);
    CHECK(strstr(err.msg, "http://127.0.0.1:1/secret") && !strstr(err.msg, "token=abc"));
    cc_aws_http_free(http);
}

int main(void)
{
    RUN(json_error_decoding);
    RUN(retry_classification);
    RUN(endpoints_and_regions);
    RUN(backoff_is_bounded);
    RUN(base64_strict);
    RUN(json_wipe);
    RUN(send_reports_unreachable);
    TEST_MAIN_END();
}
