/*
 * types.c — hash_tree_root of consensus objects from their JSON form.
 *
 * Field order and list limits follow consensus-specs (phase0, altair, electra
 * beacon-chain.md) and builder-specs (ValidatorRegistrationV1).  Every object
 * is hashed as it is read: each field becomes one 32-byte root in a local
 * array and the container root is the merkleization of that array, so nothing
 * is allocated and no intermediate struct is kept.
 */
#include "signing/types.h"

#include <string.h>

#include "signing/ssz.h"

#define TRY(expr)                                                                        \
    do {                                                                                 \
        cc_status _st = (expr);                                                          \
        if (_st != CC_OK)                                                                \
            return _st;                                                                  \
    } while (0)

/* Phase0 body list limits (same in the mainnet and minimal presets). */
#define MAX_PROPOSER_SLASHINGS 16
#define MAX_ATTESTER_SLASHINGS 2
#define MAX_ATTESTATIONS 128
#define MAX_DEPOSITS 16
#define MAX_VOLUNTARY_EXITS 16
#define DEPOSIT_CONTRACT_TREE_DEPTH 32

/* Largest bitlist we accept: MAX_VALIDATORS_PER_COMMITTEE (2048) × MAX_COMMITTEES_PER_SLOT (64) bits. */
#define MAX_BITLIST_BITS (2048u * 64u)
/* Largest bitvector: mainnet SYNC_COMMITTEE_SIZE (512 bits); room to report a too-long one by its length. */
#define MAX_BITVECTOR_BYTES 256

/* ---- leaf fields ------------------------------------------------------------------- */

static cc_status u64_field(const json_t *obj, const char *key, const cc_path *path, uint64_t *val,
                           uint8_t root[32], cc_error *err)
{
    uint64_t v;
    TRY(cc_jf_u64(obj, key, path, &v, err));
    if (val)
        *val = v;
    cc_ssz_uint64_root(v, root);
    return CC_OK;
}

/* A fixed-size byte vector (Bytes4 … Bytes96). */
static cc_status bytes_field(const json_t *obj, const char *key, const cc_path *path, size_t len,
                             uint8_t root[32], cc_error *err)
{
    uint8_t buf[96];
    TRY(cc_jf_bytes(obj, key, path, buf, len, err));
    cc_ssz_bytes_root(buf, len, root);
    return CC_OK;
}

static cc_status bitlist_field(const json_t *obj, const char *key, const cc_path *path, uint64_t limit,
                               uint8_t root[32], cc_error *err)
{
    static _Thread_local uint8_t buf[MAX_BITLIST_BITS / 8 + 1];
    size_t cap = (size_t)(limit / 8 + 1), len;
    if (cap > sizeof buf)
        cap = sizeof buf;
    TRY(cc_jf_bytes_var(obj, key, path, buf, cap, &len, err));
    cc_error e;
    if (cc_ssz_bitlist_root(buf, len, limit, root, &e) != CC_OK)
        return cc_path_fail(err, path, key, "%s", e.msg);
    return CC_OK;
}

static cc_status bitvector_field(const json_t *obj, const char *key, const cc_path *path, uint64_t nbits,
                                 uint8_t root[32], cc_error *err)
{
    uint8_t buf[MAX_BITVECTOR_BYTES];
    size_t len;
    if ((nbits + 7) / 8 > sizeof buf)
        return cc_path_fail(err, path, key, "bitvector of %llu bits is not supported", (unsigned long long)nbits);
    TRY(cc_jf_bytes_var(obj, key, path, buf, sizeof buf, &len, err));
    cc_error e;
    if (cc_ssz_bitvector_root(buf, len, nbits, root, &e) != CC_OK)
        return cc_path_fail(err, path, key, "%s", e.msg);
    return CC_OK;
}

/* A nested container: looks the member up and hands it to fn with its path. */
typedef cc_status (*root_fn)(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err);

