/*
 * attdoc_tool.c — build/tools-bin/kmslocal-attdoc, the test helper that
 * integration tests drive from the shell (it is not a unit test, so it lives
 * outside build/tests):
 *
 *   kmslocal-attdoc ca DIR
 *       writes a test CA chain (root → intermediate → leaf, P-384) into DIR
 *   kmslocal-attdoc doc DIR [--pcr N=HEX]... [--rsa-key-out KEY.pem] [--age-seconds S] [--tagged]
 *       prints (base64) a Nitro attestation document signed by DIR's leaf,
 *       with PCR N = HEX (others zero) and, with --rsa-key-out, the public
 *       key of a fresh RSA-2048 key whose private key goes to KEY.pem
 *   kmslocal-attdoc pcr-extend TEXT
 *       prints hex SHA384(48 zero bytes ‖ SHA384(TEXT)) (PCR3 for a role ARN)
 *   kmslocal-attdoc open KEY.pem < base64-CMS
 *       opens a CiphertextForRecipient with OpenSSL's CMS_decrypt, prints base64
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/pem.h>

#include "kmslocal/attdoc.h"
#include "kmslocal/kmslocal.h"
#include "util/hex.h"

static int fail(const char *msg)
{
    fprintf(stderr, "kmslocal-attdoc: %s\n", msg);
    return 1;
}

static int cmd_doc(int argc, char **argv)
{
    attdoc_ca ca;
    cc_error err;
    if (argc < 1)
        return fail("doc DIR [--pcr N=HEX]... [--rsa-key-out KEY.pem] [--age-seconds S] [--tagged]");
    if (attdoc_ca_load(&ca, argv[0], &err) != CC_OK)
        return fail(err.msg);
    attdoc_fields f;
    memset(&f, 0, sizeof f);
    const char *keyout = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tagged") == 0) {
            f.tagged = 1;
        } else if (i + 1 < argc && strcmp(argv[i], "--pcr") == 0) {
            const char *v = argv[++i];
            char *end;
            long n = strtol(v, &end, 10);
            if (*end != '=' || n < 0 || n >= ATTDOC_NPCRS || cc_hex_decode_exact(end + 1, f.pcrs[n], 48, &err) != CC_OK)
                return fail("--pcr wants N=HEX (N < 16, 48 bytes of hex)");
        } else if (i + 1 < argc && strcmp(argv[i], "--rsa-key-out") == 0) {
            keyout = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--age-seconds") == 0) {
            f.timestamp_ms = (uint64_t)(time(NULL) - atol(argv[++i])) * 1000;
        } else {
            return fail("unknown option for doc");
        }
    }
    EVP_PKEY *rsa = NULL;
    uint8_t *spki = NULL;
    size_t spki_len = 0;
    if (keyout) {
        if (attdoc_rsa_key(&rsa, &spki, &spki_len, &err) != CC_OK)
            return fail(err.msg);
        FILE *kf = fopen(keyout, "w");
        if (!kf || !PEM_write_PrivateKey(kf, rsa, NULL, NULL, 0, NULL, NULL) || fclose(kf) != 0)
            return fail("cannot write --rsa-key-out");
        f.public_key = spki;
        f.public_key_len = spki_len;
    }
    uint8_t *doc;
    size_t len;
    if (attdoc_build(&ca, &f, &doc, &len, &err) != CC_OK)
        return fail(err.msg);
    char *b = kl_b64_encode(doc, len);
    printf("%s\n", b);
    free(b);
    free(doc);
    free(spki);
    EVP_PKEY_free(rsa);
    attdoc_ca_free(&ca);
    return 0;
}

static int cmd_open(const char *keyfile)
{
    FILE *kf = fopen(keyfile, "r");
    EVP_PKEY *key = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
    if (kf)
        fclose(kf);
    if (!key)
        return fail("cannot read the private key");
    static char in[1 << 20];
    size_t n = fread(in, 1, sizeof in - 1, stdin);
    in[n] = '\0';
    while (n && (in[n - 1] == '\n' || in[n - 1] == '\r'))
        in[--n] = '\0';
    uint8_t *der;
    size_t dl;
    cc_error err;
    if (kl_b64_decode(in, &der, &dl, &err) != CC_OK)
        return fail(err.msg);
    const unsigned char *p = der;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)dl);
    BIO *out = BIO_new(BIO_s_mem());
    if (!cms || CMS_decrypt(cms, key, NULL, NULL, out, CMS_BINARY) != 1)
        return fail("CMS_decrypt failed");
    char *d;
    long l = BIO_get_mem_data(out, &d);
    char *b = kl_b64_encode((const uint8_t *)d, (size_t)l);
    printf("%s\n", b);
    free(b);
    BIO_free(out);
    CMS_ContentInfo_free(cms);
    free(der);
    EVP_PKEY_free(key);
    return 0;
}

int main(int argc, char **argv)
{
    cc_error err;
    if (argc >= 3 && strcmp(argv[1], "ca") == 0) {
        attdoc_ca ca;
        if (attdoc_ca_generate(&ca, &err) != CC_OK || attdoc_ca_save(&ca, argv[2], &err) != CC_OK)
            return fail(err.msg);
        attdoc_ca_free(&ca);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "doc") == 0)
        return cmd_doc(argc - 2, argv + 2);
    if (argc == 3 && strcmp(argv[1], "pcr-extend") == 0) {
        uint8_t v[48];
        char hex[97];
        attdoc_pcr_extend_once((const uint8_t *)argv[2], strlen(argv[2]), v);
        cc_hex_encode(v, 48, hex);
        printf("%s\n", hex);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "open") == 0)
        return cmd_open(argv[2]);
    fprintf(stderr, "usage: kmslocal-attdoc ca DIR | doc DIR [options] | pcr-extend TEXT | open KEY.pem\n");
    return 2;
}
