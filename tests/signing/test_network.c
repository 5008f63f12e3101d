/*
 * Tests for signing/network: built-in schedules (NOTES §2.4), consensus-spec
 * config.yaml loading (quoted and unquoted values, unknown and nested keys,
 * far-future and missing forks) and the errors that name the file and key.
 */
#include <unistd.h>

#include "signing/network.h"
#include "signing/support.h"
#include "test.h"

static char tmpdir[64];

static const char *write_config(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
    return path;
}

TEST(builtin_mainnet)
{
    cc_network net;
    cc_error err = {0};
    CHECK(cc_network_load("mainnet", NULL, &net, &err) == CC_OK);
    CHECK_EQ_STR(net.name, "mainnet");
    CHECK_EQ_STR(net.preset.name, "mainnet");
    CHECK_EQ_INT(net.preset.slots_per_epoch, 32);
    CHECK(net.has_genesis_validators_root);
    CHECK_EQ_INT(cc_network_fork_at_epoch(&net, 0), CC_FORK_PHASE0);
    CHECK_EQ_INT(cc_network_fork_at_epoch(&net, 74239), CC_FORK_PHASE0);
    CHECK_EQ_INT(cc_network_fork_at_epoch(&net, 74240), CC_FORK_ALTAIR);
    CHECK_EQ_INT(cc_network_fork_at_epoch(&net, 269568), CC_FORK_DENEB);
    CHECK_EQ_INT(cc_network_fork_at_epoch(&net, 364031), CC_FORK_DENEB);
    CHECK_EQ_INT(cc_network_fork_at_epoch(&net, 411392), CC_FORK_FULU);
    CHECK_EQ_INT(cc_network_fork_at_epoch(&net, UINT64_MAX), CC_FORK_FULU);
    char hex[67];
    support_hex(net.fork_version[CC_FORK_CAPELLA], 4, hex);
    CHECK_EQ_STR(hex, "0x03000000");
    support_hex(net.genesis_validators_root, 32, hex);
    CHECK_EQ_STR(hex, "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95");
    /* The right root may be restated; a different one is refused. */
    CHECK(cc_network_load("mainnet", "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95", &net,
                          &err) == CC_OK);
    CHECK(cc_network_load("mainnet", "0xd8ea171f3c94aea21ebc42a1ed61052acf3f9209c00e4efbaaddac09ed9b8078", &net,
                          &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "mainnet") != NULL);
    CHECK(cc_network_load("mainnet", "0x1234", &net, &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "genesis_validators_root") != NULL);
}

TEST(builtin_sepolia_hoodi)
{
    cc_network net;
    char hex[67];
    CHECK(cc_network_load("sepolia", NULL, &net, NULL) == CC_OK);
    support_hex(net.fork_version[CC_FORK_PHASE0], 4, hex);
    CHECK_EQ_STR(hex, "0x90000069");
    support_hex(net.fork_version[CC_FORK_FULU], 4, hex);
    CHECK_EQ_STR(hex, "0x90000075");
    CHECK_EQ_INT(net.fork_epoch[CC_FORK_ELECTRA], 222464);
    CHECK(cc_network_load("hoodi", NULL, &net, NULL) == CC_OK);
    CHECK_EQ_INT(cc_network_fork_at_epoch(&net, 0), CC_FORK_DENEB);
    CHECK_EQ_INT(cc_network_fork_at_epoch(&net, 2048), CC_FORK_ELECTRA);
    CHECK_EQ_INT(cc_network_fork_at_epoch(&net, 50688), CC_FORK_FULU);
    support_hex(net.genesis_validators_root, 32, hex);
    CHECK_EQ_STR(hex, "0x212f13fc4df078b6cb7db228f1c8307566dcecf900867401a92023d7ba99cb5f");
    cc_error err = {0};
    CHECK(cc_network_load("holesky", NULL, &net, &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "holesky") != NULL);
    CHECK(cc_network_load("", NULL, &net, &err) == CC_ECONFIG);
}

