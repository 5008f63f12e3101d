/*
 * noop.c — the anti-slashing backend that protects nothing.
 *
 * Every check is allowed and nothing is recorded.  It exists for test
 * networks and for signers behind another protection layer, and must be
 * chosen explicitly (anti_slashing.backend: noop); it says so loudly at open.
 */
#include "slashing/slashing.h"

#include <stdlib.h>
#include <string.h>

#include "util/hex.h"
#include "util/log.h"

static cc_status noop_check_block(cc_slashing *db, const uint8_t pubkey[48], uint64_t slot,
                                  const uint8_t signing_root[32], cc_error *err)
{
    (void)db, (void)pubkey, (void)slot, (void)signing_root, (void)err;
    return CC_OK;
}

static cc_status noop_check_attestation(cc_slashing *db, const uint8_t pubkey[48], uint64_t source_epoch,
                                        uint64_t target_epoch, const uint8_t signing_root[32], cc_error *err)
{
    (void)db, (void)pubkey, (void)source_epoch, (void)target_epoch, (void)signing_root, (void)err;
    return CC_OK;
}

static cc_status noop_import(cc_slashing *db, const cc_interchange *ic, cc_error *err)
{
    if (memcmp(ic->genesis_validators_root, db->genesis_validators_root, 32) != 0)
        return cc_error_set(err, CC_EFORBIDDEN,
                            "metadata.genesis_validators_root: interchange is for another network");
    cc_log(CC_LOG_WARN, "anti-slashing is disabled (noop backend): interchange import discarded", NULL);
    return CC_OK;
}

static cc_status noop_export(cc_slashing *db, const uint8_t (*pubkeys)[48], size_t count, cc_interchange **out,
                             cc_error *err)
{
    (void)pubkeys, (void)count;
    cc_interchange *ic = calloc(1, sizeof *ic);
    if (!ic)
        return cc_error_set(err, CC_ENOMEM, "export: out of memory");
    memcpy(ic->genesis_validators_root, db->genesis_validators_root, 32);
    *out = ic;
    return CC_OK;
}

static void noop_close(cc_slashing *db)
{
    free(db);
}

static const cc_slashing_ops noop_ops = {
    .name = "noop",
    .check_block = noop_check_block,
    .check_attestation = noop_check_attestation,
    .import = noop_import,
    .export_ = noop_export,
    .close = noop_close,
};

cc_status cc_slashing_noop_open(const uint8_t gvr[32], cc_slashing **out, cc_error *err)
{
    cc_slashing *db = calloc(1, sizeof *db);
    if (!db)
        return cc_error_set(err, CC_ENOMEM, "noop slashing backend: out of memory");
    db->ops = &noop_ops;
    memcpy(db->genesis_validators_root, gvr, 32);
    char root[67];
    cc_hex_encode0x(gvr, 32, root);
    cc_log(CC_LOG_WARN,
           "ANTI-SLASHING PROTECTION IS DISABLED (anti_slashing.backend: noop): every block and attestation "
           "will be signed without any check; a validator run this way can be slashed",
           "genesis_validators_root", root, NULL);
    *out = db;
    return CC_OK;
}
