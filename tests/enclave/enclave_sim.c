/*
 * enclave_sim.c — helper for tests/integration/enclave_tools.sh (built as
 * $BUILD/tools-bin/enclave-sim, outside build/tests): documents from the
 * simulated NSM (src/enclave/nsm_sim.c) and aTLS certificates carrying them.
 *
 *   enclave-sim doc  STATE_DIR OUT [--pcr N HEX]... [--user-data HEX] [--nonce HEX]
 *                    [--timestamp MS] [--tagged] [--base64]
 *   enclave-sim atls STATE_DIR KEY_OUT CERT_OUT [--pcr N HEX]... [--bind right|wrong|none]
 *
 * STATE_DIR holds the simulator's chain (made on first use); its root.pem is
 * what `attestation verify --root` takes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "enclave/attestation.h"
#include "enclave/nsm.h"
#include "util/hex.h"

static int die(const char *m)
{
    fprintf(stderr, "enclave-sim: %s\n", m);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return die("usage: enclave-sim doc STATE_DIR OUT ... | atls STATE_DIR KEY_OUT CERT_OUT ...");
    int atls = strcmp(argv[1], "atls") == 0;
    int first_opt = atls ? 5 : 4;
    if ((!atls && strcmp(argv[1], "doc") != 0) || argc < first_opt)
        return die("unknown command");
    cc_nsm_sim_options o = {0};
    o.state_dir = argv[2];
    static uint8_t ud[512], nonce[512];
    size_t ud_len = 0, nonce_len = 0;
    int has_ud = 0, has_nonce = 0, b64 = 0;
    const char *bind = "right";
    cc_error err;
    for (int i = first_opt; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--pcr") == 0 && i + 2 < argc) {
            int idx = atoi(argv[i + 1]);
            size_t n = 0;
            if (idx < 0 || idx > 15 || cc_hex_decode(argv[i + 2], o.pcrs[idx], 48, &n, &err) != CC_OK || n != 48)
                return die("--pcr N HEX: N 0..15, 48 bytes of hex");
            i += 2;
        } else if (strcmp(a, "--user-data") == 0 && i + 1 < argc) {
            if (cc_hex_decode(argv[++i], ud, sizeof ud, &ud_len, &err) != CC_OK)
                return die("--user-data: hex");
            has_ud = 1;
        } else if (strcmp(a, "--nonce") == 0 && i + 1 < argc) {
            if (cc_hex_decode(argv[++i], nonce, sizeof nonce, &nonce_len, &err) != CC_OK)
                return die("--nonce: hex");
            has_nonce = 1;
        } else if (strcmp(a, "--timestamp") == 0 && i + 1 < argc) {
            o.timestamp_ms = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(a, "--tagged") == 0) {
            o.tagged = 1;
        } else if (strcmp(a, "--base64") == 0) {
            b64 = 1;
        } else if (strcmp(a, "--bind") == 0 && i + 1 < argc) {
            bind = argv[++i];
        } else {
            return die("unknown option");
        }
    }
    cc_nsm *dev = NULL;
    if (cc_nsm_sim_new(&o, &dev, &err) != CC_OK)
        return die(err.msg);
    uint8_t *doc = NULL;
    size_t doc_len = 0;
    int rc = 0;
    if (!atls) {
        if (dev->ops->attestation(dev, has_ud ? ud : NULL, ud_len, has_nonce ? nonce : NULL, nonce_len, NULL, 0, &doc,
                                  &doc_len, &err) != CC_OK) {
            cc_nsm_close(dev);
            return die(err.msg);
        }
        FILE *f = fopen(argv[3], "wb");
        if (!f)
            rc = die("cannot write OUT");
        else {
            if (b64) {
                unsigned char *t = malloc(4 * doc_len / 3 + 8);
                int n = t ? EVP_EncodeBlock(t, doc, (int)doc_len) : 0;
                fwrite(t, 1, (size_t)n, f);
                fputc('\n', f);
                free(t);
            } else {
                fwrite(doc, 1, doc_len, f);
            }
            fclose(f);
        }
        free(doc);
        cc_nsm_close(dev);
        return rc;
    }
    /* aTLS: a P-256 TLS key, a self-signed certificate, the document bound to its SPKI in the extension. */
    EVP_PKEY *key = EVP_EC_gen("prime256v1");
    X509 *x = X509_new();
    X509_NAME *nm = X509_NAME_new();
    int ok = key && x && nm && X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), 1) &&
             X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0) &&
             X509_set_subject_name(x, nm) && X509_set_issuer_name(x, nm) &&
             X509_gmtime_adj(X509_getm_notBefore(x), -60) && X509_gmtime_adj(X509_getm_notAfter(x), 86400) &&
             X509_set_pubkey(x, key);
    uint8_t h[32];
    ok = ok && cc_attestation_spki_sha256(x, h, &err) == CC_OK;
    if (ok && strcmp(bind, "wrong") == 0)
        RAND_bytes(h, sizeof h);
    if (ok && strcmp(bind, "none") != 0) {
        ok = dev->ops->attestation(dev, h, sizeof h, has_nonce ? nonce : NULL, nonce_len, NULL, 0, &doc, &doc_len,
                                   &err) == CC_OK;
        ASN1_OBJECT *oid = ok ? OBJ_txt2obj(CC_ATLS_OID, 1) : NULL;
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        X509_EXTENSION *ext = NULL;
        ok = ok && oid && os && ASN1_OCTET_STRING_set(os, doc, (int)doc_len) &&
             (ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os)) != NULL && X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        ASN1_OCTET_STRING_free(os);
        ASN1_OBJECT_free(oid);
        free(doc);
    }
    ok = ok && X509_sign(x, key, EVP_sha256()) > 0;
    FILE *kf = ok ? fopen(argv[3], "w") : NULL, *cf = ok ? fopen(argv[4], "w") : NULL;
    ok = ok && kf && cf && PEM_write_PrivateKey(kf, key, NULL, NULL, 0, NULL, NULL) && PEM_write_X509(cf, x);
    if (kf) fclose(kf);
    if (cf) fclose(cf);
    X509_NAME_free(nm);
    X509_free(x);
    EVP_PKEY_free(key);
    cc_nsm_close(dev);
    return ok ? 0 : die("cannot make the aTLS certificate");
}
