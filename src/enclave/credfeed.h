/*
 * credfeed.h — the parent's AWS credential feed for the enclave (issue 8
 * part 1).  The enclave has no IMDS and no network: the parent hands it the
 * credentials of the parent's own standard chain (aws/credentials.h:
 * environment, profile, web identity / IRSA, container / Pod Identity,
 * IMDSv2) over a dedicated vsock port.
 *
 * The feed answers `GET /credentials` with the container-credentials JSON
 * shape {"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "Code"}, so
 * inside the enclave the ordinary container provider reads it: a tee.relays
 * route "creds tcp:127.0.0.1:8002 vsock:3:8002" and
 * AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:8002/credentials
 * (loopback is one of the hosts that provider accepts over plain http).
 *
 * Every answer carries an Expiration no later than lifetime_seconds from the
 * parent's fetch, also for long-term source keys (which have none), so the
 * enclave's cache refetches and a rotation of the parent's source reaches it
 * within about one lifetime.  The parent itself caches the source through
 * cc_aws_credentials_cached_new (refresh at Expiration − min(5 min, life/2)).
 *
 * Only the enclave may ask: a vsock peer must have CID enclave_cid (when
 * ≥ 0), a TCP peer (the test stand-in) must be loopback; others are closed
 * unanswered and logged.  Connections are served one at a time: 2 s receive
 * timeout, at most about 4 s per request.  The secrets live in cc_secret memory and are never logged.
 */
#ifndef CC_ENCLAVE_CREDFEED_H
#define CC_ENCLAVE_CREDFEED_H

#include <stddef.h>
#include <stdint.h>

#include "aws/credentials.h"
#include "util/err.h"

#define CC_CREDFEED_LIFETIME_MIN 2
#define CC_CREDFEED_LIFETIME_MAX 43200

typedef struct cc_credfeed_options {
    const char *listen;         /* transport address (enclave/transport.h), e.g. "vsock:-1:8002" */
    int64_t enclave_cid;        /* vsock peers: only this CID (-1 = any vsock peer) */
    unsigned lifetime_seconds;  /* Expiration cap, CC_CREDFEED_LIFETIME_MIN..MAX */
} cc_credfeed_options;

typedef struct cc_credfeed cc_credfeed;

/*
 * Wraps source (taken, also on failure) in the lifetime cap and a cache, and
 * starts serving.
 */
cc_status cc_credfeed_start(const cc_credfeed_options *o, cc_aws_credentials_provider *source, cc_credfeed **out,
                            cc_error *err);
/* The port the feed listens on (after port 0). */
uint32_t cc_credfeed_port(const cc_credfeed *f);
/* Answers given so far (200 only). */
unsigned long cc_credfeed_served(cc_credfeed *f);
/* Stops and waits for the thread (at most ~250 ms after the current connection). NULL allowed. */
void cc_credfeed_stop(cc_credfeed *f);

/*
 * The HTTP answer to one request (request = the bytes read, len ≤ 8 KiB):
 * 200 + JSON for GET /credentials, 404 / 405 / 400 otherwise, 503 when the
 * source fails.  *resp is cc_secret memory of *resp_size bytes (free with
 * cc_secret_free); *resp_len is the answer's length.  Exposed for tests.
 */
cc_status cc_credfeed_answer(cc_aws_credentials_provider *p, const char *request, size_t len, char **resp,
                             size_t *resp_len, size_t *resp_size, cc_error *err);

/*
 * 1 if the peer of connected socket fd may ask: AF_VSOCK with CID enclave_cid
 * (any when < 0), or a loopback TCP peer; 0 otherwise (also AF_UNIX).  *who
 * names the peer for the log.  Exposed for tests.
 */
int cc_credfeed_peer_allowed(int64_t enclave_cid, int fd, char *who, size_t who_len);

/* The lifetime cap alone (tests): fetches from inner (taken) and caps Expiration. */
cc_status cc_credfeed_capped_new(cc_aws_credentials_provider *inner, unsigned lifetime_seconds,
                                 cc_aws_credentials_provider **out, cc_error *err);

#endif
