/*
 * enclave.c — the Nitro Enclave tools (docs/enclave.md), thin shells over src/enclave:
 *
 *   containment-chamber attestation verify --document FILE | --url https://HOST:PORT
 *       [--root ROOT.pem] [--at UNIX_SECONDS] [--max-age SECONDS]
 *       [--expect-pcr0 HEX] [--expect-pcr3 HEX] [--expect-pcr8 HEX] [--expect-nonce HEX]
 *   containment-chamber pcr --signing-certificate cert.pem
 *   containment-chamber describe-eif --eif-path f.eif
 *
 * Exit codes: 0 valid, 1 invalid (one line on stderr says why), 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/x509.h>

#include "cli/cli.h"
#include "enclave/atls.h"
#include "enclave/attestation.h"
#include "enclave/eif.h"
#include "enclave/pcr.h"
#include "util/hex.h"

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s) {
        puts(s);
        free(s);
    }
    json_decref(j);
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char *h = malloc(2 * n + 1);
    if (!h)
        return json_null();
    cc_hex_encode(p, n, h);
    json_t *j = json_string(h);
    free(h);
    return j;
}

static char *asn1_time_text(const ASN1_TIME *t)
{
    static char buf[2][64];
    static int k;
    char *out = buf[k++ & 1];
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1 || !strftime(out, 64, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 64, "?");
    return out;
}

static json_t *name_json(const X509_NAME *nm)
{
    char *s = X509_NAME_oneline(nm, NULL, 0);
    json_t *j = json_string(s ? s : "");
    OPENSSL_free(s);
    return j;
}

static json_t *doc_json(const cc_attestation_doc *d, int valid)
{
    json_t *j = json_object(), *pcrs = json_object();
    json_object_set_new(j, "valid", json_boolean(valid));
    json_object_set_new(j, "module_id", json_string(d->module_id));
    json_object_set_new(j, "digest", json_string(d->digest));
    json_object_set_new(j, "timestamp", json_integer((json_int_t)d->timestamp_ms));
    for (int i = 0; i < CC_ATTESTATION_MAX_PCRS; i++)
        if (d->pcr_present & (1u << i)) {
            char k[4];
            snprintf(k, sizeof k, "%d", i);
            json_object_set_new(pcrs, k, hex_json(d->pcrs[i], d->pcr_len[i]));
        }
    json_object_set_new(j, "pcrs", pcrs);
    json_object_set_new(j, "public_key", d->has_public_key ? hex_json(d->public_key, d->public_key_len) : json_null());
    json_object_set_new(j, "user_data", d->has_user_data ? hex_json(d->user_data, d->user_data_len) : json_null());
    json_object_set_new(j, "nonce", d->has_nonce ? hex_json(d->nonce, d->nonce_len) : json_null());
    const unsigned char *p = d->certificate;
    X509 *x = d2i_X509(NULL, &p, (long)d->certificate_len);
    if (x) {
        json_t *c = json_object();
        json_object_set_new(c, "subject", name_json(X509_get_subject_name(x)));
        json_object_set_new(c, "issuer", name_json(X509_get_issuer_name(x)));
        json_object_set_new(c, "not_before", json_string(asn1_time_text(X509_get0_notBefore(x))));
        json_object_set_new(c, "not_after", json_string(asn1_time_text(X509_get0_notAfter(x))));
        json_object_set_new(j, "certificate", c);
        X509_free(x);
    } else {
        json_object_set_new(j, "certificate", json_null());
    }
    json_object_set_new(j, "cabundle_length", json_integer((json_int_t)d->cabundle_count));
    return j;
}

static char *read_text_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(65537);
    size_t n = buf ? fread(buf, 1, 65536, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

static int verify_usage(void)
{
    fprintf(stderr, "usage: containment-chamber attestation verify --document FILE | --url https://HOST:PORT\n"
                    "           [--root ROOT.pem] [--at UNIX_SECONDS] [--max-age SECONDS]\n"
                    "           [--expect-pcr0 HEX] [--expect-pcr3 HEX] [--expect-pcr8 HEX] [--expect-nonce HEX]\n");
    return 2;
}

static int attestation_verify(int argc, char **argv)
{
    const char *doc_path = NULL, *url = NULL, *root_path = NULL;
    cc_attestation_policy pol = {0};
    static uint8_t pcr_vals[3][64], nonce[512];
    cc_error err;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "containment-chamber: %s needs a value\n", a);
            return verify_usage();
        }
        i++;
        if (strcmp(a, "--document") == 0) doc_path = v;
        else if (strcmp(a, "--url") == 0) url = v;
        else if (strcmp(a, "--root") == 0) root_path = v;
        else if (strcmp(a, "--at") == 0 || strcmp(a, "--max-age") == 0) {
            uint64_t n;
            if (cc_parse_u64(v, &n, &err) != CC_OK || n > (uint64_t)1 << 40) {
                fprintf(stderr, "containment-chamber: %s: not a number of seconds: %s\n", a, v);
                return 2;
            }
            if (a[2] == 'a') {
                pol.at = (time_t)n;
                pol.has_at = 1;
            } else {
                pol.max_age_s = n;
            }
        } else if (strcmp(a, "--expect-pcr0") == 0 || strcmp(a, "--expect-pcr3") == 0 ||
                   strcmp(a, "--expect-pcr8") == 0) {
            int idx = a[strlen(a) - 1] - '0', slot = idx == 0 ? 0 : idx == 3 ? 1 : 2;
            size_t n = 0;
            if (cc_hex_decode(v, pcr_vals[slot], 64, &n, &err) != CC_OK || (n != 32 && n != 48 && n != 64)) {
                fprintf(stderr, "containment-chamber: %s: expected 32, 48 or 64 bytes of hex\n", a);
                return 2;
            }
            pol.expect[pol.n_expect++] = (cc_attestation_pcr){idx, pcr_vals[slot], n};
        } else if (strcmp(a, "--expect-nonce") == 0) {
            size_t n = 0;
            if (cc_hex_decode(v, nonce, sizeof nonce, &n, &err) != CC_OK) {
                fprintf(stderr, "containment-chamber: --expect-nonce: expected up to 512 bytes of hex\n");
                return 2;
            }
            pol.expect_nonce = nonce;
            pol.expect_nonce_len = n;
        } else {
            fprintf(stderr, "containment-chamber: unknown option %s\n", a);
            return verify_usage();
        }
    }
    if (!doc_path == !url) {
        fprintf(stderr, "containment-chamber: give exactly one of --document and --url\n");
        return verify_usage();
    }
    char *root = NULL;
    if (root_path) {
        root = read_text_file(root_path);
        if (!root) {
            fprintf(stderr, "containment-chamber: --root %s: %s\n", root_path, strerror(errno));
            return 2;
        }
        pol.root_pem = root;
    }
    cc_attestation_doc d;
    memset(&d, 0, sizeof d);
    cc_status s;
    int parsed = 0;
    if (doc_path) {
        uint8_t *buf = NULL;
        size_t len = 0;
        s = cc_attestation_read_file(doc_path, &buf, &len, &err);
        if (s == CC_OK) {
            s = cc_attestation_parse(buf, len, &d, &err);
            parsed = s == CC_OK;
            if (parsed)
                s = cc_attestation_verify(&d, &pol, &err);
        }
        free(buf);
    } else {
        X509 *peer = NULL;
        s = cc_atls_fetch_certificate(url, 10, &peer, &err);
        if (s == CC_OK) {
            s = cc_attestation_verify_certificate(peer, &pol, &d, &err);
            parsed = d.payload != NULL;
            X509_free(peer);
        }
    }
    free(root);
    if (s == CC_ECONFIG) { /* a bad --root file */
        fprintf(stderr, "containment-chamber: --root %s: %s\n", root_path ? root_path : "(built-in)", err.msg);
        cc_attestation_doc_free(&d);
        return 2;
    }
    if (parsed)
        print_json(doc_json(&d, s == CC_OK));
    cc_attestation_doc_free(&d);
    if (s != CC_OK) {
        fprintf(stderr, "invalid: %s\n", err.msg);
        return 1;
    }
    return 0;
}

