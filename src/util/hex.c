/*
 * hex.c — strict hex and decimal parsing.  Every rejection says why, so the
 * caller only has to prefix the field name.
 */
#include "util/hex.h"

#include <string.h>

static int nibble(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

cc_status cc_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *out_len, cc_error *err)
{
    if (!hex)
        return cc_error_set(err, CC_EINVAL, "missing hex value");
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
        hex += 2;
    size_t n = strlen(hex);
    if (n % 2)
        return cc_error_set(err, CC_EINVAL, "odd number of hex digits");
    if (n / 2 > cap)
        return cc_error_set(err, CC_EINVAL, "too long: %zu bytes, at most %zu", n / 2, cap);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return cc_error_set(err, CC_EINVAL, "not hex at character %zu", 2 * i + (hi < 0 ? 0 : 1));
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    if (out_len)
        *out_len = n / 2;
    return CC_OK;
}

cc_status cc_hex_decode_exact(const char *hex, uint8_t *out, size_t len, cc_error *err)
{
    if (!hex)
        return cc_error_set(err, CC_EINVAL, "missing hex value");
    const char *p = hex;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    size_t n = strlen(p);
    if (n != 2 * len)
        return cc_error_set(err, CC_EINVAL, "expected %zu bytes (%zu hex digits), got %zu hex digits",
                            len, 2 * len, n);
    /* hex, not p: decoding p would strip a second "0x" ("0x0xab..." must be refused, not half-filled). */
    return cc_hex_decode(hex, out, len, NULL, err);
}

void cc_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

void cc_hex_encode0x(const uint8_t *in, size_t len, char *out)
{
    out[0] = '0';
    out[1] = 'x';
    cc_hex_encode(in, len, out + 2);
}

cc_status cc_parse_u64(const char *s, uint64_t *out, cc_error *err)
{
    if (!s || !*s)
        return cc_error_set(err, CC_EINVAL, "empty, expected a decimal uint64");
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return cc_error_set(err, CC_EINVAL, "not a decimal uint64: \"%.40s\"", s);
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return cc_error_set(err, CC_EINVAL, "exceeds uint64: \"%.40s\"", s);
        v = v * 10 + d;
    }
    *out = v;
    return CC_OK;
}
