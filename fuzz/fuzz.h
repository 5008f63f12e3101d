/*
 * fuzz.h — helpers shared by the libFuzzer targets in fuzz/ (header-only).
 *
 * Each target feeds the fuzzer's bytes to one parser of outside input and
 * checks cheap invariants; a broken invariant aborts (libFuzzer keeps the
 * input as a crash artifact).  Built by `make fuzz` / `make fuzz-smoke`
 * with clang -fsanitize=fuzzer,address,undefined (docs/testing.md).
 */
#ifndef CC_FUZZ_H
#define CC_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define FUZZ_FN static __attribute__((unused))

/* Aborts with the failed condition: libFuzzer reports it as a crash and saves the input. */
#define FUZZ_ASSERT(cond)                                                                               \
    do {                                                                                                \
        if (!(cond)) {                                                                                  \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);                \
            abort();                                                                                    \
        }                                                                                               \
    } while (0)

/* A failed call must say why: the code it returned and a message. */
#define FUZZ_ASSERT_ERR(st, err)                                                                        \
    do {                                                                                                \
        FUZZ_ASSERT((err).code == (st));                                                                \
        FUZZ_ASSERT((err).msg[0] != '\0');                                                              \
        FUZZ_ASSERT(memchr((err).msg, '\0', sizeof (err).msg) != NULL);                                 \
    } while (0)

/* A NUL-terminated malloc'ed copy of the input (parsers of C strings). */
FUZZ_FN char *fuzz_strdup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
