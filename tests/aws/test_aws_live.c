/*
 * src/aws over real sockets, against the stand-ins of
 * tests/integration/aws_live.sh (which sets the variables below):
 *
 *   CC_AWS_STANDIN   http://127.0.0.1:P — tests/integration/aws_standins.mjs
 *                    (STS, Pod Identity, IMDSv2, a flaky JSON service, a KMS shape)
 *   CC_AWS_DYNALITE  http://127.0.0.1:Q — dynalite 4.0.0
 *   CC_AWS_WORK      a scratch directory (token files)
 *
 * Run on its own (tests/run.sh runs every test binary) it has nothing to talk
 * to and reports "0 passed, 0 failed"; the integration script is what runs it.
 */
#include "test.h"

#include <time.h>
#include <unistd.h>

#include "aws/credentials.h"
#include "aws/dynamodb.h"
#include "aws/http.h"
#include "aws/kms.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static const char *standin, *dynalite, *work;
static cc_aws_http *http;

static void clear_aws_env(void)
{
    const char *vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                          "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
                          "AWS_ENDPOINT_URL_STS", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_EC2_METADATA_SERVICE_ENDPOINT", NULL};
    for (int i = 0; vars[i]; i++)
        unsetenv(vars[i]);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* GET /stats of the stand-in. */
static json_t *stats(void)
{
    char url[512];
    snprintf(url, sizeof url, "%s/stats", standin);
    cc_aws_http_request req = {"GET", url, NULL, 0, NULL, 0, 0, 0};
    cc_aws_http_response resp;
    if (cc_aws_http_send(http, &req, &resp, NULL) != CC_OK)
        return NULL;
    json_t *j = json_loadb(resp.body, resp.body_len, 0, NULL);
    cc_aws_http_response_free(&resp);
    return j;
}

static long stat_int(const char *key)
{
    json_t *s = stats();
    long v = (long)json_integer_value(json_object_get(s, key));
    json_decref(s);
    return v;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- credentials */

/*
 * The default chain with short-lived credentials (the stand-ins answer with a lifetime of STS_TTL = 4 s):
 * two gets are one fetch (the second is cached), a get after the half-life (2 s) fetches new keys.
 * stat_key counts the stand-in's fetches. Returns the first credentials for the caller's own checks.
 */
static cc_aws_credentials *chain_fetches_then_refreshes(const char *stat_key, const char *source,
                                                         const char *akid_prefix)
{
    long before = stat_int(stat_key);
    cc_aws_credentials_provider *p;
    cc_error err;
    CHECK(cc_aws_credentials_default_new(http, "us-east-1", NULL, &p, &err) == CC_OK);
    cc_aws_credentials *a = NULL, *b = NULL, *c = NULL;
    CHECK_MSG(cc_aws_credentials_get(p, &a, &err) == CC_OK, "%s", err.msg);
    CHECK_MSG(cc_aws_credentials_get(p, &b, &err) == CC_OK, "%s", err.msg);
    if (a && b) {
        CHECK_EQ_STR(a->source, source);
        CHECK(strncmp(a->access_key_id, akid_prefix, strlen(akid_prefix)) == 0);
        CHECK_EQ_STR(a->secret_access_key, SECRET);
        CHECK(a->expiration > time(NULL) && a->expiration <= time(NULL) + 5);
        CHECK_EQ_STR(a->access_key_id, b->access_key_id); /* cached */
    }
    CHECK_EQ_INT(stat_int(stat_key) - before, 1);
    sleep_ms(2300);
    CHECK_MSG(cc_aws_credentials_get(p, &c, &err) == CC_OK, "%s", err.msg);
    if (a && c)
        CHECK(strcmp(a->access_key_id, c->access_key_id) != 0);
    CHECK_EQ_INT(stat_int(stat_key) - before, 2);
    cc_aws_credentials_free(b);
    cc_aws_credentials_free(c);
    cc_aws_credentials_provider_free(p);
    return a;
}

TEST(web_identity_via_default_chain_refreshes)
{
    clear_aws_env();
    char tok[512], sts[512];
    snprintf(tok, sizeof tok, "%s/web-identity-token", work);
    write_file(tok, "eyJhbGciOiJSUzI1NiJ9.web.identity\n");
    snprintf(sts, sizeof sts, "%s/sts/", standin);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tok, 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/signer", 1);
    setenv("AWS_ROLE_SESSION_NAME", "test-session", 1);
    setenv("AWS_ENDPOINT_URL_STS", sts, 1);
    cc_aws_credentials *a = chain_fetches_then_refreshes("sts", "web-identity", "ASIASTS");
    if (a)
        CHECK(a->session_token && strstr(a->session_token, "E&token+/")); /* &amp; decoded */
    json_t *s = stats();
    CHECK_EQ_INT(json_array_size(json_object_get(s, "stsBad")), 0);
    json_decref(s);
    cc_aws_credentials_free(a);
    a = NULL;

    /* A configured but unreadable token file stops the chain with a config error. */
    cc_aws_credentials_provider *p;
    cc_error err;
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
    CHECK(cc_aws_credentials_default_new(http, "us-east-1", NULL, &p, &err) == CC_OK);
    CHECK(cc_aws_credentials_get(p, &a, &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "/nonexistent/token") != NULL);
    cc_aws_credentials_provider_free(p);
    clear_aws_env();
}

TEST(pod_identity_rereads_token_file)
{
    clear_aws_env();
    char tok[512], uri[512];
    snprintf(tok, sizeof tok, "%s/pod-token", work);
    snprintf(uri, sizeof uri, "%s/pod/creds", standin);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tok, 1);
    write_file(tok, "pod-token-one\n");
    cc_aws_credentials_provider *p;
    cc_error err;
    CHECK(cc_aws_credentials_container_new(http, &p, &err) == CC_OK);
    cc_aws_credentials *a = NULL, *b = NULL;
    CHECK_MSG(cc_aws_credentials_get(p, &a, &err) == CC_OK, "%s", err.msg);
    write_file(tok, "pod-token-two");
    CHECK_MSG(cc_aws_credentials_get(p, &b, &err) == CC_OK, "%s", err.msg);
    if (a && b) {
        CHECK_EQ_STR(a->source, "container");
        CHECK(strncmp(b->access_key_id, "ASIAPOD", 7) == 0);
        CHECK(a->session_token && strncmp(a->session_token, "pod-token-", 10) == 0);
        CHECK(b->expiration > time(NULL) + 3000);
    }
    json_t *s = stats();
    json_t *seen = json_object_get(s, "podTokens");
    size_t n = json_array_size(seen);
    CHECK(n >= 2);
    if (n >= 2) {
        CHECK_EQ_STR(json_string_value(json_array_get(seen, n - 2)), "pod-token-one");
        CHECK_EQ_STR(json_string_value(json_array_get(seen, n - 1)), "pod-token-two");
    }
    json_decref(s);
    cc_aws_credentials_free(a);
    cc_aws_credentials_free(b);

    /* A token that is not the agent's: 401, a failure that names the URL. */
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong", 1);
    CHECK(cc_aws_credentials_get(p, &a, &err) == CC_EFORBIDDEN);
    CHECK(strstr(err.msg, "HTTP 401") && strstr(err.msg, "/pod/creds"));
    cc_aws_credentials_provider_free(p);
    clear_aws_env();
}

/*
 * ECS: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI always means http://169.254.170.2; aws_live.sh runs
 * in a network namespace of its own with that address on loopback and the agent's stand-in on
 * port 80 (CC_AWS_ECS names it). Short-lived credentials (STS_TTL 4 s) are refreshed at half-life.
 */
TEST(ecs_relative_uri_via_default_chain_refreshes)
{
    const char *ecs = getenv("CC_AWS_ECS");
    CHECK_MSG(ecs != NULL, "CC_AWS_ECS is not set: run this binary through tests/integration/aws_live.sh");
    if (!ecs)
        return;
    clear_aws_env();
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/ecs/creds?task=1", 1);
    cc_aws_credentials *a = chain_fetches_then_refreshes("ecs", "container", "ASIAECS");
    if (a)
        CHECK(a->session_token && strncmp(a->session_token, "ecs-token-", 10) == 0);
    cc_aws_credentials_free(a);
    a = NULL;
    /* The requests went to the agent's address, not to loopback. */
    json_t *s = stats();
    json_t *hosts = json_object_get(s, "ecsHosts");
    size_t n = json_array_size(hosts);
    CHECK(n >= 2);
    if (n >= 1)
        CHECK_EQ_STR(json_string_value(json_array_get(hosts, n - 1)), ecs);
    json_decref(s);

    /* A relative URI that is not a path is a configuration error that names the variable. */
    cc_aws_credentials_provider *p;
    cc_error err;
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "ecs/creds", 1);
    CHECK(cc_aws_credentials_container_new(http, &p, &err) == CC_OK);
    CHECK(cc_aws_credentials_get(p, &a, &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != NULL);
    cc_aws_credentials_provider_free(p);
    clear_aws_env();
}

TEST(imds_v2_retokens_after_401)
{
    clear_aws_env();
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", standin, 1);
    long tokens = stat_int("imdsTokens"), rejected = stat_int("imds401");
    cc_aws_credentials_provider *p;
    cc_error err;
    CHECK(cc_aws_credentials_default_new(http, "us-east-1", NULL, &p, &err) == CC_OK);
    cc_aws_credentials *a = NULL;
    CHECK_MSG(cc_aws_credentials_get(p, &a, &err) == CC_OK, "%s", err.msg);
    if (a) {
        CHECK_EQ_STR(a->source, "imds");
        CHECK(strncmp(a->access_key_id, "ASIAIMDS", 8) == 0);
        CHECK(a->session_token && strncmp(a->session_token, "imds-token-", 11) == 0);
    }
    CHECK_EQ_INT(stat_int("imdsTokens") - tokens, 2); /* the first was rejected once */
    CHECK_EQ_INT(stat_int("imds401") - rejected, 1);
    CHECK_EQ_INT(stat_int("imdsCreds"), 1);
    cc_aws_credentials_free(a);
    cc_aws_credentials_provider_free(p);

    /* Disabled: the chain finds nothing and says what it tried. */
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    CHECK(cc_aws_credentials_default_new(http, "us-east-1", NULL, &p, &err) == CC_OK);
    CHECK(cc_aws_credentials_get(p, &a, &err) == CC_ENOTFOUND);
    CHECK(strstr(err.msg, "AWS_EC2_METADATA_DISABLED") && strstr(err.msg, "AWS_ACCESS_KEY_ID"));
    cc_aws_credentials_provider_free(p);
    clear_aws_env();
}

/* ---------------------------------------------------------------- retries */

static cc_aws_credentials_provider *test_creds(void)
{
    cc_aws_credentials_provider *p = NULL;
    cc_aws_credentials_static_new("ASIATESTKEY0001", SECRET, "session/token+with=odd&chars", &p, NULL);
    return p;
}

static cc_status flaky_call(const char *which, cc_aws_result *res, cc_error *err)
{
    char ep[512];
    snprintf(ep, sizeof ep, "%s/flaky/%s", standin, which);
    cc_aws_credentials_provider *creds = test_creds();
    cc_aws_service svc;
    cc_status st = cc_aws_service_init(&svc, http, creds, "dynamodb", "eu-west-1", ep, "DynamoDB_20120810",
                                       "application/x-amz-json-1.0", err);
    if (st == CC_OK) {
        const char *body = "{\"TableName\":\"t\",\"Item\":{\"pk\":{\"S\":\"a b/c\"}}}";
        st = cc_aws_json_call(&svc, "PutItem", body, strlen(body), res, err);
    }
    cc_aws_credentials_provider_free(creds);
    return st;
}

TEST(retries_5xx_then_succeeds)
{
    cc_aws_result res;
    cc_error err;
    CHECK_MSG(flaky_call("500twice", &res, &err) == CC_OK, "%s", err.msg);
    CHECK_EQ_INT(res.attempts, 3);
    CHECK_EQ_INT(res.http_status, 200);
    CHECK(res.body && strstr(res.body, "\"attempt\":3"));
    cc_aws_result_free(&res);
}

TEST(retries_throttling_once)
{
    cc_aws_result res;
    cc_error err;
    CHECK_MSG(flaky_call("throttle", &res, &err) == CC_OK, "%s", err.msg);
    CHECK_EQ_INT(res.attempts, 2);
    cc_aws_result_free(&res);
}

TEST(conditional_check_failure_is_not_retried)
{
    cc_aws_result res;
    cc_error err;
    CHECK(flaky_call("condfail", &res, &err) == CC_ECONFLICT);
    CHECK_EQ_INT(res.attempts, 1);
    CHECK_EQ_INT(res.http_status, 400);
    CHECK_EQ_STR(res.aws_error, "ConditionalCheckFailedException");
    CHECK_EQ_STR(err.msg, "dynamodb PutItem: ConditionalCheckFailedException: The conditional request failed");
    cc_aws_result_free(&res);
    json_t *s = stats();
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(s, "flaky"), "condfail")), 1);
    json_decref(s);
}

