/*
 * age.c — age v1 encryption to X25519 recipients (C2SP age, age-encryption.org/v1).
 *
 *   file key   = 16 random bytes
 *   per recipient R (Bech32 "age1..."):
 *       e = X25519 ephemeral key, share = e·G
 *       wrap key = HKDF-SHA256(ikm = e·R, salt = share ‖ R, info = "age-encryption.org/v1/X25519")
 *       stanza   = "-> X25519 " b64(share) "\n" b64(ChaCha20-Poly1305(wrap key, nonce 0, file key)) "\n"
 *   header     = "age-encryption.org/v1\n" stanzas "---" " " b64(HMAC-SHA256(hkdf(file key, "header"), header up to "---")) "\n"
 *   payload    = nonce (16 random) ‖ STREAM chunks of 64 KiB, ChaCha20-Poly1305 under
 *                HKDF-SHA256(ikm = file key, salt = nonce, info = "payload"), nonce = be88(counter) ‖ last-flag
 *   armor      = strict PEM, label "AGE ENCRYPTED FILE", padded base64 in 64-column lines
 *
 * The b64 inside the header is unpadded standard base64, wrapped at 64
 * columns with a final line shorter than 64.  Bech32 (BIP-173) decoding is
 * written here; every primitive (X25519, HKDF, ChaCha20-Poly1305, HMAC,
 * randomness) is OpenSSL's.  The file key and every derived key are secret
 * memory; the ciphertext is not secret.
 */
#include "keys/age.h"

#include <ctype.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/secret.h"

#define FILE_KEY_LEN 16
#define KEY_LEN 32
#define TAG_LEN 16
#define PAYLOAD_NONCE_LEN 16
#define CHUNK (64 * 1024)
#define X25519_INFO "age-encryption.org/v1/X25519"
#define VERSION_LINE "age-encryption.org/v1\n"
#define ARMOR_BEGIN "-----BEGIN AGE ENCRYPTED FILE-----\n"
#define ARMOR_END "-----END AGE ENCRYPTED FILE-----\n"
#define BECH32_MAX 256

/* ------------------------------------------------------------------------ */
/* Bech32 (BIP-173, no length limit beyond ours)                            */

static const char BECH32_CHARSET[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t bech32_polymod_step(uint32_t chk, unsigned v)
{
    static const uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; i++)
        if ((top >> i) & 1)
            chk ^= gen[i];
    return chk;
}

/* Decodes s (lowercased copy) into hrp and 8-bit data; returns NULL or a reason. */
static const char *bech32_decode(const char *s, char *hrp, size_t hrp_cap, uint8_t *data, size_t data_cap,
                                 size_t *data_len)
{
    size_t len = strlen(s);
    if (len > BECH32_MAX)
        return "too long";
    int lower = 0, upper = 0;
    char buf[BECH32_MAX + 1];
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 33 || c > 126)
            return "contains a character outside printable ASCII";
        lower |= islower(c) != 0;
        upper |= isupper(c) != 0;
        buf[i] = (char)tolower(c);
    }
    buf[len] = '\0';
    if (lower && upper)
        return "mixes upper and lower case";
    const char *sep = strrchr(buf, '1');
    if (!sep || sep == buf)
        return "has no Bech32 separator";
    size_t hlen = (size_t)(sep - buf), dlen = len - hlen - 1;
    if (dlen < 6)
        return "is too short for a Bech32 checksum";
    if (hlen + 1 > hrp_cap)
        return "has an unexpected prefix";
    memcpy(hrp, buf, hlen);
    hrp[hlen] = '\0';

    uint32_t chk = 1;
    for (size_t i = 0; i < hlen; i++)
        chk = bech32_polymod_step(chk, (unsigned)buf[i] >> 5);
    chk = bech32_polymod_step(chk, 0);
    for (size_t i = 0; i < hlen; i++)
        chk = bech32_polymod_step(chk, (unsigned)buf[i] & 31);

    uint32_t acc = 0;
    unsigned bits = 0;
    size_t out = 0;
    for (size_t i = 0; i < dlen; i++) {
        const char *p = strchr(BECH32_CHARSET, buf[hlen + 1 + i]);
        if (!p || !*p)
            return "contains a character outside the Bech32 alphabet";
        unsigned v = (unsigned)(p - BECH32_CHARSET);
        chk = bech32_polymod_step(chk, v);
        if (i >= dlen - 6)
            continue; /* checksum characters carry no data */
        acc = (acc << 5) | v;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            if (out == data_cap)
                return "carries more data than a key";
            data[out++] = (uint8_t)(acc >> bits);
        }
    }
    if (chk != 1)
        return "has a bad Bech32 checksum";
    if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
        return "has non-zero Bech32 padding";
    *data_len = out;
    return NULL;
}

