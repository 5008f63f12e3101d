/*
 * Tests for aws/credentials without a network: environment, profile files,
 * ISO-8601, the chain's rules, the cache's refresh timing (a fake provider
 * whose sets expire in seconds), and the container host allow-list.  The
 * network sources (STS, Pod Identity, IMDSv2) run against stand-ins in
 * tests/integration/aws_live.sh.
 */
#include "test.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "aws/credentials.h"
#include "aws/http.h"

static char dir[] = "/tmp/cc-aws-creds.XXXXXX";

static void clear_env(void)
{
    const char *vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                          "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
                          "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_CONTAINER_AUTHORIZATION_TOKEN", NULL};
    for (int i = 0; vars[i]; i++)
        unsetenv(vars[i]);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static const char *write_tmp(const char *name, const char *text)
{
    static char path[4][512];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return p;
}

static cc_status get_from(cc_status (*make)(cc_aws_credentials_provider **, cc_error *), cc_aws_credentials **c,
                          cc_error *err)
{
    cc_aws_credentials_provider *p;
    *c = NULL;
    if (make(&p, err) != CC_OK)
        return CC_EINTERNAL;
    cc_status st = cc_aws_credentials_get(p, c, err);
    cc_aws_credentials_provider_free(p);
    return st;
}

TEST(environment)
{
    clear_env();
    cc_aws_credentials *c;
    cc_error err;
    CHECK(get_from(cc_aws_credentials_env_new, &c, &err) == CC_ENOTFOUND);
    setenv("AWS_ACCESS_KEY_ID", "AKIAENV0000000000001", 1);
    CHECK(get_from(cc_aws_credentials_env_new, &c, &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "AWS_SECRET_ACCESS_KEY") != NULL);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
    CHECK(get_from(cc_aws_credentials_env_new, &c, &err) == CC_OK);
    if (c) {
        CHECK_EQ_STR(c->access_key_id, "AKIAENV0000000000001");
        CHECK_EQ_STR(c->secret_access_key, "env-secret");
        CHECK(c->session_token == NULL && c->expiration == 0);
        CHECK_EQ_STR(c->source, "environment");
    }
    cc_aws_credentials_free(c);
    setenv("AWS_SESSION_TOKEN", "env-token", 1);
    CHECK(get_from(cc_aws_credentials_env_new, &c, &err) == CC_OK);
    if (c)
        CHECK_EQ_STR(c->session_token, "env-token");
    cc_aws_credentials_free(c);
    clear_env();
}

TEST(profiles)
{
    clear_env();
    const char *cred = write_tmp("credentials", "# comment\n[default]\naws_access_key_id = AKIADEFAULT\n"
                                                "aws_secret_access_key = default-secret\n\n"
                                                "[signer]\r\naws_access_key_id=AKIASIGNER\r\n"
                                                "aws_secret_access_key=signer-secret\r\naws_session_token = tok\r\n"
                                                "[broken]\naws_access_key_id = AKIABROKEN\n");
    const char *conf = write_tmp("config", "[default]\nregion = eu-west-1\n[profile fromconfig]\n"
                                           "aws_access_key_id = AKIACONFIG\naws_secret_access_key = config-secret\n"
                                           "[fromconfigbare]\naws_access_key_id = AKIANOPE\n"
                                           "aws_secret_access_key = nope\n"
                                           "[profile signer]\naws_access_key_id = AKIALOSES\n"
                                           "aws_secret_access_key = loses\n");
    setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
    setenv("AWS_CONFIG_FILE", conf, 1);
    cc_aws_credentials *c;
    cc_error err;
    CHECK(get_from(cc_aws_credentials_profile_new, &c, &err) == CC_OK);
    if (c)
        CHECK_EQ_STR(c->access_key_id, "AKIADEFAULT");
    cc_aws_credentials_free(c);
    /* The credentials file wins over the config file; \r\n lines are fine. */
    setenv("AWS_PROFILE", "signer", 1);
    CHECK(get_from(cc_aws_credentials_profile_new, &c, &err) == CC_OK);
    if (c) {
        CHECK_EQ_STR(c->access_key_id, "AKIASIGNER");
        CHECK_EQ_STR(c->secret_access_key, "signer-secret");
        CHECK_EQ_STR(c->session_token, "tok");
        CHECK_EQ_STR(c->source, "profile");
    }
    cc_aws_credentials_free(c);
    /* "[profile x]" in the config file; a bare "[x]" there is not a profile. */
    setenv("AWS_PROFILE", "fromconfig", 1);
    CHECK(get_from(cc_aws_credentials_profile_new, &c, &err) == CC_OK);
    if (c)
        CHECK_EQ_STR(c->access_key_id, "AKIACONFIG");
    cc_aws_credentials_free(c);
    setenv("AWS_PROFILE", "fromconfigbare", 1);
    CHECK(get_from(cc_aws_credentials_profile_new, &c, &err) == CC_ENOTFOUND);
    setenv("AWS_PROFILE", "broken", 1);
    CHECK(get_from(cc_aws_credentials_profile_new, &c, &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "aws_secret_access_key") && strstr(err.msg, "credentials"));
    CHECK(strstr(err.msg, "broken") != NULL);
    setenv("AWS_PROFILE", "absent", 1);
    CHECK(get_from(cc_aws_credentials_profile_new, &c, &err) == CC_ENOTFOUND);
    CHECK(strstr(err.msg, "absent") != NULL);
    clear_env();
}