TEST(transport_errors_are_retried_then_reported)
{
    /* A port nothing listens on (the stand-in's port + 1 is very likely closed; at worst another answer). */
    cc_aws_credentials_provider *creds = test_creds();
    cc_aws_service svc;
    cc_error err;
    CHECK(cc_aws_service_init(&svc, http, creds, "kms", "us-east-1", "http://127.0.0.1:1", "TrentService",
                              "application/x-amz-json-1.1", &err) == CC_OK);
    cc_aws_result res;
    CHECK(cc_aws_json_call(&svc, "GenerateRandom", "{}", 2, &res, &err) == CC_EIO);
    CHECK_EQ_INT(res.attempts, cc_aws_http_options_of(http)->max_attempts);
    CHECK(strstr(err.msg, "kms GenerateRandom") && strstr(err.msg, "127.0.0.1:1"));
    cc_aws_result_free(&res);
    cc_aws_credentials_provider_free(creds);
}

TEST(every_signed_request_matched_smithy)
{
    json_t *s = stats();
    CHECK(json_integer_value(json_object_get(s, "sigOk")) >= 5);
    json_t *bad = json_object_get(s, "sigBad");
    CHECK_EQ_INT(json_array_size(bad), 0);
    for (size_t i = 0; i < json_array_size(bad) && i < 3; i++)
        fprintf(stderr, "  %s\n", json_string_value(json_array_get(bad, i)));
    json_decref(s);
}