int cc_cmd_attestation(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return attestation_verify(argc - 1, argv + 1);
    return verify_usage();
}

int cc_cmd_pcr(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "--signing-certificate") != 0) {
        fprintf(stderr, "usage: containment-chamber pcr --signing-certificate cert.pem\n");
        return 2;
    }
    uint8_t pcr[CC_PCR_LEN];
    cc_error err;
    if (cc_pcr8_from_certificate_file(argv[2], pcr, &err) != CC_OK) {
        fprintf(stderr, "containment-chamber: %s\n", err.msg);
        return 1;
    }
    json_t *j = json_object();
    json_object_set_new(j, "PCR8", hex_json(pcr, sizeof pcr));
    print_json(j);
    return 0;
}

static json_t *signing_cert_json(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (!x)
        return json_null();
    json_t *c = json_object();
    json_object_set_new(c, "SubjectName", name_json(X509_get_subject_name(x)));
    json_object_set_new(c, "IssuerName", name_json(X509_get_issuer_name(x)));
    json_object_set_new(c, "Algorithm", json_string(OBJ_nid2ln(X509_get_signature_nid(x))));
    json_object_set_new(c, "NotBefore", json_string(asn1_time_text(X509_get0_notBefore(x))));
    json_object_set_new(c, "NotAfter", json_string(asn1_time_text(X509_get0_notAfter(x))));
    const ASN1_BIT_STRING *sig = NULL;
    X509_get0_signature(&sig, NULL, x);
    json_object_set_new(c, "Signature", sig ? hex_json(sig->data, (size_t)sig->length) : json_null());
    X509_free(x);
    return c;
}