cc_status cc_age_parse_recipient(const char *recipient, uint8_t pk[32], cc_error *err)
{
    if (!recipient || !*recipient)
        return cc_error_set(err, CC_EINVAL, "recipient: empty");
    if (strncasecmp(recipient, "AGE-SECRET-KEY-", 15) == 0)
        return cc_error_set(err, CC_EINVAL,
                            "recipient: is an age identity (secret key), not a recipient; pass its age1... public key");
    char hrp[16];
    uint8_t data[64];
    size_t dlen = 0;
    const char *why = bech32_decode(recipient, hrp, sizeof hrp, data, sizeof data, &dlen);
    if (!why && strcmp(hrp, "age") != 0)
        why = "is not an X25519 recipient (prefix is not \"age1\")";
    if (!why && dlen != 32)
        why = "does not hold a 32-byte key";
    if (why)
        return cc_error_set(err, CC_EINVAL, "recipient \"%.80s\": %s", recipient, why);
    memcpy(pk, data, 32);
    return CC_OK;
}

/* ------------------------------------------------------------------------ */
/* Primitives (OpenSSL)                                                     */

static cc_status hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                             const char *info, uint8_t out[KEY_LEN], cc_error *err)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    char digest[] = "SHA256";
    OSSL_PARAM params[5];
    size_t i = 0;
    params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
    if (salt_len)
        params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
    params[i] = OSSL_PARAM_construct_end();
    int ok = ctx && EVP_KDF_derive(ctx, out, KEY_LEN, params) == 1;
    EVP_KDF_CTX_free(ctx);
    return ok ? CC_OK : cc_error_set(err, CC_ECRYPTO, "age: HKDF-SHA256 (%s) failed", info);
}

/* ChaCha20-Poly1305 (no AAD): out receives len bytes of ciphertext and the 16-byte tag. */
static cc_status chacha_seal(const uint8_t key[KEY_LEN], const uint8_t nonce[12], const uint8_t *in, size_t len,
                             uint8_t *out, cc_error *err)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, n2 = 0;
    int ok = c && EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key, nonce) == 1 &&
             (len == 0 || EVP_EncryptUpdate(c, out, &n, in, (int)len) == 1) &&
             EVP_EncryptFinal_ex(c, out + n, &n2) == 1 && (size_t)(n + n2) == len &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, out + len) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? CC_OK : cc_error_set(err, CC_ECRYPTO, "age: ChaCha20-Poly1305 failed");
}

/* X25519 share and shared secret for one recipient: share = e·G, shared = e·R (refused if all zero). */
static cc_status x25519_ephemeral(const uint8_t recipient[32], uint8_t share[32], uint8_t shared[32], cc_error *err)
{
    EVP_PKEY *eph = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, recipient, 32);
    EVP_PKEY_CTX *ctx = eph ? EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL) : NULL;
    size_t share_len = 32, shared_len = 32;
    int ok = eph && peer && ctx && EVP_PKEY_get_raw_public_key(eph, share, &share_len) == 1 && share_len == 32 &&
             EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
             EVP_PKEY_derive(ctx, shared, &shared_len) == 1 && shared_len == 32;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(eph); /* OpenSSL cleanses the ephemeral secret */
    static const uint8_t zero[32];
    if (ok && cc_ct_equal(shared, zero, 32))
        ok = 0;
    return ok ? CC_OK : cc_error_set(err, CC_ECRYPTO, "age: X25519 key agreement failed (low-order recipient?)");
}

/* ------------------------------------------------------------------------ */
/* Text building                                                            */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static int buf_put(buf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return 0;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 1;
}

static int buf_str(buf *b, const char *s) { return buf_put(b, s, strlen(s)); }

/* Standard base64 of in into out (4*ceil(len/3)+1 bytes); padded or not.  Returns the length. */
static size_t b64(const uint8_t *in, size_t len, char *out, int pad)
{
    int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    size_t m = n > 0 ? (size_t)n : 0;
    while (!pad && m && out[m - 1] == '=')
        out[--m] = '\0';
    return m;
}

