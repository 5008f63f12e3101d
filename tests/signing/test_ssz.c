/*
 * Tests for signing/ssz and signing/types: merkleization against a naive
 * full-tree reference, bitfield rules, and every consensus-spec-tests
 * ssz_static case in the shared vectors (value.yaml → hash_tree_root == roots.yaml).
 */
#include <dirent.h>

#include "signing/ssz.h"
#include "signing/types.h"
#include "signing/support.h"
#include "test.h"

/* Reference: pad to the next power of two of limit with zero chunks and hash level by level. */
static void naive_merkleize(const uint8_t *chunks, size_t count, size_t limit, uint8_t out[32])
{
    size_t width = 1;
    while (width < limit)
        width <<= 1;
    uint8_t *layer = calloc(width, 32);
    memcpy(layer, chunks, count * 32);
    while (width > 1) {
        for (size_t i = 0; i < width / 2; i++)
            cc_ssz_hash_pair(layer + 64 * i, layer + 64 * i + 32, layer + 32 * i);
        width /= 2;
    }
    memcpy(out, layer, 32);
    free(layer);
}

TEST(zero_hashes)
{
    char hex[67];
    support_hex(cc_ssz_zero_hash(1), 32, hex);
    CHECK_EQ_STR(hex, "0xf5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b");
    uint8_t z[32];
    cc_ssz_hash_pair(cc_ssz_zero_hash(5), cc_ssz_zero_hash(5), z);
    CHECK(memcmp(z, cc_ssz_zero_hash(6), 32) == 0);
}

TEST(merkleize_matches_naive)
{
    uint8_t chunks[40 * 32];
    for (size_t i = 0; i < sizeof chunks; i++)
        chunks[i] = (uint8_t)(i * 7 + 3);
    for (size_t limit = 1; limit <= 40; limit++) {
        for (size_t count = 0; count <= limit; count++) {
            uint8_t a[32], b[32];
            CHECK(cc_ssz_merkleize(chunks, count * 32, limit, a, NULL) == CC_OK);
            naive_merkleize(chunks, count, limit, b);
            CHECK_MSG(memcmp(a, b, 32) == 0, "count %zu limit %zu", count, limit);
        }
    }
    /* Packed bytes: a partial last chunk is zero-padded. */
    uint8_t padded[64] = {0}, a[32], b[32];
    memcpy(padded, chunks, 40);
    CHECK(cc_ssz_merkleize(chunks, 40, 4, a, NULL) == CC_OK);
    naive_merkleize(padded, 2, 4, b);
    CHECK(memcmp(a, b, 32) == 0);
    /* Over the limit is refused. */
    cc_error err;
    CHECK(cc_ssz_merkleize(chunks, 5 * 32, 4, a, &err) == CC_EINVAL);
}

TEST(big_limit_depth)
{
    /* A list limit of 2^40 chunks: the root is the leaf hashed up with 40 zero subtrees. */
    uint8_t chunk[32] = {1}, a[32], expect[32];
    CHECK(cc_ssz_merkleize(chunk, 32, 1ull << 40, a, NULL) == CC_OK);
    memcpy(expect, chunk, 32);
    for (unsigned d = 0; d < 40; d++)
        cc_ssz_hash_pair(expect, cc_ssz_zero_hash(d), expect);
    CHECK(memcmp(a, expect, 32) == 0);
}

TEST(bitfields)
{
    uint8_t root[32], expect[32];
    cc_error err;
    /* Empty bitlist: only the delimiter. */
    uint8_t b0[1] = {0x01};
    CHECK(cc_ssz_bitlist_root(b0, 1, 2048, root, NULL) == CC_OK);
    cc_ssz_mix_in_length(cc_ssz_zero_hash(3), 0, expect);
    CHECK(memcmp(root, expect, 32) == 0);
    /* 0x03 = one set bit plus the delimiter. */
    uint8_t b1[1] = {0x03}, one[32] = {0x01}, m[32];
    CHECK(cc_ssz_bitlist_root(b1, 1, 2048, root, NULL) == CC_OK);
    naive_merkleize(one, 1, 8, m);
    cc_ssz_mix_in_length(m, 1, expect);
    CHECK(memcmp(root, expect, 32) == 0);
    /* Missing delimiter, over the limit. */
    uint8_t bz[2] = {0xff, 0x00};
    CHECK(cc_ssz_bitlist_root(bz, 2, 2048, root, &err) == CC_EINVAL);
    CHECK(strstr(err.msg, "delimiter") != NULL);
    uint8_t big[2] = {0xff, 0x02}; /* 9 bits */
    CHECK(cc_ssz_bitlist_root(big, 2, 8, root, &err) == CC_EINVAL);
    uint8_t empty[1];
    CHECK(cc_ssz_bitlist_root(empty, 0, 8, root, &err) == CC_EINVAL);
    /* Bitvector: exact length, no bits beyond its size. */
    uint8_t v[1] = {0x0f};
    CHECK(cc_ssz_bitvector_root(v, 1, 4, root, NULL) == CC_OK);
    uint8_t vbad[1] = {0x1f};
    CHECK(cc_ssz_bitvector_root(vbad, 1, 4, root, &err) == CC_EINVAL);
    CHECK(cc_ssz_bitvector_root(v, 1, 16, root, &err) == CC_EINVAL);
}

