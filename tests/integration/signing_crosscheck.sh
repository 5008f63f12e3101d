#!/usr/bin/env bash
# Cross-checks src/signing against an independent implementation (Lodestar's SSZ
# types + @chainsafe/blst): tests/tools/signing-crosscheck.mjs writes random valid
# requests for every type x fork with expected roots and signatures, for the
# minimal and mainnet presets; tests/signing/test_crosscheck recomputes them.
# Prints the C binary's "N passed, N failed" line (tests/run.sh adds it up).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
CC_BUILD=${CC_BUILD:-$top/build}
export NODE_PATH="$CC_BUILD/tools/node_modules"
bin="$CC_BUILD/tests/signing/test_crosscheck"
if [ ! -d "$NODE_PATH/@lodestar/types" ]; then
    # Tools live in the main build tree when a sub-tree (asan, h-*) runs the suite.
    [ -d "$top/build/tools/node_modules/@lodestar/types" ] && NODE_PATH="$top/build/tools/node_modules"
fi
if [ ! -d "$NODE_PATH/@lodestar/types" ]; then
    echo "signing_crosscheck: npm tools missing in $NODE_PATH (run scripts/install-deps.sh --test)"
    echo "0 passed, 1 failed"; exit 1
fi
if [ ! -x "$bin" ]; then
    echo "signing_crosscheck: $bin not built"
    echo "0 passed, 1 failed"; exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/cc-signing-crosscheck.XXXXXX")
trap 'rm -rf "$work"' EXIT
seed=${CC_CROSSCHECK_SEED:-20261126}
files=()
for preset in minimal mainnet; do
    node "$top/tests/tools/signing-crosscheck.mjs" --preset "$preset" --out "$work" --seed "$seed" --rounds 3
    files+=("$work/crosscheck-$preset.jsonl")
done
CC_CROSSCHECK_JSONL=$(IFS=:; echo "${files[*]}") "$bin"
