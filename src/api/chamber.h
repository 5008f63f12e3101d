/*
 * chamber.h — the Chamber API routes (SPEC §2.3), KMS-only mode:
 *
 *   GET  /api/v1/chamber/status   {state, initialized, mode, threshold, kms_key_arns, version, ...}
 *   POST /api/v1/chamber/init     {setup_token, kms_key_arns: [...], kms_threshold}
 *   POST /api/v1/chamber/seal     emergency seal of this replica
 *   POST /api/v1/chamber/unseal   KMS unseal now (after a seal)
 *
 * Errors are {"error": "..."} with the status of cc_status_http.  404 when no
 * signer_state.table is configured.  Runs on a detached thread (init and
 * unseal talk to KMS), see eth2.c.
 */
#ifndef CC_API_CHAMBER_H
#define CC_API_CHAMBER_H

#include "api/app.h"

#define CC_CHAMBER_API_PREFIX "/api/v1/chamber/"

void cc_chamber_api_handle(cc_app *app, const cc_http_request *req, cc_http_response *res);

#endif
