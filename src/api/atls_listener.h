/*
 * atls_listener.h — the HTTPS listener of tls.mode atls (enclave mode): the
 * certificate is an aTLS identity (enclave/atls_identity.h) made at start and
 * renewed — new key, new document, new certificate — every
 * renew_interval_seconds and, at the latest, 10 minutes before the document's
 * signing certificate expires (real NSM leaf certificates last about three
 * hours).  Renewals use the same hot swap as tls.mode file
 * (cc_server_tls_swap): the listening socket stays open, connections in
 * flight finish on the old certificate.  A failed renewal is logged and
 * retried a minute later while the old certificate keeps serving.
 */
#ifndef CC_API_ATLS_LISTENER_H
#define CC_API_ATLS_LISTENER_H

#include <stdint.h>

#include "api/server.h"
#include "enclave/nsm.h"
#include "util/err.h"

typedef struct cc_atls_listener cc_atls_listener;

/* nsm is borrowed (it must outlive the listener). */
cc_status cc_atls_listener_start(cc_nsm *nsm, uint32_t renew_interval_seconds, cc_http_handler handler, void *ctx,
                                 const char *address, uint16_t port, cc_atls_listener **out, cc_error *err);
uint16_t cc_atls_listener_port(const cc_atls_listener *l);
/* Renewals so far (tests). */
unsigned long cc_atls_listener_renewals(cc_atls_listener *l);
/* Stops the renewer, then the server. NULL is allowed. */
void cc_atls_listener_stop(cc_atls_listener *l);

#endif
