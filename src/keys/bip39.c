/*
 * bip39.c — BIP-39 mnemonics (English wordlist) and the PBKDF2 seed.
 *
 * The entropy and checksum bits are packed into one 33-byte buffer (256 bits
 * of entropy plus at most 8 checksum bits) from which each word's 11-bit index
 * is read, most significant bit first.  Validation runs the same packing
 * backwards and compares the checksum in constant time.  Words are found by
 * binary search in the sorted English list.
 *
 * Primitives come from OpenSSL (SHA-256, PBKDF2 via EVP_KDF, RAND_priv_bytes);
 * NFKD from libunistring, as for EIP-2335 passwords.
 */
#include "keys/bip39.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>
#include <uninorm.h>

#include "util/secret.h"

#define MAX_ENTROPY 32
#define PBKDF2_ROUNDS 2048
#define SALT_PREFIX "mnemonic"

static int entropy_len_ok(size_t len) { return len >= 16 && len <= 32 && len % 4 == 0; }

/* Bit i (MSB first) of buf. */
static unsigned get_bit(const uint8_t *buf, size_t i) { return (buf[i / 8] >> (7 - i % 8)) & 1u; }

static void set_bit(uint8_t *buf, size_t i, unsigned v)
{
    if (v)
        buf[i / 8] |= (uint8_t)(1u << (7 - i % 8));
}

