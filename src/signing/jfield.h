/*
 * jfield.h — reading typed fields out of jansson objects, with errors that
 * name the full field path ("fork_info.fork.epoch: expected 4 bytes ...").
 *
 * The path is a chain of cc_path links kept on the callers' stacks, so the
 * success path builds no strings at all; only a failure renders it.
 *
 * Field names are given in snake_case; when that key is absent the camelCase
 * spelling is tried too ("proposer_index" → "proposerIndex"), because the
 * deprecated BLOCK and AGGREGATION_SLOT examples in Web3Signer's sign.yaml use it.
 *
 * Wire encodings (Web3Signer / beacon API): uint64 is a decimal string (a
 * non-negative JSON integer is accepted too, as Jackson does); bytes are
 * 0x-hex strings.
 */
#ifndef CC_JFIELD_H
#define CC_JFIELD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* One link of a field path: a key (name != NULL) or an array index. */
typedef struct cc_path {
    const struct cc_path *up;
    const char *name;
    size_t index;
} cc_path;

/* Renders path (+ ".leaf" when leaf is not NULL) into buf, e.g. "block.body.attestations[2].data". */
void cc_path_render(const cc_path *path, const char *leaf, char *buf, size_t cap);

/* Sets err to CC_EINVAL with "<path>.<leaf>: <message>". */
cc_status cc_path_fail(cc_error *err, const cc_path *path, const char *leaf, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The member `snake` of obj, or its camelCase spelling; NULL when neither exists. */
json_t *cc_jf_get(const json_t *obj, const char *snake);

/* Required members by type.  Each names path.key in its error. */
cc_status cc_jf_object(const json_t *obj, const char *key, const cc_path *path, json_t **out, cc_error *err);
cc_status cc_jf_array(const json_t *obj, const char *key, const cc_path *path, size_t max, json_t **out,
                      cc_error *err);
cc_status cc_jf_string(const json_t *obj, const char *key, const cc_path *path, const char **out,
                       cc_error *err);
cc_status cc_jf_u64(const json_t *obj, const char *key, const cc_path *path, uint64_t *out, cc_error *err);
/* Exactly len bytes of hex. */
cc_status cc_jf_bytes(const json_t *obj, const char *key, const cc_path *path, uint8_t *out, size_t len,
                      cc_error *err);
/* Up to cap bytes of hex; *len receives the length. */
cc_status cc_jf_bytes_var(const json_t *obj, const char *key, const cc_path *path, uint8_t *out, size_t cap,
                          size_t *len, cc_error *err);

/* The same for a bare value (an array element); path already names it. */
cc_status cc_jv_u64(const json_t *v, const cc_path *path, uint64_t *out, cc_error *err);
cc_status cc_jv_bytes(const json_t *v, const cc_path *path, uint8_t *out, size_t len, cc_error *err);
cc_status cc_jv_object(const json_t *v, const cc_path *path, cc_error *err);

#endif
