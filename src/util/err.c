/*
 * err.c — status names, HTTP mapping and message formatting for cc_error.
 */
#include "util/err.h"

#include <stdio.h>
#include <string.h>

cc_status cc_error_set(cc_error *err, cc_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

cc_status cc_error_prefix(cc_error *err, const char *fmt, ...)
{
    if (!err)
        return CC_EINTERNAL;
    char prefix[CC_ERROR_MSG_MAX];
    char old[CC_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Truncation is fine: the message is for people and stays NUL-terminated. */
    size_t n = strnlen(prefix, sizeof err->msg - 1);
    memcpy(err->msg, prefix, n);
    size_t rest = sizeof err->msg - n;
    if (rest > 3) {
        memcpy(err->msg + n, ": ", 2);
        size_t m = strnlen(old, rest - 3);
        memcpy(err->msg + n + 2, old, m);
        err->msg[n + 2 + m] = '\0';
    } else {
        err->msg[n] = '\0';
    }
    return err->code;
}

void cc_error_clear(cc_error *err)
{
    if (err) {
        err->code = CC_OK;
        err->msg[0] = '\0';
    }
}

const char *cc_status_str(cc_status code)
{
    switch (code) {
    case CC_OK:           return "ok";
    case CC_EINVAL:       return "invalid input";
    case CC_ENOTFOUND:    return "not found";
    case CC_EFORBIDDEN:   return "forbidden";
    case CC_ESLASHABLE:   return "slashable";
    case CC_EUNAVAILABLE: return "unavailable";
    case CC_ECONFLICT:    return "conflict";
    case CC_ECONFIG:      return "configuration error";
    case CC_EIO:          return "I/O error";
    case CC_ECRYPTO:      return "cryptographic error";
    case CC_ENOMEM:       return "out of memory";
    case CC_EINTERNAL:    return "internal error";
    case CC_EUNAUTHORIZED: return "unauthorized";
    }
    return "unknown error";
}

int cc_status_http(cc_status code)
{
    switch (code) {
    case CC_OK:           return 200;
    case CC_EINVAL:       return 400;
    case CC_ENOTFOUND:    return 404;
    case CC_EFORBIDDEN:   return 403;
    case CC_ESLASHABLE:   return 412;
    case CC_EUNAVAILABLE: return 503;
    case CC_ECONFLICT:    return 409;
    case CC_EUNAUTHORIZED: return 401;
    default:              return 500;
    }
}
