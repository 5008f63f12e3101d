/*
 * auth.h — enforcing auth policies on the HTTP routes (SPEC §2.4).
 *
 * Open by default: while no policy exists (or without a chamber), every route
 * answers as Web3Signer's.  Once a policy exists, every route but /upcheck
 * needs `Authorization: Bearer <token>` (or HTTP Basic with the token as the
 * password): no token, an unknown, revoked or expired one → 401; a valid
 * token its policies do not allow → 403 naming the scope (and the key and
 * signing type when that is what was refused).  Each refusal is counted in
 * containment_auth_rejections_total{reason} and logged (never the token).
 *
 * Scopes by route (docs/chamber.md has the table):
 *   POST /api/v1/eth2/sign/{pubkey}      sign, with the key and the body's type (cc_api_auth_sign)
 *   GET  /api/v1/eth2/publicKeys         public_keys
 *   GET|POST|DELETE /eth/v1/keystores    list_keys | import_keystores | delete_keys
 *   GET /reload | POST /reload           list_keys | import_keystores
 *   /healthcheck, POST chamber/init, unknown routes: any valid token
 *   chamber/status, seal|unseal          chamber_status, chamber_seal
 *   chamber/keys...                      chamber_keys_{list,import,generate,patch,delete} (patch/delete with the key)
 *   chamber/auth/...                     a root token, always — even while open (cc_api_auth_root)
 * The metrics listener (metrics.listen_port) is separate and stays open.
 */
#ifndef CC_API_AUTH_H
#define CC_API_AUTH_H

#include <stdint.h>

#include "api/app.h"

/* The route-level check, before dispatch: 1 to proceed, 0 when res holds the 401/403. */
int cc_api_auth_route(cc_app *app, const cc_http_request *req, cc_http_response *res);

/*
 * Signing: (sign, pubkey, type) once the body's type is known and before any
 * anti-slashing record is written.  CC_OK, or CC_EUNAUTHORIZED / CC_EFORBIDDEN
 * in err (counted and logged).
 */
cc_status cc_api_auth_sign(cc_app *app, const cc_http_request *req, const uint8_t pubkey[48], int type,
                           cc_error *err);

/* Auth management: 1 when req carries a valid root token; else 0 and res holds the 401/403 (404 without auth). */
int cc_api_auth_root(cc_app *app, const cc_http_request *req, cc_http_response *res);

#endif
