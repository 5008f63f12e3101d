/*
 * entropy.h — NSM GetRandom as an entropy source (issue 8 part 3).
 *
 * Why: an enclave is a VM with no virtio-rng and no RDSEED passthrough it can
 * count on; its only hardware random source is the NSM.  An enclave kernel
 * whose NSM driver registers no hwrng (older enclave kernels) has no
 * hardware input at all, so the kernel pool — and OpenSSL's DRBG, which seeds from getrandom(2) — may start
 * from little more than boot timing.  Every secret the enclave makes (the
 * ephemeral RSA-2048 key of a KMS Recipient unseal, the aTLS P-384 keys,
 * setup tokens) comes from OpenSSL's RNG, so the signer mixes NSM bytes into
 * it directly: at start-up, before anything is generated, and every
 * interval.  RAND_add only adds input: it can never lower the DRBG's entropy,
 * so a faulty or hostile NSM answer cannot weaken what the kernel provides.
 *
 * A failed GetRandom is logged (warn) and retried at the next interval; it is
 * never fatal — the kernel's source stays in use.
 */
#ifndef CC_ENCLAVE_ENTROPY_H
#define CC_ENCLAVE_ENTROPY_H

#include "enclave/nsm.h"
#include "util/err.h"

#define CC_ENTROPY_BYTES 48              /* per mix: 384 bits */
#define CC_ENTROPY_INTERVAL_SECONDS 300  /* the signer's period */

/* One mix: CC_ENTROPY_BYTES from nsm->ops->get_random into RAND_add (the buffer is wiped). */
cc_status cc_entropy_mix_once(cc_nsm *nsm, cc_error *err);

typedef struct cc_entropy_feeder cc_entropy_feeder;

/*
 * Mixes once now (a failure is logged, not returned) and then every
 * interval_ms on a thread.  nsm is borrowed and must outlive the feeder.
 * Fails only when the thread cannot start.
 */
cc_status cc_entropy_feeder_start(cc_nsm *nsm, unsigned interval_ms, cc_entropy_feeder **out, cc_error *err);
/* Successful and failed mixes so far. */
unsigned long cc_entropy_feeder_mixes(cc_entropy_feeder *f);
unsigned long cc_entropy_feeder_failures(cc_entropy_feeder *f);
/* Stops and joins promptly. NULL allowed. */
void cc_entropy_feeder_stop(cc_entropy_feeder *f);

#endif