/* ---------------------------------------------------------------- DynamoDB on dynalite */

TEST(dynamodb_on_dynalite)
{
    cc_aws_credentials_provider *creds = test_creds();
    cc_dynamodb db;
    cc_error err;
    CHECK(cc_dynamodb_init(&db, http, creds, "us-east-1", dynalite, &err) == CC_OK);
    CHECK_MSG(cc_dynamodb_create_table(&db, "slashing", "pk", "S", "sk", "N", &err) == CC_OK, "%s", err.msg);
    CHECK(cc_dynamodb_create_table(&db, "slashing", "pk", "S", "sk", "N", &err) == CC_ECONFLICT);
    CHECK_MSG(cc_dynamodb_wait_active(&db, "slashing", 5000, &err) == CC_OK, "%s", err.msg);
    char status[16];
    json_t *desc = NULL;
    CHECK(cc_dynamodb_describe_table(&db, "slashing", &desc, status, &err) == CC_OK);
    CHECK_EQ_STR(status, "ACTIVE");
    CHECK_EQ_STR(json_string_value(json_object_get(desc, "TableName")), "slashing");
    json_decref(desc);

    /* Conditional put twice: the second loses with ConditionalCheckFailedException. */
    json_t *item = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}}", "pk", "S", "0xaabb", "sk", "N", "18446744073709551615",
                             "root", "S", "0x01");
    cc_aws_call_info info;
    CHECK_MSG(cc_dynamodb_put_item(&db, "slashing", item, "attribute_not_exists(pk)", NULL, NULL, &info, &err) ==
                  CC_OK,
              "%s", err.msg);
    CHECK(cc_dynamodb_put_item(&db, "slashing", item, "attribute_not_exists(pk)", NULL, NULL, &info, &err) ==
          CC_ECONFLICT);
    CHECK_EQ_STR(info.aws_error, "ConditionalCheckFailedException");
    CHECK_EQ_INT(info.attempts, 1);
    CHECK(strncmp(err.msg, "dynamodb PutItem: ConditionalCheckFailedException: ", 51) == 0);
    json_decref(item);

    /* GetItem, consistent: the uint64 sort key comes back exactly. */
    json_t *key = json_pack("{s:{s:s}, s:{s:s}}", "pk", "S", "0xaabb", "sk", "N", "18446744073709551615");
    json_t *got = NULL;
    CHECK(cc_dynamodb_get_item(&db, "slashing", key, 1, &got, &err) == CC_OK);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(got, "root"), "S")), "0x01");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(got, "sk"), "N")), "18446744073709551615");
    json_decref(got);

    /* UpdateItem with a condition on a number. */
    json_t *vals = json_pack("{s:{s:s}, s:{s:s}}", ":r", "S", "0x02", ":old", "S", "0x01");
    json_t *names = json_pack("{s:s}", "#r", "root");
    json_t *after = NULL;
    CHECK_MSG(cc_dynamodb_update_item(&db, "slashing", key, "SET #r = :r", "#r = :old", names, vals, &after, NULL,
                                      &err) == CC_OK,
              "%s", err.msg);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(after, "root"), "S")), "0x02");
    json_decref(after);
    CHECK(cc_dynamodb_update_item(&db, "slashing", key, "SET #r = :r", "#r = :old", names, vals, NULL, &info,
                                  &err) == CC_ECONFLICT);
    CHECK_EQ_STR(info.aws_error, "ConditionalCheckFailedException");
    json_decref(vals);
    json_decref(names);
    json_decref(key);

    /* Query: three more sort keys under the same pk, paged by two. */
    for (int i = 1; i <= 3; i++) {
        char sk[16];
        snprintf(sk, sizeof sk, "%d", i);
        json_t *it = json_pack("{s:{s:s}, s:{s:s}}", "pk", "S", "0xaabb", "sk", "N", sk);
        CHECK(cc_dynamodb_put_item(&db, "slashing", it, NULL, NULL, NULL, NULL, &err) == CC_OK);
        json_decref(it);
    }
    json_t *qv = json_pack("{s:{s:s}, s:{s:s}}", ":pk", "S", "0xaabb", ":lo", "N", "2");
    json_t *items = NULL, *last = NULL;
    CHECK_MSG(cc_dynamodb_query(&db, "slashing", NULL, "pk = :pk AND sk >= :lo", NULL, qv, 1, 2, NULL, &items, &last,
                                &err) == CC_OK,
              "%s", err.msg);
    CHECK_EQ_INT(json_array_size(items), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(json_array_get(items, 0), "sk"), "N")), "2");
    CHECK(last != NULL);
    json_t *items2 = NULL, *last2 = NULL;
    CHECK(cc_dynamodb_query(&db, "slashing", NULL, "pk = :pk AND sk >= :lo", NULL, qv, 1, 2, last, &items2, &last2,
                            &err) == CC_OK);
    CHECK_EQ_INT(json_array_size(items2), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(json_array_get(items2, 0), "sk"), "N")),
                 "18446744073709551615");
    json_decref(items);
    json_decref(items2);
    json_decref(last);
    json_decref(last2);
    json_decref(qv);

    /* Generic call, and an error that names the operation. */
    json_t *resp = NULL;
    json_t *req = json_pack("{s:s}", "TableName", "missing");
    CHECK(cc_dynamodb_call(&db, "DescribeTable", req, &resp, &err) == CC_ENOTFOUND);
    CHECK(strncmp(err.msg, "dynamodb DescribeTable: ResourceNotFoundException: ", 51) == 0);
    json_decref(req);
    cc_aws_credentials_provider_free(creds);
}

