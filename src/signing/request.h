/*
 * request.h — a Web3Signer signing request, from JSON body to signing root.
 *
 * cc_sign_request_parse does everything that depends only on the request and
 * the network: JSON decoding with field-naming errors, the network guard,
 * SSZ hash_tree_root of the message, the domain, and the signing root.  What
 * anti-slashing needs (slot, or source and target) comes out beside it.
 */
#ifndef CC_REQUEST_H
#define CC_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "signing/network.h"
#include "util/err.h"

typedef enum cc_sign_type {
    CC_SIGN_BLOCK = 0,
    CC_SIGN_BLOCK_V2,
    CC_SIGN_ATTESTATION,
    CC_SIGN_AGGREGATION_SLOT,
    CC_SIGN_AGGREGATE_AND_PROOF,
    CC_SIGN_AGGREGATE_AND_PROOF_V2,
    CC_SIGN_DEPOSIT,
    CC_SIGN_RANDAO_REVEAL,
    CC_SIGN_VOLUNTARY_EXIT,
    CC_SIGN_SYNC_COMMITTEE_MESSAGE,
    CC_SIGN_SYNC_COMMITTEE_SELECTION_PROOF,
    CC_SIGN_SYNC_COMMITTEE_CONTRIBUTION_AND_PROOF,
    CC_SIGN_VALIDATOR_REGISTRATION,
    CC_SIGN_TYPE_COUNT
} cc_sign_type;

/* What anti-slashing must check before this request may be signed. */
typedef enum cc_gate {
    CC_GATE_NONE = 0,
    CC_GATE_BLOCK,       /* slot */
    CC_GATE_ATTESTATION  /* source_epoch, target_epoch */
} cc_gate;

typedef struct cc_sign_request {
    cc_sign_type type;
    uint8_t signing_root[32];
    cc_gate gate;
    uint64_t slot;
    uint64_t source_epoch;
    uint64_t target_epoch;
} cc_sign_request;

/* The wire name ("ATTESTATION"), and its parse. */
const char *cc_sign_type_name(cc_sign_type type);
cc_status cc_sign_type_parse(const char *name, cc_sign_type *out, cc_error *err);

/*
 * Parses body (JSON, len bytes, need not be NUL-terminated) for network net.
 * Errors: CC_EINVAL with a message naming the field (malformed JSON, missing
 * field, wrong byte length, non-decimal uint64, unknown type, a supplied
 * signingRoot that differs from the computed one); CC_EFORBIDDEN when
 * fork_info.genesis_validators_root is not the network's.  On failure
 * out->type still says which type the body named (for logs and metrics), or
 * is CC_SIGN_TYPE_COUNT when it named none that we know.
 */
cc_status cc_sign_request_parse(const char *body, size_t len, const cc_network *net,
                                cc_sign_request *out, cc_error *err);

#endif
