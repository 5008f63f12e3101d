/*
 * fuzz_hex — the codecs every JSON field goes through: cc_hex_decode,
 * cc_hex_decode_exact, cc_parse_u64 (src/util/hex.c), and the SSZ bitfield
 * helpers cc_ssz_bitvector_root / cc_ssz_bitlist_root / cc_ssz_merkleize
 * (src/signing/ssz.c), which take attacker-sized aggregation bits.
 *
 * Invariants: decode → encode gives the input's digits in lower case (prefix
 * normalised to 0x) and decodes back to the same bytes; decode_exact agrees
 * with decode on the length; parse_u64 accepts exactly the digit strings
 * that fit and agrees with printf; a bitvector or bitlist is accepted exactly
 * when the SSZ rules say so.
 */
#include <ctype.h>
#include <inttypes.h>

#include "fuzz.h"
#include "signing/ssz.h"
#include "util/hex.h"

#define CAP 4096

static void check_hex(const char *s)
{
    static uint8_t buf[CAP], back[CAP];
    static char enc[2 * CAP + 3];
    size_t n = 0;
    cc_error err = {0};
    cc_status st = cc_hex_decode(s, buf, CAP, &n, &err);
    const char *digits = (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? s + 2 : s;
    size_t nd = strlen(digits);
    int all_hex = 1;
    for (size_t i = 0; i < nd; i++)
        all_hex &= isxdigit((unsigned char)digits[i]) != 0;
    if (st != CC_OK) {
        FUZZ_ASSERT_ERR(st, err);
        FUZZ_ASSERT(!all_hex || nd % 2 || nd / 2 > CAP);
        FUZZ_ASSERT(cc_hex_decode_exact(s, back, nd / 2 <= CAP ? nd / 2 : CAP, NULL) != CC_OK);
        return;
    }
    FUZZ_ASSERT(all_hex && nd % 2 == 0 && n == nd / 2);
    cc_hex_encode0x(buf, n, enc);
    FUZZ_ASSERT(enc[0] == '0' && enc[1] == 'x' && strlen(enc) == 2 + nd);
    for (size_t i = 0; i < nd; i++)
        FUZZ_ASSERT(enc[2 + i] == tolower((unsigned char)digits[i]));
    size_t m = 0;
    FUZZ_ASSERT(cc_hex_decode(enc, back, CAP, &m, NULL) == CC_OK && m == n && memcmp(back, buf, n) == 0);
    FUZZ_ASSERT(cc_hex_decode(enc + 2, back, CAP, &m, NULL) == CC_OK && m == n && memcmp(back, buf, n) == 0);
    FUZZ_ASSERT(cc_hex_decode_exact(s, back, n, NULL) == CC_OK && memcmp(back, buf, n) == 0);
    FUZZ_ASSERT(cc_hex_decode_exact(s, back, n + 1, NULL) != CC_OK);
    if (n)
        FUZZ_ASSERT(cc_hex_decode(s, back, n - 1, &m, NULL) != CC_OK);
}

static void check_u64(const char *s)
{
    uint64_t v = 0;
    cc_error err = {0};
    cc_status st = cc_parse_u64(s, &v, &err);
    size_t len = strlen(s);
    int digits = len > 0;
    for (size_t i = 0; i < len; i++)
        digits &= s[i] >= '0' && s[i] <= '9';
    if (st != CC_OK) {
        FUZZ_ASSERT_ERR(st, err);
        if (digits) { /* only overflow may refuse a digit string */
            const char *p = s;
            while (*p == '0' && p[1])
                p++;
            FUZZ_ASSERT(strlen(p) > 20 || (strlen(p) == 20 && strcmp(p, "18446744073709551615") > 0));
        }
        return;
    }
    FUZZ_ASSERT(digits);
    char again[32];
    snprintf(again, sizeof again, "%" PRIu64, v);
    const char *p = s;
    while (*p == '0' && p[1])
        p++;
    FUZZ_ASSERT(strcmp(again, p) == 0);
}

static void check_ssz(const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    /* Two bytes of shape, the rest is the serialization. */
    uint64_t param = (uint64_t)data[0] | (uint64_t)data[1] << 8; /* nbits or limit, 0..65535 */
    const uint8_t *bytes = data + 2;
    size_t len = size - 2;
    uint8_t root[32];
    cc_error err = {0};

    cc_status st = cc_ssz_bitvector_root(bytes, len, param, root, &err);
    int ok = len == (param + 7) / 8 && !(param % 8 && len && (bytes[len - 1] >> (param % 8)));
    FUZZ_ASSERT((st == CC_OK) == ok);
    if (st != CC_OK)
        FUZZ_ASSERT_ERR(st, err);

    uint8_t *copy = malloc(len);
    if (!copy)
        abort();
    memcpy(copy, bytes, len);
    st = cc_ssz_bitlist_root(copy, len, param, root, &err);
    uint64_t nbits = 0;
    ok = len > 0 && bytes[len - 1] != 0;
    if (ok) {
        unsigned msb = 0;
        while (bytes[len - 1] >> (msb + 1))
            msb++;
        nbits = 8 * (uint64_t)(len - 1) + msb;
        ok = nbits <= param;
    }
    FUZZ_ASSERT((st == CC_OK) == ok);
    if (st == CC_OK) {
        /* Same as mix_in_length(merkleize(bits without the delimiter), nbits). */
        uint8_t expect[32];
        uint8_t *bits = malloc(len);
        if (!bits)
            abort();
        memcpy(bits, bytes, len);
        bits[nbits / 8] = (uint8_t)(bits[nbits / 8] & ~(1u << (nbits % 8))); /* the delimiter bit */
        FUZZ_ASSERT(cc_ssz_merkleize(bits, (size_t)((nbits + 7) / 8), (param + 255) / 256, expect, NULL) == CC_OK);
        cc_ssz_mix_in_length(expect, nbits, expect);
        FUZZ_ASSERT(memcmp(expect, root, 32) == 0);
        free(bits);
    } else {
        FUZZ_ASSERT_ERR(st, err);
    }
    free(copy);

    st = cc_ssz_merkleize(bytes, len, param, root, &err);
    uint64_t chunks = (len + 31) / 32;
    if (chunks > CC_SSZ_MAX_LEAVES || (param && chunks > param))
        FUZZ_ASSERT(st != CC_OK);
    if (st != CC_OK)
        FUZZ_ASSERT_ERR(st, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strdup(data, size);
    check_hex(s);
    check_u64(s);
    free(s);
    check_ssz(data, size);
    return 0;
}