/* ---------------------------------------------------------------- KMS shape */

TEST(kms_requests_and_answers)
{
    cc_aws_credentials_provider *creds = test_creds();
    cc_kms kms;
    cc_error err;
    char ep[512];
    snprintf(ep, sizeof ep, "%s/kms/", standin);
    CHECK(cc_kms_init(&kms, http, creds, "us-east-1", ep, &err) == CC_OK);
    const uint8_t pt[] = "master key share \x00\x01\xff";
    json_t *ctx = json_pack("{s:s}", "purpose", "containment-chamber");
    cc_kms_bytes blob, out;
    CHECK_MSG(cc_kms_encrypt(&kms, "alias/signer", pt, sizeof pt, ctx, &blob, &err) == CC_OK, "%s", err.msg);
    CHECK(blob.len > sizeof pt);
    CHECK_MSG(cc_kms_decrypt(&kms, NULL, blob.data, blob.len, ctx, &out, &err) == CC_OK, "%s", err.msg);
    CHECK(out.secret && out.len == sizeof pt && memcmp(out.data, pt, sizeof pt) == 0);
    cc_kms_bytes_free(&out);

    json_t *wrong = json_pack("{s:s}", "purpose", "other");
    CHECK(cc_kms_decrypt(&kms, NULL, blob.data, blob.len, wrong, &out, &err) == CC_ECRYPTO);
    CHECK(strncmp(err.msg, "kms Decrypt: InvalidCiphertextException", 39) == 0);
    json_decref(wrong);

    const uint8_t doc[] = {0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0};
    cc_kms_bytes cms;
    CHECK_MSG(cc_kms_decrypt_for_recipient(&kms, "alias/signer", blob.data, blob.len, ctx, doc, sizeof doc, &cms,
                                           &err) == CC_OK,
              "%s", err.msg);
    CHECK(!cms.secret && cms.len == 4 + sizeof doc + 1 + sizeof pt && memcmp(cms.data, "CMS:", 4) == 0 &&
          memcmp(cms.data + 4, doc, sizeof doc) == 0);
    cc_kms_bytes_free(&cms);

    CHECK(cc_kms_generate_random(&kms, 32, &out, &err) == CC_OK);
    CHECK(out.secret && out.len == 32);
    cc_kms_bytes_free(&out);

    json_t *meta = NULL;
    CHECK(cc_kms_describe_key(&kms, "alias/signer", &meta, &err) == CC_OK);
    CHECK_EQ_STR(json_string_value(json_object_get(meta, "KeyState")), "Enabled");
    json_decref(meta);

    cc_kms_bytes_free(&blob);
    CHECK(cc_kms_encrypt(&kms, "alias/none", pt, sizeof pt, NULL, &blob, &err) == CC_ENOTFOUND);
    CHECK(strstr(err.msg, "kms Encrypt: NotFoundException") == err.msg);
    cc_kms_bytes_free(&blob);
    json_decref(ctx);
    cc_aws_credentials_provider_free(creds);
    json_t *s = stats();
    CHECK_EQ_INT(json_integer_value(json_object_get(s, "kmsRecipient")), 1);
    json_decref(s);
}

