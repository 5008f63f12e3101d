/*
 * request.c — a Web3Signer signing request body → signing root (+ what
 * anti-slashing needs).
 *
 * Steps: decode JSON (jansson, duplicate keys refused so no two parsers can
 * read one body differently), read `type`, read and guard fork_info, hash the
 * payload (types.c), pick the domain, compute the signing root, and compare a
 * supplied signingRoot.  The domain rules are NOTES §2.2 / SPEC §2.1:
 *
 *   - most types: compute_domain(type, msg_epoch < fork.epoch ? previous_version
 *     : current_version, fork_info.genesis_validators_root);
 *   - DEPOSIT: the body's genesis_fork_version and a zero root (no fork_info);
 *   - VALIDATOR_REGISTRATION: DOMAIN_APPLICATION_BUILDER with the network's
 *     genesis fork version and a zero root (no fork_info);
 *   - VOLUNTARY_EXIT (EIP-7044): the network's CAPELLA_FORK_VERSION once the
 *     chain is at Deneb or later.  "Deneb or later" holds when EITHER the
 *     network's schedule puts the exit's epoch at Deneb+, OR fork_info's
 *     current_version is the version of one of the network's scheduled Deneb+
 *     forks.  The second test covers the common case of an exit signed today
 *     for an old epoch (its epoch alone would pick a pre-Deneb version the
 *     chain no longer accepts); the first covers exits for a future epoch.
 *     Before that, fork_info's version is used as for any other type.
 *
 * Nothing is allocated beyond jansson's tree of the body.
 */
#include "signing/request.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "signing/jfield.h"
#include "signing/ssz.h"
#include "signing/types.h"
#include "util/hex.h"

#define TRY(expr)                                                                        \
    do {                                                                                 \
        cc_status _st = (expr);                                                          \
        if (_st != CC_OK)                                                                \
            return _st;                                                                  \
    } while (0)

/* Domain types (consensus-specs phase0/altair beacon-chain.md; builder-specs). */
static const uint8_t DOMAIN_BEACON_PROPOSER[4] = {0x00, 0, 0, 0};
static const uint8_t DOMAIN_BEACON_ATTESTER[4] = {0x01, 0, 0, 0};
static const uint8_t DOMAIN_RANDAO[4] = {0x02, 0, 0, 0};
static const uint8_t DOMAIN_DEPOSIT[4] = {0x03, 0, 0, 0};
static const uint8_t DOMAIN_VOLUNTARY_EXIT[4] = {0x04, 0, 0, 0};
static const uint8_t DOMAIN_SELECTION_PROOF[4] = {0x05, 0, 0, 0};
static const uint8_t DOMAIN_AGGREGATE_AND_PROOF[4] = {0x06, 0, 0, 0};
static const uint8_t DOMAIN_SYNC_COMMITTEE[4] = {0x07, 0, 0, 0};
static const uint8_t DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF[4] = {0x08, 0, 0, 0};
static const uint8_t DOMAIN_CONTRIBUTION_AND_PROOF[4] = {0x09, 0, 0, 0};
static const uint8_t DOMAIN_APPLICATION_BUILDER[4] = {0x00, 0, 0, 0x01};
static const uint8_t ZERO_ROOT[32];

static const char *const type_names[CC_SIGN_TYPE_COUNT] = {
    [CC_SIGN_BLOCK] = "BLOCK",
    [CC_SIGN_BLOCK_V2] = "BLOCK_V2",
    [CC_SIGN_ATTESTATION] = "ATTESTATION",
    [CC_SIGN_AGGREGATION_SLOT] = "AGGREGATION_SLOT",
    [CC_SIGN_AGGREGATE_AND_PROOF] = "AGGREGATE_AND_PROOF",
    [CC_SIGN_AGGREGATE_AND_PROOF_V2] = "AGGREGATE_AND_PROOF_V2",
    [CC_SIGN_DEPOSIT] = "DEPOSIT",
    [CC_SIGN_RANDAO_REVEAL] = "RANDAO_REVEAL",
    [CC_SIGN_VOLUNTARY_EXIT] = "VOLUNTARY_EXIT",
    [CC_SIGN_SYNC_COMMITTEE_MESSAGE] = "SYNC_COMMITTEE_MESSAGE",
    [CC_SIGN_SYNC_COMMITTEE_SELECTION_PROOF] = "SYNC_COMMITTEE_SELECTION_PROOF",
    [CC_SIGN_SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF] = "SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF",
    [CC_SIGN_VALIDATOR_REGISTRATION] = "VALIDATOR_REGISTRATION",
};

const char *cc_sign_type_name(cc_sign_type type)
{
    return (unsigned)type < CC_SIGN_TYPE_COUNT ? type_names[type] : "UNKNOWN";
}

