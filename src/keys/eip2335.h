/*
 * eip2335.h — EIP-2335 v4 BLS keystores (scrypt or pbkdf2, aes-128-ctr, sha256 checksum).
 */
#ifndef CC_EIP2335_H
#define CC_EIP2335_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/*
 * Normalises a keystore password as EIP-2335 says: NFKD, then drop C0
 * (0x00-0x1F), DEL (0x7F) and C1 (0x80-0x9F) code points, then UTF-8.
 * *out is secret memory (cc_secret_free(*out, *out_len) it).
 */
cc_status cc_eip2335_normalize_password(const char *password, size_t len, uint8_t **out, size_t *out_len,
                                        cc_error *err);

/*
 * Decrypts a keystore (JSON text) with a password (raw UTF-8, normalised here)
 * into sk_be32.  Checks the checksum (a wrong password is CC_ECRYPTO with
 * "wrong password or corrupt keystore") and that the secret's public key
 * equals the keystore's "pubkey" when present.  pubkey_out (may be NULL)
 * receives the derived public key.  Version 3, unknown kdf/cipher/checksum
 * functions, and dklen other than 32 are CC_EINVAL naming the field.
 */
cc_status cc_eip2335_decrypt(const char *json, size_t json_len, const char *password, size_t password_len,
                             uint8_t sk_be32[32], uint8_t pubkey_out[48], cc_error *err);

/*
 * Encrypts a secret into a new keystore JSON (malloc'ed string). kdf is
 * "scrypt" or "pbkdf2"; light=1 uses small cost parameters (tests, demo keys
 * only: n=16384 / c=16384), light=0 the EIP's 262144.  path may be "".
 */
cc_status cc_eip2335_encrypt(const uint8_t sk_be32[32], const char *password, const char *kdf, int light,
                             const char *path, char **json_out, cc_error *err);

#endif
