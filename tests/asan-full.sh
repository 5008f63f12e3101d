#!/usr/bin/env bash
# The WHOLE suite under AddressSanitizer + UndefinedBehaviorSanitizer: every C
# test binary and every integration script, with the signer, kms-local and the
# test tools all built with -fsanitize=address,undefined in $ASAN_BUILD
# (default build/asan).  `make asan-full` runs it (docs/testing.md).
#
# Sanitizer reports go to files (ASAN_OPTIONS/UBSAN_OPTIONS log_path), not to
# the scripts' logs, because a server's report at exit would otherwise be
# lost in a log nobody reads: after the suite, every report file counts as one
# failure and is printed.  Left out: asan_suite (this is its superset) and
# fuzz_smoke (the fuzzers carry their own sanitizers).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
ASAN_BUILD=${ASAN_BUILD:-build/asan}
reports="$top/$ASAN_BUILD/sanitizer-reports"
rm -rf "$reports"; mkdir -p "$reports"
# The npm tools (dynalite, Lodestar, …) are not rebuilt: share build/tools.
[ -e "$ASAN_BUILD/tools" ] || ln -s "$top/build/tools" "$ASAN_BUILD/tools"

export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
out=$(mktemp)
BUILD=$ASAN_BUILD SKIP_PARTS="asan_suite fuzz_smoke" PART_TIMEOUT=1800 tests/run.sh | tee "$out"
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
rm -f "$out"
p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/'); f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
n=0
for r in "$reports"/*; do
    [ -f "$r" ] || continue
    n=$((n + 1))
    echo "FAIL  sanitizer report $(basename "$r"):"
    head -n 30 "$r" | sed 's/^/      /'
done
echo "sanitizer reports: $n (in $reports)"
echo "$p passed, $((f + n)) failed"
[ $((f + n)) -eq 0 ]
