#!/usr/bin/env bash
# The parent's AWS credential feed (issue 8 part 1) with the TCP stand-in for
# vsock: `containment-chamber parent -c parent.yaml` with `credentials:` serves
# the credentials of ITS OWN chain (here a shared-credentials profile file;
# the parent has no AWS_ACCESS_KEY_ID) and the enclave signer — which has no
# credentials at all — reads them through its tee.relays "creds" route with
# AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:PORT/credentials.
# kms-local checks SigV4 with exactly those keys; a TLS front in front of it
# (trusted through AWS_CA_BUNDLE) records which access key id signed each KMS
# call.  enclave_credfeed.mjs: init and signing with key A; the parent's
# profile rotated to key B → after the feed's lifetime the enclave's next KMS
# calls are signed with B and succeed; rotated to a key kms-local does not
# know → the enclave's unseal fails (it really uses what the parent serves);
# no secret in any log.  Prints "N passed, N failed".
set -uo pipefail
NAME=enclave-credfeed
pre=$(mktemp -d "${TMPDIR:-/tmp}/cc-enclave-pre.XXXXXX")
here0=$(cd "$(dirname "$0")" && pwd)
CC_BUILD=${CC_BUILD:-$(cd "$here0/../.." && pwd)/build}
sim="$CC_BUILD/tools-bin/enclave-sim"
[ -x "$sim" ] || { echo "FAIL setup - no $sim (make tests-bin)"; echo "0 passed, 1 failed"; rm -rf "$pre"; exit 1; }
command -v openssl >/dev/null || { echo "FAIL setup - openssl is missing"; echo "0 passed, 1 failed"; exit 1; }
"$sim" doc "$pre/nsm" "$pre/probe.cbor" > /dev/null || { echo "FAIL setup - enclave-sim"; echo "0 passed, 1 failed"; exit 1; }
cat > "$pre/creds.json" <<'JSON'
[{"access_key_id":"AKIDADMIN","secret_access_key":"admin-secret","principal_arn":"arn:aws:iam::000000000000:role/admin"},
 {"access_key_id":"AKIDSIGNERAAAA","secret_access_key":"signer-secret-AAAA","principal_arn":"arn:aws:iam::000000000000:role/signer"},
 {"access_key_id":"AKIDSIGNERBBBB","secret_access_key":"signer-secret-BBBB","session_token":"signer-token-BBBB","principal_arn":"arn:aws:iam::000000000000:role/signer"}]
JSON
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pre/front.key" -out "$pre/front.pem" \
    -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2> /dev/null \
    || { echo "FAIL setup - openssl req"; echo "0 passed, 1 failed"; exit 1; }
CC_KMS_EXTRA_ARGS="--credentials-file $pre/creds.json --attestation-root $pre/nsm/root.pem"
# shellcheck source=../support/chamber_env.sh
. "$here0/../support/chamber_env.sh"
trap 'chamber_env_cleanup; rm -rf "$pre"' EXIT
export CC_NSM_DIR="$pre/nsm" CC_FRONT_KEY="$pre/front.key" CC_FRONT_CERT="$pre/front.pem"
run_chamber_driver enclave_credfeed.mjs 240
