/*
 * Tests for util/secret: the secure-heap tier and the mlock'ed fallback.
 *
 * RLIMIT_MEMLOCK is lowered to 256 KiB first, so cc_secret_init sizes the
 * arena at 128 KiB and a few thousand allocations spill into the fallback.
 */
#include <openssl/crypto.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "test.h"
#include "util/secret.h"

static int arena; /* cc_secret_init's answer */

TEST(init_sizes_the_arena_to_the_lock_limit)
{
    struct rlimit rl = {256 << 10, 256 << 10};
    CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0);
    arena = cc_secret_init();
#if defined(__SANITIZE_ADDRESS__)
    CHECK_EQ_INT(arena, 0); /* ASan keeps every secret in red-zoned heap blocks */
#else
    CHECK_EQ_INT(arena, 1);
    CHECK(CRYPTO_secure_malloc_initialized());
#endif
    CHECK_EQ_INT(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0); /* no core file carries a key */
    CHECK_EQ_INT(cc_secret_init(), arena);               /* idempotent */
}

TEST(allocations_spill_into_the_fallback_and_free_cleanly)
{
    enum { N = 6000, LEN = 48 }; /* 6000 × 64-byte blocks > the 128 KiB arena */
    static uint8_t *p[N];
    size_t in_arena = 0;
    for (size_t i = 0; i < N; i++) {
        p[i] = cc_secret_alloc(LEN);
        CHECK(p[i] != NULL);
        if (!p[i])
            return;
        for (size_t j = 0; j < LEN; j++)
            CHECK(p[i][j] == 0); /* zeroed, in both tiers */
        memset(p[i], (int)(i & 0xff), LEN);
        in_arena += CRYPTO_secure_allocated(p[i]) ? 1 : 0;
    }
    if (arena) {
        CHECK(in_arena > 1000);  /* the arena served the first ones */
        CHECK(in_arena < N);     /* and the rest came from the fallback */
    } else {
        CHECK_EQ_INT(in_arena, 0);
    }
    for (size_t i = 0; i < N; i++)
        CHECK(p[i][LEN - 1] == (uint8_t)(i & 0xff)); /* no two blocks overlap */
    for (size_t i = 0; i < N; i++)
        cc_secret_free(p[i], LEN);
    /* The arena is whole again: a block from it is handed out once more. */
    uint8_t *q = cc_secret_alloc(LEN);
    CHECK(q != NULL);
    if (arena)
        CHECK(CRYPTO_secure_allocated(q));
    cc_secret_free(q, LEN);
    cc_secret_free(NULL, 10); /* allowed */
}

TEST(ct_equal)
{
    CHECK(cc_ct_equal("abcd", "abcd", 4));
    CHECK(!cc_ct_equal("abcd", "abce", 4));
    CHECK(cc_ct_equal("", "", 0));
}

int main(void)
{
    RUN(init_sizes_the_arena_to_the_lock_limit);
    RUN(allocations_spill_into_the_fallback_and_free_cleanly);
    RUN(ct_equal);
    TEST_MAIN_END();
}
