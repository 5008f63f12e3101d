/*
 * base64.c — base64 over OpenSSL's block codec, with strict length and
 * padding checks and the true decoded length (EVP_DecodeBlock counts the
 * padding bytes as zeros).
 */
#include "aws/base64.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "util/secret.h"

static void *alloc(size_t n, int secret) { return secret ? cc_secret_alloc(n) : calloc(1, n); }

static void release(void *p, size_t n, int secret)
{
    if (secret)
        cc_secret_free(p, n);
    else
        free(p);
}

cc_status cc_aws_b64_encode(const uint8_t *in, size_t len, int secret, char **out, size_t *cap, cc_error *err)
{
    *out = NULL;
    if (len > (size_t)1 << 30)
        return cc_error_set(err, CC_EINVAL, "base64: input too large");
    size_t n = 4 * ((len + 2) / 3) + 1;
    char *o = alloc(n, secret);
    if (!o)
        return cc_error_set(err, CC_ENOMEM, "base64: out of memory");
    if (len)
        EVP_EncodeBlock((unsigned char *)o, in, (int)len);
    o[n - 1] = '\0';
    *out = o;
    if (cap)
        *cap = n;
    return CC_OK;
}

cc_status cc_aws_b64_decode(const char *in, size_t len, int secret, const char *field, uint8_t **out,
                            size_t *out_len, size_t *cap, cc_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (!in)
        return cc_error_set(err, CC_EINVAL, "%s: missing", field);
    if (len % 4 != 0 || len > (size_t)1 << 30)
        return cc_error_set(err, CC_EINVAL, "%s: base64 length %zu is not a multiple of 4", field, len);
    size_t pad = 0;
    if (len >= 1 && in[len - 1] == '=')
        pad++;
    if (len >= 2 && in[len - 2] == '=')
        pad++;
    for (size_t i = 0; i < len - pad; i++) {
        char c = in[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
            return cc_error_set(err, CC_EINVAL, "%s: not base64 (byte %zu)", field, i);
    }
    size_t n = len / 4 * 3 + 1;
    uint8_t *o = alloc(n, secret);
    if (!o)
        return cc_error_set(err, CC_ENOMEM, "%s: out of memory", field);
    int r = len ? EVP_DecodeBlock(o, (const unsigned char *)in, (int)len) : 0;
    if (r < 0 || (size_t)r != len / 4 * 3) {
        release(o, n, secret);
        return cc_error_set(err, CC_EINVAL, "%s: not base64", field);
    }
    *out = o;
    *out_len = (size_t)r - pad;
    if (cap)
        *cap = n;
    return CC_OK;
}