/* ---- consensus-spec-tests ssz_static ----------------------------------------------------- */

static cc_status root_of(const char *type, const json_t *v, const cc_preset *mainnet, uint8_t root[32],
                         cc_error *err)
{
    if (!strcmp(type, "AttestationData"))
        return cc_type_attestation_data_root(v, NULL, NULL, root, err);
    if (!strcmp(type, "BeaconBlockHeader"))
        return cc_type_block_header_root(v, NULL, NULL, root, err);
    if (!strcmp(type, "SigningData"))
        return cc_type_signing_data_root(v, NULL, root, err);
    if (!strcmp(type, "ForkData"))
        return cc_type_fork_data_root(v, NULL, root, err);
    if (!strcmp(type, "Fork"))
        return cc_type_fork_root(v, NULL, root, err);
    if (!strcmp(type, "VoluntaryExit"))
        return cc_type_voluntary_exit_root(v, NULL, NULL, root, err);
    if (!strcmp(type, "DepositMessage"))
        return cc_type_deposit_message_root(v, NULL, root, err);
    if (!strcmp(type, "AggregateAndProof"))
        return cc_type_aggregate_and_proof_root(v, NULL, 0, mainnet, NULL, root, err);
    if (!strcmp(type, "SyncAggregatorSelectionData"))
        return cc_type_sync_aggregator_selection_data_root(v, NULL, NULL, root, err);
    if (!strcmp(type, "ContributionAndProof"))
        return cc_type_contribution_and_proof_root(v, NULL, mainnet, NULL, root, err);
    return cc_error_set(err, CC_ENOTFOUND, "no root function for %s", type);
}

static int ssz_cases_run, ssz_cases_ok;

static void run_case(const char *dir, const char *type, const cc_preset *mainnet)
{
    char p[5000];
    snprintf(p, sizeof p, "%s/value.yaml", dir);
    json_t *value = support_yaml_file_to_json(p);
    snprintf(p, sizeof p, "%s/roots.yaml", dir);
    json_t *roots = support_yaml_file_to_json(p);
    ssz_cases_run++;
    CHECK_MSG(value && roots, "%s: unreadable", dir);
    if (value && roots) {
        uint8_t root[32];
        char hex[67];
        cc_error err = {0};
        cc_status st = root_of(type, value, mainnet, root, &err);
        CHECK_MSG(st == CC_OK, "%s: %s", dir, err.msg);
        if (st == CC_OK) {
            support_hex(root, 32, hex);
            const char *want = json_string_value(json_object_get(roots, "root"));
            CHECK_MSG(want && strcmp(hex, want) == 0, "%s: got %s want %s", dir, hex, want ? want : "?");
            if (want && strcmp(hex, want) == 0)
                ssz_cases_ok++;
        }
    }
    json_decref(value);
    json_decref(roots);
}

/* Walks tests/mainnet/<fork>/ssz_static/<Type>/ssz_random/case_N. */
TEST(ssz_static_vectors)
{
    cc_preset mainnet;
    cc_preset_by_name("mainnet", &mainnet, NULL);
    char base[1024];
    const char *vp = test_vectors_path("ssz_static/tests/mainnet");
    CHECK(strlen(vp) < sizeof base);
    memcpy(base, vp, strnlen(vp, sizeof base - 1));
    base[strnlen(vp, sizeof base - 1)] = '\0';
    DIR *forks = opendir(base);
    CHECK_MSG(forks != NULL, "cannot open %s", base);
    if (!forks)
        return;
    struct dirent *f;
    while ((f = readdir(forks))) {
        if (f->d_name[0] == '.')
            continue;
        char tdir[1400];
        snprintf(tdir, sizeof tdir, "%s/%s/ssz_static", base, f->d_name);
        DIR *types = opendir(tdir);
        if (!types)
            continue;
        struct dirent *t;
        while ((t = readdir(types))) {
            if (t->d_name[0] == '.')
                continue;
            char cdir[1800];
            snprintf(cdir, sizeof cdir, "%s/%s/ssz_random", tdir, t->d_name);
            DIR *cases = opendir(cdir);
            if (!cases)
                continue;
            struct dirent *c;
            while ((c = readdir(cases))) {
                if (c->d_name[0] == '.')
                    continue;
                char dir[2200];
                snprintf(dir, sizeof dir, "%s/%s", cdir, c->d_name);
                run_case(dir, t->d_name, &mainnet);
            }
            closedir(cases);
        }
        closedir(types);
    }
    closedir(forks);
    printf("  ssz_static: %d of %d cases match\n", ssz_cases_ok, ssz_cases_run);
    CHECK(ssz_cases_run >= 10);
}

int main(void)
{
    RUN(zero_hashes);
    RUN(merkleize_matches_naive);
    RUN(big_limit_depth);
    RUN(bitfields);
    RUN(ssz_static_vectors);
    TEST_MAIN_END();
}
