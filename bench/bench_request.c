/*
 * bench_request.c — cost of cc_sign_request_parse for an ATTESTATION body
 * (JSON decode + network guard + AttestationData root + domain + signing root),
 * the work done before every attestation signature.  It should stay a small
 * fraction of one BLS signature (~0.5 ms); target < 20 µs.
 *
 *   build/bench/bench_request [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "signing/bls.h"
#include "signing/network.h"
#include "signing/request.h"
#include "util/hex.h"

#define GVR "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95"

static const char BODY[] =
    "{\"type\":\"ATTESTATION\",\"signingRoot\":%s,\"fork_info\":{\"fork\":{\"previous_version\":\"0x04000000\","
    "\"current_version\":\"0x05000000\",\"epoch\":\"364032\"},\"genesis_validators_root\":\"" GVR "\"},"
    "\"attestation\":{\"slot\":\"11650000\",\"index\":\"0\",\"beacon_block_root\":"
    "\"0xb2eedb01adbd02c828d5eec09b4c70cbba12ffffba525ebf48aca33028e8ad89\",\"source\":{\"epoch\":\"364061\","
    "\"root\":\"0x3d76803f6a6732c935cd819be98574e43a09a5bf8ce3195ded306ea11562ca31\"},\"target\":{\"epoch\":"
    "\"364062\",\"root\":\"0xb2eedb01adbd02c828d5eec09b4c70cbba12ffffba525ebf48aca33028e8ad89\"}}}";

/* CPU time of this thread: the figure stays meaningful on a machine shared with other work. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 200000;
    cc_network net;
    cc_error err;
    if (cc_network_load("mainnet", NULL, &net, &err) != CC_OK) {
        fprintf(stderr, "network: %s\n", err.msg);
        return 1;
    }
    /* First pass without a root to learn it, then benchmark the full request with signingRoot. */
    char body[2048], root_hex[70];
    snprintf(body, sizeof body, BODY, "null");
    cc_sign_request req;
    (void)cc_sign_request_parse(body, strlen(body), &net, &req, &err);
    root_hex[0] = '"';
    cc_hex_encode0x(req.signing_root, 32, root_hex + 1);
    strcat(root_hex, "\"");
    snprintf(body, sizeof body, BODY, root_hex);
    size_t len = strlen(body);
    if (cc_sign_request_parse(body, len, &net, &req, &err) != CC_OK) {
        fprintf(stderr, "parse: %s\n", err.msg);
        return 1;
    }

    for (long i = 0; i < iters / 10; i++) /* warm-up */
        (void)cc_sign_request_parse(body, len, &net, &req, &err);
    double t0 = now();
    for (long i = 0; i < iters; i++) {
        if (cc_sign_request_parse(body, len, &net, &req, &err) != CC_OK)
            return 1;
    }
    double parse_us = (now() - t0) * 1e6 / (double)iters;

    /* One BLS signature of the root, for scale. */
    uint8_t skb[32] = {0}, sig[CC_BLS_SIG_LEN];
    skb[31] = 7;
    cc_bls_sk sk;
    cc_bls_sk_from_bytes(&sk, skb, NULL);
    long sigs = 500;
    t0 = now();
    for (long i = 0; i < sigs; i++)
        cc_bls_sign(&sk, req.signing_root, 32, sig);
    double sign_us = (now() - t0) * 1e6 / (double)sigs;

    printf("bench_request: ATTESTATION parse+roots %.2f us/op (CPU time) (%ld ops, %zu-byte body); "
           "BLS sign %.1f us/op; ratio %.1f%%\n",
           parse_us, iters, len, sign_us, 100.0 * parse_us / sign_us);
    return 0;
}
