#!/usr/bin/env bash
# The parent relay (issue 8 parts 1–2) with the TCP stand-in for vsock:
# `containment-chamber parent -c parent.yaml` relays the signing API (9000
# stand-in), the aTLS API (9443 stand-in) and the enclave's KMS traffic
# (KMS over TLS: a test TLS front, trusted through AWS_CA_BUNDLE, in front of
# kms-local) while recording every byte it moves (CC_TEST_RELAY_CAPTURE_DIR).
# enclave_relay.mjs drives an enclave signer (simulated NSM) through it —
# operator init over aTLS with expected PCRs, signing, a restart that unseals
# with KMS Recipient through the relay — and then inspects the captures: the
# aTLS and KMS streams are TLS records only, with no setup token, request,
# KMS field or share in them; the plain signing stream shows its requests
# (the control that proves the capture sees what crosses).
# Prints "N passed, N failed".
set -uo pipefail
NAME=enclave-relay
pre=$(mktemp -d "${TMPDIR:-/tmp}/cc-enclave-pre.XXXXXX")
here0=$(cd "$(dirname "$0")" && pwd)
CC_BUILD=${CC_BUILD:-$(cd "$here0/../.." && pwd)/build}
sim="$CC_BUILD/tools-bin/enclave-sim"
[ -x "$sim" ] || { echo "FAIL setup - no $sim (make tests-bin)"; echo "0 passed, 1 failed"; rm -rf "$pre"; exit 1; }
command -v openssl >/dev/null || { echo "FAIL setup - openssl is missing"; echo "0 passed, 1 failed"; exit 1; }
"$sim" doc "$pre/nsm" "$pre/probe.cbor" > /dev/null || { echo "FAIL setup - enclave-sim"; echo "0 passed, 1 failed"; exit 1; }
cat > "$pre/creds.json" <<'JSON'
[{"access_key_id":"AKIDADMIN","secret_access_key":"admin-secret","principal_arn":"arn:aws:iam::000000000000:role/admin"},
 {"access_key_id":"AKIDSIGNER","secret_access_key":"signer-secret","principal_arn":"arn:aws:iam::000000000000:role/signer"}]
JSON
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pre/front.key" -out "$pre/front.pem" \
    -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2> /dev/null \
    || { echo "FAIL setup - openssl req"; echo "0 passed, 1 failed"; exit 1; }
CC_KMS_EXTRA_ARGS="--credentials-file $pre/creds.json --attestation-root $pre/nsm/root.pem"
# shellcheck source=../support/chamber_env.sh
. "$here0/../support/chamber_env.sh"
trap 'chamber_env_cleanup; rm -rf "$pre"' EXIT
export CC_NSM_DIR="$pre/nsm" CC_FRONT_KEY="$pre/front.key" CC_FRONT_CERT="$pre/front.pem"
run_chamber_driver enclave_relay.mjs 300