TEST(iso8601)
{
    CHECK_EQ_INT(cc_aws_parse_iso8601("2015-08-30T12:36:00Z"), 1440938160);
    CHECK_EQ_INT(cc_aws_parse_iso8601("2015-08-30T12:36:00.123Z"), 1440938160);
    CHECK_EQ_INT(cc_aws_parse_iso8601("2015-08-30T14:36:00+02:00"), 1440938160);
    CHECK_EQ_INT(cc_aws_parse_iso8601("2015-08-30 12:36:00Z"), -1);
    CHECK_EQ_INT(cc_aws_parse_iso8601("2015-13-30T12:36:00Z"), -1);
    CHECK_EQ_INT(cc_aws_parse_iso8601("2015-08-30T12:36:00"), -1);
    CHECK_EQ_INT(cc_aws_parse_iso8601(NULL), -1);
}

/* ---------------------------------------------------------------- fakes */

typedef struct fake {
    cc_aws_credentials_provider base;
    int fetches;
    int lifetime;     /* seconds; 0 = long-term */
    cc_status answer; /* CC_OK or the error to return */
    char id[32];
} fake;

static cc_status fake_fetch(cc_aws_credentials_provider *p, cc_aws_credentials **out, cc_error *err)
{
    fake *f = (fake *)p;
    f->fetches++;
    if (f->answer != CC_OK)
        return cc_error_set(err, f->answer, "fake %s: failing", f->id);
    char id[48];
    snprintf(id, sizeof id, "%s%d", f->id, f->fetches);
    return cc_aws_credentials_new(id, "s", "t", f->lifetime ? time(NULL) + f->lifetime : 0, "static", out, err);
}

static void fake_free(cc_aws_credentials_provider *p) { (void)p; }

static const cc_aws_credentials_provider_ops fake_ops = {"fake", fake_fetch, fake_free};

TEST(cache_refreshes_at_half_life_for_short_lifetimes)
{
    fake f = {{&fake_ops}, 0, 4, CC_OK, "AKIAFAKE"};
    cc_aws_credentials_provider *p;
    CHECK(cc_aws_credentials_cached_new(&f.base, &p, NULL) == CC_OK);
    cc_aws_credentials *a = NULL, *b = NULL, *c = NULL;
    CHECK(cc_aws_credentials_get(p, &a, NULL) == CC_OK);
    CHECK(cc_aws_credentials_get(p, &b, NULL) == CC_OK);
    CHECK_EQ_INT(f.fetches, 1);
    if (a && b)
        CHECK_EQ_STR(a->access_key_id, b->access_key_id);
    sleep(2); /* lifetime 4 s → refresh after 2 s (5 min would be past expiry) */
    CHECK(cc_aws_credentials_get(p, &c, NULL) == CC_OK);
    CHECK_EQ_INT(f.fetches, 2);
    if (c)
        CHECK_EQ_STR(c->access_key_id, "AKIAFAKE2");
    cc_aws_credentials_free(a);
    cc_aws_credentials_free(b);
    cc_aws_credentials_free(c);
    cc_aws_credentials_provider_free(p);
}

