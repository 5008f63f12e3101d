/*
 * fuzz_eif — cc_eif_describe (src/enclave/eif.c), the Enclave Image File
 * parser `eif describe` / `enclave measure` run on an image that may come
 * from anywhere: the 548-byte header, the section walk, the CRC, the PCR
 * measurement and the signature section (CBOR, COSE_Sign1, PEM).
 *
 * Invariants: a failure carries its code and message and frees everything;
 * when the image parses, the sections the header's table names — walked here
 * independently of the parser — are contiguous, each header and payload lies
 * within the input and together they end exactly at its end; one kernel, one
 * cmdline, at least one ramdisk, every section counted; crc_ok agrees with
 * the two CRCs; PCR0/1/2 equal the measurements of the sections found here
 * (SHA-384 through OpenSSL) and PCR8 that of the certificate when signed;
 * the metadata text is no longer than the input.  Memory stays bounded (run
 * with -rss_limit_mb: a size field must never become an allocation).
 */
#include <openssl/evp.h>

#include "enclave/eif.h"
#include "fuzz.h"
#include "util/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cc_log_set_level(CC_LOG_ERROR);
    return 0;
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* extend(x) = SHA384(0^48 ‖ SHA384(x)), x the concatenation fed to ctx. */
static void extend_final(EVP_MD_CTX *ctx, uint8_t out[48])
{
    uint8_t buf[96] = {0};
    unsigned n = 0;
    FUZZ_ASSERT(EVP_DigestFinal_ex(ctx, buf + 48, &n) == 1 && n == 48);
    FUZZ_ASSERT(EVP_Digest(buf, sizeof buf, out, &n, EVP_sha384(), NULL) == 1 && n == 48);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cc_eif_info info;
    cc_error err = {0};
    cc_status st = cc_eif_describe(data, size, &info, &err);
    if (st != CC_OK) {
        FUZZ_ASSERT_ERR(st, err);
        FUZZ_ASSERT(st == CC_EINVAL || st == CC_ENOMEM);
        FUZZ_ASSERT(info.signing_cert_der == NULL && info.metadata_json == NULL);
        return 0;
    }
    FUZZ_ASSERT(size >= CC_EIF_HEADER_LEN && memcmp(data, ".eif", 4) == 0);
    FUZZ_ASSERT(info.num_sections == be(data + 26, 2) && info.num_sections >= 1 &&
                info.num_sections <= CC_EIF_MAX_SECTIONS);
    FUZZ_ASSERT(info.crc_ok == (info.crc_computed == info.crc_stored) && info.crc_stored == be(data + 544, 4));
    FUZZ_ASSERT(info.n_kernel == 1 && info.n_cmdline == 1 && info.n_ramdisk >= 1);

    EVP_MD_CTX *image = EVP_MD_CTX_new(), *boot = EVP_MD_CTX_new(), *app = EVP_MD_CTX_new();
    FUZZ_ASSERT(image && boot && app && EVP_DigestInit_ex(image, EVP_sha384(), NULL) == 1 &&
                EVP_DigestInit_ex(boot, EVP_sha384(), NULL) == 1 && EVP_DigestInit_ex(app, EVP_sha384(), NULL) == 1);
    uint64_t pos = CC_EIF_HEADER_LEN;
    size_t counted = 0, ramdisks = 0, meta_size = 0;
    for (unsigned i = 0; i < info.num_sections; i++) {
        uint64_t off = be(data + 28 + 8 * i, 8), sz = be(data + 284 + 8 * i, 8);
        FUZZ_ASSERT(off == pos);
        FUZZ_ASSERT(off <= size && size - off >= 12);              /* the section header is inside */
        FUZZ_ASSERT(be(data + off + 4, 8) == sz && sz <= size - off - 12); /* and so is its payload */
        const uint8_t *p = data + off + 12;
        switch (be(data + off, 2)) {
        case CC_EIF_KERNEL:
        case CC_EIF_CMDLINE:
            EVP_DigestUpdate(image, p, sz);
            EVP_DigestUpdate(boot, p, sz);
            counted++;
            break;
        case CC_EIF_RAMDISK:
            EVP_DigestUpdate(image, p, sz);
            EVP_DigestUpdate(ramdisks++ == 0 ? boot : app, p, sz);
            counted++;
            break;
        case CC_EIF_SIGNATURE:
            counted++;
            break;
        case CC_EIF_METADATA:
            meta_size = sz;
            counted++;
            break;
        default:
            FUZZ_ASSERT(!"a section of unknown type was accepted");
        }
        pos = off + 12 + sz;
    }
    FUZZ_ASSERT(pos == size && counted == info.num_sections && ramdisks == info.n_ramdisk);
    uint8_t pcr[48];
    extend_final(image, pcr);
    FUZZ_ASSERT(memcmp(pcr, info.pcr0, 48) == 0);
    extend_final(boot, pcr);
    FUZZ_ASSERT(memcmp(pcr, info.pcr1, 48) == 0);
    extend_final(app, pcr);
    FUZZ_ASSERT(memcmp(pcr, info.pcr2, 48) == 0);
    if (info.metadata_json)
        FUZZ_ASSERT(strlen(info.metadata_json) <= meta_size);
    if (info.is_signed) {
        FUZZ_ASSERT(info.signing_cert_der != NULL && info.signing_cert_len > 0 && info.signing_cert_len <= size);
        EVP_DigestInit_ex(image, EVP_sha384(), NULL);
        EVP_DigestUpdate(image, info.signing_cert_der, info.signing_cert_len);
        extend_final(image, pcr);
        FUZZ_ASSERT(memcmp(pcr, info.pcr8, 48) == 0);
    } else {
        FUZZ_ASSERT(!info.signature_ok);
    }
    EVP_MD_CTX_free(image);
    EVP_MD_CTX_free(boot);
    EVP_MD_CTX_free(app);
    cc_eif_info_free(&info);
    return 0;
}
