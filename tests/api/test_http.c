/* Tests for api/http (content negotiation) and api/limiter (backpressure). */
#include <pthread.h>
#include <time.h>

#include "api/http.h"
#include "api/limiter.h"
#include "test.h"

TEST(accept_negotiation)
{
    CHECK(cc_http_accepts_json("application/json"));
    CHECK(cc_http_accepts_json("*/*"));
    CHECK(cc_http_accepts_json("text/plain, application/json;q=0.9"));
    CHECK(cc_http_accepts_json("Application/JSON"));
    CHECK(cc_http_accepts_json(" text/html ,*/*; q=0.1"));
    CHECK(!cc_http_accepts_json(NULL));
    CHECK(!cc_http_accepts_json(""));
    CHECK(!cc_http_accepts_json("text/plain"));
    CHECK(!cc_http_accepts_json("application/jsonx"));
    CHECK(!cc_http_accepts_json("application/*"));
}

TEST(error_body_is_escaped_json)
{
    cc_http_response res = {0};
    cc_http_reply_error(&res, 400, "field \"x\": bad\n");
    CHECK_EQ_INT(res.status, 400);
    CHECK_EQ_STR(res.body, "{\"error\":\"field \\\"x\\\": bad\\n\"}");
    free(res.body);
}

TEST(limiter_admission_is_bounded)
{
    cc_limiter l;
    cc_limiter_init(&l, 2, 1, 0.05);
    struct timespec d[4];
    CHECK(cc_limiter_admit(&l, &d[0], NULL) == CC_OK);
    CHECK(cc_limiter_admit(&l, &d[1], NULL) == CC_OK);
    CHECK(cc_limiter_admit(&l, &d[2], NULL) == CC_OK);
    cc_error err;
    CHECK(cc_limiter_admit(&l, &d[3], &err) == CC_EUNAVAILABLE);
    CHECK(strstr(err.msg, "overloaded") != NULL);
    cc_limiter_depart(&l);
    CHECK(cc_limiter_admit(&l, &d[3], NULL) == CC_OK);
}

TEST(limiter_deadline_is_timeout_ahead)
{
    cc_limiter l;
    cc_limiter_init(&l, 1, 4, 2.5);
    struct timespec now, d;
    clock_gettime(CLOCK_MONOTONIC, &now);
    CHECK(cc_limiter_admit(&l, &d, NULL) == CC_OK);
    double ahead = (double)(d.tv_sec - now.tv_sec) + (double)(d.tv_nsec - now.tv_nsec) / 1e9;
    CHECK_MSG(ahead > 2.4 && ahead < 2.6, "deadline %.3f s ahead", ahead);
    cc_limiter_depart(&l);
}

int main(void)
{
    RUN(accept_negotiation);
    RUN(error_body_is_escaped_json);
    RUN(limiter_admission_is_bounded);
    RUN(limiter_deadline_is_timeout_ahead);
    TEST_MAIN_END();
}