TEST(config_yaml)
{
    const char *path = write_config("dev.yaml",
                                    "# a devnet\n"
                                    "PRESET_BASE: 'minimal'\n"
                                    "CONFIG_NAME: \"my-devnet\"\n"
                                    "SECONDS_PER_SLOT: 6\n"
                                    "DEPOSIT_CONTRACT_ADDRESS: 0x4242424242424242424242424242424242424242\n"
                                    "GENESIS_FORK_VERSION: 0x00000001\n"
                                    "ALTAIR_FORK_VERSION: \"0x01000001\"\n"
                                    "ALTAIR_FORK_EPOCH: 0\n"
                                    "BELLATRIX_FORK_VERSION: 0x02000001\n"
                                    "BELLATRIX_FORK_EPOCH: '5'\n"
                                    "CAPELLA_FORK_VERSION: 0x03000001\n"
                                    "CAPELLA_FORK_EPOCH: 18446744073709551615\n"
                                    "DENEB_FORK_VERSION: 0x04000001\n"
                                    "DENEB_FORK_EPOCH: 18446744073709551615\n"
                                    "BLOB_SCHEDULE:\n"
                                    "  - EPOCH: 5\n"
                                    "    MAX_BLOBS_PER_BLOCK: 6\n"
                                    "NESTED: {a: [1, 2], b: {c: d}}\n"
                                    "GLOAS_FORK_VERSION: 0x07000001\n");
    cc_network net;
    cc_error err = {0};
    CHECK_MSG(cc_network_load(path, "0x270d43e74ce340de4bca2b1936beca0f4f5408d9e78aec4850920baf659d5b69", &net,
                              &err) == CC_OK, "%s", err.msg);
    CHECK_EQ_STR(net.name, "my-devnet");
    CHECK_EQ_STR(net.preset.name, "minimal");
    CHECK_EQ_INT(net.preset.slots_per_epoch, 8);
    CHECK_EQ_INT(net.preset.sync_committee_size, 32);
    CHECK_EQ_INT(net.preset.max_committees_per_slot, 4);
    CHECK(net.has_genesis_validators_root);
    CHECK_EQ_INT(net.fork_epoch[CC_FORK_ALTAIR], 0);
    CHECK_EQ_INT(net.fork_epoch[CC_FORK_BELLATRIX], 5);
    CHECK(net.fork_epoch[CC_FORK_CAPELLA] == CC_FAR_FUTURE_EPOCH);
    CHECK(net.fork_epoch[CC_FORK_ELECTRA] == CC_FAR_FUTURE_EPOCH); /* missing: unscheduled */
    CHECK(net.fork_epoch[CC_FORK_FULU] == CC_FAR_FUTURE_EPOCH);
    CHECK_EQ_INT(cc_network_fork_at_epoch(&net, 4), CC_FORK_ALTAIR);
    CHECK_EQ_INT(cc_network_fork_at_epoch(&net, 1000000), CC_FORK_BELLATRIX);
    char hex[11];
    support_hex(net.fork_version[CC_FORK_ALTAIR], 4, hex);
    CHECK_EQ_STR(hex, "0x01000001");

    /* Without a GVR the network loads but cannot pass the signing guard. */
    CHECK(cc_network_load(path, NULL, &net, &err) == CC_OK);
    CHECK(!net.has_genesis_validators_root);

    /* No CONFIG_NAME: the path names it. */
    path = write_config("noname.yml", "PRESET_BASE: mainnet\nGENESIS_FORK_VERSION: 0x10000000\n");
    CHECK(cc_network_load(path, NULL, &net, &err) == CC_OK);
    CHECK_EQ_STR(net.name, path);
    CHECK_EQ_INT(cc_network_fork_at_epoch(&net, 99999), CC_FORK_PHASE0);
}