TEST(cache_keeps_long_lived_and_survives_failed_refresh)
{
    /* An hour-long set is not fetched again within the test. */
    fake f = {{&fake_ops}, 0, 3600, CC_OK, "AKIALONG"};
    cc_aws_credentials_provider *p;
    CHECK(cc_aws_credentials_cached_new(&f.base, &p, NULL) == CC_OK);
    cc_aws_credentials *a = NULL;
    for (int i = 0; i < 5; i++) {
        CHECK(cc_aws_credentials_get(p, &a, NULL) == CC_OK);
        cc_aws_credentials_free(a);
    }
    CHECK_EQ_INT(f.fetches, 1);
    cc_aws_credentials_provider_free(p);

    /* A refresh that fails while the cached set is still valid keeps the set. */
    fake g = {{&fake_ops}, 0, 4, CC_OK, "AKIAKEEP"};
    CHECK(cc_aws_credentials_cached_new(&g.base, &p, NULL) == CC_OK);
    CHECK(cc_aws_credentials_get(p, &a, NULL) == CC_OK);
    cc_aws_credentials_free(a);
    usleep(2100000);            /* lifetime 4 s: refresh due after 2 s, expiry at 4 s */
    g.answer = CC_EUNAVAILABLE; /* the source fails from now on */
    cc_error err;
    CHECK(cc_aws_credentials_get(p, &a, &err) == CC_OK);
    if (a)
        CHECK_EQ_STR(a->access_key_id, "AKIAKEEP1");
    cc_aws_credentials_free(a);
    CHECK_EQ_INT(g.fetches, 2);
    sleep(2); /* now expired: the failure comes through */
    CHECK(cc_aws_credentials_get(p, &a, &err) == CC_EUNAVAILABLE);
    CHECK(strstr(err.msg, "AKIAKEEP") != NULL);
    cc_aws_credentials_provider_free(p);
}

static void *getter(void *arg)
{
    cc_aws_credentials_provider *p = arg;
    for (int i = 0; i < 200; i++) {
        cc_aws_credentials *c = NULL;
        if (cc_aws_credentials_get(p, &c, NULL) != CC_OK)
            return (void *)1;
        cc_aws_credentials_free(c);
    }
    return NULL;
}

TEST(cache_is_thread_safe)
{
    fake f = {{&fake_ops}, 0, 3600, CC_OK, "AKIATHREADS"};
    cc_aws_credentials_provider *p;
    CHECK(cc_aws_credentials_cached_new(&f.base, &p, NULL) == CC_OK);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, getter, p);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        CHECK(r == NULL);
    }
    CHECK_EQ_INT(f.fetches, 1);
    cc_aws_credentials_provider_free(p);
}

TEST(chain_order_and_stops)
{
    fake a = {{&fake_ops}, 0, 0, CC_ENOTFOUND, "A"};
    fake b = {{&fake_ops}, 0, 0, CC_OK, "AKIAB"};
    fake c = {{&fake_ops}, 0, 0, CC_OK, "AKIAC"};
    cc_aws_credentials_provider *ps[] = {&a.base, &b.base, &c.base}, *chain;
    CHECK(cc_aws_credentials_chain_new(ps, 3, &chain, NULL) == CC_OK);
    cc_aws_credentials *got = NULL;
    CHECK(cc_aws_credentials_get(chain, &got, NULL) == CC_OK);
    if (got)
        CHECK_EQ_STR(got->access_key_id, "AKIAB1");
    cc_aws_credentials_free(got);
    CHECK(a.fetches == 1 && b.fetches == 1 && c.fetches == 0);
    /* A configured source that fails stops the chain. */
    b.answer = CC_ECONFIG;
    cc_error err;
    CHECK(cc_aws_credentials_get(chain, &got, &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "fake AKIAB: failing") != NULL);
    CHECK_EQ_INT(c.fetches, 0);
    /* None configured: the message lists what was tried. */
    b.answer = CC_ENOTFOUND;
    c.answer = CC_ENOTFOUND;
    CHECK(cc_aws_credentials_get(chain, &got, &err) == CC_ENOTFOUND);
    CHECK(strstr(err.msg, "no AWS credentials") && strstr(err.msg, "fake A") && strstr(err.msg, "fake AKIAC"));
    cc_aws_credentials_provider_free(chain);
}

