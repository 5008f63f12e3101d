/*
 * tee.h — the Nitro runtime's start-up: which NSM the signer talks to.
 *
 *   tee.nsm device     /dev/nsm (nsm_dev.c), inside an enclave
 *   tee.nsm simulated  nsm_sim.c, FOR TESTS ONLY: documents signed by a test
 *                      chain (state_dir/root.pem) with the configured PCRs.
 *                      Refused unless the environment holds
 *                      CC_TEST_ALLOW_NSM_SIMULATOR=1, so a configuration file
 *                      copied from a test can never run a production signer on
 *                      a simulated NSM (KMS would refuse its documents anyway:
 *                      they do not chain to the AWS Nitro root).
 */
#ifndef CC_ENCLAVE_TEE_H
#define CC_ENCLAVE_TEE_H

#include <stddef.h>

#include "enclave/nsm.h"
#include "util/err.h"

#define CC_TEE_SIM_ENV "CC_TEST_ALLOW_NSM_SIMULATOR"

typedef struct cc_tee_nsm_config {
    const char *nsm;               /* "device" | "simulated" */
    const char *device_path;       /* tee.nsm_device_path */
    const char *sim_state_dir;     /* tee.nsm_simulator.state_dir */
    char *const *sim_pcrs;         /* tee.nsm_simulator.pcrs: "N=HEX" */
    size_t sim_pcr_count;
    const char *allow_simulator;   /* the value of CC_TEST_ALLOW_NSM_SIMULATOR (NULL when unset) */
} cc_tee_nsm_config;

/* Opens the configured NSM.  Errors name the config key at fault. */
cc_status cc_tee_nsm_open(const cc_tee_nsm_config *cfg, cc_nsm **out, cc_error *err);

/* Parses "N=HEX" (N 0..15, 48 bytes) into *index and value. */
cc_status cc_tee_parse_pcr(const char *text, int *index, uint8_t value[48], cc_error *err);

#endif