TEST(config_yaml_errors)
{
    cc_network net;
    cc_error err = {0};
    const char *path = write_config("e1.yaml", "GENESIS_FORK_VERSION: 0x00000001\n");
    CHECK(cc_network_load(path, NULL, &net, &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "PRESET_BASE") != NULL);

    path = write_config("e2.yaml", "PRESET_BASE: gnosis\nGENESIS_FORK_VERSION: 0x00000001\n");
    CHECK(cc_network_load(path, NULL, &net, &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "PRESET_BASE") && strstr(err.msg, "gnosis"));

    path = write_config("e3.yaml", "PRESET_BASE: minimal\nGENESIS_FORK_VERSION: 0x000001\n");
    CHECK(cc_network_load(path, NULL, &net, &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "GENESIS_FORK_VERSION") && strstr(err.msg, "e3.yaml"));

    path = write_config("e4.yaml", "PRESET_BASE: minimal\nGENESIS_FORK_VERSION: 0x00000001\n"
                                   "ALTAIR_FORK_VERSION: 0x01000001\nALTAIR_FORK_EPOCH: soon\n");
    CHECK(cc_network_load(path, NULL, &net, &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "ALTAIR_FORK_EPOCH") != NULL);

    path = write_config("e5.yaml", "PRESET_BASE: minimal\nGENESIS_FORK_VERSION: 0x00000001\nALTAIR_FORK_EPOCH: 3\n");
    CHECK(cc_network_load(path, NULL, &net, &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "ALTAIR_FORK_VERSION") != NULL);

    path = write_config("e6.yaml", "PRESET_BASE: minimal\nGENESIS_FORK_VERSION: 0x00000001\n"
                                   "ALTAIR_FORK_VERSION: 0x01000001\nALTAIR_FORK_EPOCH: 10\n"
                                   "BELLATRIX_FORK_VERSION: 0x02000001\nBELLATRIX_FORK_EPOCH: 5\n");
    CHECK(cc_network_load(path, NULL, &net, &err) == CC_ECONFIG);
    CHECK(strstr(err.msg, "BELLATRIX_FORK_EPOCH") != NULL);

    path = write_config("e7.yaml", "- just\n- a list\n");
    CHECK(cc_network_load(path, NULL, &net, &err) == CC_ECONFIG);
    path = write_config("e8.yaml", "PRESET_BASE: [unclosed\n");
    CHECK(cc_network_load(path, NULL, &net, &err) == CC_ECONFIG);
    path = write_config("e9.yaml", "");
    CHECK(cc_network_load(path, NULL, &net, &err) == CC_ECONFIG);

    CHECK(cc_network_load("/nonexistent/config.yaml", NULL, &net, &err) == CC_EIO);
    CHECK(strstr(err.msg, "/nonexistent/config.yaml") != NULL);
}

TEST(fork_names)
{
    cc_fork f;
    CHECK(cc_fork_parse("phase0", &f, NULL) == CC_OK && f == CC_FORK_PHASE0);
    CHECK(cc_fork_parse("Electra", &f, NULL) == CC_OK && f == CC_FORK_ELECTRA);
    CHECK(cc_fork_parse("FULU", &f, NULL) == CC_OK && f == CC_FORK_FULU);
    cc_error err;
    CHECK(cc_fork_parse("GLOAS", &f, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "GLOAS") != NULL);
    CHECK(cc_fork_parse(NULL, &f, &err) == CC_EINVAL);
    for (int i = 0; i < CC_FORK_COUNT; i++)
        CHECK(cc_fork_parse(cc_fork_name((cc_fork)i), &f, NULL) == CC_OK && f == (cc_fork)i);
    CHECK_EQ_STR(cc_fork_name(CC_FORK_BELLATRIX), "BELLATRIX");
}

TEST(presets)
{
    cc_preset p;
    CHECK(cc_preset_by_name("minimal", &p, NULL) == CC_OK);
    CHECK_EQ_INT(p.sync_committee_size / p.sync_committee_subnet_count, 8);
    CHECK(cc_preset_by_name("mainnet", &p, NULL) == CC_OK);
    CHECK_EQ_INT(p.sync_committee_size / p.sync_committee_subnet_count, 128);
    CHECK_EQ_INT(p.max_validators_per_committee * p.max_committees_per_slot, 131072);
    CHECK(cc_preset_by_name("gnosis", &p, NULL) == CC_ECONFIG);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cc-test-network.XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    RUN(builtin_mainnet);
    RUN(builtin_sepolia_hoodi);
    RUN(config_yaml);
    RUN(config_yaml_errors);
    RUN(fork_names);
    RUN(presets);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    TEST_MAIN_END();
}
