/*
 * chamber.h — the Chamber API routes (SPEC §2.3), KMS-only mode:
 *
 *   GET  /api/v1/chamber/status   {state, initialized, mode, threshold, kms_key_arns, version, ...}
 *   POST /api/v1/chamber/init     {setup_token, kms_key_arns: [...], kms_threshold}
 *   POST /api/v1/chamber/seal     emergency seal of this replica
 *   POST /api/v1/chamber/unseal   KMS unseal now (after a seal); with a body, an operator's submission (quorum)
 *   POST /api/v1/chamber/operators/register   operator registration (quorum; api/chamber_quorum.c)
 *   /api/v1/chamber/keys[/...]    key management (api/chamber_keys.c)
 *
 * Errors are {"error": "..."} with the status of cc_status_http.  404 when no
 * signer_state.table is configured.  Runs on a detached thread (init and
 * unseal talk to KMS), see eth2.c.
 */
#ifndef CC_API_CHAMBER_H
#define CC_API_CHAMBER_H

#include <jansson.h>

#include "api/app.h"
#include "chamber/chamber.h" /* cc_chamber_quorum_params (operator quorum, issue 7) */

#define CC_CHAMBER_API_PREFIX "/api/v1/chamber/"

/* The chamber's status (cc_chamber_status_json) with an optional "message", as the answer. */
struct cc_chamber;
void cc_chamber_api_reply_status(struct cc_chamber *ch, cc_http_response *res, int status, const char *message);

void cc_chamber_api_handle(cc_app *app, const cc_http_request *req, cc_http_response *res);

/*
 * The key routes, /api/v1/chamber/keys[/...] (api/chamber_keys.c); route is
 * the path after CC_CHAMBER_API_PREFIX ("keys", "keys/generate",
 * "keys/<pubkey>").  app->chamber must be set.
 */
void cc_chamber_keys_handle(cc_app *app, const cc_http_request *req, const char *route, cc_http_response *res);

/*
 * Auth management, /api/v1/chamber/auth/... (api/chamber_auth.c): policies,
 * tokens and root tokens; every route needs a root token.  app->chamber must be set.
 */
void cc_chamber_auth_handle(cc_app *app, const cc_http_request *req, const char *route, cc_http_response *res);

/*
 * init with auth (app->auth set): checks the setup token, issues the first
 * root token, then runs cc_chamber_init; a failed init revokes that token.
 * On success *root_answer = {"id", "token" (shown this once), "root": true}.
 */
cc_status cc_chamber_auth_init(cc_app *app, const char *setup_token, const char *const *kms_key_arns, size_t n,
                               unsigned threshold, const struct cc_chamber_quorum_params *quorum,
                               json_t **registration_tokens, json_t **root_answer, cc_error *err);

/* ---- operator quorum (issue 7): api/chamber_quorum.c ---- */
/*
 * The quorum fields of an init body (operators, operator_threshold, argon2):
 * 0 when absent (KMS-only), 1 with *p filled (names[] holds up to 16 borrowed
 * strings), -1 with bad naming the field.
 */
int cc_chamber_quorum_parse_init(json_t *body, struct cc_chamber_quorum_params *p, const char **names, char *bad,
                                 size_t bad_len);
/* POST operators/register {registration_token, passphrase | yubikey_response}. */
void cc_chamber_quorum_register_handle(cc_app *app, const cc_http_request *req, cc_http_response *res);
/* POST unseal with a body: {operator, passphrase | yubikey_response}. */
void cc_chamber_quorum_unseal_handle(cc_app *app, const cc_http_request *req, cc_http_response *res);
/* ---- end operator quorum ---- */

/* ---- rotation (issue 7): api/chamber_rotate.c ---- */
/* POST rotate/kms {kms_key_arns, kms_threshold} (200) and rotate/master (202); route as for keys. */
void cc_chamber_rotate_handle(cc_app *app, const cc_http_request *req, const char *route, cc_http_response *res);
/* ---- end rotation ---- */

#endif
