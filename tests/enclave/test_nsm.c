/*
 * test_nsm.c — /dev/nsm requests byte for byte (src/enclave/nsm_dev.c), the
 * device path over a substitute ioctl that plays the NSM, and the simulator.
 */
#include <cbor.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "enclave/attestation.h"
#include "enclave/nsm.h"
#include "test.h"

TEST(attestation_request_bytes)
{
    uint8_t *req = NULL;
    size_t n = 0;
    cc_error err;
    static const uint8_t ud[2] = {1, 2};
    CHECK(cc_nsm_encode_attestation(ud, 2, NULL, 0, NULL, 0, &req, &n, &err) == CC_OK);
    static const uint8_t want[] = {0xA1, 0x6B, 'A', 't', 't', 'e', 's', 't', 'a', 't', 'i', 'o', 'n', 0xA3,
                                   0x69, 'u', 's', 'e', 'r', '_', 'd', 'a', 't', 'a', 0x42, 0x01, 0x02,
                                   0x65, 'n', 'o', 'n', 'c', 'e', 0xF6,
                                   0x6A, 'p', 'u', 'b', 'l', 'i', 'c', '_', 'k', 'e', 'y', 0xF6};
    CHECK_EQ_INT(n, sizeof want);
    CHECK(n == sizeof want && memcmp(req, want, n) == 0);
    free(req);
    CHECK(cc_nsm_encode_unit("GetRandom", &req, &n, &err) == CC_OK);
    CHECK(n == 10 && req[0] == 0x69 && memcmp(req + 1, "GetRandom", 9) == 0);
    free(req);
    uint8_t big[513] = {0};
    CHECK(cc_nsm_encode_attestation(big, 513, NULL, 0, NULL, 0, &req, &n, &err) == CC_EINVAL);
}

/* The substitute device: checks the ioctl and answers from a canned response. */
static const uint8_t *answer;
static size_t answer_len;
static uint8_t last_req[4096];
static size_t last_req_len;
static unsigned long last_cmd;

static int fake_ioctl(int fd, unsigned long cmd, void *arg)
{
    (void)fd;
    struct iovec *io = arg; /* [0] request, [1] response */
    last_cmd = cmd;
    last_req_len = io[0].iov_len < sizeof last_req ? io[0].iov_len : sizeof last_req;
    memcpy(last_req, io[0].iov_base, last_req_len);
    if (io[1].iov_len < answer_len)
        return -1;
    memcpy(io[1].iov_base, answer, answer_len);
    io[1].iov_len = answer_len;
    return 0;
}

static uint8_t *encode(cbor_item_t *it, size_t *n)
{
    unsigned char *b = NULL;
    size_t cap = 0;
    *n = cbor_serialize_alloc(it, &b, &cap);
    cbor_decref(&it);
    return b;
}

static cbor_item_t *variant(const char *name, const char *field, cbor_item_t *value)
{
    cbor_item_t *inner = cbor_new_definite_map(1), *outer = cbor_new_definite_map(1);
    cbor_map_add(inner, (struct cbor_pair){.key = cbor_move(cbor_build_string(field)), .value = cbor_move(value)});
    cbor_map_add(outer, (struct cbor_pair){.key = cbor_move(cbor_build_string(name)), .value = cbor_move(inner)});
    return outer;
}

TEST(device_over_substitute_ioctl)
{
    cc_nsm *dev = NULL;
    cc_error err;
    CHECK(cc_nsm_dev_open_fd(open("/dev/null", O_RDWR), fake_ioctl, &dev, &err) == CC_OK);
    size_t n = 0;
    uint8_t *resp = encode(variant("Attestation", "document", cbor_build_bytestring((const uint8_t *)"\x84\x44", 2)), &n);
    answer = resp;
    answer_len = n;
    uint8_t *doc = NULL;
    size_t doc_len = 0;
    CHECK(dev->ops->attestation(dev, NULL, 0, (const uint8_t *)"\x07", 1, NULL, 0, &doc, &doc_len, &err) == CC_OK);
    CHECK_EQ_INT(last_cmd, 0xC0200A00UL);
    CHECK(doc_len == 2 && doc[0] == 0x84);
    uint8_t *want = NULL;
    size_t want_len = 0;
    cc_nsm_encode_attestation(NULL, 0, (const uint8_t *)"\x07", 1, NULL, 0, &want, &want_len, &err);
    CHECK(last_req_len == want_len && memcmp(last_req, want, want_len) == 0);
    free(want);
    free(doc);
    free(resp);
    /* GetRandom: 8-byte answers fill a 20-byte request in three calls */
    resp = encode(variant("GetRandom", "random", cbor_build_bytestring((const uint8_t *)"ABCDEFGH", 8)), &n);
    answer = resp;
    answer_len = n;
    uint8_t rnd[20];
    CHECK(dev->ops->get_random(dev, rnd, sizeof rnd, &err) == CC_OK);
    CHECK(memcmp(rnd + 16, "ABCD", 4) == 0);
    CHECK(last_req_len == 10 && memcmp(last_req + 1, "GetRandom", 9) == 0);
    free(resp);
    /* an Error answer is named */
    cbor_item_t *e = cbor_new_definite_map(1);
    cbor_map_add(e, (struct cbor_pair){.key = cbor_move(cbor_build_string("Error")),
                                       .value = cbor_move(cbor_build_string("InvalidArgument"))});
    resp = encode(e, &n);
    answer = resp;
    answer_len = n;
    CHECK(dev->ops->attestation(dev, NULL, 0, NULL, 0, NULL, 0, &doc, &doc_len, &err) == CC_EIO);
    CHECK(strstr(err.msg, "InvalidArgument") != NULL);
    free(resp);
    cc_nsm_close(dev);
    CHECK(cc_nsm_dev_open("/nonexistent/nsm", &dev, &err) == CC_EIO && strstr(err.msg, "/nonexistent/nsm"));
}

TEST(simulator_state_persists)
{
    char dir[] = "/tmp/cc-nsm-sim.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char sub[64];
    snprintf(sub, sizeof sub, "%s/state", dir);
    cc_nsm_sim_options o = {0};
    o.state_dir = sub;
    cc_nsm *a = NULL, *b = NULL;
    cc_error err;
    CHECK(cc_nsm_sim_new(&o, &a, &err) == CC_OK);
    CHECK(cc_nsm_sim_new(&o, &b, &err) == CC_OK);
    CHECK_EQ_STR(cc_nsm_sim_root_pem(a), cc_nsm_sim_root_pem(b));
    uint8_t *doc = NULL;
    size_t len = 0;
    CHECK(b->ops->attestation(b, NULL, 0, NULL, 0, NULL, 0, &doc, &len, &err) == CC_OK);
    cc_attestation_policy p = {0};
    p.root_pem = cc_nsm_sim_root_pem(a);
    CHECK(cc_attestation_check(doc, len, &p, NULL, &err) == CC_OK);
    cc_nsm_description desc;
    CHECK(a->ops->describe(a, &desc, &err) == CC_OK && strcmp(desc.digest, "SHA384") == 0);
    free(doc);
    cc_nsm_close(a);
    cc_nsm_close(b);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    RUN(attestation_request_bytes);
    RUN(device_over_substitute_ioctl);
    RUN(simulator_state_persists);
    TEST_MAIN_END();
}
