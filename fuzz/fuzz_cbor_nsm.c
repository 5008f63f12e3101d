/*
 * fuzz_cbor_nsm — the Nitro Secure Module's answers (src/enclave/nsm_dev.c)
 * and the CBOR pre-check in front of every libcbor parse of outside bytes,
 * cc_cbor_check (src/enclave/cose.c).
 *
 * The input is one response of the device: a substitute ioctl
 * (cc_nsm_dev_open_fd, as the unit tests use) answers every request with
 * it, and the device's DescribeNSM, Attestation and GetRandom decoders read
 * it (with the driver's 0x3000-byte response buffer: a longer answer is
 * reported at its full length, as the driver would, and must be refused).
 *
 * Invariants: a failure carries its code (CC_EIO for anything the device
 * says) and message; a description's texts are NUL-terminated within their
 * fields; an attestation document is non-empty and no longer than the
 * response; GetRandom fills exactly what was asked.  cc_cbor_check, on the
 * raw input at depth 8 and 16: what it accepts, libcbor loads consuming
 * exactly the input, or refuses for what the check leaves to it (a text
 * string that is not UTF-8, an unassigned simple value) — never for short
 * data or memory; a deeper limit accepts at least as much.
 * Memory stays bounded (run with -malloc_limit_mb: a declared length must
 * never reach an allocation before the check).
 */
#include <cbor.h>
#include <sys/uio.h>
#include <unistd.h>

#include "enclave/cose.h"
#include "enclave/nsm.h"
#include "fuzz.h"
#include "util/log.h"

static const uint8_t *resp_data;
static size_t resp_size;
static unsigned calls;

struct fake_msg {
    struct iovec request, response;
};

static int fake_ioctl(int fd, unsigned long request, void *arg)
{
    (void)fd;
    FUZZ_ASSERT(request == CC_NSM_IOCTL_REQUEST);
    struct fake_msg *m = arg;
    FUZZ_ASSERT(m->request.iov_len > 0 && m->request.iov_len <= CC_NSM_MAX_REQUEST);
    size_t n = resp_size < m->response.iov_len ? resp_size : m->response.iov_len;
    memcpy(m->response.iov_base, resp_data, n);
    m->response.iov_len = resp_size; /* the driver reports the answer's full length */
    calls++;
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cc_log_set_level(CC_LOG_ERROR);
    return 0;
}

static void check_cbor(const uint8_t *data, size_t size)
{
    cc_error err = {0};
    cc_status st8 = cc_cbor_check(data, size, 8, "fuzz", &err);
    if (st8 != CC_OK)
        FUZZ_ASSERT_ERR(st8, err);
    cc_status st16 = cc_cbor_check(data, size, 16, "fuzz", NULL);
    FUZZ_ASSERT(st8 != CC_OK || st16 == CC_OK); /* a deeper limit refuses nothing more */
    if (st16 != CC_OK)
        return;
    struct cbor_load_result r;
    cbor_item_t *it = cbor_load(data, size, &r);
    if (r.error.code == CBOR_ERR_NOTENOUGHDATA || r.error.code == CBOR_ERR_NODATA ||
        r.error.code == CBOR_ERR_MEMERROR || (r.error.code == CBOR_ERR_NONE && (!it || r.read != size)))
        fprintf(stderr, "libcbor: error %d at %zu, read %zu of %zu\n", (int)r.error.code, r.error.position, r.read,
                size);
    /* libcbor is stricter than the length check, which leaves it text strings that are not UTF-8
     * (CBOR_ERR_SYNTAXERROR) and unassigned simple values (CBOR_ERR_MALFORMATED); it must never run out
     * of data or memory, and what it loads it loads whole. */
    FUZZ_ASSERT(r.error.code != CBOR_ERR_NOTENOUGHDATA && r.error.code != CBOR_ERR_NODATA &&
                r.error.code != CBOR_ERR_MEMERROR);
    FUZZ_ASSERT(r.error.code != CBOR_ERR_NONE || (it != NULL && r.read == size));
    if (it)
        cbor_decref(&it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_cbor(data, size);

    resp_data = data;
    resp_size = size;
    cc_nsm *dev = NULL;
    int fd = dup(2); /* the device closes it */
    FUZZ_ASSERT(fd >= 0);
    FUZZ_ASSERT(cc_nsm_dev_open_fd(fd, fake_ioctl, &dev, NULL) == CC_OK);

    cc_error err = {0};
    cc_nsm_description d;
    cc_status st = dev->ops->describe(dev, &d, &err);
    if (st == CC_OK) {
        FUZZ_ASSERT(size <= CC_NSM_MAX_RESPONSE);
        FUZZ_ASSERT(memchr(d.module_id, '\0', sizeof d.module_id) && memchr(d.digest, '\0', sizeof d.digest));
    } else {
        FUZZ_ASSERT_ERR(st, err);
        FUZZ_ASSERT(st == CC_EIO || st == CC_ENOMEM);
    }

    uint8_t *doc = NULL;
    size_t doc_len = 0;
    static const uint8_t nonce[16] = {1};
    cc_error err2 = {0};
    st = dev->ops->attestation(dev, NULL, 0, nonce, sizeof nonce, NULL, 0, &doc, &doc_len, &err2);
    if (st == CC_OK) {
        FUZZ_ASSERT(doc != NULL && doc_len > 0 && doc_len < size && size <= CC_NSM_MAX_RESPONSE);
        free(doc);
    } else {
        FUZZ_ASSERT_ERR(st, err2);
        FUZZ_ASSERT(st == CC_EIO || st == CC_ENOMEM);
    }

    uint8_t rnd[40];
    memset(rnd, 0xee, sizeof rnd);
    cc_error err3 = {0};
    calls = 0;
    st = dev->ops->get_random(dev, rnd, 32, &err3);
    if (st == CC_OK) {
        FUZZ_ASSERT(calls >= 1 && calls <= 32 && size <= CC_NSM_MAX_RESPONSE);
    } else {
        FUZZ_ASSERT_ERR(st, err3);
        FUZZ_ASSERT(st == CC_EIO || st == CC_ENOMEM);
    }
    for (size_t i = 32; i < sizeof rnd; i++)
        FUZZ_ASSERT(rnd[i] == 0xee); /* nothing written past what was asked */
    cc_nsm_close(dev);
    return 0;
}
