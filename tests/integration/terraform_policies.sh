#!/usr/bin/env bash
# The Terraform of terraform/, checked without terraform or AWS (neither is
# available to CI): every .tf parses with @cdktf/hcl2json; the signer role's IAM
# policy allows exactly the DynamoDB / KMS operations the C sources call; every
# KMS key policy of terraform/examples/enclave, rendered with example values by
# tests/support/hcl_eval.mjs, is evaluated by kms-local's policy engine with
# attestation documents from build/tools-bin/kmslocal-attdoc.
# Prints "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${CC_BUILD:-$top/build}
kms="$build/kms-local"
attdoc="$build/tools-bin/kmslocal-attdoc"
tools="$build/tools"
[ -d "$tools/node_modules/@cdktf/hcl2json" ] || tools="$top/build/tools"
fail() { echo "terraform_policies: $*"; echo "0 passed, 1 failed"; exit 1; }
[ -x "$kms" ] || fail "$kms missing (make build)"
[ -x "$attdoc" ] || fail "$attdoc missing (make tests-bin)"
[ -d "$tools/node_modules/@cdktf/hcl2json" ] || fail "@cdktf/hcl2json missing in $tools (run scripts/install-deps.sh --test)"
[ -d "$tools/node_modules/@aws-sdk/client-kms" ] || fail "@aws-sdk/client-kms missing in $tools"
command -v openssl >/dev/null || fail "openssl command missing"

work=$(mktemp -d /tmp/cc-tf-policies.XXXXXX)
cleanup() {
    if [ -f "$work/pids" ]; then
        while read -r pid; do kill "$pid" 2>/dev/null; done <"$work/pids"
    fi
    rm -rf "$work"
}
trap cleanup EXIT

CC_TOP="$top" CC_WORK="$work" CC_TOOLS="$tools" KMS_BIN="$kms" ATTDOC_BIN="$attdoc" \
    timeout 120 node "$here/terraform_policies.mjs"
rc=$?
if [ $rc -ne 0 ]; then for l in "$work"/kms-*.log; do [ -f "$l" ] && { echo "--- $l"; tail -n 20 "$l"; }; done; fi
exit $rc