static cc_status object_field(const json_t *obj, const char *key, const cc_path *path, root_fn fn,
                              uint8_t root[32], cc_error *err)
{
    json_t *sub;
    TRY(cc_jf_object(obj, key, path, &sub, err));
    cc_path here = {path, key, 0};
    return fn(sub, &here, root, err);
}

/* List[Container, limit]: each element hashed by fn, then merkleized and length-mixed. */
static cc_status list_field(const json_t *obj, const char *key, const cc_path *path, size_t limit, root_fn fn,
                            uint8_t root[32], cc_error *err)
{
    json_t *arr;
    uint8_t roots[MAX_ATTESTATIONS][32];
    if (limit > MAX_ATTESTATIONS)
        return cc_path_fail(err, path, key, "list limit %zu not supported", limit);
    TRY(cc_jf_array(obj, key, path, limit, &arr, err));
    cc_path here = {path, key, 0};
    size_t n = json_array_size(arr);
    for (size_t i = 0; i < n; i++) {
        cc_path at = {&here, NULL, i};
        json_t *el = json_array_get(arr, i);
        TRY(cc_jv_object(el, &at, err));
        TRY(fn(el, &at, roots[i], err));
    }
    return cc_ssz_root_list_root(&roots[0][0], n, limit, root, err);
}

/* ---- small containers --------------------------------------------------------------- */

static cc_status checkpoint_root(const json_t *obj, const cc_path *path, uint64_t *epoch, uint8_t root[32],
                                 cc_error *err)
{
    uint8_t f[2][32];
    TRY(u64_field(obj, "epoch", path, epoch, f[0], err));
    TRY(bytes_field(obj, "root", path, 32, f[1], err));
    cc_ssz_container_root(f, 2, root);
    return CC_OK;
}

cc_status cc_type_attestation_data_root(const json_t *obj, const cc_path *path, cc_attestation_data *parsed,
                                        uint8_t root[32], cc_error *err)
{
    cc_attestation_data d;
    uint8_t f[5][32];
    json_t *cp;
    TRY(u64_field(obj, "slot", path, &d.slot, f[0], err));
    TRY(u64_field(obj, "index", path, &d.index, f[1], err));
    TRY(bytes_field(obj, "beacon_block_root", path, 32, f[2], err));
    TRY(cc_jf_object(obj, "source", path, &cp, err));
    cc_path src = {path, "source", 0};
    TRY(checkpoint_root(cp, &src, &d.source_epoch, f[3], err));
    TRY(cc_jf_object(obj, "target", path, &cp, err));
    cc_path tgt = {path, "target", 0};
    TRY(checkpoint_root(cp, &tgt, &d.target_epoch, f[4], err));
    cc_ssz_container_root(f, 5, root);
    if (parsed)
        *parsed = d;
    return CC_OK;
}

static cc_status attestation_data_fn(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err)
{
    return cc_type_attestation_data_root(obj, path, NULL, root, err);
}

cc_status cc_type_block_header_root(const json_t *obj, const cc_path *path, uint64_t *slot, uint8_t root[32],
                                    cc_error *err)
{
    uint8_t f[5][32];
    TRY(u64_field(obj, "slot", path, slot, f[0], err));
    TRY(u64_field(obj, "proposer_index", path, NULL, f[1], err));
    TRY(bytes_field(obj, "parent_root", path, 32, f[2], err));
    TRY(bytes_field(obj, "state_root", path, 32, f[3], err));
    TRY(bytes_field(obj, "body_root", path, 32, f[4], err));
    cc_ssz_container_root(f, 5, root);
    return CC_OK;
}

static cc_status block_header_fn(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err)
{
    return cc_type_block_header_root(obj, path, NULL, root, err);
}

static cc_status signed_header_fn(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err)
{
    uint8_t f[2][32];
    TRY(object_field(obj, "message", path, block_header_fn, f[0], err));
    TRY(bytes_field(obj, "signature", path, 96, f[1], err));
    cc_ssz_container_root(f, 2, root);
    return CC_OK;
}

