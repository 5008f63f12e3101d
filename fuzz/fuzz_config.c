/*
 * fuzz_config — the YAML a signer is configured from:
 *   - cc_config_load_yaml_string (src/config/config.c), the config file layer
 *     (the same code cc_config_load_file runs on a file's text), then
 *     cc_config_validate on what it produced;
 *   - cc_network_load (src/signing/network.c) on the same bytes as a devnet
 *     consensus-spec config.yaml, written to a file in /dev/shm (that loader
 *     takes a path).
 *
 * Invariants: a failure carries its code and message; a devnet that loads
 * has a known preset, its root, and phase0 at epoch 0.
 */
#include <unistd.h>

#include "config/config.h"
#include "fuzz.h"
#include "signing/network.h"
#include "util/log.h"

static char net_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cc_log_set_level(CC_LOG_ERROR);
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(net_path, sizeof net_path, "%s/cc-fuzz-config-%d.yaml", dir, (int)getpid());
    return 0;
}

static cc_status load(const uint8_t *data, size_t size, cc_config *cfg, cc_error *err)
{
    cc_config_defaults(cfg);
    return cc_config_load_yaml_string(cfg, (const char *)data, size, "fuzz.yaml", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cc_config cfg;
    cc_error err = {0};
    cc_status st = load(data, size, &cfg, &err);
    if (st != CC_OK) {
        FUZZ_ASSERT_ERR(st, err);
    } else {
        cc_error verr = {0};
        cc_status vst = cc_config_validate(&cfg, &verr);
        if (vst != CC_OK)
            FUZZ_ASSERT_ERR(vst, verr);
    }
    cc_config_free(&cfg);

    FILE *f = fopen(net_path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    cc_network net;
    memset(&err, 0, sizeof err);
    st = cc_network_load(net_path, "0x270d43e74ce340de4bca2b1936beca0f4f5408d9e78aec4850920baf659d5b69", &net, &err);
    if (st != CC_OK) {
        FUZZ_ASSERT_ERR(st, err);
    } else {
        FUZZ_ASSERT(!strcmp(net.preset.name, "mainnet") || !strcmp(net.preset.name, "minimal"));
        FUZZ_ASSERT(memchr(net.name, '\0', sizeof net.name) != NULL);
        FUZZ_ASSERT(net.has_genesis_validators_root);
        FUZZ_ASSERT(net.fork_epoch[CC_FORK_PHASE0] == 0);
        cc_fork fk = cc_network_fork_at_epoch(&net, UINT64_MAX - 1);
        FUZZ_ASSERT((unsigned)fk < CC_FORK_COUNT);
    }
    return 0;
}
