/*
 * secret.h — the one kind of buffer that holds secret material.
 *
 * Secrets (BLS secret keys, keystore passwords, derived keys) live in memory
 * that is mlock'ed where the system allows (never swapped) and wiped with
 * OPENSSL_cleanse (which the compiler cannot optimise away) before it is
 * freed: OpenSSL's secure heap once cc_secret_init has run (also excluded
 * from core dumps, with guard pages), else mlock'ed heap blocks.  Compare
 * secrets with cc_ct_equal, never memcmp.
 */
#ifndef CC_SECRET_H
#define CC_SECRET_H

#include <stddef.h>
#include <stdint.h>

/*
 * Once, at start-up, before threads: marks the process non-dumpable (no core
 * file, no ptrace by other users) and sets up the secure heap, sized to
 * RLIMIT_MEMLOCK.  Returns 1 (locked arena), 2 (arena, not locked) or 0 (no
 * arena: the mlock'ed fallback only; always so under AddressSanitizer).
 */
int cc_secret_init(void);
/* Allocates len zeroed bytes of locked memory; NULL on failure. */
void *cc_secret_alloc(size_t len);
/* Wipes and frees memory from cc_secret_alloc; NULL is allowed. */
void cc_secret_free(void *p, size_t len);
/* Wipes len bytes in place. */
void cc_secret_wipe(void *p, size_t len);
/* Constant-time equality of two buffers of equal length: 1 if equal. */
int cc_ct_equal(const void *a, const void *b, size_t len);

#endif