static cc_status proposer_slashing_fn(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err)
{
    uint8_t f[2][32];
    TRY(object_field(obj, "signed_header_1", path, signed_header_fn, f[0], err));
    TRY(object_field(obj, "signed_header_2", path, signed_header_fn, f[1], err));
    cc_ssz_container_root(f, 2, root);
    return CC_OK;
}

/* IndexedAttestation{attesting_indices: List[ValidatorIndex, MAX_VALIDATORS_PER_COMMITTEE], data, signature}. */
static cc_status indexed_attestation_fn(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err)
{
    enum { MAX_INDICES = 2048 };
    uint64_t indices[MAX_INDICES];
    uint8_t f[3][32];
    json_t *arr;
    TRY(cc_jf_array(obj, "attesting_indices", path, MAX_INDICES, &arr, err));
    cc_path here = {path, "attesting_indices", 0};
    size_t n = json_array_size(arr);
    for (size_t i = 0; i < n; i++) {
        cc_path at = {&here, NULL, i};
        TRY(cc_jv_u64(json_array_get(arr, i), &at, &indices[i], err));
    }
    TRY(cc_ssz_uint64_list_root(indices, n, MAX_INDICES, f[0], err));
    TRY(object_field(obj, "data", path, attestation_data_fn, f[1], err));
    TRY(bytes_field(obj, "signature", path, 96, f[2], err));
    cc_ssz_container_root(f, 3, root);
    return CC_OK;
}

static cc_status attester_slashing_fn(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err)
{
    uint8_t f[2][32];
    TRY(object_field(obj, "attestation_1", path, indexed_attestation_fn, f[0], err));
    TRY(object_field(obj, "attestation_2", path, indexed_attestation_fn, f[1], err));
    cc_ssz_container_root(f, 2, root);
    return CC_OK;
}

/*
 * Attestation: phase0 {aggregation_bits: Bitlist[MAX_VALIDATORS_PER_COMMITTEE], data, signature};
 * electra (EIP-7549) widens aggregation_bits to MAX_VALIDATORS_PER_COMMITTEE × MAX_COMMITTEES_PER_SLOT
 * and appends committee_bits: Bitvector[MAX_COMMITTEES_PER_SLOT].  committee_bits == 0 means phase0.
 */
static cc_status attestation_root(const json_t *obj, const cc_path *path, uint64_t bits_limit,
                                  uint64_t committee_bits, uint64_t *slot, uint8_t root[32], cc_error *err)
{
    uint8_t f[4][32];
    json_t *data;
    cc_attestation_data d;
    TRY(bitlist_field(obj, "aggregation_bits", path, bits_limit, f[0], err));
    TRY(cc_jf_object(obj, "data", path, &data, err));
    cc_path dp = {path, "data", 0};
    TRY(cc_type_attestation_data_root(data, &dp, &d, f[1], err));
    TRY(bytes_field(obj, "signature", path, 96, f[2], err));
    if (committee_bits)
        TRY(bitvector_field(obj, "committee_bits", path, committee_bits, f[3], err));
    cc_ssz_container_root(f, committee_bits ? 4 : 3, root);
    if (slot)
        *slot = d.slot;
    return CC_OK;
}

/* MAX_VALIDATORS_PER_COMMITTEE, equal in both presets. */
#define PHASE0_AGGREGATION_BITS 2048

static cc_status phase0_attestation_fn(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err)
{
    return attestation_root(obj, path, PHASE0_AGGREGATION_BITS, 0, NULL, root, err);
}

static cc_status deposit_data_fn(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err)
{
    uint8_t f[4][32];
    TRY(bytes_field(obj, "pubkey", path, 48, f[0], err));
    TRY(bytes_field(obj, "withdrawal_credentials", path, 32, f[1], err));
    TRY(u64_field(obj, "amount", path, NULL, f[2], err));
    TRY(bytes_field(obj, "signature", path, 96, f[3], err));
    cc_ssz_container_root(f, 4, root);
    return CC_OK;
}

