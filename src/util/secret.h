/*
 * secret.h — the one kind of buffer that holds secret material.
 *
 * Secrets (BLS secret keys, keystore passwords, derived keys) live in memory
 * that is mlock'ed where the system allows (never swapped), excluded from core
 * dumps, and wiped with OPENSSL_cleanse (which the compiler cannot optimise
 * away) before it is freed.  Compare secrets with cc_ct_equal, never memcmp.
 */
#ifndef CC_SECRET_H
#define CC_SECRET_H

#include <stddef.h>
#include <stdint.h>

/* Allocates len zeroed bytes of locked memory; NULL on failure. */
void *cc_secret_alloc(size_t len);
/* Wipes and frees memory from cc_secret_alloc; NULL is allowed. */
void cc_secret_free(void *p, size_t len);
/* Wipes len bytes in place. */
void cc_secret_wipe(void *p, size_t len);
/* Constant-time equality of two buffers of equal length: 1 if equal. */
int cc_ct_equal(const void *a, const void *b, size_t len);

#endif
