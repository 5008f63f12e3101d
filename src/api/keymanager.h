/*
 * keymanager.h — the Key Manager API (ethereum/keymanager-APIs), SPEC §2.2:
 *
 *   GET    /eth/v1/keystores   every key, with readonly (not a memory key) and derivation_path
 *   POST   /eth/v1/keystores   import EIP-2335 keystores into memory, EIP-3076 data first
 *   DELETE /eth/v1/keystores   stop memory keys signing, then hand back their interchange
 *
 * Off by default (http.key_manager_api.enabled); the server command creates
 * a cc_keymanager only when it is on, and the router answers 404 without one.
 */
#ifndef CC_KEYMANAGER_H
#define CC_KEYMANAGER_H

#include "api/app.h"
#include "api/http.h"
#include "signing/bls.h"
#include "util/err.h"

typedef struct cc_keymanager cc_keymanager;

cc_status cc_keymanager_new(cc_keymanager **out, cc_error *err);
void cc_keymanager_free(cc_keymanager *km);

/* Serves /eth/v1/keystores (any method) for app, whose keymanager must be set. */
void cc_keymanager_handle(cc_app *app, const cc_http_request *req, cc_http_response *res);

/*
 * Keystore decryption as a POST here does it, shared with the Chamber key
 * API (api/chamber_keys.c): a pool of min(cores, MemAvailable / 260 MiB,
 * jobs) threads decrypts every job whose decrypt is set (scrypt: 256 MiB and
 * about a second each), filling st / err / sk / pubkey.
 */
#define CC_KEYSTORE_PATH_MAX 256

typedef struct cc_keystore_job {
    const char *keystore; /* JSON text from the request */
    size_t keystore_len;
    const char *password; /* raw UTF-8 from the request */
    size_t password_len;
    int decrypt;          /* 0: decided before decryption (error or duplicate) */
    uint8_t *sk;          /* 32 bytes of secret memory (a slice of one block) */
    uint8_t pubkey[CC_BLS_PUBKEY_LEN];
    cc_status st;
    cc_error err;
} cc_keystore_job;

void cc_keystore_decrypt_all(cc_keystore_job *jobs, size_t count);

/* The keystore's declared "pubkey" (*has_pubkey) and "path" ("" when absent), to spot a duplicate before the KDF. */
void cc_keystore_meta(const char *text, size_t len, uint8_t pubkey[CC_BLS_PUBKEY_LEN], int *has_pubkey,
                      char path[CC_KEYSTORE_PATH_MAX]);

#endif