/* Writes text as lines of 64 columns; a stanza body must end with a line shorter than 64 (maybe empty). */
static int put_wrapped(buf *b, const char *text, size_t len, int final_short)
{
    size_t off = 0;
    while (len - off >= 64) {
        if (!buf_put(b, text + off, 64) || !buf_str(b, "\n"))
            return 0;
        off += 64;
    }
    if (off < len || final_short)
        return buf_put(b, text + off, len - off) && buf_str(b, "\n");
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Encryption                                                               */

/* Secret working memory of one encryption. */
typedef struct age_secrets {
    uint8_t file_key[FILE_KEY_LEN];
    uint8_t shared[32];
    uint8_t key[KEY_LEN];
} age_secrets;

static cc_status add_stanza(buf *h, age_secrets *s, const uint8_t recipient[32], cc_error *err)
{
    uint8_t share[32], salt[64], body[FILE_KEY_LEN + TAG_LEN];
    static const uint8_t zero_nonce[12];
    cc_status st = x25519_ephemeral(recipient, share, s->shared, err);
    if (st == CC_OK) {
        memcpy(salt, share, 32);
        memcpy(salt + 32, recipient, 32);
        st = hkdf_sha256(s->shared, 32, salt, sizeof salt, X25519_INFO, s->key, err);
    }
    if (st == CC_OK)
        st = chacha_seal(s->key, zero_nonce, s->file_key, FILE_KEY_LEN, body, err);
    cc_secret_wipe(s->shared, sizeof s->shared);
    cc_secret_wipe(s->key, sizeof s->key);
    if (st != CC_OK)
        return st;
    char t[64];
    b64(share, sizeof share, t, 0);
    if (!buf_str(h, "-> X25519 ") || !buf_str(h, t) || !buf_str(h, "\n"))
        return cc_error_set(err, CC_ENOMEM, "age: out of memory");
    size_t n = b64(body, sizeof body, t, 0);
    if (!put_wrapped(h, t, n, 1))
        return cc_error_set(err, CC_ENOMEM, "age: out of memory");
    return CC_OK;
}

static cc_status add_mac(buf *h, age_secrets *s, cc_error *err)
{
    if (!buf_str(h, "---"))
        return cc_error_set(err, CC_ENOMEM, "age: out of memory");
    cc_status st = hkdf_sha256(s->file_key, FILE_KEY_LEN, NULL, 0, "header", s->key, err);
    uint8_t mac[32];
    size_t mac_len = 0;
    if (st == CC_OK && (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, s->key, KEY_LEN, (const uint8_t *)h->p,
                                   h->len, mac, sizeof mac, &mac_len) ||
                        mac_len != 32))
        st = cc_error_set(err, CC_ECRYPTO, "age: header HMAC failed");
    cc_secret_wipe(s->key, sizeof s->key);
    if (st != CC_OK)
        return st;
    char t[48];
    b64(mac, sizeof mac, t, 0);
    if (!buf_str(h, " ") || !buf_str(h, t) || !buf_str(h, "\n"))
        return cc_error_set(err, CC_ENOMEM, "age: out of memory");
    return CC_OK;
}

/* Appends nonce ‖ STREAM-encrypted chunks of plaintext to the binary file. */
static cc_status add_payload(buf *f, age_secrets *s, const uint8_t *pt, size_t len, cc_error *err)
{
    uint8_t nonce[PAYLOAD_NONCE_LEN];
    if (RAND_bytes(nonce, sizeof nonce) != 1)
        return cc_error_set(err, CC_ECRYPTO, "age: the random generator failed");
    cc_status st = hkdf_sha256(s->file_key, FILE_KEY_LEN, nonce, sizeof nonce, "payload", s->key, err);
    if (st != CC_OK)
        return st;
    uint8_t *chunk = malloc(CHUNK + TAG_LEN);
    if (!chunk || !buf_put(f, nonce, sizeof nonce))
        st = cc_error_set(err, CC_ENOMEM, "age: out of memory");
    /* One chunk per 64 KiB; an empty payload is one empty final chunk. */
    size_t chunks = len ? (len + CHUNK - 1) / CHUNK : 1;
    for (size_t i = 0; st == CC_OK && i < chunks; i++) {
        uint8_t cn[12] = {0};
        for (int b = 0; b < 8; b++) /* the 11-byte big-endian counter; ours fits in its low 8 bytes */
            cn[10 - b] = (uint8_t)((uint64_t)i >> (8 * b));
        cn[11] = i + 1 == chunks ? 1 : 0;
        size_t n = i + 1 == chunks ? len - i * CHUNK : CHUNK;
        st = chacha_seal(s->key, cn, pt + i * CHUNK, n, chunk, err);
        if (st == CC_OK && !buf_put(f, chunk, n + TAG_LEN))
            st = cc_error_set(err, CC_ENOMEM, "age: out of memory");
    }
    cc_secret_wipe(s->key, sizeof s->key);
    free(chunk);
    return st;
}

