/*
 * test.h — the tiny test harness every C test file uses.
 *
 * A test file defines TEST(name) functions and lists them in main via
 * RUN(name).  CHECK failures are reported with file:line and the test goes on
 * to its end; each test prints "ok NAME" or "FAIL NAME", and TEST_MAIN_END
 * prints "N passed, N failed" (the runner adds the files up) and exits non-zero
 * on any failure.
 *
 * CC_VECTORS (env) points at ../shared/vectors; tests that need published
 * vectors read them from there, via test_vectors_path().
 */
#ifndef CC_TEST_H
#define CC_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures_in_current;
static int tests_passed, tests_failed;

#define TEST(name) static void test_##name(void)

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);    \
            test_failures_in_current++;                                                  \
        }                                                                                \
    } while (0)

#define CHECK_MSG(cond, ...)                                                             \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "  %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                                \
            fputc('\n', stderr);                                                         \
            test_failures_in_current++;                                                  \
        }                                                                                \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                               \
    do {                                                                                 \
        long long _a = (long long)(a), _b = (long long)(b);                              \
        if (_a != _b) {                                                                  \
            fprintf(stderr, "  %s:%d: %s == %s: %lld != %lld\n", __FILE__, __LINE__, #a,  \
                    #b, _a, _b);                                                         \
            test_failures_in_current++;                                                  \
        }                                                                                \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                               \
    do {                                                                                 \
        const char *_a = (a), *_b = (b);                                                 \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                                         \
            fprintf(stderr, "  %s:%d: %s == %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__,  \
                    #a, #b, _a ? _a : "(null)", _b ? _b : "(null)");                     \
            test_failures_in_current++;                                                  \
        }                                                                                \
    } while (0)

#define RUN(name)                                                                        \
    do {                                                                                 \
        test_failures_in_current = 0;                                                    \
        test_##name();                                                                   \
        if (test_failures_in_current) {                                                  \
            printf("FAIL %s\n", #name);                                                  \
            tests_failed++;                                                              \
        } else {                                                                         \
            printf("ok   %s\n", #name);                                                  \
            tests_passed++;                                                              \
        }                                                                                \
        fflush(stdout);                                                                  \
    } while (0)

/* Marks a test as skipped-for-cause: counted as failed unless vectors are optional. */
#define TEST_MAIN_END()                                                                  \
    do {                                                                                 \
        printf("%d passed, %d failed\n", tests_passed, tests_failed);                    \
        return tests_failed ? 1 : 0;                                                     \
    } while (0)

/* Path under the shared vectors directory (CC_VECTORS, default ../shared/vectors). */
static inline const char *test_vectors_path(const char *rel)
{
    static char buf[4096];
    const char *base = getenv("CC_VECTORS");
    if (!base)
        base = "../shared/vectors";
    snprintf(buf, sizeof buf, "%s/%s", base, rel);
    return buf;
}

#endif
