/*
 * helpers.h — shared bits of the slashing tests: temporary databases, keys
 * and roots made from small integers.
 */
#ifndef CC_TEST_SLASHING_HELPERS_H
#define CC_TEST_SLASHING_HELPERS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slashing/slashing.h"

static char test_tmpdir[256];

/* A fresh path in a per-process temporary directory. */
static inline const char *tmp_db(const char *name)
{
    static char buf[512];
    if (!test_tmpdir[0]) {
        snprintf(test_tmpdir, sizeof test_tmpdir, "/tmp/cc-slashing-test-XXXXXX");
        if (!mkdtemp(test_tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    snprintf(buf, sizeof buf, "%s/%s.sqlite", test_tmpdir, name);
    unlink(buf);
    return buf;
}

static inline void tmp_cleanup(void)
{
    if (test_tmpdir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", test_tmpdir);
    }
}

/* Pubkey number n: distinct in the bytes the id cache hashes, too. */
static inline void pk_n(uint8_t pk[48], uint32_t n)
{
    memset(pk, 0xa0, 48);
    for (int i = 0; i < 4; i++) {
        pk[8 + i] = (uint8_t)(n >> (8 * i));
        pk[44 + i] = (uint8_t)(n >> (8 * i));
    }
}

static inline void root_n(uint8_t root[32], uint32_t n)
{
    memset(root, 0, 32);
    for (int i = 0; i < 4; i++)
        root[28 + i] = (uint8_t)(n >> (8 * (3 - i)));
    root[0] = 0x5a;
}

static const uint8_t GVR_A[32] = {1, 2, 3};
static const uint8_t GVR_B[32] = {9, 9, 9};

#endif
