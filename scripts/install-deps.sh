#!/usr/bin/env bash
# Installs everything containment-chamber needs to build and test on a fresh
# Debian 12 machine: Debian packages (only those missing), blst from npm, and
# the npm tools the tests cross-check against. Idempotent; safe to re-run.
#
#   scripts/install-deps.sh           build dependencies only
#   scripts/install-deps.sh --test    also the test tools (npm cross-checks)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

build_pkgs=(build-essential pkg-config libssl-dev libjansson-dev libmicrohttpd-dev libgnutls28-dev
            libyaml-dev libsqlite3-dev libunistring-dev libcurl4-openssl-dev sqlite3 nodejs npm curl libcbor-dev zlib1g-dev
            libpq-dev libargon2-dev)
test_pkgs=(clang libclang-rt-14-dev postgresql-15 openssl age python3 python3-yaml procps kubernetes-client yamllint
           iproute2 util-linux)

missing=()
for p in "${build_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ $want_test = 1 ]; then
    for p in "${test_pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
fi
# node and npm may come from outside Debian (a newer Node.js already on PATH).
if command -v node >/dev/null && command -v npm >/dev/null; then
    filtered=()
    for p in "${missing[@]}"; do
        case "$p" in nodejs|npm) ;; *) filtered+=("$p") ;; esac
    done
    missing=("${filtered[@]+"${filtered[@]}"}")
fi
# kubectl may come from outside Debian too (any kubectl with `kubectl kustomize` will do).
if command -v kubectl >/dev/null; then
    filtered=()
    for p in "${missing[@]+"${missing[@]}"}"; do
        [ "$p" = kubernetes-client ] || filtered+=("$p")
    done
    missing=("${filtered[@]+"${filtered[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

"$top/scripts/build-blst.sh"

if [ $want_test = 1 ]; then
    tools="$top/build/tools"
    # Re-install whenever tests/tools/package.json changed since the last install.
    if [ ! -f "$tools/.installed-v1" ] || ! cmp -s "$top/tests/tools/package.json" "$tools/package.json"; then
        echo "deps: installing npm test tools into build/tools"
        mkdir -p "$tools"
        cp "$top/tests/tools/package.json" "$tools/package.json"
        (cd "$tools" && npm install --silent --no-audit --no-fund >/dev/null)
        touch "$tools/.installed-v1"
    fi
fi
