#!/usr/bin/env bash
# Nitro Enclave unseal (issue 8 parts 4 and 6) with real processes: dynalite
# 4.0.0 (signer state table), kms-local with --attestation-root = the
# simulated NSM's test root and KMS keys whose policies release a share only
# to a Recipient whose attestation document carries PCR8 (+ PCR0, + PCR3),
# and signers with tee.platform nitro on a simulated NSM (tee.nsm simulated,
# CC_TEST_ALLOW_NSM_SIMULATOR=1).  enclave_unseal.mjs drives it:
#  - an enclave with the right PCRs inits, restarts, unseals (KMS Recipient →
#    CMS opened inside) and signs; the shares never decrypt without attestation;
#  - a wrong PCR0, a wrong PCR8, or no attestation (tee.platform none) gets no
#    share, stays sealed and logs exactly the failing key ARNs;
#  - auto-unseal: the blob is stored after an unseal; with every share key
#    disabled a restart with the same PCRs unseals unattended from it; with a
#    changed PCR0 it stays sealed until the blob key's policy lists the new
#    PCR0; a planted blob (right key, wrong master key) is refused and replaced;
#  - the simulated NSM is refused without CC_TEST_ALLOW_NSM_SIMULATOR=1.
# Prints "N passed, N failed".
set -uo pipefail
NAME=enclave-unseal
pre=$(mktemp -d "${TMPDIR:-/tmp}/cc-enclave-pre.XXXXXX")
here0=$(cd "$(dirname "$0")" && pwd)
CC_BUILD=${CC_BUILD:-$(cd "$here0/../.." && pwd)/build}
sim="$CC_BUILD/tools-bin/enclave-sim"
[ -x "$sim" ] || { echo "FAIL setup - no $sim (make tests-bin)"; echo "0 passed, 1 failed"; rm -rf "$pre"; exit 1; }
# The simulator's chain (root.pem = the attestation root kms-local trusts), made once and shared by every signer.
"$sim" doc "$pre/nsm" "$pre/probe.cbor" > /dev/null || { echo "FAIL setup - enclave-sim"; echo "0 passed, 1 failed"; exit 1; }
cat > "$pre/creds.json" <<'JSON'
[{"access_key_id":"AKIDADMIN","secret_access_key":"admin-secret","principal_arn":"arn:aws:iam::000000000000:role/admin"},
 {"access_key_id":"AKIDSIGNER","secret_access_key":"signer-secret","principal_arn":"arn:aws:iam::000000000000:role/signer"}]
JSON
CC_KMS_EXTRA_ARGS="--credentials-file $pre/creds.json --attestation-root $pre/nsm/root.pem"
# shellcheck source=../support/chamber_env.sh
. "$here0/../support/chamber_env.sh"
trap 'chamber_env_cleanup; rm -rf "$pre"' EXIT
export CC_NSM_DIR="$pre/nsm"
run_chamber_driver enclave_unseal.mjs 600
