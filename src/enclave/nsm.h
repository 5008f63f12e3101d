/*
 * nsm.h — the Nitro Secure Module, behind one small interface (NOTES §8.2).
 *
 *   cc_nsm *dev;
 *   cc_nsm_dev_open("/dev/nsm", &dev, &err);        the real device (nsm_dev.c), inside an enclave
 *   cc_nsm_sim_new(&opts, &dev, &err);              a simulated one (nsm_sim.c), for tests
 *   dev->ops->attestation(dev, user_data, n, nonce, n, public_key, n, &doc, &doc_len, &err);
 *   dev->ops->get_random(dev, buf, 32, &err);
 *   cc_nsm_close(dev);
 *
 * Documents from either are COSE_Sign1 attestation documents in the real
 * format; the simulator's are signed by its own test chain (root →
 * intermediate → leaf, P-384), so a verifier given the simulator's root
 * (cc_nsm_sim_root_pem) accepts them.
 */
#ifndef CC_ENCLAVE_NSM_H
#define CC_ENCLAVE_NSM_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct cc_nsm cc_nsm;

typedef struct cc_nsm_description {
    uint16_t version_major, version_minor, version_patch;
    char module_id[256];
    uint16_t max_pcrs;
    char digest[16]; /* "SHA384" */
} cc_nsm_description;

typedef struct cc_nsm_ops {
    const char *name;
    cc_status (*describe)(cc_nsm *dev, cc_nsm_description *out, cc_error *err);
    /* Any of user_data / nonce / public_key may be NULL (absent: null in the request). *doc malloc'ed. */
    cc_status (*attestation)(cc_nsm *dev, const uint8_t *user_data, size_t user_data_len, const uint8_t *nonce,
                             size_t nonce_len, const uint8_t *public_key, size_t public_key_len, uint8_t **doc,
                             size_t *doc_len, cc_error *err);
    /* Fills len bytes (asking the device as many times as needed). */
    cc_status (*get_random)(cc_nsm *dev, uint8_t *out, size_t len, cc_error *err);
    void (*close)(cc_nsm *dev);
} cc_nsm_ops;

struct cc_nsm {
    const cc_nsm_ops *ops;
};

static inline void cc_nsm_close(cc_nsm *dev)
{
    if (dev)
        dev->ops->close(dev);
}

/* Request limits of the driver. */
#define CC_NSM_MAX_REQUEST 0x1000
#define CC_NSM_MAX_RESPONSE 0x3000
#define CC_NSM_MAX_USER_DATA 512
#define CC_NSM_MAX_NONCE 512
#define CC_NSM_MAX_PUBLIC_KEY 1024

/* ---- the real device (nsm_dev.c) ---- */

/* The ioctl the device uses; tests substitute one that plays the device. */
typedef int (*cc_nsm_ioctl_fn)(int fd, unsigned long request, void *arg);
/* _IOWR(0x0A, 0, struct {struct iovec request; struct iovec response;}) on 64-bit. */
#define CC_NSM_IOCTL_REQUEST 0xC0200A00UL

cc_status cc_nsm_dev_open(const char *path, cc_nsm **out, cc_error *err);
/* The same over an already open fd and a substitute ioctl (tests); the device closes fd. */
cc_status cc_nsm_dev_open_fd(int fd, cc_nsm_ioctl_fn ioctl_fn, cc_nsm **out, cc_error *err);

/* The CBOR requests, exposed for byte-for-byte tests. *out malloc'ed. */
cc_status cc_nsm_encode_attestation(const uint8_t *user_data, size_t user_data_len, const uint8_t *nonce,
                                    size_t nonce_len, const uint8_t *public_key, size_t public_key_len,
                                    uint8_t **out, size_t *out_len, cc_error *err);
/* A unit request: the bare text string (e.g. "GetRandom", "DescribeNSM"). */
cc_status cc_nsm_encode_unit(const char *name, uint8_t **out, size_t *out_len, cc_error *err);

/* ---- the simulator (nsm_sim.c) ---- */

typedef struct cc_nsm_sim_options {
    uint8_t pcrs[16][48];       /* PCR0..15 as reported (zero unless set) */
    const char *module_id;      /* NULL → "i-0000000000000000-enc0000000000000000" */
    uint64_t timestamp_ms;      /* 0 → the clock at each request */
    const char *state_dir;      /* NULL → a fresh chain; else load the chain there, or make and save it */
    int tagged;                 /* wrap documents in CBOR tag 18 */
} cc_nsm_sim_options;

cc_status cc_nsm_sim_new(const cc_nsm_sim_options *opts, cc_nsm **out, cc_error *err);
/* The simulator's root certificate (PEM, NUL-terminated, owned by dev). */
const char *cc_nsm_sim_root_pem(cc_nsm *dev);
/* Changes PCR index (0..15) for later documents. */
void cc_nsm_sim_set_pcr(cc_nsm *dev, int index, const uint8_t value[48]);
void cc_nsm_sim_set_timestamp(cc_nsm *dev, uint64_t timestamp_ms);
/* The payload the simulator would sign (tests tamper with it); *out malloc'ed. */
cc_status cc_nsm_sim_payload(cc_nsm *dev, const uint8_t *user_data, size_t user_data_len, const uint8_t *nonce,
                             size_t nonce_len, const uint8_t *public_key, size_t public_key_len, uint8_t **out,
                             size_t *out_len, cc_error *err);
/* Signs any payload under any protected header (NULL: {1:-35}) with the simulator's leaf key. */
cc_status cc_nsm_sim_sign(cc_nsm *dev, const uint8_t *protected_hdr, size_t protected_len, const uint8_t *payload,
                          size_t payload_len, uint8_t **out, size_t *out_len, cc_error *err);

#endif