cc_status cc_sign_type_parse(const char *name, cc_sign_type *out, cc_error *err)
{
    for (int t = 0; name && t < CC_SIGN_TYPE_COUNT; t++) {
        if (strcmp(name, type_names[t]) == 0) {
            *out = (cc_sign_type)t;
            return CC_OK;
        }
    }
    return cc_error_set(err, CC_EINVAL, "unknown signing type \"%.48s\"", name ? name : "");
}

/* fork_info = {fork:{previous_version, current_version, epoch}, genesis_validators_root}. */
typedef struct fork_info {
    uint8_t previous_version[4];
    uint8_t current_version[4];
    uint64_t epoch;
    uint8_t gvr[32];
} fork_info;

static cc_status parse_fork_info(const json_t *body, const cc_network *net, fork_info *fi, cc_error *err)
{
    json_t *obj, *fork;
    TRY(cc_jf_object(body, "fork_info", NULL, &obj, err));
    cc_path fp = {NULL, "fork_info", 0};
    TRY(cc_jf_object(obj, "fork", &fp, &fork, err));
    cc_path kp = {&fp, "fork", 0};
    TRY(cc_jf_bytes(fork, "previous_version", &kp, fi->previous_version, 4, err));
    TRY(cc_jf_bytes(fork, "current_version", &kp, fi->current_version, 4, err));
    TRY(cc_jf_u64(fork, "epoch", &kp, &fi->epoch, err));
    TRY(cc_jf_bytes(obj, "genesis_validators_root", &fp, fi->gvr, 32, err));

    /* The network guard: never sign for a chain other than the configured one. */
    if (!net->has_genesis_validators_root)
        return cc_error_set(err, CC_EFORBIDDEN, "network %s has no genesis_validators_root configured; "
                                                "refusing to sign", net->name);
    if (memcmp(fi->gvr, net->genesis_validators_root, 32) != 0) {
        char got[67], want[67];
        cc_hex_encode0x(fi->gvr, 32, got);
        cc_hex_encode0x(net->genesis_validators_root, 32, want);
        return cc_error_set(err, CC_EFORBIDDEN,
                            "fork_info.genesis_validators_root %s is not this signer's network (%s, %s)", got,
                            net->name, want);
    }
    return CC_OK;
}

/* get_domain's fork choice: previous_version for messages before fork.epoch. */
static const uint8_t *fork_version_for(const fork_info *fi, uint64_t msg_epoch)
{
    return msg_epoch < fi->epoch ? fi->previous_version : fi->current_version;
}

/* EIP-7044: is the chain at Deneb or later for this exit?  (See the top of this file.) */
static int exit_is_deneb_or_later(const cc_network *net, const fork_info *fi, uint64_t exit_epoch)
{
    if (cc_network_fork_at_epoch(net, exit_epoch) >= CC_FORK_DENEB)
        return 1;
    for (int f = CC_FORK_DENEB; f < CC_FORK_COUNT; f++) {
        if (net->fork_epoch[f] != CC_FAR_FUTURE_EPOCH &&
            memcmp(fi->current_version, net->fork_version[f], 4) == 0)
            return 1;
    }
    return 0;
}

/* The payload object under key, with its path link. */
static cc_status payload(const json_t *body, const char *key, json_t **obj, cc_error *err)
{
    return cc_jf_object(body, key, NULL, obj, err);
}

