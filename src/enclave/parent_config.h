/*
 * parent_config.h — parent.yaml, the configuration of `containment-chamber
 * parent` (the relay on the enclave's parent instance):
 *
 *   routes:
 *     - {name: api,      listen: "tcp:0.0.0.0:9000", connect: "vsock:16:9000"}
 *     - {name: api-atls, listen: "tcp:0.0.0.0:9443", connect: "vsock:16:9443"}
 *     - {name: kms,      listen: "vsock:-1:8000",    connect: "tcp:kms.eu-west-1.amazonaws.com:443"}
 *     - {name: dynamodb, listen: "vsock:-1:8001",    connect: "tcp:dynamodb.eu-west-1.amazonaws.com:443"}
 *   credentials:                 # optional: the credential feed (credfeed.h)
 *     listen: "vsock:-1:8002"    # the enclave's tee.relays "creds tcp:127.0.0.1:8002 vsock:3:8002"
 *     enclave_cid: 16            # only this vsock peer may ask [-1 = any vsock peer]
 *     lifetime_seconds: 900      # Expiration cap of every answer [900]
 *     region: eu-west-1          # for STS (web identity) [AWS_REGION]
 *
 * Every outbound endpoint the enclave may reach is one route (the
 * allow-list); unknown keys and malformed addresses are refused, naming them.
 */
#ifndef CC_ENCLAVE_PARENT_CONFIG_H
#define CC_ENCLAVE_PARENT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "enclave/relay.h"
#include "util/err.h"

typedef struct cc_parent_config {
    cc_relay_route routes[CC_RELAY_MAX_ROUTES]; /* strings owned by the config */
    size_t n;
    /* credentials: (the feed); cred_listen NULL = no feed */
    char *cred_listen;
    char *cred_region;
    int64_t cred_enclave_cid;
    unsigned cred_lifetime_seconds;
} cc_parent_config;

cc_status cc_parent_config_load(const char *path, cc_parent_config *out, cc_error *err);
void cc_parent_config_free(cc_parent_config *c);

#endif
