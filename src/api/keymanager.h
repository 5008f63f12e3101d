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
#include "util/err.h"

typedef struct cc_keymanager cc_keymanager;

cc_status cc_keymanager_new(cc_keymanager **out, cc_error *err);
void cc_keymanager_free(cc_keymanager *km);

/* Serves /eth/v1/keystores (any method) for app, whose keymanager must be set. */
void cc_keymanager_handle(cc_app *app, const cc_http_request *req, cc_http_response *res);

#endif