static cc_status sha256(const uint8_t *in, size_t len, uint8_t out[32], cc_error *err)
{
    unsigned int n = 0;
    if (EVP_Digest(in, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return cc_error_set(err, CC_ECRYPTO, "mnemonic: SHA-256 failed");
    return CC_OK;
}

cc_status cc_bip39_from_entropy(const uint8_t *entropy, size_t len, char **out, cc_error *err)
{
    *out = NULL;
    if (!entropy || !entropy_len_ok(len))
        return cc_error_set(err, CC_EINVAL, "entropy: %zu bytes, BIP-39 takes 16, 20, 24, 28 or 32", len);
    uint8_t *bits = cc_secret_alloc(MAX_ENTROPY + 1 + 32);
    char *m = cc_secret_alloc(CC_BIP39_MNEMONIC_MAX);
    if (!bits || !m) {
        cc_secret_free(bits, MAX_ENTROPY + 1 + 32);
        cc_secret_free(m, CC_BIP39_MNEMONIC_MAX);
        return cc_error_set(err, CC_ENOMEM, "mnemonic: out of memory");
    }
    uint8_t *hash = bits + MAX_ENTROPY + 1;
    cc_status st = sha256(entropy, len, hash, err);
    if (st == CC_OK) {
        memcpy(bits, entropy, len);
        bits[len] = hash[0]; /* checksum = the first len*8/32 bits of the hash */
        size_t words = (len * 8 + len / 4) / 11, w = 0;
        for (size_t i = 0; i < words; i++) {
            unsigned idx = 0;
            for (size_t b = 0; b < 11; b++)
                idx = (idx << 1) | get_bit(bits, i * 11 + b);
            const char *word = cc_bip39_english[idx];
            size_t wl = strlen(word);
            if (i)
                m[w++] = ' ';
            memcpy(m + w, word, wl);
            w += wl;
        }
        m[w] = '\0';
        *out = m;
        m = NULL;
    }
    cc_secret_free(bits, MAX_ENTROPY + 1 + 32);
    cc_secret_free(m, CC_BIP39_MNEMONIC_MAX);
    return st;
}

cc_status cc_bip39_generate(char **out, cc_error *err)
{
    *out = NULL;
    uint8_t *ent = cc_secret_alloc(MAX_ENTROPY);
    if (!ent)
        return cc_error_set(err, CC_ENOMEM, "mnemonic: out of memory");
    cc_status st;
    if (RAND_priv_bytes(ent, MAX_ENTROPY) != 1)
        st = cc_error_set(err, CC_ECRYPTO, "mnemonic: the random generator failed");
    else
        st = cc_bip39_from_entropy(ent, MAX_ENTROPY, out, err);
    cc_secret_free(ent, MAX_ENTROPY);
    return st;
}

/* Index of word (length len) in the English list, or -1. */
static int word_index(const char *word, size_t len)
{
    int lo = 0, hi = CC_BIP39_WORDS - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const char *w = cc_bip39_english[mid];
        int c = strncmp(w, word, len);
        if (c == 0)
            c = w[len] == '\0' ? 0 : 1;
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

cc_status cc_bip39_validate(const char *mnemonic, cc_error *err)
{
    if (!mnemonic)
        return cc_error_set(err, CC_EINVAL, "mnemonic: missing");
    uint8_t *bits = cc_secret_alloc(MAX_ENTROPY + 1 + 32);
    if (!bits)
        return cc_error_set(err, CC_ENOMEM, "mnemonic: out of memory");
    cc_status st = CC_OK;
    size_t nwords = 0;
    const char *p = mnemonic;
    while (st == CC_OK) {
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (nwords == 24) {
            st = cc_error_set(err, CC_EINVAL, "mnemonic: more than 24 words");
            break;
        }
        int idx = len >= 3 && len <= 8 ? word_index(p, len) : -1;
        if (idx < 0) {
            st = cc_error_set(err, CC_EINVAL,
                              len ? "mnemonic: word %zu is not in the BIP-39 English list"
                                  : "mnemonic: word %zu is empty (words are separated by single spaces)",
                              nwords + 1);
            break;
        }
        for (size_t b = 0; b < 11; b++)
            set_bit(bits, nwords * 11 + b, ((unsigned)idx >> (10 - b)) & 1u);
        nwords++;
        if (!end)
            break;
        p = end + 1;
    }
    if (st == CC_OK && (nwords < 12 || nwords % 3 != 0))
        st = cc_error_set(err, CC_EINVAL, "mnemonic: %zu words, BIP-39 takes 12, 15, 18, 21 or 24", nwords);
    if (st == CC_OK) {
        size_t ent_len = nwords * 11 * 32 / 33 / 8, cs_bits = ent_len / 4;
        uint8_t *hash = bits + MAX_ENTROPY + 1;
        st = sha256(bits, ent_len, hash, err);
        if (st == CC_OK) {
            uint8_t mask = (uint8_t)(0xFFu << (8 - cs_bits));
            uint8_t got = bits[ent_len] & mask, want = hash[0] & mask;
            if (!cc_ct_equal(&got, &want, 1))
                st = cc_error_set(err, CC_EINVAL, "mnemonic: checksum mismatch (a word is wrong or out of order)");
        }
    }
    cc_secret_free(bits, MAX_ENTROPY + 1 + 32);
    return st;
}

/* NFKD of a UTF-8 string into secret memory: *out holds *len bytes in a buffer of *cap
 * (free with cc_secret_free(*out, *cap)). */
static cc_status nfkd(const char *what, const char *s, uint8_t **out, size_t *len, size_t *cap, cc_error *err)
{
    *out = NULL;
    *len = *cap = 0;
    size_t in_len = strlen(s);
    if (u8_check((const uint8_t *)s, in_len) != NULL)
        return cc_error_set(err, CC_EINVAL, "%s: not valid UTF-8", what);
    size_t c = in_len * 4 + 16;
    uint8_t *buf = cc_secret_alloc(c);
    if (!buf)
        return cc_error_set(err, CC_ENOMEM, "%s: out of memory", what);
    size_t n = c;
    uint8_t *norm = u8_normalize(UNINORM_NFKD, (const uint8_t *)s, in_len, buf, &n);
    if (!norm) {
        cc_secret_free(buf, c);
        return cc_error_set(err, CC_EINVAL, "%s: NFKD normalisation failed", what);
    }
    if (norm != buf) {
        /* libunistring needed more room and allocated its own buffer: move it into ours. */
        cc_secret_free(buf, c);
        c = n ? n : 1;
        buf = cc_secret_alloc(c);
        if (buf)
            memcpy(buf, norm, n);
        cc_secret_wipe(norm, n);
        free(norm);
        if (!buf)
            return cc_error_set(err, CC_ENOMEM, "%s: out of memory", what);
    }
    *out = buf;
    *len = n;
    *cap = c;
    return CC_OK;
}

cc_status cc_bip39_seed(const char *mnemonic, const char *passphrase, uint8_t seed[CC_BIP39_SEED_LEN],
                        cc_error *err)
{
    if (!mnemonic)
        return cc_error_set(err, CC_EINVAL, "mnemonic: missing");
    uint8_t *m = NULL, *pp = NULL, *salt = NULL;
    size_t m_len = 0, m_cap = 0, pp_len = 0, pp_cap = 0, salt_len = 0;
    cc_status st = nfkd("mnemonic", mnemonic, &m, &m_len, &m_cap, err);
    if (st == CC_OK)
        st = nfkd("passphrase", passphrase ? passphrase : "", &pp, &pp_len, &pp_cap, err);
    if (st == CC_OK) {
        salt_len = sizeof SALT_PREFIX - 1 + pp_len;
        salt = cc_secret_alloc(salt_len);
        if (!salt)
            st = cc_error_set(err, CC_ENOMEM, "passphrase: out of memory");
        else {
            memcpy(salt, SALT_PREFIX, sizeof SALT_PREFIX - 1);
            memcpy(salt + sizeof SALT_PREFIX - 1, pp, pp_len);
        }
    }
    if (st == CC_OK) {
        EVP_KDF *kdf = EVP_KDF_fetch(NULL, "PBKDF2", NULL);
        EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
        EVP_KDF_free(kdf);
        static const uint8_t empty[1];
        uint64_t iter = PBKDF2_ROUNDS;
        char digest[] = "SHA512";
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, m_len ? (void *)m : (void *)empty, m_len),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, salt_len),
            OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iter),
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
            OSSL_PARAM_construct_end(),
        };
        if (!ctx || EVP_KDF_derive(ctx, seed, CC_BIP39_SEED_LEN, params) != 1)
            st = cc_error_set(err, CC_ECRYPTO, "mnemonic: PBKDF2-HMAC-SHA512 failed");
        EVP_KDF_CTX_free(ctx);
    }
    cc_secret_free(m, m_cap);
    cc_secret_free(pp, pp_cap);
    cc_secret_free(salt, salt_len);
    return st;
}
