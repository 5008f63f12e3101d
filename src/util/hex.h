/*
 * hex.h — 0x-hex and decimal-uint64 codecs for the wire formats we accept.
 */
#ifndef CC_HEX_H
#define CC_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Decodes hex (with or without a 0x prefix) of exactly `len` bytes into out. */
cc_status cc_hex_decode_exact(const char *hex, uint8_t *out, size_t len, cc_error *err);

/* Decodes hex of any length up to cap bytes; *out_len receives the length. */
cc_status cc_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *out_len, cc_error *err);

/* Writes "0x" + lower-case hex + NUL into out (needs 2*len + 3 bytes). */
void cc_hex_encode0x(const uint8_t *in, size_t len, char *out);

/* Writes lower-case hex without prefix + NUL (needs 2*len + 1 bytes). */
void cc_hex_encode(const uint8_t *in, size_t len, char *out);

/* Parses a decimal uint64 string strictly: digits only, no sign, no overflow. */
cc_status cc_parse_u64(const char *s, uint64_t *out, cc_error *err);

#endif
