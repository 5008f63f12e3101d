/*
 * app.h — the running signer: everything a route needs, in one place.
 *
 * cc_app is built by the `server` command (src/cli/server.c) from the
 * configuration and handed to the HTTP layer.  Routes read it; only the
 * reload worker and shutdown change it.
 */
#ifndef CC_APP_H
#define CC_APP_H

#include <pthread.h>
#include <stdint.h>

#include "api/http.h"
#include "api/limiter.h"
#include "config/config.h"
#include "keys/keys.h"
#include "signing/network.h"
#include "slashing/slashing.h"

typedef enum cc_reload_state {
    CC_RELOAD_IDLE = 0,
    CC_RELOAD_RUNNING,
    CC_RELOAD_COMPLETED,
    CC_RELOAD_COMPLETED_WITH_ERRORS,
    CC_RELOAD_FAILED
} cc_reload_state;

typedef struct cc_app {
    const cc_config *cfg;
    cc_network network;
    cc_keyring *keyring;
    cc_slashing *slashing;
    cc_key_source *filesystem;     /* NULL when no filesystem paths are configured */
    cc_limiter limiter;            /* backpressure on signing */
    struct cc_keymanager *keymanager; /* Key Manager API state; NULL when http.key_manager_api is off */
    struct cc_chamber *chamber;    /* seal state (chamber/chamber.h); NULL when signer_state.table is not set */
    struct cc_auth_store *auth;    /* policies and tokens (chamber/auth_store.h, api/auth.h); NULL without a chamber */
    /* Added for the Chamber key API (api/chamber_keys.c); set by the server command with the DynamoDB key source: */
    cc_key_source *dynamodb_keys;  /* key_sources.dynamodb (keys/dynamodb.h); NULL when no key table is configured */
    const struct cc_dynamodb *dynamodb; /* the key table's client (borrowed); NULL when no key table is configured */

    pthread_mutex_t reload_lock;
    cc_reload_state reload_state;
    pthread_t reload_thread;
    int reload_thread_started;
    cc_key_load_report last_load;
} cc_app;

/* Routes one request (all routes of the signing API); ctx is the cc_app. A cc_http_handler. */
void cc_app_handle(void *ctx, const cc_http_request *req, cc_http_response *res);

/* Starts a background re-scan of the filesystem keys: CC_ECONFLICT if one is running. */
cc_status cc_app_reload_start(cc_app *app, cc_error *err);
/* Waits for a running reload (shutdown). */
void cc_app_reload_join(cc_app *app);
const char *cc_reload_state_name(cc_reload_state state);

#endif