TEST(container_uri_rules)
{
    clear_env();
    cc_aws_http *http;
    CHECK(cc_aws_http_new(NULL, &http, NULL) == CC_OK);
    cc_aws_credentials_provider *p;
    CHECK(cc_aws_credentials_container_new(http, &p, NULL) == CC_OK);
    cc_aws_credentials *c;
    cc_error err;
    CHECK(cc_aws_credentials_get(p, &c, &err) == CC_ENOTFOUND);
    const char *refused[] = {"http://10.0.0.1/creds", "http://169.254.169.254/latest", "http://example.com/",
                             "http://127.0.0.1@evil.example/", "ftp://127.0.0.1/", "http://[fd00:ec2::254]/", NULL};
    for (int i = 0; refused[i]; i++) {
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", refused[i], 1);
        CHECK_MSG(cc_aws_credentials_get(p, &c, &err) == CC_ECONFIG, "%s", refused[i]);
    }
    CHECK(strstr(err.msg, "169.254.170.23") != NULL);
    /* Allowed hosts get as far as the network (nothing listens on port 1 of loopback). */
    const char *allowed[] = {"http://127.0.0.1:1/v1/credentials", "http://[::1]:1/x", "http://localhost:1/x", NULL};
    for (int i = 0; allowed[i]; i++) {
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", allowed[i], 1);
        cc_status st = cc_aws_credentials_get(p, &c, &err);
        CHECK_MSG(st == CC_EIO || st == CC_EUNAVAILABLE, "%s: %s", allowed[i], err.msg);
    }
    /* A token with a line break would inject a header: refused. */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/x", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nX-Evil: 1", 1);
    CHECK(cc_aws_credentials_get(p, &c, &err) == CC_ECONFIG);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/nonexistent/token", 1);
    CHECK(cc_aws_credentials_get(p, &c, &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "/nonexistent/token") != NULL);
    cc_aws_credentials_provider_free(p);

    /* Web identity: not configured, then a missing token file. */
    CHECK(cc_aws_credentials_web_identity_new(http, "us-east-1", NULL, &p, NULL) == CC_OK);
    CHECK(cc_aws_credentials_get(p, &c, &err) == CC_ENOTFOUND);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/jwt", 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/r", 1);
    CHECK(cc_aws_credentials_get(p, &c, &err) == CC_ECONFIG);
    cc_aws_credentials_provider_free(p);

    /* IMDS disabled. */
    CHECK(cc_aws_credentials_imds_new(http, &p, NULL) == CC_OK);
    CHECK(cc_aws_credentials_get(p, &c, &err) == CC_ENOTFOUND);
    CHECK(strstr(err.msg, "AWS_EC2_METADATA_DISABLED") != NULL);
    cc_aws_credentials_provider_free(p);
    cc_aws_http_free(http);
    clear_env();
}

TEST(credentials_validation)
{
    cc_aws_credentials *c;
    cc_error err;
    CHECK(cc_aws_credentials_new("", "s", NULL, 0, "x", &c, &err) == CC_EINVAL);
    CHECK(cc_aws_credentials_new("AKIA/BAD", "s", NULL, 0, "x", &c, &err) == CC_EINVAL);
    CHECK(cc_aws_credentials_new("AKIA", "", NULL, 0, "x", &c, &err) == CC_EINVAL);
    CHECK(cc_aws_credentials_new("AKIA", "s", "", 0, "x", &c, &err) == CC_OK);
    if (c)
        CHECK(c->session_token == NULL);
    cc_aws_credentials *d = c ? cc_aws_credentials_dup(c) : NULL;
    CHECK(d && strcmp(d->access_key_id, "AKIA") == 0);
    cc_aws_credentials_free(c);
    cc_aws_credentials_free(d);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    RUN(environment);
    RUN(profiles);
    RUN(iso8601);
    RUN(cache_refreshes_at_half_life_for_short_lifetimes);
    RUN(cache_keeps_long_lived_and_survives_failed_refresh);
    RUN(cache_is_thread_safe);
    RUN(chain_order_and_stops);
    RUN(container_uri_rules);
    RUN(credentials_validation);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    TEST_MAIN_END();
}