/* Deposit{proof: Vector[Bytes32, DEPOSIT_CONTRACT_TREE_DEPTH + 1], data: DepositData}. */
static cc_status deposit_fn(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err)
{
    enum { N = DEPOSIT_CONTRACT_TREE_DEPTH + 1 };
    uint8_t proof[N][32];
    uint8_t f[2][32];
    json_t *arr;
    TRY(cc_jf_array(obj, "proof", path, N, &arr, err));
    if (json_array_size(arr) != N)
        return cc_path_fail(err, path, "proof", "expected %d items, got %zu", N, json_array_size(arr));
    cc_path here = {path, "proof", 0};
    for (size_t i = 0; i < N; i++) {
        cc_path at = {&here, NULL, i};
        TRY(cc_jv_bytes(json_array_get(arr, i), &at, proof[i], 32, err));
    }
    TRY(cc_ssz_merkleize(&proof[0][0], sizeof proof, N, f[0], err));
    TRY(object_field(obj, "data", path, deposit_data_fn, f[1], err));
    cc_ssz_container_root(f, 2, root);
    return CC_OK;
}

static cc_status voluntary_exit_fn(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err)
{
    return cc_type_voluntary_exit_root(obj, path, NULL, root, err);
}

static cc_status signed_voluntary_exit_fn(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err)
{
    uint8_t f[2][32];
    TRY(object_field(obj, "message", path, voluntary_exit_fn, f[0], err));
    TRY(bytes_field(obj, "signature", path, 96, f[1], err));
    cc_ssz_container_root(f, 2, root);
    return CC_OK;
}

static cc_status eth1_data_fn(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err)
{
    uint8_t f[3][32];
    TRY(bytes_field(obj, "deposit_root", path, 32, f[0], err));
    TRY(u64_field(obj, "deposit_count", path, NULL, f[1], err));
    TRY(bytes_field(obj, "block_hash", path, 32, f[2], err));
    cc_ssz_container_root(f, 3, root);
    return CC_OK;
}

/* ---- blocks ---------------------------------------------------------------------------- */

static cc_status body_root(const json_t *obj, const cc_path *path, cc_fork fork, const cc_preset *preset,
                           uint8_t root[32], cc_error *err)
{
    uint8_t f[9][32];
    TRY(bytes_field(obj, "randao_reveal", path, 96, f[0], err));
    TRY(object_field(obj, "eth1_data", path, eth1_data_fn, f[1], err));
    TRY(bytes_field(obj, "graffiti", path, 32, f[2], err));
    TRY(list_field(obj, "proposer_slashings", path, MAX_PROPOSER_SLASHINGS, proposer_slashing_fn, f[3], err));
    TRY(list_field(obj, "attester_slashings", path, MAX_ATTESTER_SLASHINGS, attester_slashing_fn, f[4], err));
    TRY(list_field(obj, "attestations", path, MAX_ATTESTATIONS, phase0_attestation_fn, f[5], err));
    TRY(list_field(obj, "deposits", path, MAX_DEPOSITS, deposit_fn, f[6], err));
    TRY(list_field(obj, "voluntary_exits", path, MAX_VOLUNTARY_EXITS, signed_voluntary_exit_fn, f[7], err));
    if (fork == CC_FORK_PHASE0) {
        cc_ssz_container_root(f, 8, root);
        return CC_OK;
    }
    /* Altair: SyncAggregate{sync_committee_bits: Bitvector[SYNC_COMMITTEE_SIZE], sync_committee_signature}. */
    json_t *sa;
    uint8_t s[2][32];
    TRY(cc_jf_object(obj, "sync_aggregate", path, &sa, err));
    cc_path sp = {path, "sync_aggregate", 0};
    TRY(bitvector_field(sa, "sync_committee_bits", &sp, preset->sync_committee_size, s[0], err));
    TRY(bytes_field(sa, "sync_committee_signature", &sp, 96, s[1], err));
    cc_ssz_container_root(s, 2, f[8]);
    cc_ssz_container_root(f, 9, root);
    return CC_OK;
}

