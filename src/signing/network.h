/*
 * network.h — what the signer knows about the chain it signs for: preset
 * sizes, fork schedule and genesis_validators_root.
 *
 * Named networks (mainnet, sepolia, hoodi) are built in.  A devnet is given as
 * the path of a standard consensus-spec config.yaml (the file every client
 * reads: PRESET_BASE, *_FORK_VERSION, *_FORK_EPOCH); its
 * genesis_validators_root comes from our own config beside it.
 */
#ifndef CC_NETWORK_H
#define CC_NETWORK_H

#include <stdint.h>

#include "util/err.h"

typedef enum cc_fork {
    CC_FORK_PHASE0 = 0,
    CC_FORK_ALTAIR,
    CC_FORK_BELLATRIX,
    CC_FORK_CAPELLA,
    CC_FORK_DENEB,
    CC_FORK_ELECTRA,
    CC_FORK_FULU,
    CC_FORK_COUNT
} cc_fork;

#define CC_FAR_FUTURE_EPOCH UINT64_MAX

typedef struct cc_preset {
    char name[16];                      /* "mainnet" or "minimal" */
    uint64_t slots_per_epoch;           /* 32 | 8 */
    uint64_t sync_committee_size;       /* 512 | 32 */
    uint64_t sync_committee_subnet_count; /* 4 */
    uint64_t max_committees_per_slot;   /* 64 | 4 */
    uint64_t max_validators_per_committee; /* 2048 */
} cc_preset;

typedef struct cc_network {
    char name[64];               /* "mainnet", ... or the config.yaml path's CONFIG_NAME */
    cc_preset preset;
    uint8_t fork_version[CC_FORK_COUNT][4];
    uint64_t fork_epoch[CC_FORK_COUNT]; /* CC_FAR_FUTURE_EPOCH when not scheduled */
    uint8_t genesis_validators_root[32];
    int has_genesis_validators_root;
} cc_network;

/* The mainnet or minimal preset by name. */
cc_status cc_preset_by_name(const char *name, cc_preset *out, cc_error *err);

/*
 * Loads a named network, or a consensus-spec config.yaml when name_or_path is
 * a path (contains '/' or ends in .yaml/.yml).  gvr_hex, when not NULL,
 * overrides (devnets: supplies) the genesis_validators_root; a named network
 * with a different root is refused so nobody signs for the wrong chain.
 */
cc_status cc_network_load(const char *name_or_path, const char *gvr_hex, cc_network *out, cc_error *err);

/* The fork active at epoch under this network's schedule. */
cc_fork cc_network_fork_at_epoch(const cc_network *net, uint64_t epoch);

/* Upper-case fork name as Web3Signer writes it ("PHASE0" ... "FULU"); parse is case-insensitive. */
const char *cc_fork_name(cc_fork fork);
cc_status cc_fork_parse(const char *name, cc_fork *out, cc_error *err);

#endif
