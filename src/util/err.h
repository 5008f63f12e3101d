/*
 * err.h — the one error convention of containment-chamber.
 *
 * Every fallible function returns a cc_status and, when it fails, fills a
 * caller-supplied cc_error with the status and one human sentence that names
 * what is wrong (the field, the file, the key).  Callers that only need the
 * code may pass NULL for the cc_error.  The message never carries secrets.
 *
 *     cc_error err;
 *     if (cc_hex_decode(field, out, 32, &err) != CC_OK)
 *         return cc_error_prefix(&err, "fork_info.genesis_validators_root");
 *
 * Status codes map one to one onto the HTTP answers of the signing API
 * (cc_status_http), so a handler never translates errors by hand.
 */
#ifndef CC_ERR_H
#define CC_ERR_H

#include <stdarg.h>

typedef enum cc_status {
    CC_OK = 0,
    CC_EINVAL,       /* malformed input: bad JSON, wrong length, missing field  → 400 */
    CC_ENOTFOUND,    /* unknown key, file or record                               → 404 */
    CC_EFORBIDDEN,   /* refused by policy or network guard (wrong GVR)            → 403 */
    CC_ESLASHABLE,   /* refused by anti-slashing protection                       → 412 */
    CC_EUNAVAILABLE, /* sealed, overloaded, timed out; try again later            → 503 */
    CC_ECONFLICT,    /* duplicate or an operation already running                 → 409 */
    CC_ECONFIG,      /* bad configuration                                         → 500 */
    CC_EIO,          /* file, database or network failure                         → 500 */
    CC_ECRYPTO,      /* cryptographic failure (bad checksum, bad key)             → 500 */
    CC_ENOMEM,       /* out of memory                                             → 500 */
    CC_EINTERNAL,    /* a bug: an invariant did not hold                          → 500 */
    CC_EUNAUTHORIZED /* no token, or an invalid or expired one (auth, SPEC §2.4)   → 401 */
} cc_status;

#define CC_ERROR_MSG_MAX 512

typedef struct cc_error {
    cc_status code;
    char msg[CC_ERROR_MSG_MAX];
} cc_error;

/* Sets err (if not NULL) to code and a printf-style message; returns code. */
cc_status cc_error_set(cc_error *err, cc_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to the message (e.g. a field path or file name); returns err->code. */
cc_status cc_error_prefix(cc_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resets err to CC_OK with an empty message. */
void cc_error_clear(cc_error *err);

/* A short constant name for a status ("invalid input", "slashable", ...). */
const char *cc_status_str(cc_status code);

/* The HTTP status a signing-API handler answers for this status. */
int cc_status_http(cc_status code);

#endif
