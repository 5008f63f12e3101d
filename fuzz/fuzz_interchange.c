/*
 * fuzz_interchange — cc_interchange_parse (src/slashing/interchange.c), the
 * EIP-3076 file `slashing import` reads, then cc_interchange_write and a
 * re-parse.
 *
 * Invariants: a failure carries its code and message; what parses is written,
 * re-parsed to the same content (root, validators, every record with or
 * without its signing root, in order), and written again to the same text.
 */
#include "fuzz.h"
#include "slashing/slashing.h"
#include "util/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cc_log_set_level(CC_LOG_ERROR);
    return 0;
}

static void same(const cc_interchange *a, const cc_interchange *b)
{
    FUZZ_ASSERT(memcmp(a->genesis_validators_root, b->genesis_validators_root, 32) == 0);
    FUZZ_ASSERT(a->validator_count == b->validator_count);
    for (size_t i = 0; i < a->validator_count; i++) {
        const cc_ic_validator *x = &a->validators[i], *y = &b->validators[i];
        FUZZ_ASSERT(memcmp(x->pubkey, y->pubkey, 48) == 0);
        FUZZ_ASSERT(x->block_count == y->block_count && x->attestation_count == y->attestation_count);
        for (size_t j = 0; j < x->block_count; j++) {
            FUZZ_ASSERT(x->blocks[j].slot == y->blocks[j].slot);
            FUZZ_ASSERT(x->blocks[j].has_signing_root == y->blocks[j].has_signing_root);
            if (x->blocks[j].has_signing_root)
                FUZZ_ASSERT(memcmp(x->blocks[j].signing_root, y->blocks[j].signing_root, 32) == 0);
        }
        for (size_t j = 0; j < x->attestation_count; j++) {
            FUZZ_ASSERT(x->attestations[j].source_epoch == y->attestations[j].source_epoch);
            FUZZ_ASSERT(x->attestations[j].target_epoch == y->attestations[j].target_epoch);
            FUZZ_ASSERT(x->attestations[j].has_signing_root == y->attestations[j].has_signing_root);
            if (x->attestations[j].has_signing_root)
                FUZZ_ASSERT(memcmp(x->attestations[j].signing_root, y->attestations[j].signing_root, 32) == 0);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1); /* exact bytes, no NUL after them */
    if (!copy)
        abort();
    memcpy(copy, data, size);
    cc_interchange *ic = NULL, *ic2 = NULL;
    cc_error err = {0};
    cc_status st = cc_interchange_parse((const char *)copy, size, &ic, &err);
    free(copy);
    if (st != CC_OK) {
        FUZZ_ASSERT_ERR(st, err);
        FUZZ_ASSERT(st == CC_EINVAL || st == CC_ENOMEM);
        return 0;
    }
    FUZZ_ASSERT(ic != NULL);
    char *json = NULL, *json2 = NULL;
    FUZZ_ASSERT(cc_interchange_write(ic, &json, &err) == CC_OK && json);
    st = cc_interchange_parse(json, strlen(json), &ic2, &err);
    if (st != CC_OK)
        fprintf(stderr, "re-parse of our own output failed: %s\n%s\n", err.msg, json);
    FUZZ_ASSERT(st == CC_OK);
    same(ic, ic2);
    FUZZ_ASSERT(cc_interchange_write(ic2, &json2, &err) == CC_OK && json2);
    FUZZ_ASSERT(strcmp(json, json2) == 0);
    free(json);
    free(json2);
    cc_interchange_free(ic);
    cc_interchange_free(ic2);
    return 0;
}
