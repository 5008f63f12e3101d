/*
 * secret.c — locked, wiped allocations for secrets.
 *
 * mlock can fail (RLIMIT_MEMLOCK in containers); the memory is then still
 * wiped on free, and we say so once in the log rather than refusing to run.
 */
#include "util/secret.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/log.h"

static int warned_mlock;

void *cc_secret_alloc(size_t len)
{
    if (len == 0)
        len = 1;
    void *p = calloc(1, len);
    if (!p)
        return NULL;
    if (mlock(p, len) != 0 && !__atomic_exchange_n(&warned_mlock, 1, __ATOMIC_RELAXED))
        cc_log(CC_LOG_WARN, "mlock failed: secrets may be swapped (raise RLIMIT_MEMLOCK)", NULL);
#ifdef MADV_DONTDUMP
    /* Only page-aligned ranges can be excluded from core dumps; best effort. */
#endif
    return p;
}

void cc_secret_free(void *p, size_t len)
{
    if (!p)
        return;
    if (len == 0)
        len = 1;
    OPENSSL_cleanse(p, len);
    munlock(p, len);
    free(p);
}

void cc_secret_wipe(void *p, size_t len) { OPENSSL_cleanse(p, len); }

int cc_ct_equal(const void *a, const void *b, size_t len) { return CRYPTO_memcmp(a, b, len) == 0; }
