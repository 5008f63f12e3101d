/*
 * fuzz_sign_request — cc_sign_request_parse (src/signing/request.c), the body
 * of every POST /api/v1/eth2/sign/{pubkey}, for two networks: mainnet, and a
 * minimal-preset devnet loaded with cc_network_load from a config.yaml written
 * at start-up (the Lodestar devnet of tests/signing/test_lodestar_bodies.c,
 * every fork scheduled so each fork's domain is reachable).
 *
 * Invariants: a failure carries its code and a message; 403 only for the
 * network guard; a parse that succeeds names a known type whose gate matches
 * it (blocks → slot, attestations → source/target, the rest → none) and
 * whose wire name parses back to it.
 */
#include <unistd.h>

#include "fuzz.h"
#include "signing/request.h"
#include "util/log.h"

static cc_network mainnet, devnet;

static const char devnet_yaml[] =
    "PRESET_BASE: 'minimal'\n"
    "CONFIG_NAME: 'fuzz-devnet'\n"
    "GENESIS_FORK_VERSION: 0x00000001\n"
    "ALTAIR_FORK_VERSION: 0x01000001\nALTAIR_FORK_EPOCH: 0\n"
    "BELLATRIX_FORK_VERSION: 0x02000001\nBELLATRIX_FORK_EPOCH: 1\n"
    "CAPELLA_FORK_VERSION: 0x03000001\nCAPELLA_FORK_EPOCH: 2\n"
    "DENEB_FORK_VERSION: 0x04000001\nDENEB_FORK_EPOCH: 3\n"
    "ELECTRA_FORK_VERSION: 0x05000001\nELECTRA_FORK_EPOCH: 4\n"
    "FULU_FORK_VERSION: 0x06000001\nFULU_FORK_EPOCH: 5\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cc_log_set_level(CC_LOG_ERROR);
    cc_error err = {0};
    if (cc_network_load("mainnet", NULL, &mainnet, &err) != CC_OK) {
        fprintf(stderr, "mainnet: %s\n", err.msg);
        abort();
    }
    char path[] = "/tmp/cc-fuzz-devnet-XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    if (fd < 0 || write(fd, devnet_yaml, sizeof devnet_yaml - 1) != (ssize_t)(sizeof devnet_yaml - 1))
        abort();
    close(fd);
    cc_status st = cc_network_load(path, "0x270d43e74ce340de4bca2b1936beca0f4f5408d9e78aec4850920baf659d5b69",
                                   &devnet, &err);
    unlink(path);
    if (st != CC_OK) {
        fprintf(stderr, "devnet: %s\n", err.msg);
        abort();
    }
    FUZZ_ASSERT(strcmp(devnet.preset.name, "minimal") == 0);
    return 0;
}

static void one(const uint8_t *data, size_t size, const cc_network *net)
{
    cc_sign_request out;
    cc_error err = {0};
    memset(&out, 0xa5, sizeof out);
    cc_status st = cc_sign_request_parse((const char *)data, size, net, &out, &err);
    if (st != CC_OK) {
        FUZZ_ASSERT_ERR(st, err);
        FUZZ_ASSERT(st == CC_EINVAL || st == CC_EFORBIDDEN || st == CC_ENOMEM);
        return;
    }
    FUZZ_ASSERT((unsigned)out.type < CC_SIGN_TYPE_COUNT);
    switch (out.type) {
    case CC_SIGN_BLOCK:
    case CC_SIGN_BLOCK_V2:
        FUZZ_ASSERT(out.gate == CC_GATE_BLOCK);
        break;
    case CC_SIGN_ATTESTATION:
        FUZZ_ASSERT(out.gate == CC_GATE_ATTESTATION);
        break;
    default:
        FUZZ_ASSERT(out.gate == CC_GATE_NONE);
    }
    /* The wire name round-trips. */
    cc_sign_type t;
    FUZZ_ASSERT(cc_sign_type_parse(cc_sign_type_name(out.type), &t, NULL) == CC_OK && t == out.type);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The exact bytes (no NUL after them: the parser must honour len)... */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        abort();
    memcpy(copy, data, size);
    one(copy, size, &mainnet);
    one(copy, size, &devnet);
    free(copy);
    return 0;
}
