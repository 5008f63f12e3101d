/*
 * nsm_dev.c — /dev/nsm, the Nitro Secure Module inside an enclave (NOTES §8.2).
 *
 * One ioctl per message: _IOWR(0x0A, 0, {struct iovec request; struct iovec
 * response}) with a CBOR request (≤ 0x1000 B) and a 0x3000 B response buffer
 * whose iov_len the driver sets to the answer's length.  Messages are
 * serde-CBOR, externally tagged:
 *
 *   {"Attestation": {"user_data": bstr|null, "nonce": bstr|null, "public_key": bstr|null}}
 *        → {"Attestation": {"document": bstr}}
 *   "GetRandom"   → {"GetRandom": {"random": bstr}}
 *   "DescribeNSM" → {"DescribeNSM": {"version_major", "version_minor", "version_patch",
 *                    "module_id", "max_pcrs", "locked_pcrs", "digest"}}
 *   any failure   → {"Error": "InvalidArgument" | ... }
 */
#include "enclave/nsm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cbor.h>

#include "enclave/cose.h"

typedef struct nsm_dev {
    cc_nsm base;
    int fd;
    cc_nsm_ioctl_fn ioctl_fn;
} nsm_dev;

struct nsm_message {
    struct iovec request;
    struct iovec response;
};

_Static_assert(sizeof(struct nsm_message) == 32, "nsm_message is two iovecs (0x20 in the ioctl number)");

/* Appends a minimal CBOR header / bytes to a fixed buffer; returns 0 when out of room. */
typedef struct wbuf {
    uint8_t *p;
    size_t n, cap;
    int bad;
} wbuf;

static void w_raw(wbuf *w, const void *d, size_t n)
{
    if (w->bad || w->cap - w->n < n) {
        w->bad = 1;
        return;
    }
    memcpy(w->p + w->n, d, n);
    w->n += n;
}

static void w_text(wbuf *w, const char *s)
{
    size_t k = cbor_encode_string_start(strlen(s), w->p + w->n, w->cap - w->n);
    if (!k)
        w->bad = 1;
    w->n += k;
    w_raw(w, s, strlen(s));
}

static void w_opt_bytes(wbuf *w, const uint8_t *d, size_t n)
{
    size_t k = d ? cbor_encode_bytestring_start(n, w->p + w->n, w->cap - w->n) : cbor_encode_null(w->p + w->n, w->cap - w->n);
    if (!k)
        w->bad = 1;
    w->n += k;
    if (d)
        w_raw(w, d, n);
}

static void w_map(wbuf *w, size_t n)
{
    size_t k = cbor_encode_map_start(n, w->p + w->n, w->cap - w->n);
    if (!k)
        w->bad = 1;
    w->n += k;
}

cc_status cc_nsm_encode_attestation(const uint8_t *user_data, size_t user_data_len, const uint8_t *nonce,
                                    size_t nonce_len, const uint8_t *public_key, size_t public_key_len,
                                    uint8_t **out, size_t *out_len, cc_error *err)
{
    if (user_data && user_data_len > CC_NSM_MAX_USER_DATA)
        return cc_error_set(err, CC_EINVAL, "NSM attestation: user_data is %zu bytes, at most 512", user_data_len);
    if (nonce && nonce_len > CC_NSM_MAX_NONCE)
        return cc_error_set(err, CC_EINVAL, "NSM attestation: nonce is %zu bytes, at most 512", nonce_len);
    if (public_key && public_key_len > CC_NSM_MAX_PUBLIC_KEY)
        return cc_error_set(err, CC_EINVAL, "NSM attestation: public_key is %zu bytes, at most 1024", public_key_len);
    wbuf w = {.p = malloc(CC_NSM_MAX_REQUEST), .cap = CC_NSM_MAX_REQUEST};
    if (!w.p)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    /* serde's field order: user_data, nonce, public_key */
    w_map(&w, 1);
    w_text(&w, "Attestation");
    w_map(&w, 3);
    w_text(&w, "user_data");
    w_opt_bytes(&w, user_data, user_data_len);
    w_text(&w, "nonce");
    w_opt_bytes(&w, nonce, nonce_len);
    w_text(&w, "public_key");
    w_opt_bytes(&w, public_key, public_key_len);
    if (w.bad) {
        free(w.p);
        return cc_error_set(err, CC_EINVAL, "NSM attestation: request larger than 0x1000 bytes");
    }
    *out = w.p;
    *out_len = w.n;
    return CC_OK;
}

