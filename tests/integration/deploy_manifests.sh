#!/usr/bin/env bash
# Kubernetes manifests, Helm chart and Dockerfiles (deploy/, Dockerfile*),
# checked with kubectl kustomize, yamllint and the signer's own config loader;
# see deploy_manifests.py. Prints "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${CC_BUILD:-$top/build}
fail() { echo "deploy_manifests: $*"; echo "0 passed, 1 failed"; exit 1; }
command -v "${KUBECTL:-kubectl}" >/dev/null || fail "kubectl missing (scripts/install-deps.sh --test installs kubernetes-client)"
command -v yamllint >/dev/null || fail "yamllint missing (scripts/install-deps.sh --test)"
python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml missing"
work=$(mktemp -d /tmp/cc-deploy.XXXXXX)
trap 'rm -rf "$work"' EXIT
CC_TOP="$top" CC_WORK="$work" CC_BIN="${CC_BIN:-$build/containment-chamber}" timeout 120 python3 "$here/deploy_manifests.py"