static cc_status parse_body(const json_t *body, const cc_network *net, cc_sign_request *out, cc_error *err)
{
    if (!json_is_object(body))
        return cc_error_set(err, CC_EINVAL, "request body: expected a JSON object");
    const char *type_str;
    TRY(cc_jf_string(body, "type", NULL, &type_str, err));
    cc_error e;
    if (cc_sign_type_parse(type_str, &out->type, &e) != CC_OK)
        return cc_error_set(err, CC_EINVAL, "type: %s", e.msg);

    const uint64_t spe = net->preset.slots_per_epoch;
    if (spe == 0)
        return cc_error_set(err, CC_ECONFIG, "network %s has no SLOTS_PER_EPOCH", net->name);

    fork_info fi = {0};
    int needs_fork_info = out->type != CC_SIGN_DEPOSIT && out->type != CC_SIGN_VALIDATOR_REGISTRATION;
    if (needs_fork_info)
        TRY(parse_fork_info(body, net, &fi, err));

    uint8_t object_root[32], domain[32];
    const uint8_t *domain_type = NULL;
    uint64_t msg_epoch = 0, slot = 0;
    json_t *obj;

    switch (out->type) {
    case CC_SIGN_BLOCK: {
        TRY(payload(body, "block", &obj, err));
        cc_path p = {NULL, "block", 0};
        TRY(cc_type_beacon_block_root(obj, &p, CC_FORK_PHASE0, &net->preset, &slot, object_root, err));
        domain_type = DOMAIN_BEACON_PROPOSER;
        msg_epoch = slot / spe;
        out->gate = CC_GATE_BLOCK;
        out->slot = slot;
        break;
    }
    case CC_SIGN_BLOCK_V2: {
        const char *version;
        cc_fork fork;
        json_t *blk;
        TRY(payload(body, "beacon_block", &obj, err));
        cc_path bp = {NULL, "beacon_block", 0};
        TRY(cc_jf_string(obj, "version", &bp, &version, err));
        if (cc_fork_parse(version, &fork, &e) != CC_OK)
            return cc_error_set(err, CC_EINVAL, "beacon_block.version: %s", e.msg);
        /* A header hashes to its block's root, so it is accepted for every version. */
        json_t *hdr = cc_jf_get(obj, "block_header");
        if (hdr && !json_is_null(hdr)) {
            TRY(cc_jf_object(obj, "block_header", &bp, &blk, err));
            cc_path hp = {&bp, "block_header", 0};
            TRY(cc_type_block_header_root(blk, &hp, &slot, object_root, err));
        } else {
            if (fork >= CC_FORK_BELLATRIX && !cc_jf_get(obj, "block"))
                return cc_error_set(err, CC_EINVAL, "beacon_block.block_header: missing field (required for %s)",
                                    cc_fork_name(fork));
            TRY(cc_jf_object(obj, "block", &bp, &blk, err));
            cc_path kp = {&bp, "block", 0};
            TRY(cc_type_beacon_block_root(blk, &kp, fork, &net->preset, &slot, object_root, err));
        }
        domain_type = DOMAIN_BEACON_PROPOSER;
        msg_epoch = slot / spe;
        out->gate = CC_GATE_BLOCK;
        out->slot = slot;
        break;
    }
    case CC_SIGN_ATTESTATION: {
        cc_attestation_data d;
        TRY(payload(body, "attestation", &obj, err));
        cc_path p = {NULL, "attestation", 0};
        TRY(cc_type_attestation_data_root(obj, &p, &d, object_root, err));
        domain_type = DOMAIN_BEACON_ATTESTER;
        msg_epoch = d.target_epoch;
        out->gate = CC_GATE_ATTESTATION;
        out->slot = d.slot;
        out->source_epoch = d.source_epoch;
        out->target_epoch = d.target_epoch;
        break;
    }
    case CC_SIGN_AGGREGATION_SLOT: {
        TRY(payload(body, "aggregation_slot", &obj, err));
        cc_path p = {NULL, "aggregation_slot", 0};
        TRY(cc_jf_u64(obj, "slot", &p, &slot, err));
        cc_ssz_uint64_root(slot, object_root);
        domain_type = DOMAIN_SELECTION_PROOF;
        msg_epoch = slot / spe;
        break;
    }
    case CC_SIGN_AGGREGATE_AND_PROOF:
    case CC_SIGN_AGGREGATE_AND_PROOF_V2: {
        /* Both shapes under either type, as Web3Signer: {version, data} or the object itself. */
        TRY(payload(body, "aggregate_and_proof", &obj, err));
        cc_path p = {NULL, "aggregate_and_proof", 0};
        json_t *ver = cc_jf_get(obj, "version");
        if (ver && !json_is_null(ver)) {
            const char *version;
            cc_fork fork;
            json_t *data;
            TRY(cc_jf_string(obj, "version", &p, &version, err));
            if (cc_fork_parse(version, &fork, &e) != CC_OK)
                return cc_error_set(err, CC_EINVAL, "aggregate_and_proof.version: %s", e.msg);
            TRY(cc_jf_object(obj, "data", &p, &data, err));
            cc_path dp = {&p, "data", 0};
            TRY(cc_type_aggregate_and_proof_root(data, &dp, fork >= CC_FORK_ELECTRA, &net->preset, &slot,
                                                 object_root, err));
        } else {
            TRY(cc_type_aggregate_and_proof_root(obj, &p, 0, &net->preset, &slot, object_root, err));
        }
        domain_type = DOMAIN_AGGREGATE_AND_PROOF;
        msg_epoch = slot / spe;
        break;
    }
    case CC_SIGN_DEPOSIT: {
        uint8_t genesis_fork_version[4];
        TRY(payload(body, "deposit", &obj, err));
        cc_path p = {NULL, "deposit", 0};
        TRY(cc_type_deposit_message_root(obj, &p, object_root, err));
        TRY(cc_jf_bytes(obj, "genesis_fork_version", &p, genesis_fork_version, 4, err));
        cc_compute_domain(DOMAIN_DEPOSIT, genesis_fork_version, ZERO_ROOT, domain);
        break;
    }
    case CC_SIGN_RANDAO_REVEAL: {
        TRY(payload(body, "randao_reveal", &obj, err));
        cc_path p = {NULL, "randao_reveal", 0};
        TRY(cc_jf_u64(obj, "epoch", &p, &msg_epoch, err));
        cc_ssz_uint64_root(msg_epoch, object_root);
        domain_type = DOMAIN_RANDAO;
        break;
    }
    case CC_SIGN_VOLUNTARY_EXIT: {
        TRY(payload(body, "voluntary_exit", &obj, err));
        cc_path p = {NULL, "voluntary_exit", 0};
        TRY(cc_type_voluntary_exit_root(obj, &p, &msg_epoch, object_root, err));
        if (exit_is_deneb_or_later(net, &fi, msg_epoch))
            cc_compute_domain(DOMAIN_VOLUNTARY_EXIT, net->fork_version[CC_FORK_CAPELLA], fi.gvr, domain);
        else
            domain_type = DOMAIN_VOLUNTARY_EXIT;
        break;
    }
    case CC_SIGN_SYNC_COMMITTEE_MESSAGE: {
        TRY(payload(body, "sync_committee_message", &obj, err));
        cc_path p = {NULL, "sync_committee_message", 0};
        /* The signed object is the block root itself (a Root hashes to itself). */
        TRY(cc_jf_bytes(obj, "beacon_block_root", &p, object_root, 32, err));
        TRY(cc_jf_u64(obj, "slot", &p, &slot, err));
        domain_type = DOMAIN_SYNC_COMMITTEE;
        msg_epoch = slot / spe;
        break;
    }
    case CC_SIGN_SYNC_COMMITTEE_SELECTION_PROOF: {
        TRY(payload(body, "sync_aggregator_selection_data", &obj, err));
        cc_path p = {NULL, "sync_aggregator_selection_data", 0};
        TRY(cc_type_sync_aggregator_selection_data_root(obj, &p, &slot, object_root, err));
        domain_type = DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF;
        msg_epoch = slot / spe;
        break;
    }
    case CC_SIGN_SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF: {
        TRY(payload(body, "contribution_and_proof", &obj, err));
        cc_path p = {NULL, "contribution_and_proof", 0};
        TRY(cc_type_contribution_and_proof_root(obj, &p, &net->preset, &slot, object_root, err));
        domain_type = DOMAIN_CONTRIBUTION_AND_PROOF;
        msg_epoch = slot / spe;
        break;
    }
    case CC_SIGN_VALIDATOR_REGISTRATION: {
        TRY(payload(body, "validator_registration", &obj, err));
        cc_path p = {NULL, "validator_registration", 0};
        TRY(cc_type_validator_registration_root(obj, &p, object_root, err));
        cc_compute_domain(DOMAIN_APPLICATION_BUILDER, net->fork_version[CC_FORK_PHASE0], ZERO_ROOT, domain);
        break;
    }
    case CC_SIGN_TYPE_COUNT:
        return cc_error_set(err, CC_EINTERNAL, "type: unhandled");
    }

    if (domain_type)
        cc_compute_domain(domain_type, fork_version_for(&fi, msg_epoch), fi.gvr, domain);
    cc_compute_signing_root(object_root, domain, out->signing_root);

    /* A supplied root must be the one we computed: never sign what we did not derive. */
    json_t *sr = cc_jf_get(body, "signing_root");
    if (sr && !json_is_null(sr)) {
        uint8_t given[32];
        TRY(cc_jf_bytes(body, "signing_root", NULL, given, 32, err));
        if (memcmp(given, out->signing_root, 32) != 0) {
            char g[67], c[67];
            cc_hex_encode0x(given, 32, g);
            cc_hex_encode0x(out->signing_root, 32, c);
            return cc_error_set(err, CC_EINVAL, "signingRoot %s does not match computed signing root %s", g, c);
        }
    }
    return CC_OK;
}

cc_status cc_sign_request_parse(const char *body, size_t len, const cc_network *net, cc_sign_request *out,
                                cc_error *err)
{
    memset(out, 0, sizeof *out);
    out->type = CC_SIGN_TYPE_COUNT; /* not known until the body names it */
    if (!body)
        return cc_error_set(err, CC_EINVAL, "request body: empty");
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return cc_error_set(err, CC_EINVAL, "request body: malformed JSON at line %d, column %d: %s", jerr.line,
                            jerr.column, jerr.text);
    cc_status st = parse_body(root, net, out, err);
    json_decref(root);
    if (st != CC_OK) {
        cc_sign_type t = out->type;
        memset(out, 0, sizeof *out);
        out->type = t;
    }
    return st;
}
