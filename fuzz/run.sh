#!/usr/bin/env bash
# Runs the libFuzzer targets built by `make fuzz-bin` ($FUZZ_BUILD/fuzzers/fuzz_*).
#
#   fuzz/run.sh smoke [target...]   each target FUZZ_SMOKE_SECONDS (default 10) seconds
#   fuzz/run.sh long  [target...]   each target FUZZ_RUNS (default 10000000) executions,
#                                   or FUZZ_MAX_TIME seconds if set and reached first
#
# Targets run FUZZ_JOBS (default 2) at a time.  Each grows a working corpus in
# $FUZZ_BUILD/corpus/<target> from the checked-in seeds fuzz/corpus/<target> (read only),
# uses fuzz/<target>.dict when present, and keeps crash/timeout/leak inputs in
# $FUZZ_BUILD/artifacts/<target>/ (reproduce: $FUZZ_BUILD/fuzzers/fuzz_<target> <file>).
# Logs: $FUZZ_BUILD/logs/<target>.<mode>.log.  One line per target, then
# "N passed, N failed"; a long run also appends to $FUZZ_BUILD/fuzz-results.tsv.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
FUZZ_BUILD=${FUZZ_BUILD:-build/fuzz}
mode=${1:-smoke}
shift || true
case "$mode" in smoke|long) ;; *) echo "usage: fuzz/run.sh smoke|long [target...]"; exit 2 ;; esac
if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for b in "$FUZZ_BUILD"/fuzzers/fuzz_*; do [ -x "$b" ] && targets+=("$(basename "$b" | sed 's/^fuzz_//')"); done
fi
if [ ${#targets[@]} -eq 0 ]; then
    echo "no fuzz targets in $FUZZ_BUILD/fuzzers (make fuzz-bin)"; echo "0 passed, 1 failed"; exit 1
fi
jobs_max=${FUZZ_JOBS:-2}
mkdir -p "$FUZZ_BUILD/logs" "$FUZZ_BUILD/results"

run_one() {  # target
    local t=$1 bin="$FUZZ_BUILD/fuzzers/fuzz_$1"
    local corpus="$FUZZ_BUILD/corpus/$t" art="$FUZZ_BUILD/artifacts/$t" log="$FUZZ_BUILD/logs/$t.$mode.log"
    local res="$FUZZ_BUILD/results/$t.$mode"
    mkdir -p "$corpus" "$art"
    local max_len=4096  # request bodies (blocks) and interchanges are larger than the rest
    case "$t" in sign_request|interchange) max_len=16384 ;; esac
    local rss=2048 malloc=()
    # binary images and device answers: a declared size must never become an allocation
    case "$t" in eif|cbor_nsm) rss=1024; malloc=(-malloc_limit_mb=64) ;; esac
    local args=(-artifact_prefix="$art/" -print_final_stats=1 -rss_limit_mb=$rss "${malloc[@]}" -timeout=30 -max_len=$max_len)
    [ -f "fuzz/$t.dict" ] && args+=(-dict="fuzz/$t.dict")
    if [ "$mode" = smoke ]; then
        args+=(-max_total_time="${FUZZ_SMOKE_SECONDS:-10}")
    else
        args+=(-runs="${FUZZ_RUNS:-10000000}")
        [ -n "${FUZZ_MAX_TIME:-}" ] && args+=(-max_total_time="$FUZZ_MAX_TIME")
    fi
    local start=$SECONDS
    if [ ! -x "$bin" ]; then
        echo "FAIL $t: no binary $bin (make fuzz-bin)" >"$res"
        return
    fi
    "$bin" "${args[@]}" "$corpus" "fuzz/corpus/$t" >"$log" 2>&1
    local rc=$? secs=$((SECONDS - start))
    local execs
    execs=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$log" | tail -n 1 | grep -Eo '[0-9]+$')
    execs=${execs:-0}
    local files
    files=$(find "$corpus" -type f | wc -l)
    local line
    line=$(printf '%-14s %10s execs %6ss %6s exec/s  corpus %s files' "$t" "$execs" "$secs" \
        $((execs / (secs > 0 ? secs : 1))) "$files")
    if [ $rc -eq 0 ]; then
        echo "ok   $line" >"$res"
        [ "$mode" = long ] && printf '%s\t%s\t%s\t%s\t%s\tok\n' "$(date -u +%FT%TZ)" "$t" "$execs" "$secs" \
            "$files" >>"$FUZZ_BUILD/fuzz-results.tsv"
    else
        local a
        a=$(ls -t "$art" 2>/dev/null | head -n 1)
        {
            echo "FAIL $line rc=$rc artifact: $art/$a (log $log)"
            grep -E 'ERROR|SUMMARY|invariant failed|#[0-9]+ 0x' "$log" | head -n 12 | sed 's/^/      /'
        } >"$res"
        [ "$mode" = long ] && printf '%s\t%s\t%s\t%s\t%s\tFAIL %s\n' "$(date -u +%FT%TZ)" "$t" "$execs" "$secs" \
            "$files" "$art/$a" >>"$FUZZ_BUILD/fuzz-results.tsv"
    fi
}

for t in "${targets[@]}"; do rm -f "$FUZZ_BUILD/results/$t.$mode"; done
running=0
for t in "${targets[@]}"; do
    if [ "$running" -ge "$jobs_max" ]; then wait -n; running=$((running - 1)); fi
    run_one "$t" &
    running=$((running + 1))
done
wait

pass=0; fail=0
for t in "${targets[@]}"; do
    r="$FUZZ_BUILD/results/$t.$mode"
    if [ -f "$r" ]; then cat "$r"; else echo "FAIL $t: no result"; fi
    if [ -f "$r" ] && head -n 1 "$r" | grep -q '^ok '; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
