/*
 * tee.c — opens the NSM the configuration names (tee.h).
 */
#include "enclave/tee.h"

#include <stdlib.h>
#include <string.h>

#include "util/hex.h"
#include "util/log.h"

cc_status cc_tee_parse_pcr(const char *text, int *index, uint8_t value[48], cc_error *err)
{
    const char *eq = text ? strchr(text, '=') : NULL;
    char *end = NULL;
    long n = eq ? strtol(text, &end, 10) : -1;
    if (!eq || end != eq || eq == text || n < 0 || n > 15)
        return cc_error_set(err, CC_ECONFIG, "expected N=HEX with N in 0..15");
    size_t len = 0;
    if (cc_hex_decode(eq + 1, value, 48, &len, err) != CC_OK || len != 48)
        return cc_error_set(err, CC_ECONFIG, "PCR%ld: expected 96 hex digits (48 bytes)", n);
    *index = (int)n;
    return CC_OK;
}

cc_status cc_tee_nsm_open(const cc_tee_nsm_config *cfg, cc_nsm **out, cc_error *err)
{
    *out = NULL;
    if (!cfg->nsm || strcmp(cfg->nsm, "device") == 0) {
        const char *path = cfg->device_path && *cfg->device_path ? cfg->device_path : "/dev/nsm";
        cc_status st = cc_nsm_dev_open(path, out, err);
        if (st != CC_OK)
            cc_error_prefix(err, "tee.nsm_device_path (%s)", path);
        return st;
    }
    if (strcmp(cfg->nsm, "simulated") != 0)
        return cc_error_set(err, CC_ECONFIG, "tee.nsm: unknown value (device or simulated)");
    if (!cfg->allow_simulator || strcmp(cfg->allow_simulator, "1") != 0)
        return cc_error_set(err, CC_ECONFIG,
                            "tee.nsm: simulated is for tests only and needs %s=1 in the environment", CC_TEE_SIM_ENV);
    if (!cfg->sim_state_dir || !*cfg->sim_state_dir)
        return cc_error_set(err, CC_ECONFIG, "tee.nsm_simulator.state_dir: required when tee.nsm is simulated");
    cc_nsm_sim_options o;
    memset(&o, 0, sizeof o);
    o.state_dir = cfg->sim_state_dir;
    for (size_t i = 0; i < cfg->sim_pcr_count; i++) {
        int idx = 0;
        uint8_t v[48];
        if (cc_tee_parse_pcr(cfg->sim_pcrs[i], &idx, v, err) != CC_OK)
            return cc_error_prefix(err, "tee.nsm_simulator.pcrs[%zu]", i);
        memcpy(o.pcrs[idx], v, 48);
    }
    cc_status st = cc_nsm_sim_new(&o, out, err);
    if (st != CC_OK)
        return cc_error_prefix(err, "tee.nsm_simulator.state_dir (%s)", cfg->sim_state_dir);
    cc_log(CC_LOG_WARN, "tee: SIMULATED NSM (tests only): attestation documents are signed by a test chain",
           "state_dir", cfg->sim_state_dir, NULL);
    return CC_OK;
}