cc_status cc_nsm_encode_unit(const char *name, uint8_t **out, size_t *out_len, cc_error *err)
{
    wbuf w = {.p = malloc(64), .cap = 64};
    if (!w.p)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    w_text(&w, name);
    if (w.bad) {
        free(w.p);
        return cc_error_set(err, CC_EINVAL, "NSM request name too long");
    }
    *out = w.p;
    *out_len = w.n;
    return CC_OK;
}

static const cbor_item_t *map_get(const cbor_item_t *m, const char *key)
{
    if (!m || !cbor_isa_map(m))
        return NULL;
    size_t n = cbor_map_size(m), kl = strlen(key);
    struct cbor_pair *kv = cbor_map_handle(m);
    for (size_t i = 0; i < n; i++)
        if (cbor_isa_string(kv[i].key) && cbor_string_is_definite(kv[i].key) && cbor_string_length(kv[i].key) == kl &&
            memcmp(cbor_string_handle(kv[i].key), key, kl) == 0)
            return kv[i].value;
    return NULL;
}

/* Sends req, loads the answer, and returns the body under `variant` (*root to cbor_decref). */
static cc_status call(nsm_dev *d, const char *what, const uint8_t *req, size_t req_len, const char *variant,
                      cbor_item_t **root, const cbor_item_t **body, cc_error *err)
{
    uint8_t *resp = malloc(CC_NSM_MAX_RESPONSE);
    if (!resp)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    struct nsm_message msg = {.request = {(void *)req, req_len}, .response = {resp, CC_NSM_MAX_RESPONSE}};
    if (d->ioctl_fn(d->fd, CC_NSM_IOCTL_REQUEST, &msg) < 0) {
        int e = errno;
        free(resp);
        return cc_error_set(err, CC_EIO, "NSM %s: ioctl failed: %s", what, strerror(e));
    }
    if (msg.response.iov_len > CC_NSM_MAX_RESPONSE) {
        free(resp);
        return cc_error_set(err, CC_EIO, "NSM %s: response length %zu beyond the buffer", what, msg.response.iov_len);
    }
    if (cc_cbor_check(resp, msg.response.iov_len, 8, "NSM response", err) != CC_OK) {
        free(resp);
        if (err)
            err->code = CC_EIO;
        return CC_EIO;
    }
    struct cbor_load_result r;
    cbor_item_t *it = cbor_load(resp, msg.response.iov_len, &r);
    free(resp);
    if (!it || r.error.code != CBOR_ERR_NONE) {
        if (it)
            cbor_decref(&it);
        return cc_error_set(err, CC_EIO, "NSM %s: the response is not CBOR", what);
    }
    const cbor_item_t *e = map_get(it, "Error");
    if (e) {
        char name[64] = "unknown";
        if (cbor_isa_string(e) && cbor_string_is_definite(e) && cbor_string_length(e) < sizeof name) {
            memcpy(name, cbor_string_handle(e), cbor_string_length(e));
            name[cbor_string_length(e)] = '\0';
        }
        cbor_decref(&it);
        return cc_error_set(err, CC_EIO, "NSM %s: the device answered Error %s", what, name);
    }
    const cbor_item_t *b = map_get(it, variant);
    if (!b || !cbor_isa_map(b)) {
        cbor_decref(&it);
        return cc_error_set(err, CC_EIO, "NSM %s: the response has no %s map", what, variant);
    }
    *root = it;
    *body = b;
    return CC_OK;
}

static cc_status dev_attestation(cc_nsm *dev, const uint8_t *user_data, size_t user_data_len, const uint8_t *nonce,
                                 size_t nonce_len, const uint8_t *public_key, size_t public_key_len, uint8_t **doc,
                                 size_t *doc_len, cc_error *err)
{
    nsm_dev *d = (nsm_dev *)dev;
    uint8_t *req = NULL;
    size_t req_len = 0;
    cc_status s = cc_nsm_encode_attestation(user_data, user_data_len, nonce, nonce_len, public_key, public_key_len,
                                            &req, &req_len, err);
    if (s != CC_OK)
        return s;
    cbor_item_t *root = NULL;
    const cbor_item_t *body = NULL;
    s = call(d, "Attestation", req, req_len, "Attestation", &root, &body, err);
    free(req);
    if (s != CC_OK)
        return s;
    const cbor_item_t *v = map_get(body, "document");
    if (!v || !cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v) || cbor_bytestring_length(v) == 0) {
        cbor_decref(&root);
        return cc_error_set(err, CC_EIO, "NSM Attestation: the response has no document byte string");
    }
    *doc_len = cbor_bytestring_length(v);
    *doc = malloc(*doc_len);
    if (*doc)
        memcpy(*doc, cbor_bytestring_handle(v), *doc_len);
    cbor_decref(&root);
    return *doc ? CC_OK : cc_error_set(err, CC_ENOMEM, "out of memory");
}

