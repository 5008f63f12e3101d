/*
 * secret.c — locked, wiped allocations for secrets.
 *
 * Two tiers.  cc_secret_init sets up OpenSSL's secure heap: one mmap'ed
 * arena, mlock'ed, excluded from core dumps (MADV_DONTDUMP) and fenced by
 * guard pages.  Secrets are carved from it while it has room.  Past that (or
 * before init, or under AddressSanitizer, whose red zones the arena would
 * hide) a secret is an ordinary calloc block that we mlock.
 *
 * mlock works on whole pages, and a calloc block shares its pages with its
 * neighbours, so the fallback never munlocks on free: that would unlock a
 * page still holding another secret.  Freed fallback pages stay locked
 * until the allocator returns them to the system.
 *
 * mlock can fail (RLIMIT_MEMLOCK in containers); the memory is then still
 * wiped on free, and we say so once in the log rather than refusing to run.
 */
#include "util/secret.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "util/log.h"

#if defined(__SANITIZE_ADDRESS__)
#define CC_SECRET_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CC_SECRET_ASAN 1
#endif
#endif

#define SECURE_HEAP_MAX ((size_t)32 << 20) /* ≈250,000 keyring entries */
#define SECURE_HEAP_MIN ((size_t)64 << 10)
#define SECURE_HEAP_MINSIZE 32              /* smallest block: a 32-byte scalar */

static int warned_mlock;

static void warn_mlock_once(void)
{
    if (!__atomic_exchange_n(&warned_mlock, 1, __ATOMIC_RELAXED))
        cc_log(CC_LOG_WARN, "mlock failed: secrets may be swapped (raise RLIMIT_MEMLOCK)", NULL);
}

#ifndef CC_SECRET_ASAN
/* The largest power of two ≤ n. */
static size_t floor_pow2(size_t n)
{
    size_t p = 1;
    while (p <= n / 2)
        p *= 2;
    return p;
}
#endif

int cc_secret_init(void)
{
    /* A core dump of this process would carry every key it holds. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#ifdef CC_SECRET_ASAN
    return 0;
#else
    if (CRYPTO_secure_malloc_initialized())
        return 1;
    /* Half of what we may lock, so the fallback tier keeps some room. */
    struct rlimit rl;
    size_t size = SECURE_HEAP_MAX;
    if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 2 < size)
        size = floor_pow2((size_t)rl.rlim_cur / 2);
    if (size < SECURE_HEAP_MIN)
        return 0;
    int r = CRYPTO_secure_malloc_init(size, SECURE_HEAP_MINSIZE);
    if (r == 2) /* an arena, but not locked: no better than the fallback */
        warn_mlock_once();
    return r;
#endif
}

void *cc_secret_alloc(size_t len)
{
    if (len == 0)
        len = 1;
    if (CRYPTO_secure_malloc_initialized()) {
        void *s = OPENSSL_secure_zalloc(len);
        if (s)
            return s;
        ERR_clear_error(); /* the arena is full: fall back */
    }
    void *p = calloc(1, len);
    if (!p)
        return NULL;
    if (mlock(p, len) != 0)
        warn_mlock_once();
    return p;
}

void cc_secret_free(void *p, size_t len)
{
    if (!p)
        return;
    if (len == 0)
        len = 1;
    if (CRYPTO_secure_allocated(p)) {
        OPENSSL_secure_clear_free(p, len);
        return;
    }
    OPENSSL_cleanse(p, len);
    free(p);
}

void cc_secret_wipe(void *p, size_t len) { OPENSSL_cleanse(p, len); }

int cc_ct_equal(const void *a, const void *b, size_t len) { return CRYPTO_memcmp(a, b, len) == 0; }
