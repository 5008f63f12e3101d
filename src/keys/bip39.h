/*
 * bip39.h — BIP-39 mnemonics: generation, validation, and the seed.
 *
 * A generated key set starts here: 256 bits of CSPRNG entropy become a
 * 24-word English mnemonic (the operator's backup), and the mnemonic's
 * 64-byte seed is the input of EIP-2333 (keys/eip2333.h).
 *
 *   entropy ‖ SHA256(entropy)[0 : bits/32] ──11-bit groups──▶ words
 *   seed = PBKDF2-HMAC-SHA512(NFKD(mnemonic), "mnemonic" ‖ NFKD(passphrase), 2048, 64)
 *
 * Mnemonics and seeds are secrets: every buffer handed out is secret memory.
 * Error messages name a word by its position, never by its text.
 */
#ifndef CC_BIP39_H
#define CC_BIP39_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define CC_BIP39_WORDS 2048
#define CC_BIP39_SEED_LEN 64
/* 24 words of at most 8 letters, 23 spaces, NUL. */
#define CC_BIP39_MNEMONIC_MAX (24 * 9)

/* The standard English wordlist, in order (keys/bip39_english.c). */
extern const char *const cc_bip39_english[CC_BIP39_WORDS];

/*
 * The English mnemonic of entropy (16, 20, 24, 28 or 32 bytes → 12..24
 * words, single spaces).  *out is a NUL-terminated string in secret memory of
 * CC_BIP39_MNEMONIC_MAX bytes: cc_secret_free(*out, CC_BIP39_MNEMONIC_MAX).
 */
cc_status cc_bip39_from_entropy(const uint8_t *entropy, size_t len, char **out, cc_error *err);

/* A fresh 24-word mnemonic from 256 bits of RAND_priv_bytes; freed as above. */
cc_status cc_bip39_generate(char **out, cc_error *err);

/*
 * Checks an English mnemonic: 12, 15, 18, 21 or 24 lowercase words separated
 * by single spaces, each in the list, and the checksum.  CC_EINVAL otherwise.
 */
cc_status cc_bip39_validate(const char *mnemonic, cc_error *err);

/*
 * The BIP-39 seed of a mnemonic (any language: the words are not checked
 * here, use cc_bip39_validate first) and a passphrase (may be NULL or "").
 * Both are UTF-8 and NFKD-normalised before PBKDF2.
 */
cc_status cc_bip39_seed(const char *mnemonic, const char *passphrase, uint8_t seed[CC_BIP39_SEED_LEN],
                        cc_error *err);

#endif