static cc_status dev_get_random(cc_nsm *dev, uint8_t *out, size_t len, cc_error *err)
{
    nsm_dev *d = (nsm_dev *)dev;
    uint8_t *req = NULL;
    size_t req_len = 0, got = 0;
    cc_status s = cc_nsm_encode_unit("GetRandom", &req, &req_len, err);
    /* Bounded: each answer brings at least one byte or we stop. */
    for (int tries = 0; s == CC_OK && got < len && tries < 4096; tries++) {
        cbor_item_t *root = NULL;
        const cbor_item_t *body = NULL;
        if ((s = call(d, "GetRandom", req, req_len, "GetRandom", &root, &body, err)) != CC_OK)
            break;
        const cbor_item_t *v = map_get(body, "random");
        if (!v || !cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v) || cbor_bytestring_length(v) == 0) {
            cbor_decref(&root);
            s = cc_error_set(err, CC_EIO, "NSM GetRandom: the response has no random bytes");
            break;
        }
        size_t n = cbor_bytestring_length(v);
        if (n > len - got)
            n = len - got;
        memcpy(out + got, cbor_bytestring_handle(v), n);
        got += n;
        cbor_decref(&root);
    }
    free(req);
    if (s == CC_OK && got < len)
        s = cc_error_set(err, CC_EIO, "NSM GetRandom: too few bytes");
    return s;
}

static int get_u16(const cbor_item_t *m, const char *k, uint16_t *out)
{
    const cbor_item_t *v = map_get(m, k);
    if (!v || !cbor_isa_uint(v) || cbor_get_int(v) > 0xffff)
        return 0;
    *out = (uint16_t)cbor_get_int(v);
    return 1;
}

static int get_text(const cbor_item_t *m, const char *k, char *out, size_t cap)
{
    const cbor_item_t *v = map_get(m, k);
    if (!v || !cbor_isa_string(v) || !cbor_string_is_definite(v) || cbor_string_length(v) >= cap)
        return 0;
    memcpy(out, cbor_string_handle(v), cbor_string_length(v));
    out[cbor_string_length(v)] = '\0';
    return 1;
}

static cc_status dev_describe(cc_nsm *dev, cc_nsm_description *out, cc_error *err)
{
    nsm_dev *d = (nsm_dev *)dev;
    uint8_t *req = NULL;
    size_t req_len = 0;
    cc_status s = cc_nsm_encode_unit("DescribeNSM", &req, &req_len, err);
    if (s != CC_OK)
        return s;
    cbor_item_t *root = NULL;
    const cbor_item_t *body = NULL;
    s = call(d, "DescribeNSM", req, req_len, "DescribeNSM", &root, &body, err);
    free(req);
    if (s != CC_OK)
        return s;
    memset(out, 0, sizeof *out);
    if (!get_u16(body, "version_major", &out->version_major) || !get_u16(body, "version_minor", &out->version_minor) ||
        !get_u16(body, "version_patch", &out->version_patch) || !get_u16(body, "max_pcrs", &out->max_pcrs) ||
        !get_text(body, "module_id", out->module_id, sizeof out->module_id) ||
        !get_text(body, "digest", out->digest, sizeof out->digest))
        s = cc_error_set(err, CC_EIO, "NSM DescribeNSM: a field is missing or mistyped");
    cbor_decref(&root);
    return s;
}

static void dev_close(cc_nsm *dev)
{
    nsm_dev *d = (nsm_dev *)dev;
    if (d->fd >= 0)
        close(d->fd);
    free(d);
}

static const cc_nsm_ops dev_ops = {"nsm-device", dev_describe, dev_attestation, dev_get_random, dev_close};

static int real_ioctl(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }

cc_status cc_nsm_dev_open_fd(int fd, cc_nsm_ioctl_fn ioctl_fn, cc_nsm **out, cc_error *err)
{
    nsm_dev *d = calloc(1, sizeof *d);
    if (!d) {
        close(fd);
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    }
    d->base.ops = &dev_ops;
    d->fd = fd;
    d->ioctl_fn = ioctl_fn ? ioctl_fn : real_ioctl;
    *out = &d->base;
    return CC_OK;
}

cc_status cc_nsm_dev_open(const char *path, cc_nsm **out, cc_error *err)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return cc_error_set(err, CC_EIO, "%s: %s", path, strerror(errno));
    return cc_nsm_dev_open_fd(fd, NULL, out, err);
}
