/*
 * eif.c — EIF parser and measurer (see eif.h).  SHA-384 from OpenSSL,
 * CRC-32 from zlib, CBOR from libcbor, the signature's COSE_Sign1 through
 * enclave/cose.c.
 */
#include "enclave/eif.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cbor.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <zlib.h>

#include "enclave/cose.h"
#include "enclave/pcr.h"

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

/* SHA-384 contexts for PCR0 (image), PCR1 (bootstrap), PCR2 (application). */
typedef struct hashers {
    EVP_MD_CTX *image, *boot, *app;
} hashers;

static void finish(EVP_MD_CTX *md, uint8_t out[48])
{
    uint8_t d[48];
    unsigned int n = 0;
    EVP_DigestFinal_ex(md, d, &n);
    memset(out, 0, 48);
    cc_pcr_extend(out, d);
}

/* A field of a PcrSignature / PcrInfo map: serde writes Vec<u8> as an array of small ints (or a bstr). */
static uint8_t *cbor_bytes(const cbor_item_t *v, size_t *len)
{
    if (cbor_isa_bytestring(v) && cbor_bytestring_is_definite(v)) {
        *len = cbor_bytestring_length(v);
        uint8_t *b = malloc(*len ? *len : 1);
        if (b && *len)
            memcpy(b, cbor_bytestring_handle(v), *len);
        return b;
    }
    if (!cbor_isa_array(v) || !cbor_array_is_definite(v))
        return NULL;
    size_t n = cbor_array_size(v);
    cbor_item_t **it = cbor_array_handle(v);
    uint8_t *b = malloc(n ? n : 1);
    for (size_t i = 0; b && i < n; i++) {
        if (!cbor_isa_uint(it[i]) || cbor_get_int(it[i]) > 255) {
            free(b);
            return NULL;
        }
        b[i] = (uint8_t)cbor_get_int(it[i]);
    }
    *len = n;
    return b;
}

static const cbor_item_t *map_get(const cbor_item_t *m, const char *key)
{
    if (!m || !cbor_isa_map(m) || !cbor_map_is_definite(m))
        return NULL;
    size_t n = cbor_map_size(m), kl = strlen(key);
    struct cbor_pair *kv = cbor_map_handle(m);
    for (size_t i = 0; i < n; i++)
        if (cbor_isa_string(kv[i].key) && cbor_string_is_definite(kv[i].key) && cbor_string_length(kv[i].key) == kl &&
            memcmp(cbor_string_handle(kv[i].key), key, kl) == 0)
            return kv[i].value;
    return NULL;
}

/*
 * The signature section: [PcrSignature{signing_certificate: PEM, signature: COSE_Sign1 bytes}, ...].
 * The first entry's certificate gives PCR8; its COSE_Sign1 must sign PcrInfo{register_index 0, register_value PCR0}.
 */
