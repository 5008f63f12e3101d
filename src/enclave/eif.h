/*
 * eif.h — Enclave Image Files: parse, check the CRC, measure (NOTES §8.1).
 *
 *   header (548 B, big-endian): magic ".eif", version u16, flags u16,
 *     default_mem u64, default_cpus u64, reserved u16, num_sections u16,
 *     section_offsets[32] u64, section_sizes[32] u64, unused u32, eif_crc32 u32
 *   then num_sections sections, each {type u16, flags u16, size u64} + size bytes:
 *     1 kernel, 2 cmdline, 3 ramdisk, 4 signature (CBOR list of PcrSignature), 5 metadata (JSON)
 *
 *   CRC-32/IEEE over the header less its last 4 bytes, then each section header and payload.
 *   PCR0 = extend(kernel ‖ cmdline ‖ every ramdisk)   PCR1 = extend(kernel ‖ cmdline ‖ first ramdisk)
 *   PCR2 = extend(ramdisks 2..n)                      PCR8 = extend(DER of the signing certificate)
 *   with extend(x) = SHA384(0⁴⁸ ‖ SHA384(x)), data in file order.
 */
#ifndef CC_ENCLAVE_EIF_H
#define CC_ENCLAVE_EIF_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define CC_EIF_HEADER_LEN 548
#define CC_EIF_MAX_SECTIONS 32

enum { CC_EIF_KERNEL = 1, CC_EIF_CMDLINE = 2, CC_EIF_RAMDISK = 3, CC_EIF_SIGNATURE = 4, CC_EIF_METADATA = 5 };

typedef struct cc_eif_info {
    uint16_t version, flags, num_sections;
    uint64_t default_mem, default_cpus;
    uint32_t crc_stored, crc_computed;
    int crc_ok;
    size_t n_kernel, n_cmdline, n_ramdisk;
    uint8_t pcr0[48], pcr1[48], pcr2[48], pcr8[48];
    int is_signed;            /* a signature section with a certificate: pcr8 is set */
    int signature_ok;         /* its COSE_Sign1 verifies with the certificate and signs PCR0 */
    char signature_error[CC_ERROR_MSG_MAX];
    uint8_t *signing_cert_der; /* malloc'ed, when is_signed */
    size_t signing_cert_len;
    char *metadata_json;      /* the metadata section as text (NUL-terminated), when present */
} cc_eif_info;

/*
 * Parses and measures an EIF in memory.  Structural faults (magic, sizes,
 * section types, overlaps) are errors; a CRC mismatch is not — it is
 * reported in crc_ok, as nitro-cli's CheckCRC.
 */
cc_status cc_eif_describe(const uint8_t *buf, size_t len, cc_eif_info *out, cc_error *err);
cc_status cc_eif_describe_file(const char *path, cc_eif_info *out, cc_error *err);
void cc_eif_info_free(cc_eif_info *info);

#endif
