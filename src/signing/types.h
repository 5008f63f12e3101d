/*
 * types.h — hash_tree_root of the consensus objects a Web3Signer request can
 * carry, read straight from their JSON (jansson) form.
 *
 * Each function validates as it hashes (missing field, wrong type, wrong byte
 * length, non-decimal uint64, list over its limit) and names the failing field
 * by its full path.  Preset-dependent sizes come from the cc_preset; phase0 list
 * limits and MAX_VALIDATORS_PER_COMMITTEE are equal in both presets.
 *
 * Where a caller needs a value for fork selection or anti-slashing (a slot, an
 * epoch, source and target) the function hands it back beside the root.
 */
#ifndef CC_TYPES_H
#define CC_TYPES_H

#include <jansson.h>
#include <stdint.h>

#include "signing/jfield.h"
#include "signing/network.h"
#include "util/err.h"

typedef struct cc_attestation_data {
    uint64_t slot;
    uint64_t index;
    uint64_t source_epoch;
    uint64_t target_epoch;
} cc_attestation_data;

/* AttestationData{slot, index, beacon_block_root, source, target}; parsed may be NULL. */
cc_status cc_type_attestation_data_root(const json_t *obj, const cc_path *path, cc_attestation_data *parsed,
                                        uint8_t root[32], cc_error *err);

/* BeaconBlockHeader{slot, proposer_index, parent_root, state_root, body_root}; slot may be NULL. */
cc_status cc_type_block_header_root(const json_t *obj, const cc_path *path, uint64_t *slot, uint8_t root[32],
                                    cc_error *err);

/* A full BeaconBlock of fork PHASE0 or ALTAIR (other forks: CC_EINVAL, send block_header). */
cc_status cc_type_beacon_block_root(const json_t *obj, const cc_path *path, cc_fork fork, const cc_preset *preset,
                                    uint64_t *slot, uint8_t root[32], cc_error *err);

/*
 * AggregateAndProof{aggregator_index, aggregate, selection_proof}.  electra
 * selects the EIP-7549 Attestation (committee_bits, bigger aggregation_bits);
 * *slot receives aggregate.data.slot.
 */
cc_status cc_type_aggregate_and_proof_root(const json_t *obj, const cc_path *path, int electra,
                                           const cc_preset *preset, uint64_t *slot, uint8_t root[32],
                                           cc_error *err);

/* ContributionAndProof{aggregator_index, contribution, selection_proof}; *slot = contribution.slot. */
cc_status cc_type_contribution_and_proof_root(const json_t *obj, const cc_path *path, const cc_preset *preset,
                                              uint64_t *slot, uint8_t root[32], cc_error *err);

/* SyncAggregatorSelectionData{slot, subcommittee_index}. */
cc_status cc_type_sync_aggregator_selection_data_root(const json_t *obj, const cc_path *path, uint64_t *slot,
                                                      uint8_t root[32], cc_error *err);

/* DepositMessage{pubkey, withdrawal_credentials, amount} (extra members such as genesis_fork_version ignored). */
cc_status cc_type_deposit_message_root(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err);

/* VoluntaryExit{epoch, validator_index}. */
cc_status cc_type_voluntary_exit_root(const json_t *obj, const cc_path *path, uint64_t *epoch, uint8_t root[32],
                                      cc_error *err);

/* ValidatorRegistrationV1{fee_recipient, gas_limit, timestamp, pubkey}. */
cc_status cc_type_validator_registration_root(const json_t *obj, const cc_path *path, uint8_t root[32],
                                              cc_error *err);

/* Fork{previous_version, current_version, epoch}, ForkData{current_version, genesis_validators_root},
 * SigningData{object_root, domain}: used by the vector tests. */
cc_status cc_type_fork_root(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err);
cc_status cc_type_fork_data_root(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err);
cc_status cc_type_signing_data_root(const json_t *obj, const cc_path *path, uint8_t root[32], cc_error *err);

/* compute_domain(domain_type, fork_version, genesis_validators_root) (consensus-specs phase0). */
void cc_compute_domain(const uint8_t domain_type[4], const uint8_t fork_version[4], const uint8_t gvr[32],
                       uint8_t domain[32]);

/* compute_signing_root: hash_tree_root(SigningData{object_root, domain}). */
void cc_compute_signing_root(const uint8_t object_root[32], const uint8_t domain[32], uint8_t out[32]);

#endif