int cc_cmd_describe_eif(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "--eif-path") != 0) {
        fprintf(stderr, "usage: containment-chamber describe-eif --eif-path f.eif\n");
        return 2;
    }
    cc_eif_info info;
    cc_error err;
    if (cc_eif_describe_file(argv[2], &info, &err) != CC_OK) {
        fprintf(stderr, "containment-chamber: %s\n", err.msg);
        return 1;
    }
    json_t *j = json_object(), *m = json_object();
    json_object_set_new(j, "EifVersion", json_integer(info.version));
    json_object_set_new(m, "HashAlgorithm", json_string("Sha384 { ... }"));
    json_object_set_new(m, "PCR0", hex_json(info.pcr0, 48));
    json_object_set_new(m, "PCR1", hex_json(info.pcr1, 48));
    json_object_set_new(m, "PCR2", hex_json(info.pcr2, 48));
    if (info.is_signed)
        json_object_set_new(m, "PCR8", hex_json(info.pcr8, 48));
    json_object_set_new(j, "Measurements", m);
    json_object_set_new(j, "IsSigned", json_boolean(info.is_signed));
    if (info.is_signed)
        json_object_set_new(j, "SigningCertificate", signing_cert_json(info.signing_cert_der, info.signing_cert_len));
    json_object_set_new(j, "CheckCRC", json_boolean(info.crc_ok));
    if (info.is_signed)
        json_object_set_new(j, "SignatureCheck", json_boolean(info.signature_ok));
    if (info.metadata_json) {
        json_error_t je;
        json_t *md = json_loads(info.metadata_json, 0, &je);
        if (md && json_is_object(md)) {
            json_t *v;
            if ((v = json_object_get(md, "ImageName")))
                json_object_set(j, "ImageName", v);
            if ((v = json_object_get(md, "ImageVersion")))
                json_object_set(j, "ImageVersion", v);
            json_object_set(j, "Metadata", md);
        } else {
            json_object_set_new(j, "Metadata", json_string(info.metadata_json));
        }
        json_decref(md);
    }
    print_json(j);
    int rc = 0;
    if (!info.crc_ok) {
        fprintf(stderr, "containment-chamber: %s: CRC mismatch (stored %08x, computed %08x)\n", argv[2],
                info.crc_stored, info.crc_computed);
        rc = 1;
    }
    if (info.is_signed && !info.signature_ok) {
        fprintf(stderr, "containment-chamber: %s: signature check failed: %s\n", argv[2], info.signature_error);
        rc = 1;
    }
    cc_eif_info_free(&info);
    return rc;
}
