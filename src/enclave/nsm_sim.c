/*
 * nsm_sim.c — a simulated NSM for tests (see nsm.h).
 *
 * At start-up it makes (or loads from state_dir) a certificate chain like
 * AWS's — root (CA, 10 years) → intermediate (CA, pathlen 0, 1 year) → leaf
 * (digitalSignature, 1 day from an hour ago), all P-384 with ECDSA-SHA384 —
 * and answers Attestation with a COSE_Sign1 document in the real format,
 * signed by the leaf: payload {module_id, digest "SHA384", timestamp, pcrs
 * {0..15 → 48 B}, certificate, cabundle [root, intermediate], public_key,
 * user_data, nonce} with absent optional fields as null, as the NSM writes them.
 * GetRandom comes from OpenSSL's CSPRNG.
 */
#include "enclave/nsm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "enclave/cose.h"

typedef struct nsm_sim {
    cc_nsm base;
    EVP_PKEY *root_key, *inter_key, *leaf_key;
    X509 *root, *inter, *leaf;
    char *root_pem;
    uint8_t pcrs[16][48];
    char module_id[256];
    uint64_t timestamp_ms;
    int tagged;
} nsm_sim;

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = e && X509_add_ext(cert, e, -1);
    X509_EXTENSION_free(e);
    return ok;
}

