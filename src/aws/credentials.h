/*
 * credentials.h — AWS credentials and where they come from.
 *
 * A provider is a struct of function pointers (cc_aws_credentials_provider_ops),
 * one file section per source, as the key sources are.  The default chain is
 * itself one provider that asks the others in order and takes the first that
 * is configured, wrapped in a cache that refreshes temporary credentials
 * before they expire:
 *
 *   1. environment   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [, AWS_SESSION_TOKEN]
 *   2. profile       AWS_PROFILE [default] in AWS_SHARED_CREDENTIALS_FILE
 *                    [~/.aws/credentials, sections "[name]"] and AWS_CONFIG_FILE
 *                    [~/.aws/config, sections "[profile name]" or "[default]"]
 *   3. web identity  AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN [+ AWS_ROLE_SESSION_NAME]:
 *                    unsigned STS AssumeRoleWithWebIdentity (EKS IRSA);
 *                    STS at AWS_ENDPOINT_URL_STS or https://sts.<region>.amazonaws.com
 *   4. container     AWS_CONTAINER_CREDENTIALS_FULL_URI (EKS Pod Identity) or
 *                    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (ECS, on 169.254.170.2);
 *                    Authorization from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
 *                    (re-read on every fetch) or AWS_CONTAINER_AUTHORIZATION_TOKEN
 *   5. IMDSv2        PUT token, GET role, GET credentials (a 401 fetches a new token);
 *                    AWS_EC2_METADATA_SERVICE_ENDPOINT [http://169.254.169.254];
 *                    skipped when AWS_EC2_METADATA_DISABLED=true
 *
 * A source that is not configured answers CC_ENOTFOUND and the chain goes on;
 * a source that is configured but fails stops the chain with its error (a
 * broken IRSA setup must not silently fall through to the node's IMDS role).
 * IMDS counts as not configured when nothing answers on its address.
 *
 * Environment variables are read on every fetch, so a refresh sees changes.
 * Tests that build the default chain must either provide credentials earlier
 * in the chain or set AWS_EC2_METADATA_DISABLED=true (or point
 * AWS_EC2_METADATA_SERVICE_ENDPOINT at a loopback stand-in): otherwise the
 * last step sends a request to 169.254.169.254.
 * The three strings of cc_aws_credentials live in cc_secret memory.
 */
#ifndef CC_AWS_CREDENTIALS_H
#define CC_AWS_CREDENTIALS_H

#include <stddef.h>
#include <time.h>

#include "util/err.h"

typedef struct cc_aws_http cc_aws_http;

typedef struct cc_aws_credentials {
    char *access_key_id;       /* cc_secret memory, NUL-terminated */
    char *secret_access_key;   /* cc_secret memory */
    char *session_token;       /* cc_secret memory; NULL for long-term keys */
    time_t expiration;         /* 0 = does not expire */
    char source[32];           /* "environment", "profile", "web-identity", "container", "imds", "static" */
    size_t sizes[3];           /* allocation sizes, for the wipe */
} cc_aws_credentials;

/* A new set; token may be NULL or "".  CC_EINVAL if the id or secret is empty. */
cc_status cc_aws_credentials_new(const char *access_key_id, const char *secret_access_key,
                                 const char *session_token, time_t expiration, const char *source,
                                 cc_aws_credentials **out, cc_error *err);
cc_aws_credentials *cc_aws_credentials_dup(const cc_aws_credentials *c);
void cc_aws_credentials_free(cc_aws_credentials *c);

/* Parses ISO-8601 UTC "2026-11-26T00:01:02Z" (fractional seconds allowed); -1 if malformed. */
time_t cc_aws_parse_iso8601(const char *s);

/* ---------------------------------------------------------------- providers */

typedef struct cc_aws_credentials_provider cc_aws_credentials_provider;

typedef struct cc_aws_credentials_provider_ops {
    const char *name;
    /* A fresh set into *out (caller frees); CC_ENOTFOUND when this source is not configured. */
    cc_status (*fetch)(cc_aws_credentials_provider *p, cc_aws_credentials **out, cc_error *err);
    void (*free)(cc_aws_credentials_provider *p);
} cc_aws_credentials_provider_ops;

struct cc_aws_credentials_provider {
    const cc_aws_credentials_provider_ops *ops;
};

/* Credentials from p (a copy the caller frees with cc_aws_credentials_free). */
cc_status cc_aws_credentials_get(cc_aws_credentials_provider *p, cc_aws_credentials **out, cc_error *err);
void cc_aws_credentials_provider_free(cc_aws_credentials_provider *p);

/* Fixed credentials (tests, or a configuration that names them). */
cc_status cc_aws_credentials_static_new(const char *access_key_id, const char *secret_access_key,
                                        const char *session_token, cc_aws_credentials_provider **out,
                                        cc_error *err);

cc_status cc_aws_credentials_env_new(cc_aws_credentials_provider **out, cc_error *err);
cc_status cc_aws_credentials_profile_new(cc_aws_credentials_provider **out, cc_error *err);
/*
 * http is borrowed (must outlive the provider).  The STS endpoint is
 * sts_endpoint if not NULL or "" (aws.endpoint_urls.sts), else
 * AWS_ENDPOINT_URL_STS, else https://sts.<region>.amazonaws.com.
 */
cc_status cc_aws_credentials_web_identity_new(cc_aws_http *http, const char *region, const char *sts_endpoint,
                                              cc_aws_credentials_provider **out, cc_error *err);
cc_status cc_aws_credentials_container_new(cc_aws_http *http, cc_aws_credentials_provider **out, cc_error *err);
cc_status cc_aws_credentials_imds_new(cc_aws_http *http, cc_aws_credentials_provider **out, cc_error *err);

/*
 * The first provider of `providers` that is configured wins (see above).
 * Takes ownership of the providers (also on failure).
 */
cc_status cc_aws_credentials_chain_new(cc_aws_credentials_provider **providers, size_t count,
                                       cc_aws_credentials_provider **out, cc_error *err);

/*
 * Caches what inner returns and fetches again before it expires: at
 * Expiration − 5 min, or at half its lifetime when that is shorter.  If a
 * refresh fails while the cached set is still valid, the cached set is kept
 * (and the failure logged).  Thread-safe.  Takes ownership of inner.
 */
cc_status cc_aws_credentials_cached_new(cc_aws_credentials_provider *inner, cc_aws_credentials_provider **out,
                                        cc_error *err);

/* cached(chain(environment, profile, web identity, container, IMDSv2)); http is borrowed. */
cc_status cc_aws_credentials_default_new(cc_aws_http *http, const char *region, const char *sts_endpoint,
                                         cc_aws_credentials_provider **out, cc_error *err);

#endif
