#!/usr/bin/env bash
# Runs the whole suite: every C test binary (build/tests/**), then every
# integration script (tests/integration/*.sh).  Each prints its own
# "N passed, N failed"; this script adds them up and ends with the total.
# A binary that dies without its closing line counts as one failure.
# Logs of every part are kept under $BUILD/test-logs.
# SKIP_PARTS="a b" leaves out integration scripts by name (tests/asan-full.sh
# uses it); PART_TIMEOUT overrides the 900 s limit per script.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
export CC_VECTORS=${CC_VECTORS:-$(cd "$top/.." && pwd)/shared/vectors}
export CC_SHARED=${CC_SHARED:-$(cd "$top/.." && pwd)/shared}
export CC_BIN="$top/$BUILD/containment-chamber"
export CC_BUILD="$top/$BUILD"
logs="$top/$BUILD/test-logs"
rm -rf "$logs"; mkdir -p "$logs"

total_pass=0; total_fail=0
run_part() {  # name, timeout-seconds, command...
    local name=$1 limit=$2; shift 2
    local log="$logs/${name//\//_}.log"
    local start=$SECONDS
    timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
    local rc=$?
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    local p=0 f=0
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
        f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    fi
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    if [ "$f" -ne 0 ]; then
        printf 'FAIL  %-40s %3d passed, %d failed (%ds, rc=%d)\n' "$name" "$p" "$f" $((SECONDS - start)) "$rc"
        grep -E '^(FAIL|  )' "$log" | head -n 40 | sed 's/^/      /'
        [ $rc -eq 124 ] && echo "      timed out after ${limit}s"
    else
        printf 'ok    %-40s %3d passed (%ds)\n' "$name" "$p" $((SECONDS - start))
    fi
}

for t in $(find "$BUILD/tests" -type f -perm -u+x 2>/dev/null | sort); do
    run_part "${t#$BUILD/tests/}" 600 "$t"
done

if [ -z "${ONLY_C:-}" ]; then
    for s in $(ls tests/integration/*.sh 2>/dev/null | sort); do
        name=$(basename "$s" .sh)
        case " ${SKIP_PARTS:-} " in *" $name "*) echo "skip  integration/$name"; continue ;; esac
        run_part "integration/$name" "${PART_TIMEOUT:-900}" bash "$s"
    done
fi

echo "logs: $logs"
echo "$total_pass passed, $total_fail failed"
[ $total_fail -eq 0 ]