int main(void)
{
    standin = getenv("CC_AWS_STANDIN");
    dynalite = getenv("CC_AWS_DYNALITE");
    work = getenv("CC_AWS_WORK");
    if (!standin || !dynalite || !work) {
        printf("(no stand-ins: run by tests/integration/aws_live.sh)\n");
        TEST_MAIN_END();
    }
    cc_aws_http_options o;
    cc_aws_http_options_default(&o);
    o.base_delay_ms = 10;
    o.max_delay_ms = 50;
    o.connect_timeout_ms = 1000;
    o.timeout_ms = 5000;
    if (cc_aws_http_new(&o, &http, NULL) != CC_OK)
        return 1;
    RUN(web_identity_via_default_chain_refreshes);
    RUN(pod_identity_rereads_token_file);
    RUN(ecs_relative_uri_via_default_chain_refreshes);
    RUN(imds_v2_retokens_after_401);
    RUN(retries_5xx_then_succeeds);
    RUN(retries_throttling_once);
    RUN(conditional_check_failure_is_not_retried);
    RUN(transport_errors_are_retried_then_reported);
    RUN(dynamodb_on_dynalite);
    RUN(kms_requests_and_answers);
    RUN(every_signed_request_matched_smithy);
    cc_aws_http_free(http);
    TEST_MAIN_END();
}