static cc_status read_signature(const uint8_t *p, size_t n, cc_eif_info *info, cc_error *err)
{
    if (cc_cbor_check(p, n, 16, "EIF signature section", err) != CC_OK)
        return CC_EINVAL;
    struct cbor_load_result r;
    cbor_item_t *list = cbor_load(p, n, &r);
    cc_status s = CC_OK;
    uint8_t *pem = NULL, *sig = NULL, *val = NULL;
    size_t pem_len = 0, sig_len = 0, val_len = 0;
    X509 *x = NULL;
    EVP_PKEY *key = NULL;
    cc_cose_sign1 c = {0};
    cbor_item_t *pi = NULL;
    if (!list || r.error.code != CBOR_ERR_NONE || r.read != n || !cbor_isa_array(list) || cbor_array_size(list) == 0) {
        s = cc_error_set(err, CC_EINVAL, "EIF signature section: not a non-empty CBOR list");
        goto out;
    }
    const cbor_item_t *first = cbor_array_handle(list)[0];
    const cbor_item_t *cv = map_get(first, "signing_certificate"), *sv = map_get(first, "signature");
    if (!cv || !sv || !(pem = cbor_bytes(cv, &pem_len)) || !(sig = cbor_bytes(sv, &sig_len))) {
        s = cc_error_set(err, CC_EINVAL, "EIF signature section: first entry lacks signing_certificate / signature bytes");
        goto out;
    }
    BIO *b = BIO_new_mem_buf(pem, (int)pem_len);
    x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!x) {
        s = cc_error_set(err, CC_EINVAL, "EIF signature section: signing_certificate is not a PEM certificate");
        goto out;
    }
    unsigned char *der = NULL;
    int dl = i2d_X509(x, &der);
    if (dl <= 0) {
        s = cc_error_set(err, CC_EINVAL, "EIF signature section: cannot encode the certificate");
        goto out;
    }
    info->signing_cert_der = malloc((size_t)dl);
    if (!info->signing_cert_der) {
        OPENSSL_free(der);
        s = cc_error_set(err, CC_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(info->signing_cert_der, der, (size_t)dl);
    info->signing_cert_len = (size_t)dl;
    OPENSSL_free(der);
    cc_pcr_measure(info->signing_cert_der, info->signing_cert_len, info->pcr8);
    info->is_signed = 1;
    /* SignatureCheck: a failure here is reported, not an error. */
    cc_error e2;
    key = X509_get_pubkey(x);
    if (cc_cose_sign1_parse(sig, sig_len, 1 << 20, &c, &e2) != CC_OK ||
        cc_cose_sign1_verify(&c, key, &e2) != CC_OK) {
        snprintf(info->signature_error, sizeof info->signature_error, "%s", e2.msg);
        goto out;
    }
    if (cc_cbor_check(c.payload, c.payload_len, 8, "PcrInfo", &e2) != CC_OK) {
        snprintf(info->signature_error, sizeof info->signature_error, "%s", e2.msg);
        goto out;
    }
    pi = cbor_load(c.payload, c.payload_len, &r);
    const cbor_item_t *iv = pi && r.error.code == CBOR_ERR_NONE ? map_get(pi, "register_index") : NULL;
    const cbor_item_t *vv = pi && r.error.code == CBOR_ERR_NONE ? map_get(pi, "register_value") : NULL;
    if (!iv || !cbor_isa_uint(iv) || cbor_get_int(iv) != 0 || !vv || !(val = cbor_bytes(vv, &val_len)) ||
        val_len != 48 || memcmp(val, info->pcr0, 48) != 0) {
        snprintf(info->signature_error, sizeof info->signature_error,
                 "the signed PcrInfo is not {register_index: 0, register_value: PCR0}");
        goto out;
    }
    info->signature_ok = 1;
out:
    /* An OpenSSL failure above is reported through err / signature_error; a
     * stale entry left on this thread's queue would be read by its next TLS
     * call as that call's error. */
    ERR_clear_error();
    if (pi)
        cbor_decref(&pi);
    if (list)
        cbor_decref(&list);
    cc_cose_sign1_free(&c);
    EVP_PKEY_free(key);
    X509_free(x);
    free(pem);
    free(sig);
    free(val);
    return s;
}

cc_status cc_eif_describe(const uint8_t *buf, size_t len, cc_eif_info *info, cc_error *err)
{
    memset(info, 0, sizeof *info);
    if (len < CC_EIF_HEADER_LEN)
        return cc_error_set(err, CC_EINVAL, "EIF: %zu bytes, shorter than the 548-byte header", len);
    if (memcmp(buf, ".eif", 4) != 0)
        return cc_error_set(err, CC_EINVAL, "EIF: bad magic (expected 2E 65 69 66)");
    info->version = be16(buf + 4);
    info->flags = be16(buf + 6);
    info->default_mem = be64(buf + 8);
    info->default_cpus = be64(buf + 16);
    info->num_sections = be16(buf + 26);
    info->crc_stored = be32(buf + 544);
    if (info->version == 0 || info->version > 4)
        return cc_error_set(err, CC_EINVAL, "EIF: version %u, expected 1..4", info->version);
    if (info->num_sections == 0 || info->num_sections > CC_EIF_MAX_SECTIONS)
        return cc_error_set(err, CC_EINVAL, "EIF: num_sections %u, must be 1..32", info->num_sections);
    hashers h = {EVP_MD_CTX_new(), EVP_MD_CTX_new(), EVP_MD_CTX_new()};
    cc_status s = CC_OK;
    if (!h.image || !h.boot || !h.app || EVP_DigestInit_ex(h.image, EVP_sha384(), NULL) != 1 ||
        EVP_DigestInit_ex(h.boot, EVP_sha384(), NULL) != 1 || EVP_DigestInit_ex(h.app, EVP_sha384(), NULL) != 1) {
        s = cc_error_set(err, CC_ENOMEM, "EIF: cannot start SHA-384");
        goto out;
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, buf, CC_EIF_HEADER_LEN - 4);
    const uint8_t *sigsec = NULL, *meta = NULL;
    size_t sig_len = 0, meta_len = 0;
    /* Sections follow the header back to back, in the order of the offsets table. */
    uint64_t pos = CC_EIF_HEADER_LEN;
    for (unsigned i = 0; i < info->num_sections; i++) {
        uint64_t off = be64(buf + 28 + 8 * i), size = be64(buf + 284 + 8 * i);
        if (off != pos) {
            s = cc_error_set(err, CC_EINVAL, "EIF: section %u offset %llu, expected %llu (sections are contiguous)", i,
                             (unsigned long long)off, (unsigned long long)pos);
            goto out;
        }
        if (len - pos < 12) {
            s = cc_error_set(err, CC_EINVAL, "EIF: section %u header beyond the end of the file", i);
            goto out;
        }
        const uint8_t *sh = buf + pos;
        uint16_t type = be16(sh);
        uint64_t dsize = be64(sh + 4);
        if (dsize != size) {
            s = cc_error_set(err, CC_EINVAL, "EIF: section %u size %llu in its header, %llu in the table", i,
                             (unsigned long long)dsize, (unsigned long long)size);
            goto out;
        }
        if (dsize > len - pos - 12) {
            s = cc_error_set(err, CC_EINVAL, "EIF: section %u (%llu bytes) runs past the end of the file", i,
                             (unsigned long long)dsize);
            goto out;
        }
        const uint8_t *data = sh + 12;
        crc = crc32(crc, sh, 12);
        /* zlib's crc32 takes uInt lengths: feed in chunks. */
        for (uint64_t done = 0; done < dsize;) {
            uInt n = dsize - done > 0x40000000 ? 0x40000000 : (uInt)(dsize - done);
            crc = crc32(crc, data + done, n);
            done += n;
        }
        switch (type) {
        case CC_EIF_KERNEL:
        case CC_EIF_CMDLINE:
            if (type == CC_EIF_KERNEL)
                info->n_kernel++;
            else
                info->n_cmdline++;
            EVP_DigestUpdate(h.image, data, dsize);
            EVP_DigestUpdate(h.boot, data, dsize);
            break;
        case CC_EIF_RAMDISK:
            EVP_DigestUpdate(h.image, data, dsize);
            EVP_DigestUpdate(info->n_ramdisk == 0 ? h.boot : h.app, data, dsize);
            info->n_ramdisk++;
            break;
        case CC_EIF_SIGNATURE:
            if (sigsec) {
                s = cc_error_set(err, CC_EINVAL, "EIF: more than one signature section");
                goto out;
            }
            sigsec = data;
            sig_len = dsize;
            break;
        case CC_EIF_METADATA:
            if (meta) {
                s = cc_error_set(err, CC_EINVAL, "EIF: more than one metadata section");
                goto out;
            }
            meta = data;
            meta_len = dsize;
            break;
        default:
            s = cc_error_set(err, CC_EINVAL, "EIF: section %u has unknown type %u", i, type);
            goto out;
        }
        pos += 12 + dsize;
    }
    if (pos != len) {
        s = cc_error_set(err, CC_EINVAL, "EIF: %llu bytes after the last section", (unsigned long long)(len - pos));
        goto out;
    }
    if (info->n_kernel != 1 || info->n_cmdline != 1 || info->n_ramdisk == 0) {
        s = cc_error_set(err, CC_EINVAL, "EIF: needs one kernel, one cmdline and at least one ramdisk (has %zu, %zu, %zu)",
                         info->n_kernel, info->n_cmdline, info->n_ramdisk);
        goto out;
    }
    info->crc_computed = (uint32_t)crc;
    info->crc_ok = info->crc_computed == info->crc_stored;
    finish(h.image, info->pcr0);
    finish(h.boot, info->pcr1);
    finish(h.app, info->pcr2);
    if (sigsec && (s = read_signature(sigsec, sig_len, info, err)) != CC_OK)
        goto out;
    if (meta) {
        info->metadata_json = malloc(meta_len + 1);
        if (!info->metadata_json) {
            s = cc_error_set(err, CC_ENOMEM, "out of memory");
            goto out;
        }
        memcpy(info->metadata_json, meta, meta_len);
        info->metadata_json[meta_len] = '\0';
    }
out:
    EVP_MD_CTX_free(h.image);
    EVP_MD_CTX_free(h.boot);
    EVP_MD_CTX_free(h.app);
    if (s != CC_OK)
        cc_eif_info_free(info);
    return s;
}

cc_status cc_eif_describe_file(const char *path, cc_eif_info *out, cc_error *err)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cc_error_set(err, CC_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return cc_error_set(err, CC_EIO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return cc_error_set(err, CC_EINVAL, "%s: EIF: empty file", path);
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return cc_error_set(err, CC_EIO, "%s: cannot map: %s", path, strerror(errno));
    cc_status s = cc_eif_describe(m, (size_t)st.st_size, out, err);
    munmap(m, (size_t)st.st_size);
    if (s != CC_OK)
        cc_error_prefix(err, "%s", path);
    return s;
}

void cc_eif_info_free(cc_eif_info *info)
{
    if (!info)
        return;
    free(info->signing_cert_der);
    free(info->metadata_json);
    memset(info, 0, sizeof *info);
}