cc_status cc_type_beacon_block_root(const json_t *obj, const cc_path *path, cc_fork fork, const cc_preset *preset,
                                    uint64_t *slot, uint8_t root[32], cc_error *err)
{
    if (fork != CC_FORK_PHASE0 && fork != CC_FORK_ALTAIR)
        return cc_path_fail(err, path, NULL, "a full block is only accepted for PHASE0 and ALTAIR; "
                                             "send block_header for %s", cc_fork_name(fork));
    uint8_t f[5][32];
    json_t *body;
    TRY(u64_field(obj, "slot", path, slot, f[0], err));
    TRY(u64_field(obj, "proposer_index", path, NULL, f[1], err));
    TRY(bytes_field(obj, "parent_root", path, 32, f[2], err));
    TRY(bytes_field(obj, "state_root", path, 32, f[3], err));
    TRY(cc_jf_object(obj, "body", path, &body, err));
    cc_path bp = {path, "body", 0};
    TRY(body_root(body, &bp, fork, preset, f[4], err));
    cc_ssz_container_root(f, 5, root);
    return CC_OK;
}

/* ---- aggregation and sync committee ----------------------------------------------------- */

cc_status cc_type_aggregate_and_proof_root(const json_t *obj, const cc_path *path, int electra,
                                           const cc_preset *preset, uint64_t *slot, uint8_t root[32],
                                           cc_error *err)
{
    uint8_t f[3][32];
    json_t *agg;
    TRY(u64_field(obj, "aggregator_index", path, NULL, f[0], err));
    TRY(cc_jf_object(obj, "aggregate", path, &agg, err));
    cc_path ap = {path, "aggregate", 0};
    uint64_t vpc = preset->max_validators_per_committee;
    if (electra)
        TRY(attestation_root(agg, &ap, vpc * preset->max_committees_per_slot, preset->max_committees_per_slot,
                             slot, f[1], err));
    else
        TRY(attestation_root(agg, &ap, vpc, 0, slot, f[1], err));
    TRY(bytes_field(obj, "selection_proof", path, 96, f[2], err));
    cc_ssz_container_root(f, 3, root);
    return CC_OK;
}

cc_status cc_type_contribution_and_proof_root(const json_t *obj, const cc_path *path, const cc_preset *preset,
                                              uint64_t *slot, uint8_t root[32], cc_error *err)
{
    uint8_t f[3][32], c[5][32];
    json_t *con;
    TRY(u64_field(obj, "aggregator_index", path, NULL, f[0], err));
    TRY(cc_jf_object(obj, "contribution", path, &con, err));
    cc_path cp = {path, "contribution", 0};
    /* SyncCommitteeContribution{slot, beacon_block_root, subcommittee_index,
     *   aggregation_bits: Bitvector[SYNC_COMMITTEE_SIZE / SYNC_COMMITTEE_SUBNET_COUNT], signature}. */
    TRY(u64_field(con, "slot", &cp, slot, c[0], err));
    TRY(bytes_field(con, "beacon_block_root", &cp, 32, c[1], err));
    TRY(u64_field(con, "subcommittee_index", &cp, NULL, c[2], err));
    uint64_t bits = preset->sync_committee_size / preset->sync_committee_subnet_count;
    TRY(bitvector_field(con, "aggregation_bits", &cp, bits, c[3], err));
    TRY(bytes_field(con, "signature", &cp, 96, c[4], err));
    cc_ssz_container_root(c, 5, f[1]);
    TRY(bytes_field(obj, "selection_proof", path, 96, f[2], err));
    cc_ssz_container_root(f, 3, root);
    return CC_OK;
}

