/*
 * fuzz_descriptor — cc_key_descriptor_check (src/keys/filesystem.c), the
 * Web3Signer key descriptor parser every *.yaml under a key directory goes
 * through (type, keyType, privateKey, keystoreFile, keystorePasswordFile),
 * without touching the files a descriptor names.
 *
 * Invariants: a failure carries its code and message; a success is
 * file-raw or file-keystore and the same input checks the same again.
 */
#include "fuzz.h"
#include "keys/keys.h"
#include "util/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cc_log_set_level(CC_LOG_ERROR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1); /* exact bytes, no NUL after them */
    if (!copy)
        abort();
    memcpy(copy, data, size);
    int ks = -1, ks2 = -1;
    cc_error err = {0};
    cc_status st = cc_key_descriptor_check((const char *)copy, size, &ks, &err);
    if (st != CC_OK) {
        FUZZ_ASSERT_ERR(st, err);
        FUZZ_ASSERT(st == CC_EINVAL || st == CC_ENOMEM);
    } else {
        FUZZ_ASSERT(ks == 0 || ks == 1);
    }
    FUZZ_ASSERT(cc_key_descriptor_check((const char *)copy, size, &ks2, NULL) == st);
    if (st == CC_OK)
        FUZZ_ASSERT(ks2 == ks);
    free(copy);
    return 0;
}
