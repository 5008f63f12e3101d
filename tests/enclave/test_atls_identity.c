/*
 * test_atls_identity.c — the aTLS server side (src/enclave/atls_identity.c,
 * src/api/atls_listener.c, src/enclave/atls_pin.c): an identity from the
 * simulated NSM verifies (root, PCRs, user_data = SHA-256(SPKI)); GnuTLS —
 * the HTTPS listener's TLS library — accepts its certificate (it refused the
 * first, 128-bit OID arc); a live listener is verified and pinned by
 * cc_atls_verify_url; a wrong expected PCR or root is refused.
 */
#include <openssl/pem.h>

#include "api/atls_listener.h"
#include "enclave/atls_identity.h"
#include "enclave/atls_pin.h"
#include "enclave/attestation.h"
#include "enclave/nsm.h"
#include "test.h"

static cc_nsm *sim(void)
{
    cc_nsm_sim_options o = {0};
    memset(o.pcrs[0], 0xa0, 48);
    memset(o.pcrs[8], 0x08, 48);
    cc_nsm *dev = NULL;
    cc_error err;
    CHECK(cc_nsm_sim_new(&o, &dev, &err) == CC_OK);
    return dev;
}

static void handler(void *ctx, const cc_http_request *req, cc_http_response *res)
{
    (void)ctx;
    (void)req;
    res->status = 200;
}

TEST(identity_verifies)
{
    cc_nsm *dev = sim();
    cc_atls_identity id;
    cc_error err;
    CHECK_MSG(cc_atls_identity_make(dev, &id, &err) == CC_OK, "%s", err.msg);
    BIO *b = BIO_new_mem_buf(id.cert_pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    CHECK(x != NULL);
    cc_attestation_policy pol = {0};
    pol.root_pem = cc_nsm_sim_root_pem(dev);
    pol.max_age_s = 60;
    uint8_t p0[48];
    memset(p0, 0xa0, 48);
    pol.expect[0] = (cc_attestation_pcr){0, p0, 48};
    pol.n_expect = 1;
    cc_attestation_doc d;
    CHECK_MSG(cc_attestation_verify_certificate(x, &pol, &d, &err) == CC_OK, "%s", err.msg);
    cc_attestation_doc_free(&d);
    /* the certificate expires with the document's signing certificate, not later */
    CHECK(id.doc_not_after > time(NULL) && id.doc_not_after < time(NULL) + 2 * 86400);
    CHECK(X509_cmp_time(X509_get0_notAfter(x), &(time_t){id.doc_not_after + 1}) < 0);
    /* another PCR0 is refused */
    p0[0] ^= 1;
    CHECK(cc_attestation_verify_certificate(x, &pol, NULL, &err) != CC_OK);
    /* the key is P-384 and private-key PEM is in secret memory (NUL-terminated) */
    EVP_PKEY *pk = X509_get0_pubkey(x);
    CHECK(pk && EVP_PKEY_get_bits(pk) == 384);
    CHECK(id.key_pem && strstr(id.key_pem, "PRIVATE KEY") && strlen(id.key_pem) + 1 == id.key_size);
    X509_free(x);
    cc_atls_identity_free(&id);
    cc_nsm_close(dev);
}

TEST(listener_verify_and_pin)
{
    cc_nsm *dev = sim();
    cc_atls_listener *l = NULL;
    cc_error err;
    CHECK_MSG(cc_atls_listener_start(dev, 1800, handler, NULL, "127.0.0.1", 0, &l, &err) == CC_OK, "%s", err.msg);
    if (!l) {
        cc_nsm_close(dev);
        return;
    }
    char url[64], pin[CC_ATLS_PIN_MAX];
    snprintf(url, sizeof url, "https://127.0.0.1:%u", (unsigned)cc_atls_listener_port(l));
    cc_attestation_policy pol = {0};
    pol.root_pem = cc_nsm_sim_root_pem(dev);
    pol.max_age_s = 60;
    uint8_t p8[48];
    memset(p8, 0x08, 48);
    pol.expect[0] = (cc_attestation_pcr){8, p8, 48};
    pol.n_expect = 1;
    CHECK_MSG(cc_atls_verify_url(url, &pol, 5, pin, &err) == CC_OK, "%s", err.msg);
    CHECK(strncmp(pin, "sha256//", 8) == 0 && strlen(pin) == 8 + 44);
    p8[47] ^= 1;
    CHECK(cc_atls_verify_url(url, &pol, 5, pin, &err) == CC_EFORBIDDEN && pin[0] == '\0');
    p8[47] ^= 1;
    pol.root_pem = NULL; /* the AWS root: a simulator's chain is refused */
    CHECK(cc_atls_verify_url(url, &pol, 5, pin, &err) == CC_EFORBIDDEN);
    CHECK_EQ_INT(cc_atls_listener_renewals(l), 0);
    cc_atls_listener_stop(l);
    cc_nsm_close(dev);
}

int main(void)
{
    RUN(identity_verifies);
    RUN(listener_verify_and_pin);
    TEST_MAIN_END();
}