cc_status cc_type_sync_aggregator_selection_data_root(const json_t *obj, const cc_path *path, uint64_t *slot,
                                                      uint8_t root[32], cc_error *err)
{
    uint8_t f[2][32];
    TRY(u64_field(obj, "slot", path, slot, f[0], err));
    TRY(u64_field(obj, "subcommittee_index", path, NULL, f[1], err));
    cc_ssz_container_root(f, 2, root);
    return CC_OK;
}

/* ---- deposits, exits, registrations ---------------------------------------------------- */

cc_status cc_type_deposit_message_root(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err)
{
    uint8_t f[3][32];
    TRY(bytes_field(obj, "pubkey", path, 48, f[0], err));
    TRY(bytes_field(obj, "withdrawal_credentials", path, 32, f[1], err));
    TRY(u64_field(obj, "amount", path, NULL, f[2], err));
    cc_ssz_container_root(f, 3, root);
    return CC_OK;
}

cc_status cc_type_voluntary_exit_root(const json_t *obj, const cc_path *path, uint64_t *epoch, uint8_t root[32],
                                      cc_error *err)
{
    uint8_t f[2][32];
    TRY(u64_field(obj, "epoch", path, epoch, f[0], err));
    TRY(u64_field(obj, "validator_index", path, NULL, f[1], err));
    cc_ssz_container_root(f, 2, root);
    return CC_OK;
}

cc_status cc_type_validator_registration_root(const json_t *obj, const cc_path *path, uint8_t root[32],
                                              cc_error *err)
{
    uint8_t f[4][32];
    TRY(bytes_field(obj, "fee_recipient", path, 20, f[0], err));
    TRY(u64_field(obj, "gas_limit", path, NULL, f[1], err));
    TRY(u64_field(obj, "timestamp", path, NULL, f[2], err));
    TRY(bytes_field(obj, "pubkey", path, 48, f[3], err));
    cc_ssz_container_root(f, 4, root);
    return CC_OK;
}

/* ---- forks, domains, signing data ----------------------------------------------------- */

cc_status cc_type_fork_root(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err)
{
    uint8_t f[3][32];
    TRY(bytes_field(obj, "previous_version", path, 4, f[0], err));
    TRY(bytes_field(obj, "current_version", path, 4, f[1], err));
    TRY(u64_field(obj, "epoch", path, NULL, f[2], err));
    cc_ssz_container_root(f, 3, root);
    return CC_OK;
}

cc_status cc_type_fork_data_root(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err)
{
    uint8_t f[2][32];
    TRY(bytes_field(obj, "current_version", path, 4, f[0], err));
    TRY(bytes_field(obj, "genesis_validators_root", path, 32, f[1], err));
    cc_ssz_container_root(f, 2, root);
    return CC_OK;
}

cc_status cc_type_signing_data_root(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err)
{
    uint8_t f[2][32];
    TRY(bytes_field(obj, "object_root", path, 32, f[0], err));
    TRY(bytes_field(obj, "domain", path, 32, f[1], err));
    cc_ssz_container_root(f, 2, root);
    return CC_OK;
}

void cc_compute_domain(const uint8_t domain_type[4], const uint8_t fork_version[4], const uint8_t gvr[32],
                       uint8_t domain[32])
{
    /* ForkData{current_version, genesis_validators_root}: two leaves, one hash. */
    uint8_t version_chunk[32] = {0}, fork_data_root[32];
    memcpy(version_chunk, fork_version, 4);
    cc_ssz_hash_pair(version_chunk, gvr, fork_data_root);
    memcpy(domain, domain_type, 4);
    memcpy(domain + 4, fork_data_root, 28);
}

void cc_compute_signing_root(const uint8_t object_root[32], const uint8_t domain[32], uint8_t out[32])
{
    cc_ssz_hash_pair(object_root, domain, out);
}