/* kind: 2 root CA, 1 intermediate CA (pathlen 0), 0 leaf. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, long days, int kind,
                       long serial)
{
    X509 *x = X509_new();
    X509_NAME *nm = X509_NAME_new();
    int ok = x && nm && X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), serial) &&
             X509_NAME_add_entry_by_txt(nm, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0) &&
             X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"containment-chamber NSM simulator",
                                        -1, -1, 0) &&
             X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) &&
             X509_set_subject_name(x, nm) && X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : nm) &&
             X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
             X509_gmtime_adj(X509_getm_notAfter(x), -3600 + days * 86400L) && X509_set_pubkey(x, key);
    X509 *iss = issuer ? issuer : x;
    ok = ok && add_ext(x, iss, NID_subject_key_identifier, "hash") &&
         add_ext(x, iss, NID_authority_key_identifier, "keyid:always");
    if (kind)
        ok = ok && add_ext(x, iss, NID_basic_constraints, kind == 2 ? "critical,CA:TRUE" : "critical,CA:TRUE,pathlen:0") &&
             add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
    else
        ok = ok && add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE") &&
             add_ext(x, iss, NID_key_usage, "critical,digitalSignature,nonRepudiation");
    ok = ok && X509_sign(x, issuer_key, EVP_sha384()) > 0;
    X509_NAME_free(nm);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static void *read_pem(const char *dir, const char *name, int cert)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    void *r = cert ? (void *)PEM_read_X509(f, NULL, NULL, NULL) : (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return r;
}

static int write_pem(const char *dir, const char *name, X509 *x, EVP_PKEY *k)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    if (!x)
        chmod(path, 0600);
    int ok = x ? PEM_write_X509(f, x) : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    return fclose(f) == 0 && ok;
}

static cc_status sim_chain(nsm_sim *s, const char *dir, cc_error *err)
{
    if (dir) {
        s->root = read_pem(dir, "root.pem", 1);
        s->inter = read_pem(dir, "inter.pem", 1);
        s->leaf = read_pem(dir, "leaf.pem", 1);
        s->root_key = read_pem(dir, "root.key", 0);
        s->inter_key = read_pem(dir, "inter.key", 0);
        s->leaf_key = read_pem(dir, "leaf.key", 0);
        if (s->root && s->inter && s->leaf && s->root_key && s->inter_key && s->leaf_key)
            return CC_OK;
        if (s->root || s->inter || s->leaf || s->root_key || s->inter_key || s->leaf_key)
            return cc_error_set(err, CC_EIO, "%s: incomplete NSM simulator state (root/inter/leaf .pem and .key)", dir);
    }
    if (dir && mkdir(dir, 0700) != 0 && errno != EEXIST)
        return cc_error_set(err, CC_EIO, "%s: cannot create: %s", dir, strerror(errno));
    s->root_key = EVP_EC_gen("secp384r1");
    s->inter_key = EVP_EC_gen("secp384r1");
    s->leaf_key = EVP_EC_gen("secp384r1");
    if (!s->root_key || !s->inter_key || !s->leaf_key)
        return cc_error_set(err, CC_ECRYPTO, "NSM simulator: cannot generate P-384 keys");
    s->root = make_cert("sim.nitro-enclaves root", s->root_key, NULL, s->root_key, 3650, 2, 1);
    s->inter = s->root ? make_cert("sim.nitro-enclaves intermediate", s->inter_key, s->root, s->root_key, 365, 1, 2) : NULL;
    s->leaf = s->inter ? make_cert("i-0000000000000000-enc0000000000000000.sim", s->leaf_key, s->inter, s->inter_key,
                                   1, 0, 3)
                       : NULL;
    if (!s->leaf)
        return cc_error_set(err, CC_ECRYPTO, "NSM simulator: cannot make the certificate chain");
    if (dir && (!write_pem(dir, "root.pem", s->root, NULL) || !write_pem(dir, "inter.pem", s->inter, NULL) ||
                !write_pem(dir, "leaf.pem", s->leaf, NULL) || !write_pem(dir, "root.key", NULL, s->root_key) ||
                !write_pem(dir, "inter.key", NULL, s->inter_key) || !write_pem(dir, "leaf.key", NULL, s->leaf_key)))
        return cc_error_set(err, CC_EIO, "%s: cannot write the NSM simulator state", dir);
    return CC_OK;
}

static cbor_item_t *cert_bstr(X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    cbor_item_t *b = n > 0 ? cbor_build_bytestring(der, (size_t)n) : NULL;
    OPENSSL_free(der);
    return b;
}

static int put(cbor_item_t *map, const char *key, cbor_item_t *value)
{
    if (!value)
        return 0;
    return cbor_map_add(map, (struct cbor_pair){.key = cbor_move(cbor_build_string(key)), .value = cbor_move(value)});
}

static cbor_item_t *opt_bstr(const uint8_t *p, size_t n) { return p ? cbor_build_bytestring(p, n) : cbor_new_null(); }

cc_status cc_nsm_sim_payload(cc_nsm *dev, const uint8_t *user_data, size_t user_data_len, const uint8_t *nonce,
                             size_t nonce_len, const uint8_t *public_key, size_t public_key_len, uint8_t **out,
                             size_t *out_len, cc_error *err)
{
    nsm_sim *s = (nsm_sim *)dev;
    if ((user_data && user_data_len > CC_NSM_MAX_USER_DATA) || (nonce && nonce_len > CC_NSM_MAX_NONCE) ||
        (public_key && public_key_len > CC_NSM_MAX_PUBLIC_KEY))
        return cc_error_set(err, CC_EINVAL, "NSM Attestation: InvalidArgument (user_data/nonce ≤ 512, public_key ≤ 1024 bytes)");
    uint64_t ts = s->timestamp_ms;
    if (!ts) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        ts = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
    }
    cbor_item_t *payload = cbor_new_definite_map(9), *pcrs = cbor_new_definite_map(16), *cab = cbor_new_definite_array(2);
    int ok = payload && pcrs && cab;
    for (int i = 0; ok && i < 16; i++)
        ok = cbor_map_add(pcrs, (struct cbor_pair){.key = cbor_move(cbor_build_uint8((uint8_t)i)),
                                                   .value = cbor_move(cbor_build_bytestring(s->pcrs[i], 48))});
    ok = ok && cbor_array_push(cab, cbor_move(cert_bstr(s->root))) && cbor_array_push(cab, cbor_move(cert_bstr(s->inter)));
    ok = ok && put(payload, "module_id", cbor_build_string(s->module_id)) &&
         put(payload, "digest", cbor_build_string("SHA384")) && put(payload, "timestamp", cbor_build_uint64(ts)) &&
         put(payload, "pcrs", cbor_incref(pcrs)) && put(payload, "certificate", cert_bstr(s->leaf)) &&
         put(payload, "cabundle", cbor_incref(cab)) && put(payload, "public_key", opt_bstr(public_key, public_key_len)) &&
         put(payload, "user_data", opt_bstr(user_data, user_data_len)) && put(payload, "nonce", opt_bstr(nonce, nonce_len));
    unsigned char *buf = NULL;
    size_t cap = 0, n = ok ? cbor_serialize_alloc(payload, &buf, &cap) : 0;
    if (payload) cbor_decref(&payload);
    if (pcrs) cbor_decref(&pcrs);
    if (cab) cbor_decref(&cab);
    if (!n) {
        free(buf);
        return cc_error_set(err, CC_ENOMEM, "NSM simulator: cannot encode the payload");
    }
    *out = buf;
    *out_len = n;
    return CC_OK;
}

cc_status cc_nsm_sim_sign(cc_nsm *dev, const uint8_t *protected_hdr, size_t protected_len, const uint8_t *payload,
                          size_t payload_len, uint8_t **out, size_t *out_len, cc_error *err)
{
    nsm_sim *s = (nsm_sim *)dev;
    return cc_cose_sign1_sign(s->leaf_key, protected_hdr, protected_len, payload, payload_len, s->tagged, out, out_len,
                              err);
}

static cc_status sim_attestation(cc_nsm *dev, const uint8_t *user_data, size_t user_data_len, const uint8_t *nonce,
                                 size_t nonce_len, const uint8_t *public_key, size_t public_key_len, uint8_t **doc,
                                 size_t *doc_len, cc_error *err)
{
    uint8_t *pl = NULL;
    size_t pl_len = 0;
    cc_status st = cc_nsm_sim_payload(dev, user_data, user_data_len, nonce, nonce_len, public_key, public_key_len, &pl,
                                      &pl_len, err);
    if (st != CC_OK)
        return st;
    st = cc_nsm_sim_sign(dev, NULL, 0, pl, pl_len, doc, doc_len, err);
    free(pl);
    return st;
}

static cc_status sim_get_random(cc_nsm *dev, uint8_t *out, size_t len, cc_error *err)
{
    (void)dev;
    if (RAND_bytes(out, (int)len) != 1)
        return cc_error_set(err, CC_ECRYPTO, "NSM simulator: RAND_bytes failed");
    return CC_OK;
}

static cc_status sim_describe(cc_nsm *dev, cc_nsm_description *out, cc_error *err)
{
    (void)err;
    nsm_sim *s = (nsm_sim *)dev;
    memset(out, 0, sizeof *out);
    out->version_major = 1;
    out->max_pcrs = 32;
    snprintf(out->module_id, sizeof out->module_id, "%s", s->module_id);
    snprintf(out->digest, sizeof out->digest, "SHA384");
    return CC_OK;
}

static void sim_close(cc_nsm *dev)
{
    nsm_sim *s = (nsm_sim *)dev;
    if (!s)
        return;
    EVP_PKEY_free(s->root_key);
    EVP_PKEY_free(s->inter_key);
    EVP_PKEY_free(s->leaf_key);
    X509_free(s->root);
    X509_free(s->inter);
    X509_free(s->leaf);
    free(s->root_pem);
    free(s);
}

static const cc_nsm_ops sim_ops = {"nsm-simulator", sim_describe, sim_attestation, sim_get_random, sim_close};

cc_status cc_nsm_sim_new(const cc_nsm_sim_options *opts, cc_nsm **out, cc_error *err)
{
    static const cc_nsm_sim_options defaults = {0};
    if (!opts)
        opts = &defaults;
    nsm_sim *s = calloc(1, sizeof *s);
    if (!s)
        return cc_error_set(err, CC_ENOMEM, "out of memory");
    s->base.ops = &sim_ops;
    memcpy(s->pcrs, opts->pcrs, sizeof s->pcrs);
    snprintf(s->module_id, sizeof s->module_id, "%s",
             opts->module_id ? opts->module_id : "i-0000000000000000-enc0000000000000000");
    s->timestamp_ms = opts->timestamp_ms;
    s->tagged = opts->tagged;
    cc_status st = sim_chain(s, opts->state_dir, err);
    if (st == CC_OK) {
        BIO *b = BIO_new(BIO_s_mem());
        char *p = NULL;
        long n = b && PEM_write_bio_X509(b, s->root) ? BIO_get_mem_data(b, &p) : 0;
        s->root_pem = n > 0 ? malloc((size_t)n + 1) : NULL;
        if (s->root_pem) {
            memcpy(s->root_pem, p, (size_t)n);
            s->root_pem[n] = '\0';
        } else
            st = cc_error_set(err, CC_ENOMEM, "NSM simulator: cannot encode the root");
        BIO_free(b);
    }
    if (st != CC_OK) {
        sim_close(&s->base);
        return st;
    }
    *out = &s->base;
    return CC_OK;
}

const char *cc_nsm_sim_root_pem(cc_nsm *dev) { return ((nsm_sim *)dev)->root_pem; }

void cc_nsm_sim_set_pcr(cc_nsm *dev, int index, const uint8_t value[48])
{
    if (index >= 0 && index < 16)
        memcpy(((nsm_sim *)dev)->pcrs[index], value, 48);
}

void cc_nsm_sim_set_timestamp(cc_nsm *dev, uint64_t timestamp_ms) { ((nsm_sim *)dev)->timestamp_ms = timestamp_ms; }
