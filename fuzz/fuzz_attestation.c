/*
 * fuzz_attestation — cc_attestation_parse + cc_attestation_verify
 * (src/enclave/attestation.c), the Nitro attestation document parser that
 * reads documents from outside (files, aTLS certificates), and
 * cc_attestation_decode_input (raw CBOR or base64 detection).
 *
 * Invariants: a failure carries its code and message; a parsed document has
 * the required fields within their documented sizes; parsing is
 * deterministic; nothing fuzzed verifies against the pinned AWS root.
 */
#include "enclave/attestation.h"
#include "fuzz.h"
#include "util/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cc_log_set_level(CC_LOG_ERROR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cc_error err = {0};
    cc_attestation_doc d;
    cc_status st = cc_attestation_parse(data, size, &d, &err);
    if (st != CC_OK) {
        FUZZ_ASSERT_ERR(st, err);
        FUZZ_ASSERT(st == CC_EINVAL || st == CC_ENOMEM);
    } else {
        FUZZ_ASSERT(d.module_id[0] != '\0' && strcmp(d.digest, "SHA384") == 0 && d.timestamp_ms > 0);
        FUZZ_ASSERT(d.pcr_present != 0 && d.certificate_len >= 1 && d.certificate_len <= 1024);
        FUZZ_ASSERT(d.cabundle_count >= 1 && d.cabundle_count <= CC_ATTESTATION_MAX_CABUNDLE);
        FUZZ_ASSERT(d.public_key_len <= 1024 && d.user_data_len <= 512 && d.nonce_len <= 512);
        for (int i = 0; i < CC_ATTESTATION_MAX_PCRS; i++)
            if (d.pcr_present & (1u << i))
                FUZZ_ASSERT(d.pcr_len[i] == 32 || d.pcr_len[i] == 48 || d.pcr_len[i] == 64);
        cc_error err2 = {0};
        cc_attestation_policy pol = {0};
        pol.has_at = 1;
        pol.at = (time_t)(d.timestamp_ms / 1000);
        cc_status v = cc_attestation_verify(&d, &pol, &err2);
        /* a forged document cannot verify against AWS's root (no one here holds its keys) */
        FUZZ_ASSERT(v != CC_OK);
        FUZZ_ASSERT_ERR(v, err2);
        cc_attestation_doc d2;
        FUZZ_ASSERT(cc_attestation_parse(data, size, &d2, NULL) == CC_OK);
        FUZZ_ASSERT(d2.timestamp_ms == d.timestamp_ms && d2.pcr_present == d.pcr_present);
        cc_attestation_doc_free(&d2);
        cc_attestation_doc_free(&d);
    }
    uint8_t *out = NULL;
    size_t n = 0;
    cc_error err3 = {0};
    st = cc_attestation_decode_input(data, size, &out, &n, &err3);
    if (st == CC_OK) {
        FUZZ_ASSERT(n > 0);
        free(out);
    } else {
        FUZZ_ASSERT_ERR(st, err3);
    }
    return 0;
}