cc_status cc_age_encrypt(const char *const *recipients, size_t n, const uint8_t *plaintext, size_t len,
                         uint8_t **out, size_t *out_len, cc_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (!recipients || n == 0)
        return cc_error_set(err, CC_EINVAL, "recipients: at least one age recipient is needed");
    if (n > CC_AGE_MAX_RECIPIENTS)
        return cc_error_set(err, CC_EINVAL, "recipients: %zu, at most %d", n, CC_AGE_MAX_RECIPIENTS);
    if (len > CC_AGE_MAX_PLAINTEXT)
        return cc_error_set(err, CC_EINVAL, "age: plaintext of %zu bytes is larger than %zu", len,
                            CC_AGE_MAX_PLAINTEXT);
    if (!plaintext && len)
        return cc_error_set(err, CC_EINVAL, "age: missing plaintext");

    /* All recipients are checked before anything is encrypted. */
    uint8_t (*pks)[32] = calloc(n, 32);
    if (!pks)
        return cc_error_set(err, CC_ENOMEM, "age: out of memory");
    for (size_t i = 0; i < n; i++) {
        cc_status st = cc_age_parse_recipient(recipients[i], pks[i], err);
        if (st != CC_OK) {
            free(pks);
            return cc_error_prefix(err, "recipients[%zu]", i);
        }
    }

    age_secrets *s = cc_secret_alloc(sizeof *s);
    buf f = {0};
    cc_status st = CC_OK;
    if (!s)
        st = cc_error_set(err, CC_ENOMEM, "age: out of memory");
    else if (RAND_priv_bytes(s->file_key, FILE_KEY_LEN) != 1)
        st = cc_error_set(err, CC_ECRYPTO, "age: the random generator failed");
    if (st == CC_OK && !buf_str(&f, VERSION_LINE))
        st = cc_error_set(err, CC_ENOMEM, "age: out of memory");
    for (size_t i = 0; st == CC_OK && i < n; i++)
        st = add_stanza(&f, s, pks[i], err);
    if (st == CC_OK)
        st = add_mac(&f, s, err);
    if (st == CC_OK)
        st = add_payload(&f, s, plaintext, len, err);
    cc_secret_free(s, sizeof *s);
    free(pks);
    if (st != CC_OK) {
        free(f.p);
        return st;
    }
    *out = (uint8_t *)f.p;
    *out_len = f.len;
    return CC_OK;
}

cc_status cc_age_encrypt_armored(const char *const *recipients, size_t n, const uint8_t *plaintext, size_t len,
                                 char **armored_out, cc_error *err)
{
    *armored_out = NULL;
    uint8_t *bin = NULL;
    size_t bin_len = 0;
    cc_status st = cc_age_encrypt(recipients, n, plaintext, len, &bin, &bin_len, err);
    if (st != CC_OK)
        return st;
    char *text = malloc(4 * ((bin_len + 2) / 3) + 1);
    buf a = {0};
    if (!text)
        st = cc_error_set(err, CC_ENOMEM, "age: out of memory");
    if (st == CC_OK) {
        size_t tn = b64(bin, bin_len, text, 1);
        if (!buf_str(&a, ARMOR_BEGIN) || !put_wrapped(&a, text, tn, 0) || !buf_str(&a, ARMOR_END))
            st = cc_error_set(err, CC_ENOMEM, "age: out of memory");
    }
    free(text);
    free(bin);
    if (st != CC_OK) {
        free(a.p);
        return st;
    }
    *armored_out = a.p;
    return CC_OK;
}
