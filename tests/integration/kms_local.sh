#!/usr/bin/env bash
# kms-local over a real socket, checked with AWS's own client (@aws-sdk/client-kms):
# SigV4 compatibility, key operations, key policies with attestation conditions,
# Decrypt with a Recipient (attestation documents from build/tools-bin/kmslocal-attdoc),
# and state across a restart. kms_local.mjs starts and restarts the binary.
# Prints "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${CC_BUILD:-$top/build}
kms="$build/kms-local"
attdoc="$build/tools-bin/kmslocal-attdoc"
tools="$build/tools"
[ -d "$tools/node_modules/@aws-sdk/client-kms" ] || tools="$top/build/tools"
fail() { echo "kms_local: $*"; echo "0 passed, 1 failed"; exit 1; }
[ -x "$kms" ] || fail "$kms missing (make build)"
[ -x "$attdoc" ] || fail "$attdoc missing (make tests-bin)"
[ -d "$tools/node_modules/@aws-sdk/client-kms" ] || fail "npm tools missing in $tools (run scripts/install-deps.sh --test)"
command -v openssl >/dev/null || fail "openssl command missing"

work=$(mktemp -d /tmp/cc-kms-local.XXXXXX)
cleanup() {
    if [ -f "$work/server.pid" ]; then
        pid=$(cat "$work/server.pid")
        kill "$pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/ca"
"$attdoc" ca "$work/ca" || fail "cannot make the test CA"
CC_WORK="$work" CC_TOOLS="$tools" KMS_BIN="$kms" ATTDOC_BIN="$attdoc" timeout 300 node "$here/kms_local.mjs"
rc=$?
if [ $rc -ne 0 ]; then echo "--- kms-local log"; tail -n 40 "$work/server.log" 2>/dev/null; fi
exit $rc
